mod hostile;
mod push_pull;
mod skopeo;
