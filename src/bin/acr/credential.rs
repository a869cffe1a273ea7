//! The credential each registry gets, from `--auth`, `--username`/`--password` and its host.

use azcontainerregistry::Credential;

use crate::AnyResult;
use crate::args::{AuthMode, Cli};
use crate::host::is_azure_host;
use crate::output;

/// The credential for `--registry`: as `--auth` says, or for `auto` basic when a username is given,
/// Azure AD for an Azure registry, anonymous otherwise.
pub fn for_registry(cli: &Cli, registry: &str) -> AnyResult<Credential> {
    let mode = match cli.auth {
        AuthMode::Auto if cli.username.is_some() => AuthMode::Basic,
        AuthMode::Auto if cli.password.is_some() => {
            return Err(
                "a password needs a username: pass --username (or ACR_USERNAME) too".into(),
            );
        }
        AuthMode::Auto if is_azure_host(registry) => AuthMode::Default,
        AuthMode::Auto => AuthMode::Anonymous,
        m => m,
    };
    match mode {
        AuthMode::Anonymous | AuthMode::Auto => Ok(Credential::anonymous()),
        AuthMode::Basic => basic(cli),
        other => azure_credential(other),
    }
}

/// The credential for a registry named only inside a reference (e.g. the other side of `copy`).
///
/// A username and password belong to `--registry`: they are never sent elsewhere. Azure AD sign-in
/// is used for other Azure registries (its token only goes to each registry's own endpoint);
/// anything else is anonymous.
pub fn for_other_registry(cli: &Cli, registry: &str) -> AnyResult<Credential> {
    let azure = is_azure_host(registry)
        && !matches!(cli.auth, AuthMode::Anonymous | AuthMode::Basic)
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

/// Basic authentication with `--username` and `--password`, both required.
fn basic(cli: &Cli) -> AnyResult<Credential> {
    let user = cli
        .username
        .clone()
        .ok_or("--auth basic needs --username (or ACR_USERNAME)")?;
    let pass = cli
        .password
        .clone()
        .ok_or("--auth basic needs --password (or ACR_PASSWORD)")?;
    Ok(Credential::basic(user, pass))
}

/// An Azure AD credential of the given kind (`Default` and any other mode: the default chain).
#[cfg(feature = "azure")]
fn azure_credential(mode: AuthMode) -> AnyResult<Credential> {
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
fn azure_credential(_mode: AuthMode) -> AnyResult<Credential> {
    Err("Azure AD sign-in needs the `azure` feature (build without --no-default-features)".into())
}
