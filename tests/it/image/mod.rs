mod hostile;
mod nested;
mod push_pull;
mod requests;
mod skopeo;
