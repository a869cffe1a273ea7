//! Round trips per operation, counted by a proxy in front of the registry and by the token
//! issuer: a cold process pulling an image sends one challenged request, one token exchange, the
//! manifest, and one GET per blob: no HEAD, nothing twice.

use azcontainerregistry::image;
use azcontainerregistry::{Client, ClientOptions, Credential};

use crate::support::Registry;
use crate::support::counting_proxy::CountingProxy;

#[test]
fn a_cold_pull_sends_one_challenge_one_token_exchange_the_manifest_and_one_get_per_blob() {
    let reg = Registry::with_token_auth();
    let img = reg.push_test_image("count/app", "v1", 200_000, 9);
    let issuer = reg.token_issuer();
    issuer.reset_counts();
    let proxy = CountingProxy::start(&reg.host_port());
    let client = Client::new(
        &proxy.url(),
        Credential::anonymous(),
        ClientOptions::default(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    image::pull(&client, "count/app:v1", dir.path(), Default::default()).unwrap();

    let requests = proxy.requests();
    let manifest = "GET /v2/count/app/manifests/v1";
    assert_eq!(
        requests.iter().filter(|r| *r == manifest).count(),
        2,
        "the manifest: challenged once, then fetched: {requests:?}"
    );
    for blob in [&img.config_digest, &img.layer_digest] {
        let get = format!("GET /v2/count/app/blobs/{blob}");
        assert_eq!(
            requests.iter().filter(|r| **r == get).count(),
            1,
            "{requests:?}"
        );
    }
    assert_eq!(requests.len(), 4, "nothing else: {requests:?}");
    assert!(
        requests.iter().all(|r| !r.starts_with("HEAD")),
        "{requests:?}"
    );
    assert_eq!(issuer.token_requests(), 1, "{:?}", issuer.requests());
}
