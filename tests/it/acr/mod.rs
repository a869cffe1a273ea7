mod auth;
mod manifests;
mod repositories;
mod tags;
mod validation;
