mod push_pull;
mod requests;
mod skopeo;
