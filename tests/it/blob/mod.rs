mod acr_mock;
mod auth;
mod large;
mod parallel;
mod resume;
mod roundtrip;
mod sessions;
