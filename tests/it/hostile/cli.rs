//! The table against the `acr` binary.
