//! The client's registry as the cache names it (`host[:port]`). (References are checked against
//! the client by `image::parse_for`, shared with the image operations.)

use crate::client::Client;
use crate::error::{Error, Result};
use crate::http::Url;

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
