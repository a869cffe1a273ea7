//! `acr purge` as a process on the fake ACR and the real registry.
