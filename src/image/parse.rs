//! References given to the image and artifact operations, checked against the client they are
//! used with.

use crate::client::Client;
use crate::error::{Error, Result};
use crate::http::Url;
use crate::reference::Reference;

/// Parses a reference for `client`: a registry part, when present, must be the client's.
pub(crate) fn parse_for(client: &Client, reference: &str) -> Result<Reference> {
    let r = Reference::parse(reference)?;
    if let Some(host) = r.registry() {
        let endpoint = Url::parse(client.endpoint()).map_err(|e| Error::Config(e.to_string()))?;
        // compare origins: case, and an explicit default port (r.io:443), do not make another
        // registry
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
