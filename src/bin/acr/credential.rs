//! The credential each registry gets, from `--auth`, `--username`/`--password`, the Docker and
//! containers config files, and its host.

use std::io::BufRead;
use std::sync::OnceLock;

use azcontainerregistry::{Credential, DockerConfig};

use crate::AnyResult;
use crate::args::{AuthMode, Cli};
use crate::host::is_azure_host;
use crate::output;

/// The credential for `--registry`. `auto`: the username and password given (flags or
/// `ACR_USERNAME`/`ACR_PASSWORD`), else what Docker's and the containers' config files hold for
/// the registry, else Azure AD for an Azure registry, else anonymous.
pub fn for_registry(cli: &Cli, registry: &str) -> AnyResult<Credential> {
    let mode = match cli.auth {
        AuthMode::Auto if cli.username.is_some() => AuthMode::Basic,
        AuthMode::Auto if password(cli)?.is_some() => {
            return Err(
                "a password needs a username: pass --username (or ACR_USERNAME) too".into(),
            );
        }
        AuthMode::Auto => {
            if let Some(c) = DockerConfig::from_env().find(registry)? {
                return Ok(c);
            }
            if is_azure_host(registry) {
                AuthMode::Default
            } else {
                AuthMode::Anonymous
            }
        }
        m => m,
    };
    match mode {
        AuthMode::Anonymous | AuthMode::Auto => Ok(Credential::anonymous()),
        AuthMode::Basic => basic(cli),
        AuthMode::Docker => DockerConfig::from_env().find(registry)?.ok_or_else(|| {
            format!(
                "--auth docker: no credentials for {registry} in the Docker or containers config \
                 files (run `acr login`)"
            )
            .into()
        }),
        other => azure_credential(other),
    }
}

/// The credential for a registry named only inside a reference (e.g. the other side of `copy`).
///
/// A username and password belong to `--registry`: they are never sent elsewhere. Under `auto`,
/// the config files' credentials for that registry are used; Azure AD sign-in is used for other
/// Azure registries (its token only goes to each registry's own endpoint); anything else is
/// anonymous.
pub fn for_other_registry(cli: &Cli, registry: &str) -> AnyResult<Credential> {
    if matches!(cli.auth, AuthMode::Auto | AuthMode::Docker)
        && let Some(c) = DockerConfig::from_env().find(registry)?
    {
        return Ok(c);
    }
    let azure = is_azure_host(registry)
        && !matches!(
            cli.auth,
            AuthMode::Anonymous | AuthMode::Basic | AuthMode::Docker
        )
        && !(cli.auth == AuthMode::Auto && cli.username.is_some());
    if azure {
        return azure_credential(match cli.auth {
            AuthMode::Auto => AuthMode::Default,
            mode => mode,
        });
    }
    if cli.username.is_some() {
        output::note(format!(
            "acr: note: credentials are only sent to --registry; {registry} is accessed anonymously"
        ));
    }
    Ok(Credential::anonymous())
}

/// The password: `--password`/`ACR_PASSWORD`, or one line of stdin with `--password-stdin` (read
/// once).
pub fn password(cli: &Cli) -> AnyResult<Option<String>> {
    if !cli.password_stdin {
        return Ok(cli.password.clone());
    }
    static FROM_STDIN: OnceLock<Result<String, String>> = OnceLock::new();
    let line = FROM_STDIN.get_or_init(|| {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("--password-stdin: cannot read stdin: {e}"))?;
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if line.is_empty() {
            return Err("--password-stdin: stdin is empty".to_string());
        }
        Ok(line)
    });
    Ok(Some(line.clone()?))
}

/// Basic authentication with `--username` and `--password` (or `--password-stdin`).
pub fn basic(cli: &Cli) -> AnyResult<Credential> {
    let user = cli
        .username
        .clone()
        .ok_or("this needs --username (or ACR_USERNAME)")?;
    let pass =
        password(cli)?.ok_or("this needs --password-stdin (or --password, or ACR_PASSWORD)")?;
    Ok(Credential::basic(user, pass))
}

/// An Azure AD credential of the given kind (`Default` and any other mode: the default chain).
#[cfg(feature = "azure")]
pub fn azure_credential(mode: AuthMode) -> AnyResult<Credential> {
    let env = |k: &str| {
        std::env::var(k).map_err(|_| format!("--auth client-secret needs {k} in the environment"))
    };
    Ok(match mode {
        AuthMode::AzureCli => Credential::azure_cli()?,
        AuthMode::ManagedIdentity => {
            Credential::azure_managed_identity(std::env::var("AZURE_CLIENT_ID").ok().as_deref())?
        }
        AuthMode::WorkloadIdentity => Credential::azure_workload_identity()?,
        AuthMode::ClientSecret => Credential::azure_client_secret(
            &env("AZURE_TENANT_ID")?,
            &env("AZURE_CLIENT_ID")?,
            env("AZURE_CLIENT_SECRET")?,
        )?,
        _ => Credential::azure_default()?,
    })
}

/// Without the `azure` feature there is no Azure AD sign-in.
#[cfg(not(feature = "azure"))]
pub fn azure_credential(_mode: AuthMode) -> AnyResult<Credential> {
    Err("Azure AD sign-in needs the `azure` feature (build without --no-default-features)".into())
}
