mod push_pull;
mod skopeo;
