mod acr;
mod oci;
