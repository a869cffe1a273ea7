//! The listings: `repos`, `tags` and `manifests`, one name per line or JSON.

use azcontainerregistry::{
    Digest, ListManifestsOptions, ListNamesOptions, ListRepositoriesOptions, ListTagsOptions,
};

use crate::AnyResult;
use crate::args::{Cli, Order};
use crate::connect::{client_for, registry, use_acr_api};
use crate::output;

/// `repos` and `catalog`: the repository names of `reg`, through ACR's catalog or the OCI
/// `_catalog`.
pub fn repos(cli: &Cli, reg: &str, page_size: Option<u32>, last: Option<&str>) -> AnyResult<()> {
    let client = client_for(cli, reg)?;
    let last = last.map(str::to_string);
    let names: Vec<String> = if use_acr_api(&client)? {
        let o = ListRepositoriesOptions {
            page_size,
            last,
            ..Default::default()
        };
        client.list_repositories(o).collect::<Result<_, _>>()?
    } else {
        let o = ListNamesOptions {
            page_size,
            last,
            ..Default::default()
        };
        client.list_catalog(o).collect::<Result<_, _>>()?
    };
    output::print_lines(cli.json, &names, String::clone)
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
        let tags = client.list_tags(repo, o).collect::<Result<Vec<_>, _>>()?;
        return output::print_lines(cli.json, &tags, |t| t.name.clone());
    }
    if orderby.is_some() || digest.is_some() {
        return Err("--orderby and --digest need the ACR API (--api acr)".into());
    }
    let o = ListNamesOptions {
        page_size,
        ..Default::default()
    };
    let tags = client
        .list_tag_names(repo, o)
        .collect::<Result<Vec<_>, _>>()?;
    output::print_lines(cli.json, &tags, String::clone)
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
    let manifests = client
        .list_manifests(repo, o)
        .collect::<Result<Vec<_>, _>>()?;
    output::print_lines(cli.json, &manifests, |m| m.digest.to_string())
}
