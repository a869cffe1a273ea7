//! The listings: `repos`, `tags` and `manifests`, one name per line or JSON, printed page by page
//! as the registry sends them (constant memory, whatever the listing's length).

use azcontainerregistry::{
    Digest, ListManifestsOptions, ListNamesOptions, ListRepositoriesOptions, ListTagsOptions, Pager,
};
use serde::Serialize;

use crate::AnyResult;
use crate::args::{Cli, Order};
use crate::connect::{client_for, registry, use_acr_api};
use crate::output::Listing;

/// Prints every page of `pager` as it arrives: `line(item)` per item, or JSON array elements.
fn stream<T: Serialize>(json: bool, pager: Pager<T>, line: impl Fn(&T) -> String) -> AnyResult<()> {
    let mut listing = Listing::new(json);
    for page in pager.pages() {
        listing.page(&page?.items, &line)?;
    }
    listing.finish()?;
    Ok(())
}

/// `repos` and `catalog`: the repository names of `reg`, through ACR's catalog or the OCI
/// `_catalog`.
pub fn repos(cli: &Cli, reg: &str, page_size: Option<u32>, last: Option<&str>) -> AnyResult<()> {
    let client = client_for(cli, reg)?;
    let last = last.map(str::to_string);
    let pager = if use_acr_api(&client)? {
        let o = ListRepositoriesOptions {
            page_size,
            last,
            ..Default::default()
        };
        client.list_repositories(o)
    } else {
        let o = ListNamesOptions {
            page_size,
            last,
            ..Default::default()
        };
        client.list_catalog(o)
    };
    stream(cli.json, pager, String::clone)
}

/// `tags`: tag objects under the ACR API (names as text), names under the OCI one.
pub fn tags(
    cli: &Cli,
    repo: &str,
    page_size: Option<u32>,
    orderby: Option<Order>,
    digest: Option<&str>,
) -> AnyResult<()> {
    // an invalid name is an error before anything is sent (deciding the API may send a probe)
    azcontainerregistry::reference::validate_repository(repo)?;
    let reg = registry(cli)?;
    let client = client_for(cli, &reg)?;
    if use_acr_api(&client)? {
        let o = ListTagsOptions {
            page_size,
            order_by: orderby.map(Into::into),
            digest: digest.map(Digest::parse).transpose()?,
            ..Default::default()
        };
        return stream(cli.json, client.list_tags(repo, o), |t| t.name.clone());
    }
    if orderby.is_some() || digest.is_some() {
        return Err("--orderby and --digest need the ACR API (--api acr)".into());
    }
    let o = ListNamesOptions {
        page_size,
        ..Default::default()
    };
    stream(cli.json, client.list_tag_names(repo, o), String::clone)
}

/// `manifests`: the manifests of a repository (ACR only), their digests as text.
pub fn manifests(
    cli: &Cli,
    repo: &str,
    page_size: Option<u32>,
    orderby: Option<Order>,
) -> AnyResult<()> {
    let client = client_for(cli, &registry(cli)?)?;
    let o = ListManifestsOptions {
        page_size,
        order_by: orderby.map(Into::into),
        ..Default::default()
    };
    stream(cli.json, client.list_manifests(repo, o), |m| {
        m.digest.to_string()
    })
}
