//! What the examples share: plain `std::env::args` parsing, the registry URL and the credential.
//!
//! - `--registry URL`, or the environment variable `ACR_REGISTRY`, e.g.
//!   `https://myregistry.azurecr.io`;
//! - the credential: `--anonymous`; else `ACR_USERNAME` and `ACR_PASSWORD` (an admin user, a
//!   scope-map token, or `az acr login --expose-token` output with the username
//!   `00000000-0000-0000-0000-000000000000`); else Azure AD (`DefaultAzureCredential`'s chain) when
//!   the crate is built with the `azure` feature.
#![allow(dead_code)]

use std::error::Error;

use azcontainerregistry::{Client, ClientOptions, Credential};

/// Command-line arguments, consumed option by option; [`Args::finish`] refuses leftovers.
pub struct Args {
    rest: Vec<String>,
    usage: &'static str,
}

impl Args {
    /// The process arguments. Prints `usage` and exits on `--help`.
    pub fn parse(usage: &'static str) -> Args {
        let rest: Vec<String> = std::env::args().skip(1).collect();
        if rest.iter().any(|a| a == "--help" || a == "-h") {
            println!("{usage}");
            std::process::exit(0);
        }
        Args { rest, usage }
    }

    /// True when `--name` is present (removed from the rest).
    pub fn flag(&mut self, name: &str) -> bool {
        let before = self.rest.len();
        self.rest.retain(|a| a != name);
        self.rest.len() != before
    }

    /// The value of `--name VALUE` or `--name=VALUE`, if given.
    pub fn value(&mut self, name: &str) -> Result<Option<String>, String> {
        let prefix = format!("{name}=");
        if let Some(i) = self.rest.iter().position(|a| a.starts_with(&prefix)) {
            let arg = self.rest.remove(i);
            return Ok(Some(arg[prefix.len()..].to_string()));
        }
        match self.rest.iter().position(|a| a == name) {
            None => Ok(None),
            Some(i) if i + 1 < self.rest.len() => {
                let value = self.rest.remove(i + 1);
                self.rest.remove(i);
                Ok(Some(value))
            }
            Some(_) => Err(format!("{name} needs a value\n\n{}", self.usage)),
        }
    }

    /// The next argument that is not an option, removed from the rest.
    pub fn next_positional(&mut self) -> Option<String> {
        let i = self.rest.iter().position(|a| !a.starts_with("--"))?;
        Some(self.rest.remove(i))
    }

    /// Fails on arguments nobody asked for.
    pub fn finish(self) -> Result<(), String> {
        match self.rest.first() {
            None => Ok(()),
            Some(a) => Err(format!("unexpected argument {a:?}\n\n{}", self.usage)),
        }
    }

    /// `--registry URL` or `ACR_REGISTRY`.
    pub fn registry(&mut self) -> Result<String, String> {
        match self.value("--registry")? {
            Some(r) => Ok(r),
            None => std::env::var("ACR_REGISTRY").map_err(|_| {
                format!(
                    "name the registry with --registry URL or ACR_REGISTRY\n\n{}",
                    self.usage
                )
            }),
        }
    }

    /// The credential: `--anonymous`, else `ACR_USERNAME` + `ACR_PASSWORD`, else Azure AD.
    pub fn credential(&mut self) -> Result<Credential, Box<dyn Error>> {
        if self.flag("--anonymous") {
            return Ok(Credential::anonymous());
        }
        match (std::env::var("ACR_USERNAME"), std::env::var("ACR_PASSWORD")) {
            (Ok(user), Ok(password)) => Ok(Credential::basic(user, password)),
            (Ok(_), Err(_)) | (Err(_), Ok(_)) => {
                Err("set both ACR_USERNAME and ACR_PASSWORD, or neither".into())
            }
            _ => azure_credential(),
        }
    }

    /// A client for `--registry` with the chosen credential.
    pub fn client(&mut self) -> Result<Client, Box<dyn Error>> {
        let registry = self.registry()?;
        let credential = self.credential()?;
        Ok(Client::new(
            &registry,
            credential,
            ClientOptions::default(),
        )?)
    }
}

/// Azure AD sign-in through the default chain (environment, workload identity, managed identity,
/// Azure CLI).
#[cfg(feature = "azure")]
fn azure_credential() -> Result<Credential, Box<dyn Error>> {
    Ok(Credential::azure_default()?)
}

/// Without the `azure` feature there is no Azure AD sign-in.
#[cfg(not(feature = "azure"))]
fn azure_credential() -> Result<Credential, Box<dyn Error>> {
    eprintln!(
        "note: built without the `azure` feature, so no Azure AD sign-in; continuing anonymously \
         (set ACR_USERNAME and ACR_PASSWORD to sign in)"
    );
    Ok(Credential::anonymous())
}
