mod catalog;
mod connection_reuse;
mod manifests;
mod referrers;
