mod auth;
mod manifests;
mod repositories;
mod scopes;
mod tags;
mod validation;
