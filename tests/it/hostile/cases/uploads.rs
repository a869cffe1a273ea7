//! Blob uploads: lying sessions, offsets, locations and digests.

use super::kit::*;

pub static UPLOADS: &[Case] = &[
    case(
        "upload_ok_baseline",
        Op::UploadStreamed,
        Expect::Ok,
        |r, _| upload_ok(r),
    ),
    case(
        "upload_new_session_claims_bytes",
        Op::UploadStreamed,
        DECODE,
        |r, _| {
            if r.method == "POST" {
                reply(202, &[("Location", "/upload/1"), ("Range", "0-999")], b"")
            } else {
                upload_ok(r)
            }
        },
    ),
    case(
        "upload_new_session_offset_near_2_64",
        Op::UploadChunked,
        DECODE,
        |r, _| {
            if r.method == "POST" {
                reply(
                    202,
                    &[
                        ("Location", "/upload/1"),
                        ("Range", "0-18446744073709551614"),
                    ],
                    b"",
                )
            } else {
                upload_ok(r)
            }
        },
    ),
    case("upload_no_location", Op::UploadStreamed, DECODE, |r, _| {
        if r.method == "POST" {
            reply(202, &[], b"")
        } else {
            upload_ok(r)
        }
    }),
    case(
        "upload_location_on_other_origin",
        Op::UploadStreamed,
        REGISTRY,
        |r, c| {
            if r.method == "POST" {
                reply(202, &[("Location", &format!("{}/upload/1", c.other))], b"")
            } else {
                upload_ok(r)
            }
        },
    ),
    case(
        "upload_patch_claims_more_than_sent",
        Op::UploadChunked,
        DECODE,
        |r, _| {
            if r.method == "PATCH" {
                reply(202, &[("Location", "/upload/1"), ("Range", "0-99999")], b"")
            } else {
                upload_ok(r)
            }
        },
    ),
    case(
        "upload_patch_garbled_range",
        Op::UploadStreamed,
        DECODE,
        |r, _| {
            if r.method == "PATCH" {
                reply(
                    202,
                    &[("Location", "/upload/1"), ("Range", "bytes=lots")],
                    b"",
                )
            } else {
                upload_ok(r)
            }
        },
    ),
    case(
        "upload_put_reports_another_digest",
        Op::UploadStreamed,
        DIGEST,
        |r, _| {
            if r.method == "PUT" {
                reply(201, &[("Docker-Content-Digest", &lm())], b"")
            } else {
                upload_ok(r)
            }
        },
    ),
    case(
        "upload_500_forever",
        Op::UploadChunked,
        STATUS_500,
        |r, _| {
            if r.method == "POST" {
                registry_error(500, "INTERNAL", "down")
            } else {
                upload_ok(r)
            }
        },
    ),
];
