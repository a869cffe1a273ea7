//! [`AzureDefaultCredential`]: the chain of Azure credentials tried in order, as
//! `DefaultAzureCredential` in the other Azure SDKs.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{
    AccessToken as AzAccessToken, TokenCredential as AzTokenCredential, TokenRequestOptions,
};
use azure_core::error::ErrorKind as AzErrorKind;
use azure_identity::{
    ClientAssertionCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
    ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId,
    WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};

use super::cli::{DEFAULT_CLI_TIMEOUT, azure_cli};
use super::transport::{IMDS_ORIGIN, UreqTransport};
use crate::error::{Error, Result};
use crate::http::Url;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// An `azure_core` error with the messages of its sources that it does not already contain.
pub(super) fn describe(e: &azure_core::Error) -> String {
    let mut text = e.to_string().trim().to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let m = s.to_string();
        let m = m.trim();
        if !m.is_empty() && !text.contains(m) {
            text.push_str(": ");
            text.push_str(m);
        }
        source = s.source();
    }
    text
}

/// The managed identity credential: system-assigned, or the user-assigned one with `client_id`.
pub(super) fn managed_identity(
    transport: &UreqTransport,
    client_id: Option<String>,
) -> azure_core::Result<Arc<dyn AzTokenCredential>> {
    // `..Default::default()` also fills fields azure_identity has only in its own tests, and any it
    // adds.
    #[allow(clippy::needless_update)]
    let options = ManagedIdentityCredentialOptions {
        user_assigned_id: client_id.map(UserAssignedId::ClientId),
        client_options: transport.client_options(),
        ..Default::default()
    };
    let credential = ManagedIdentityCredential::new(Some(options))?;
    Ok(credential)
}

const IMDS_TOKEN_PATH: &str = "/metadata/identity/oauth2/token";
/// Longest wait for the instance metadata service to answer the default chain's probe.
const IMDS_PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// Options of [`Credential::azure_default_with`](crate::Credential::azure_default_with) and
/// [`AzureDefaultCredential`].
///
/// ```
/// use azcontainerregistry::credential::azure::AzureCredentialOptions;
/// // Only the Azure CLI, e.g. on a developer machine where the environment holds other secrets.
/// let options = AzureCredentialOptions {
///     exclude_environment: true,
///     exclude_workload_identity: true,
///     exclude_managed_identity: true,
///     ..Default::default()
/// };
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Default)]
pub struct AzureCredentialOptions {
    /// The transport of every Azure AD and managed-identity request; default
    /// [`UreqTransport::new`].
    pub transport: Option<UreqTransport>,
    /// The Azure AD authority host, e.g. `https://login.microsoftonline.us`. Default: the
    /// `AZURE_AUTHORITY_HOST` environment variable, else `https://login.microsoftonline.com`.
    pub authority_host: Option<String>,
    /// Client ID of a user-assigned managed identity. Default: `AZURE_CLIENT_ID`, else the
    /// system-assigned identity.
    pub managed_identity_client_id: Option<String>,
    /// Longest run of `az`; default 10 seconds.
    pub azure_cli_timeout: Option<Duration>,
    /// Skip the environment client secret.
    pub exclude_environment: bool,
    /// Skip workload identity.
    pub exclude_workload_identity: bool,
    /// Skip managed identity.
    pub exclude_managed_identity: bool,
    /// Skip the Azure CLI.
    pub exclude_azure_cli: bool,
}

struct Member {
    name: &'static str,
    credential: std::result::Result<Arc<dyn AzTokenCredential>, String>,
    /// For managed identity on a VM: the metadata service must answer before it is asked for a
    /// token.
    probe: Option<ImdsProbe>,
}

struct ImdsProbe {
    transport: UreqTransport,
    /// `None` until probed; then `Ok` (it answered) or why it is unusable.
    state: Mutex<Option<std::result::Result<(), String>>>,
}

impl ImdsProbe {
    fn check(&self) -> std::result::Result<(), String> {
        let mut state = lock(&self.state);
        if let Some(s) = state.as_ref() {
            return s.clone();
        }
        // Any answer, even 400 for the missing `Metadata` header, proves the service is there.
        let url =
            Url::parse(&format!("{IMDS_ORIGIN}{IMDS_TOKEN_PATH}")).map_err(|e| e.to_string())?;
        let result = self
            .transport
            .send_blocking("GET", &url, &[], &[], Some(IMDS_PROBE_TIMEOUT))
            .map(|_| ())
            .map_err(|e| format!("no managed identity endpoint: the instance metadata service did not answer ({})", describe(&e)));
        *state = Some(result.clone());
        result
    }
}

/// Like `DefaultAzureCredential` of the other Azure SDKs: a chain of credentials tried in order,
/// the first that yields a token wins and is used from then on.
///
/// 1. **Environment client secret**: `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`.
/// 2. **Workload identity**: `AZURE_FEDERATED_TOKEN_FILE`, `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`
///    (set by the AKS workload identity webhook).
/// 3. **Managed identity**: App Service (`IDENTITY_ENDPOINT`, `IDENTITY_HEADER`) or the VM metadata
///    service, which is probed first with a 1-second limit so that machines outside Azure move on
///    quickly; user-assigned when [`AzureCredentialOptions::managed_identity_client_id`] or
///    `AZURE_CLIENT_ID` is set.
/// 4. **Azure CLI**: `az account get-access-token`, as signed in with `az login`.
///
/// The environment is read when the chain is built. Azure AD requests go to `AZURE_AUTHORITY_HOST`
/// when set. When no member yields a token, the error lists what each one said.
pub struct AzureDefaultCredential {
    members: Vec<Member>,
    winner: Mutex<Option<usize>>,
}

impl fmt::Debug for AzureDefaultCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.members.iter().map(|m| m.name).collect();
        f.debug_struct("AzureDefaultCredential")
            .field("members", &names)
            .field("winner", &lock(&self.winner).map(|i| self.members[i].name))
            .finish()
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// `Ok` when every variable is set (and not blank), else which are not.
fn missing(names: &[&'static str]) -> std::result::Result<(), String> {
    let absent: Vec<&str> = names.iter().copied().filter(|n| env(n).is_none()).collect();
    if absent.is_empty() {
        Ok(())
    } else {
        Err(format!("not configured: {} not set", absent.join(", ")))
    }
}

fn cloud_options(
    transport: &UreqTransport,
    authority_host: Option<&str>,
) -> azure_core::http::ClientOptions {
    let mut options = transport.client_options();
    if let Some(host) = authority_host {
        let mut custom = CustomConfiguration::default();
        custom.authority_host = host.to_string();
        options.cloud = Some(Arc::new(CloudConfiguration::Custom(custom)));
    }
    options
}

fn az_err(e: azure_core::Error) -> String {
    describe(&e)
}

impl AzureDefaultCredential {
    /// Builds the chain. Members whose configuration is missing stay in it as unavailable, to be
    /// named in the error; building fails only when every member is excluded.
    pub fn new(options: AzureCredentialOptions) -> Result<Arc<Self>> {
        let transport = options.transport.clone().unwrap_or_default();
        let authority = options.authority_host.as_deref();
        let mut members = Vec::new();

        if !options.exclude_environment {
            let credential =
                missing(&["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"]).and_then(
                    |()| {
                        let tenant = env("AZURE_TENANT_ID").unwrap_or_default();
                        let client_id = env("AZURE_CLIENT_ID").unwrap_or_default();
                        let secret = env("AZURE_CLIENT_SECRET").unwrap_or_default();
                        ClientSecretCredential::new(
                            &tenant,
                            client_id,
                            secret.into(),
                            Some(ClientSecretCredentialOptions {
                                client_options: cloud_options(&transport, authority),
                            }),
                        )
                        .map(|c| c as Arc<dyn AzTokenCredential>)
                        .map_err(az_err)
                    },
                );
            members.push(Member {
                name: "EnvironmentCredential (client secret)",
                credential,
                probe: None,
            });
        }

        if !options.exclude_workload_identity {
            let credential = missing(&[
                "AZURE_FEDERATED_TOKEN_FILE",
                "AZURE_TENANT_ID",
                "AZURE_CLIENT_ID",
            ])
            .and_then(|()| {
                WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
                    credential_options: ClientAssertionCredentialOptions {
                        client_options: cloud_options(&transport, authority),
                    },
                    ..Default::default()
                }))
                .map(|c| c as Arc<dyn AzTokenCredential>)
                .map_err(az_err)
            });
            members.push(Member {
                name: "WorkloadIdentityCredential",
                credential,
                probe: None,
            });
        }

        if !options.exclude_managed_identity {
            let client_id = options
                .managed_identity_client_id
                .clone()
                .or_else(|| env("AZURE_CLIENT_ID"));
            let credential = managed_identity(&transport, client_id).map_err(az_err);
            // Where no App Service / Cloud Shell / Arc endpoint is configured, the credential asks
            // the VM metadata service: see first whether there is one.
            let on_vm = env("IDENTITY_ENDPOINT").is_none() && env("MSI_ENDPOINT").is_none();
            let probe = on_vm.then(|| ImdsProbe {
                transport: transport.clone(),
                state: Mutex::new(None),
            });
            members.push(Member {
                name: "ManagedIdentityCredential",
                credential,
                probe,
            });
        }

        if !options.exclude_azure_cli {
            let timeout = options.azure_cli_timeout.unwrap_or(DEFAULT_CLI_TIMEOUT);
            let credential = azure_cli(timeout).map_err(az_err);
            members.push(Member {
                name: "AzureCliCredential",
                credential,
                probe: None,
            });
        }

        if members.is_empty() {
            return Err(Error::Config(
                "AzureCredentialOptions excludes every credential of the chain".into(),
            ));
        }
        Ok(Arc::new(AzureDefaultCredential {
            members,
            winner: Mutex::new(None),
        }))
    }

    /// The name of the member that yielded the first token, once one has.
    pub fn selected(&self) -> Option<&'static str> {
        lock(&self.winner).map(|i| self.members[i].name)
    }
}

#[async_trait::async_trait]
impl AzTokenCredential for AzureDefaultCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AzAccessToken> {
        let winner = *lock(&self.winner);
        if let Some(Ok(c)) = winner.map(|i| &self.members[i].credential) {
            return c.get_token(scopes, options).await;
        }
        let mut said = Vec::new();
        for (i, member) in self.members.iter().enumerate() {
            let credential = match &member.credential {
                Ok(c) => c,
                Err(why) => {
                    said.push(format!("- {}: {why}", member.name));
                    continue;
                }
            };
            if let Some(Err(why)) = member.probe.as_ref().map(ImdsProbe::check) {
                said.push(format!("- {}: {why}", member.name));
                continue;
            }
            match credential.get_token(scopes, options.clone()).await {
                Ok(token) => {
                    log::info!("azure: signed in with {}", member.name);
                    *lock(&self.winner) = Some(i);
                    return Ok(token);
                }
                Err(e) => {
                    let why = describe(&e).replace('\n', " ");
                    // Configured but refused: worth a warning even if a later member signs in.
                    log::warn!(
                        "azure: {} failed, trying the next credential: {why}",
                        member.name
                    );
                    said.push(format!("- {}: {why}", member.name));
                }
            }
        }
        Err(azure_core::Error::with_message(
            AzErrorKind::Credential,
            format!(
                "no credential of the default Azure chain yielded a token:\n{}\nConfigure one of them, or choose a \
                 credential explicitly (Credential::azure_client_secret, azure_cli, azure_managed_identity, \
                 azure_workload_identity).",
                said.join("\n")
            ),
        ))
    }
}
