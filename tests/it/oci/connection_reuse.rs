//! Responses whose bodies nobody reads (HEAD, 404s, deletes, error bodies) must not cost a new TCP
//! connection each: the pipeline drains small bodies so ureq pools the connection again.

use crate::support::client;
use crate::support::{FaultProxy, Registry};
use azcontainerregistry::{Digest, ListNamesOptions};

#[test]
fn status_only_calls_share_one_connection() {
    let reg = Registry::start();
    let image = reg.push_test_image("app", "v1", 64, 3);
    let proxy = FaultProxy::start(reg.addr());
    let client = client(&proxy.url());
    let blobs = client.blob_client();
    let layer: Digest = image.layer_digest.parse().unwrap();
    let missing = Digest::of(b"missing");
    for _ in 0..5 {
        assert!(client.manifest_exists("app", "v1").unwrap().is_some()); // HEAD 200
        assert!(client.manifest_exists("app", "nope").unwrap().is_none()); // HEAD 404
        assert_eq!(blobs.check_blob_exists("app", &layer).unwrap(), Some(64));
        assert_eq!(blobs.check_blob_exists("app", &missing).unwrap(), None);
        client.delete_manifest("app", missing.as_str()).unwrap(); // 404 with a JSON body, unread
        assert!(
            client
                .get_manifest("app", "nope")
                .unwrap_err()
                .is_not_found()
        ); // error body read
        let tags: Vec<String> = client
            .list_tag_names("app", ListNamesOptions::default())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(tags, ["v1"]);
    }
    assert_eq!(
        proxy.connections(),
        1,
        "35 requests should travel over one pooled connection"
    );
}
