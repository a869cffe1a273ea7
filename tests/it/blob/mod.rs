mod acr_mock;
mod auth;
mod large;
mod parallel;
mod reattach;
mod resume;
mod roundtrip;
mod sessions;
