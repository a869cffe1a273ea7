mod hostile;
mod nested;
mod push_pull;
mod skopeo;
