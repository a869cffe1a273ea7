//! Blob downloads, chunks and existence checks.

use super::kit::*;

pub static BLOBS: &[Case] = &[
    case("blob_ok_baseline", Op::Download, Expect::Ok, |_, _| {
        blob_ok()
    }),
    case("blob_wrong_digest", Op::Download, DIGEST, |_, _| {
        reply(200, &[], b"not the bytes you asked for")
    }),
    case("blob_longer_than_the_blob", Op::Download, DIGEST, |_, _| {
        let mut b = BLOB.to_vec();
        b.extend_from_slice(b"and some more bytes");
        reply(200, &[], &b)
    }),
    case(
        "blob_short_body_every_time",
        Op::Download,
        SIZE_OR_TRANSPORT,
        |_, _| {
            let b = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\nhello",
                BLOB.len()
            );
            raw(b.as_bytes())
        },
    ),
    case("blob_404", Op::Download, NOT_FOUND, |_, _| {
        registry_error(404, "BLOB_UNKNOWN", "no such blob")
    }),
    case("blob_206_to_a_plain_get", Op::Download, REGISTRY, |_, _| {
        reply(206, &[("Content-Range", "bytes 0-4/100")], b"hello")
    }),
    case(
        "blob_resume_with_range_ignored",
        Op::Download,
        Expect::Ok,
        |r, _| {
            if r.header("range").is_none() {
                let mut b = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    BLOB.len()
                )
                .into_bytes();
                b.extend_from_slice(&BLOB[..10]);
                raw(&b)
            } else {
                blob_ok()
            }
        },
    ),
    case(
        "blob_resume_garbled_content_range",
        Op::Download,
        DECODE,
        |r, _| {
            if r.header("range").is_none() {
                let mut b = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    BLOB.len()
                )
                .into_bytes();
                b.extend_from_slice(&BLOB[..10]);
                raw(&b)
            } else {
                reply(206, &[("Content-Range", "bytes banana")], &BLOB[10..])
            }
        },
    ),
    case(
        "blob_resume_content_range_starts_later",
        Op::Download,
        DECODE,
        |r, _| {
            if r.header("range").is_none() {
                let mut b = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    BLOB.len()
                )
                .into_bytes();
                b.extend_from_slice(&BLOB[..10]);
                raw(&b)
            } else {
                let cr = format!("bytes 15-{}/{}", BLOB.len() - 1, BLOB.len());
                reply(206, &[("Content-Range", &cr)], &BLOB[15..])
            }
        },
    ),
    case(
        "blob_resume_total_changes",
        Op::Download,
        Expect::Err("SizeMismatch", |e| matches!(e, Error::SizeMismatch { .. })),
        |r, _| {
            if r.header("range").is_none() {
                let mut b = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    BLOB.len()
                )
                .into_bytes();
                b.extend_from_slice(&BLOB[..10]);
                raw(&b)
            } else {
                reply(206, &[("Content-Range", "bytes 10-20/5000")], &BLOB[10..21])
            }
        },
    ),
    case(
        "blob_redirect_to_other_origin_without_credentials",
        Op::Download,
        Expect::Ok,
        |r, c| {
            let _ = r;
            reply(
                307,
                &[("Location", &format!("{}/storage/blob?sig=abc", c.other))],
                b"",
            )
        },
    ),
    case(
        "blob_redirect_loop",
        Op::Download,
        REDIRECT_OR_TRANSPORT,
        |r, _| {
            reply(
                302,
                &[("Location", &format!("{}{}", r.origin, r.target))],
                b"",
            )
        },
    ),
    case(
        "blob_silent_mid_body",
        Op::Download,
        SIZE_OR_TRANSPORT,
        |_, _| {
            let mut b = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                BLOB.len()
            )
            .into_bytes();
            b.extend_from_slice(&BLOB[..4]);
            vec![Act::Send(b), Act::Silence]
        },
    ),
    case(
        "blob_trickle_below_minimum_progress",
        Op::Download,
        TIMEOUT,
        |_, _| {
            let mut v =
                raw(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n");
            v.push(Act::Trickle {
                bytes: vec![b'x'; 100_000],
                chunk: 1,
                every: Duration::from_millis(1500),
            });
            v
        },
    ),
    case("chunk_206_longer_than_asked", Op::Chunk, DECODE, |_, _| {
        let cr = format!("bytes 0-{}/{}", BLOB.len() - 1, BLOB.len());
        reply(206, &[("Content-Range", &cr)], BLOB)
    }),
    case(
        "chunk_206_without_content_range",
        Op::Chunk,
        DECODE,
        |_, _| reply(206, &[], &BLOB[..10]),
    ),
    case("chunk_206_at_another_offset", Op::Chunk, DECODE, |_, _| {
        reply(206, &[("Content-Range", "bytes 5-14/37")], &BLOB[5..15])
    }),
    case(
        "chunk_range_ignored_whole_blob",
        Op::Chunk,
        Expect::Ok,
        |_, _| blob_ok(),
    ),
    case(
        "exists_garbled_content_length",
        Op::Exists,
        TRANSPORT,
        |_, _| raw(b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\nConnection: close\r\n\r\n"),
    ),
    case("exists_500_forever", Op::Exists, STATUS_500, |_, _| {
        registry_error(500, "INTERNAL", "x")
    }),
];
