//! Registry URLs and hosts: the scheme a bare `host[:port]` gets, and what an Azure registry is.

/// Whether the registry is an Azure one by its name (`*.azurecr.io`, `.cn`, `.us` and the
/// air-gapped clouds' suffixes).
pub fn is_azure_host(registry: &str) -> bool {
    azcontainerregistry::is_azure_registry_host(registry)
}

/// A registry URL; a bare `host[:port]` gets `http://` on loopback or with `plain_http`
/// (`--plain-http`), `https://` elsewhere.
pub fn with_scheme(registry: &str, plain_http: bool) -> String {
    if registry.contains("://") {
        return registry.to_string();
    }
    let loopback = ["localhost", "127.0.0.1", "[::1]"]
        .iter()
        .any(|l| url_host(registry) == *l);
    if loopback || plain_http {
        format!("http://{registry}")
    } else {
        format!("https://{registry}")
    }
}

/// `host[:port]` of a registry URL (or of a bare `host[:port]`), lowercase.
pub fn url_authority(registry: &str) -> String {
    let rest = registry.split_once("://").map_or(registry, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or("");
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, a)| a)
        .to_ascii_lowercase()
}

/// The host of a registry URL (or of a bare `host[:port]`), lowercase, IPv6 in brackets.
fn url_host(registry: &str) -> String {
    let authority = url_authority(registry);
    match authority.rsplit_once(':') {
        Some((host, port))
            if !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && (!host.starts_with('[') || host.ends_with(']')) =>
        {
            host.to_string()
        }
        _ => authority,
    }
}
