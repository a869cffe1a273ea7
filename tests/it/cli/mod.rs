mod acr;
mod login;
mod oci;
