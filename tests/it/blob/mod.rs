mod acr_mock;
mod auth;
mod large;
mod resume;
mod roundtrip;
mod sessions;
mod sha512;
