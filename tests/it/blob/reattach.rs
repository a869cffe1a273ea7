//! `BlobClient::resume_upload`: a session started by one client (process) is taken up by another
//! from its saved location, and only the missing bytes are sent.

use std::io::Cursor;

use crate::support::{FaultProxy, Registry, pseudo_random, sha256_digest};
use azcontainerregistry::{BlobClient, ClientOptions, Credential, Digest, DigestCalculator};

const MIB: usize = 1024 * 1024;

#[test]
fn a_saved_session_is_taken_up_by_another_client_and_only_the_rest_is_sent() {
    let reg = Registry::start();
    let proxy = FaultProxy::start(reg.host_port());
    let data = pseudo_random(4 * MIB + 77, 8);
    let first = BlobClient::new(
        &proxy.url(),
        Credential::anonymous(),
        ClientOptions::default(),
    )
    .unwrap();
    let session = first.start_upload("re/attach").unwrap();
    let session = first
        .upload_chunk(
            &session,
            Cursor::new(&data[..2 * MIB]),
            Some(2 * MIB as u64),
            None,
        )
        .unwrap();
    let saved = session.location().to_string();
    drop(first);

    let before = proxy.bytes_upstream();
    let second = BlobClient::new(
        &proxy.url(),
        Credential::anonymous(),
        ClientOptions::default(),
    )
    .unwrap();
    let session = second.resume_upload("re/attach", &saved).unwrap();
    assert_eq!(session.offset(), 2 * MIB as u64);
    let mut calc = DigestCalculator::new();
    calc.update(&data[..2 * MIB]);
    let rest = &data[2 * MIB..];
    let session = second
        .upload_chunk(
            &session,
            Cursor::new(rest),
            Some(rest.len() as u64),
            Some(&mut calc),
        )
        .unwrap();
    let expected: Digest = sha256_digest(&data).parse().unwrap();
    assert_eq!(
        second.complete_upload(&session, &calc.digest()).unwrap(),
        expected
    );
    let sent = proxy.bytes_upstream() - before;
    assert!(
        sent >= rest.len() as u64 && sent <= rest.len() as u64 * 11 / 10,
        "{sent} bytes sent for the {} missing",
        rest.len()
    );
    assert_eq!(
        second.check_blob_exists("re/attach", &expected).unwrap(),
        Some(data.len() as u64)
    );

    // a location elsewhere is refused; a session the registry dropped is an error
    let e = second
        .resume_upload("re/attach", "http://example.invalid/v2/x/blobs/uploads/1")
        .unwrap_err();
    assert!(e.to_string().contains("own origin"), "{e}");
    let e = second.resume_upload("re/attach", &saved).unwrap_err();
    assert!(e.is_not_found(), "{e}");
}
