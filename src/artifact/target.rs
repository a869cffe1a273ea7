//! References as the artifact functions take them: a registry part, when present, must be the
//! client's; and the client's registry as the cache names it (`host[:port]`).

use crate::client::Client;
use crate::error::{Error, Result};
use crate::http::Url;
use crate::reference::Reference;

/// Parses `reference` for `client`.
pub(crate) fn parse_for(client: &Client, reference: &str) -> Result<Reference> {
    let r = Reference::parse(reference)?;
    if let Some(host) = r.registry() {
        let endpoint = endpoint(client)?;
        let named = Url::parse(&format!("{}://{host}", endpoint.scheme()));
        if named.map(|u| u.origin()) != Ok(endpoint.origin()) {
            let ours = endpoint.host_str();
            return Err(Error::invalid(
                "reference",
                reference,
                format!("it names registry {host}, not {ours}"),
            ));
        }
    }
    Ok(r)
}

fn endpoint(client: &Client) -> Result<Url> {
    Url::parse(client.endpoint()).map_err(|e| Error::Config(e.to_string()))
}

/// The client's registry as `host[:port]` (the port only when it is not the scheme's default).
pub(crate) fn registry_key(client: &Client) -> Result<String> {
    let endpoint = endpoint(client)?;
    // scheme://authority/… : the authority is what the cache's tag records are filed under
    let text = endpoint.to_string();
    let rest = text.split_once("://").map(|(_, r)| r).unwrap_or(&text);
    let authority = rest.split('/').next().unwrap_or(rest);
    let authority = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    Ok(authority.to_ascii_lowercase())
}
