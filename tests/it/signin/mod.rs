//! Signing in the way users already do: Docker and containers config files, credential helpers,
//! identity and registry tokens, ACR recognised by its behaviour, and Azure AD credentials built
//! by the caller.
//!
//! - `config_files`: every entry shape and key form against the real registry set-ups (htpasswd,
//!   token issuer) and the mock ACR; malformed and missing files; the lookup order of the
//!   standard files (in a child process with its own environment).
//! - `helpers`: fake `docker-credential-*` helpers (shell scripts on a child's PATH): found,
//!   preferred per host, identity tokens, missing, failing, slow (its process group ended), store
//!   and erase.
//! - `acr`: ACR recognised on a loopback host with one probe at most; `AuthenticationClient::
//!   sign_in` (what `az acr login` does); `Credential::azure_with` and the error that replaces
//!   `azure_core`'s panic.

mod acr;
mod config_files;
mod helpers;

use std::path::{Path, PathBuf};

use base64::Engine as _;

/// `base64("user:password")`, the `auth` field of a config entry.
pub fn auth_field(user: &str, password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

/// Writes `json` as `dir/config.json` and returns its path.
pub fn write_config(dir: &Path, json: &serde_json::Value) -> PathBuf {
    let path = dir.join("config.json");
    std::fs::write(&path, serde_json::to_vec_pretty(json).unwrap()).unwrap();
    path
}

/// Writes an executable shell script `dir/docker-credential-NAME` with `body`.
pub fn write_helper(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(format!("docker-credential-{name}"));
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// `dir` in front of this process's PATH (for a child process).
pub fn path_with(dir: &Path) -> std::ffi::OsString {
    let mut paths = vec![dir.to_path_buf()];
    if let Some(p) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(paths).unwrap()
}
