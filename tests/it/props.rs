//! Property tests of the parsers that read what a registry sends (the `Link` header's, which is
//! crate-private, is a unit test in `src/http/link.rs`): references, digests, `Content-Range`,
//! timestamps, `WWW-Authenticate` challenges and manifests, each generated, written out, parsed
//! back and compared; and arbitrary text, which must parse or fail without a panic. The fuzz
//! targets in `fuzz/` search the same parsers for longer.

use std::collections::BTreeMap;

use azcontainerregistry::blob::ContentRange;
use azcontainerregistry::credential::challenge::Challenge;
use azcontainerregistry::manifest::{
    Descriptor, ImageIndex, ImageManifest, Manifest, Platform, media_type,
};
use azcontainerregistry::{Algorithm, Digest, Reference, TagOrDigest, Timestamp};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// `sha256:` or `sha512:` and lowercase hex of the right length.
fn digest() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9a-f]{64}".prop_map(|h| format!("sha256:{h}")),
        "[0-9a-f]{128}".prop_map(|h| format!("sha512:{h}")),
    ]
}

/// A repository: path components of the distribution grammar, the first without a `.` (which
/// would make it a registry host when written after nothing).
fn repository() -> impl Strategy<Value = String> {
    (
        "[a-z0-9]{1,8}(([_-]|__)[a-z0-9]{1,8})?",
        prop::collection::vec("[a-z0-9]{1,8}([._-][a-z0-9]{1,8})?", 0..3),
    )
        .prop_map(|(first, rest)| {
            std::iter::once(first)
                .chain(rest)
                .collect::<Vec<_>>()
                .join("/")
        })
}

fn tag() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_][A-Za-z0-9_.-]{0,30}"
}

fn registry() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9]{1,10}\\.[a-z]{2,5}(:[0-9]{1,5})?",
        "localhost(:[0-9]{1,5})?",
        "[a-z0-9]{1,10}:[0-9]{1,5}",
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn references_round_trip(
        registry in prop::option::of(registry()),
        repository in repository(),
        tag in prop::option::of(tag()),
        digest in prop::option::of(digest()),
    ) {
        let mut text = String::new();
        if let Some(r) = &registry {
            text.push_str(r);
            text.push('/');
        }
        text.push_str(&repository);
        if let Some(t) = &tag {
            text.push(':');
            text.push_str(t);
        }
        if let Some(d) = &digest {
            text.push('@');
            text.push_str(d);
        }
        let r = Reference::parse(&text).unwrap();
        prop_assert_eq!(r.registry(), registry.as_deref());
        prop_assert_eq!(r.repository(), repository.as_str());
        prop_assert_eq!(r.tag(), tag.as_deref());
        prop_assert_eq!(r.digest().map(Digest::as_str), digest.as_deref());
        prop_assert_eq!(r.to_string(), text.clone());
        prop_assert_eq!(Reference::parse(&r.to_string()).unwrap(), r);
    }

    #[test]
    fn any_reference_text_parses_or_fails_cleanly(text in "\\PC{0,80}") {
        if let Ok(r) = Reference::parse(&text) {
            prop_assert_eq!(Reference::parse(&r.to_string()).unwrap(), r);
        }
        if let Ok(t) = TagOrDigest::parse(&text) {
            prop_assert_eq!(TagOrDigest::parse(t.as_ref()).unwrap(), t);
        }
    }

    #[test]
    fn digests_round_trip(text in digest()) {
        let d = Digest::parse(&text).unwrap();
        prop_assert_eq!(d.as_str(), text.as_str());
        prop_assert_eq!(d.to_string(), text.clone());
        let algorithm = if text.starts_with("sha256:") { Algorithm::Sha256 } else { Algorithm::Sha512 };
        prop_assert_eq!(d.algorithm(), algorithm);
        prop_assert_eq!(d.hex(), &text[7..]);
    }

    #[test]
    fn wrong_digests_are_refused(
        algorithm in "[a-z0-9]{1,8}",
        hex in "[0-9a-fA-F]{0,130}",
    ) {
        let text = format!("{algorithm}:{hex}");
        let valid = (algorithm == "sha256" && hex.len() == 64 || algorithm == "sha512" && hex.len() == 128)
            && !hex.bytes().any(|b| b.is_ascii_uppercase());
        prop_assert_eq!(Digest::parse(&text).is_ok(), valid, "{}", text);
    }

    #[test]
    fn content_ranges_round_trip(start in 0u64..u64::MAX / 2, len in 1u64..1 << 40, extra in prop::option::of(0u64..1 << 40)) {
        let last = start + len - 1;
        let total = extra.map(|e| last + 1 + e);
        let header = format!(
            "bytes {start}-{last}/{}",
            total.map_or("*".to_string(), |t| t.to_string())
        );
        let r = ContentRange::parse(&header).unwrap();
        prop_assert_eq!(r.range.clone(), start..last + 1);
        prop_assert_eq!(r.total, total);
        prop_assert_eq!(r.len(), len);
    }

    #[test]
    fn content_ranges_that_cannot_be_are_refused(start in 0u64..1000, last in 0u64..1000, total in 0u64..1000) {
        let r = ContentRange::parse(&format!("bytes {start}-{last}/{total}"));
        prop_assert_eq!(r.is_some(), start <= last && last < total);
    }

    #[test]
    fn any_content_range_text_parses_or_fails_cleanly(text in "(bytes)?[ =]?[0-9*-/ ]{0,40}") {
        if let Some(r) = ContentRange::parse(&text) {
            prop_assert!(r.range.start < r.range.end);
            prop_assert!(r.total.is_none_or(|t| r.range.end <= t));
        }
    }

    #[test]
    fn timestamps_round_trip(
        // 0001-01-01T00:00:00Z ..= 9999-12-31T23:59:59Z
        secs in -62_135_596_800i64..=253_402_300_799,
        nanos in 0u32..1_000_000_000,
    ) {
        let t = Timestamp::from_unix(secs, nanos);
        let text = t.to_rfc3339();
        let back = Timestamp::parse(&text).unwrap();
        prop_assert_eq!((back.unix_seconds(), back.subsec_nanos()), (secs, nanos));
        prop_assert_eq!(back.to_rfc3339(), text);
    }

    #[test]
    fn timestamps_with_offsets_and_spaces_parse(
        secs in 0i64..=253_402_214_400,
        offset_minutes in -(23 * 60 + 59)..=(23 * 60 + 59i64),
        space in any::<bool>(),
    ) {
        // the same instant written in another zone, as ACR sometimes does
        let local = Timestamp::from_unix(secs + offset_minutes * 60, 0).to_rfc3339();
        let sign = if offset_minutes < 0 { '-' } else { '+' };
        let (h, m) = (offset_minutes.abs() / 60, offset_minutes.abs() % 60);
        let mut text = format!("{}{sign}{h:02}:{m:02}", local.trim_end_matches('Z'));
        if space {
            text = text.replacen('T', " ", 1);
        }
        let t = Timestamp::parse(&text).unwrap();
        prop_assert_eq!(t.unix_seconds(), secs, "{}", text);
    }

    #[test]
    fn any_timestamp_text_parses_or_fails_cleanly(text in "[0-9]{0,5}-?[0-9]{0,3}-?[0-9]{0,3}[T ]?[0-9:.]{0,20}(Z|[+-][0-9:]{0,6})?") {
        if let Ok(t) = Timestamp::parse(&text) {
            let back = Timestamp::parse(&t.to_rfc3339());
            prop_assert!(back.is_ok(), "{} wrote {}", text, t.to_rfc3339());
        }
    }

    #[test]
    fn challenges_round_trip(
        scheme in "(Bearer|bearer|BEARER|Basic)",
        params in prop::collection::btree_map("[a-z]{1,8}", "[ -~]{0,30}", 1..5),
        spaces in " {0,2}",
    ) {
        let quoted: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
            .collect();
        let header = format!("{scheme} {}", quoted.join(&format!(",{spaces}")));
        let all = Challenge::parse_all(&header);
        prop_assert_eq!(all.len(), 1, "{}", header);
        prop_assert_eq!(&all[0].scheme, &scheme.to_ascii_lowercase());
        prop_assert_eq!(&all[0].params, &params, "{}", header);
    }

    #[test]
    fn challenge_scopes_are_split(
        scopes in prop::collection::vec("repository:[a-z/]{1,10}:(pull|push|pull,push|\\*)", 1..4),
    ) {
        let header = format!(
            r#"Bearer realm="https://r.io/oauth2/token",service="r.io",scope="{}""#,
            scopes.join(" ")
        );
        let c = &Challenge::parse_all(&header)[0];
        prop_assert_eq!(c.scopes(), scopes.iter().map(String::as_str).collect::<Vec<_>>());
        prop_assert_eq!(c.realm(), Some("https://r.io/oauth2/token"));
    }

    #[test]
    fn any_challenge_text_parses_without_panic(text in "\\PC{0,120}") {
        for c in Challenge::parse_all(&text) {
            prop_assert_eq!(&c.scheme, &c.scheme.to_ascii_lowercase());
        }
    }

    #[test]
    fn manifests_round_trip(manifest in manifest()) {
        let bytes = manifest.to_bytes();
        let back = Manifest::from_bytes(manifest.media_type(), &bytes).unwrap();
        prop_assert_eq!(&back, &manifest);
        // and without a Content-Type, by the JSON alone
        let probed = Manifest::from_bytes("", &bytes).unwrap();
        prop_assert_eq!(&probed, &manifest);
        prop_assert_eq!(back.to_bytes(), bytes);
    }
}

fn annotations() -> impl Strategy<Value = Option<BTreeMap<String, String>>> {
    prop::option::of(prop::collection::btree_map(
        "[a-z.]{1,20}",
        "\\PC{0,20}",
        0..3,
    ))
}

fn descriptor() -> impl Strategy<Value = Descriptor> {
    (
        "[a-z]{1,10}/[a-z.+-]{1,30}",
        digest(),
        any::<u64>(),
        annotations(),
        prop::option::of(("[a-z]{1,8}", "[a-z0-9]{1,8}")),
        prop::option::of("[a-z]{1,10}/[a-z.]{1,10}"),
    )
        .prop_map(|(media, digest, size, annotations, platform, artifact)| {
            let mut d = Descriptor::new(media, Digest::parse(&digest).unwrap(), size);
            d.annotations = annotations;
            d.platform = platform.map(|(os, arch)| Platform::new(os, arch));
            d.artifact_type = artifact;
            d
        })
}

fn manifest() -> impl Strategy<Value = Manifest> {
    prop_oneof![
        (
            descriptor(),
            prop::collection::vec(descriptor(), 0..4),
            prop::option::of(descriptor()),
            annotations(),
        )
            .prop_map(|(config, layers, subject, annotations)| {
                let mut m = ImageManifest::new(config, layers);
                m.subject = subject;
                m.annotations = annotations;
                Manifest::Image(m)
            }),
        (prop::collection::vec(descriptor(), 0..4), annotations()).prop_map(
            |(children, annotations)| {
                let mut i = ImageIndex::new(children);
                i.media_type = Some(media_type::OCI_INDEX.to_string());
                i.annotations = annotations;
                Manifest::Index(i)
            }
        ),
    ]
}
