//! `login` and `logout`: credentials stored and removed the way `docker login`/`logout` and
//! `az acr login` do, in the Docker config file or through its credential helper.

use azcontainerregistry::{AuthenticationClient, Credential, DockerConfig};

use crate::AnyResult;
use crate::args::{AuthMode, Cli};
use crate::connect::{client_with, options, registry};
use crate::credential::{azure_credential, basic};
use crate::host::{url_authority, with_scheme};
use crate::output;

/// The registry of `login`/`logout`: the argument, else `--registry`.
fn target(cli: &Cli, given: Option<&str>) -> AnyResult<String> {
    match given {
        Some(r) => Ok(with_scheme(r, cli.plain_http)),
        None => registry(cli),
    }
}

/// Whether the password was typed on the command line (`-p`/`--password`), where other users of
/// the machine can read it.
fn password_on_command_line() -> bool {
    std::env::args().skip(1).any(|a| {
        a == "-p"
            || a == "--password"
            || a.starts_with("--password=")
            || a.starts_with("-p") && a.len() > 2 && !a.starts_with("--")
    })
}

/// `login`: checks the credential against the registry, then stores it; prints where.
pub fn login(cli: &Cli, given: Option<&str>, azure: bool) -> AnyResult<()> {
    let reg = target(cli, given)?;
    let credential = if azure {
        let mode = match cli.auth {
            AuthMode::Auto | AuthMode::Anonymous | AuthMode::Basic | AuthMode::Docker => {
                AuthMode::Default
            }
            m => m,
        };
        let aad = azure_credential(mode)?;
        let auth = AuthenticationClient::new(&reg, options(cli))?;
        let refresh = auth.sign_in(&url_authority(&reg), &aad)?;
        Credential::identity_token(refresh.refresh_token)
    } else {
        if password_on_command_line() {
            output::note(
                "acr: warning: a password on the command line can be read by other users of this \
                 machine; use --password-stdin",
            );
        }
        basic(cli)?
    };
    client_with(cli, &reg, credential.clone())?.check_sign_in()?;
    let stored = DockerConfig::from_env().store(&reg, &credential)?;
    output::line(format_args!(
        "signed in to {} (stored in {stored})",
        url_authority(&reg)
    ))?;
    Ok(())
}

/// `logout`: removes what is stored for the registry; a note when nothing was.
pub fn logout(cli: &Cli, given: Option<&str>) -> AnyResult<()> {
    let reg = target(cli, given)?;
    let host = url_authority(&reg);
    match DockerConfig::from_env().erase(&reg)? {
        Some(from) => output::line(format_args!("signed out of {host} (removed from {from})"))?,
        None => output::note(format_args!("acr: note: no stored credentials for {host}")),
    }
    Ok(())
}
