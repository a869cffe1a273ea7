//! Lists the repositories of a registry, page by page (the Go SDK's `Example_listRepositories`).
//!
//! ```text
//! cargo run --example list_repositories -- \
//!     --registry https://myregistry.azurecr.io [--anonymous] [--page-size N]
//! ```
//!
//! Credentials: `--anonymous`, else `ACR_USERNAME` + `ACR_PASSWORD`, else Azure AD (feature
//! `azure`).

#[path = "common/mod.rs"]
mod common;

use azcontainerregistry::ListRepositoriesOptions;

const USAGE: &str = "usage: list_repositories --registry URL [--anonymous] [--page-size N]
  (or ACR_REGISTRY; credentials from ACR_USERNAME/ACR_PASSWORD, else Azure AD)";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = common::Args::parse(USAGE);
    let client = args.client()?;
    let page_size = match args.value("--page-size")? {
        Some(n) => Some(
            n.parse::<u32>()
                .map_err(|e| format!("--page-size {n:?}: {e}"))?,
        ),
        None => None,
    };
    args.finish()?;

    let options = ListRepositoriesOptions {
        page_size,
        ..Default::default()
    };
    let mut count = 0;
    for page in client.list_repositories(options).pages() {
        let page = page?;
        for name in &page.items {
            println!("{name}");
        }
        count += page.items.len();
    }
    eprintln!("{count} repositories");
    Ok(())
}
