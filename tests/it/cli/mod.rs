mod acr;
mod flags;
mod logging;
mod loopback;
mod oci;
mod stream;
mod terminal;
mod transfer;
