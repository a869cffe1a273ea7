//! Terminal injection: text a registry controls (tag names, error messages, platform strings,
//! media types, artifact types) reaches stdout and stderr with its control characters escaped
//! (`\x1b`, `\u{9b}`), while `--json` stays exact JSON that decodes to the registry's text.

use super::loopback::{Answer, Loopback};
use crate::support::cli::{Acr, Run};

/// ESC (a colour and a title sequence), BEL, backspace, NUL, DEL, C1 CSI and NEL, bidi override.
const EVIL: &str = "v1\u{1b}[31mred\u{1b}]0;pwned\u{7}\u{8}\u{0}\u{7f}\u{9b}2J\u{85}\u{202e}";
/// What `EVIL` looks like once escaped.
const SHOWN: &str = "v1\\x1b[31mred\\x1b]0;pwned\\x07\\x08\\x00\\x7f\\u{9b}2J\\u{85}\\u{202e}";
const DIGEST: &str = "sha256:a40a15d7a9909805f4e4d0144374026e4641268cfd12001c6ad3ed70749ccd9f";

/// Whether `bytes` hold a character a terminal may obey (anything but a line feed).
fn has_controls(bytes: &[u8]) -> bool {
    String::from_utf8_lossy(bytes)
        .chars()
        .any(|c| c != '\n' && (c.is_control() || c == '\u{202e}'))
}

/// A registry whose every answer carries `EVIL`.
fn hostile() -> Loopback {
    Loopback::start(|req| {
        let t = req.target.as_str();
        let json = |v: serde_json::Value| Some(Answer::json(200, v.to_string()));
        if t.starts_with("/v2/evil/tags/list") {
            return json(serde_json::json!({"name": "evil", "tags": ["ok", EVIL]}));
        }
        if t.starts_with("/v2/evil/referrers/") {
            return json(serde_json::json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "manifests": [{
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": DIGEST,
                    "size": 12,
                    "artifactType": format!("application/{EVIL}"),
                }]
            }));
        }
        if t.starts_with("/acr/v1/evil/_manifests/") {
            return json(serde_json::json!({
                "registry": "r", "imageName": "evil",
                "manifest": {
                    "digest": DIGEST, "imageSize": 12, "mediaType": EVIL,
                    "architecture": EVIL, "os": EVIL, "tags": [EVIL],
                    "changeableAttributes": {}
                }
            }));
        }
        let error = serde_json::json!({"errors": [{"code": "DENIED", "message": EVIL}]});
        Some(Answer::json(403, error.to_string()))
    })
}

fn acr(server: &Loopback, args: &[&str]) -> Run {
    Acr::new().registry(&server.url()).args(args).run()
}

#[test]
fn registry_text_is_escaped_on_stdout_and_in_error_lines() {
    let server = hostile();

    let tags = acr(&server, &["tags", "evil"]).quiet_success();
    assert!(!has_controls(&tags.output.stdout), "{:?}", tags.stdout());
    assert_eq!(tags.stdout_lines(), ["ok", SHOWN]);

    let referrers = acr(&server, &["referrers", &format!("evil@{DIGEST}")]).quiet_success();
    assert!(
        !has_controls(&referrers.output.stdout),
        "{:?}",
        referrers.stdout()
    );
    assert_eq!(
        referrers.stdout_lines(),
        [format!("{DIGEST} application/{SHOWN}")]
    );

    let show = acr(&server, &["show", &format!("evil@{DIGEST}")]).quiet_success();
    assert!(!has_controls(&show.output.stdout), "{:?}", show.stdout());
    let text = show.stdout();
    assert!(
        text.contains(&format!("{SHOWN}/{SHOWN}")),
        "platform: {text}"
    );
    assert!(text.contains(&format!("media type:    {SHOWN}")), "{text}");

    // the registry's error message, in the one error line
    let denied = acr(&server, &["tags", "other"]);
    let line = denied.error_line(1);
    assert!(!has_controls(&denied.output.stderr), "{line:?}");
    assert!(line.contains(SHOWN), "{line}");
}

#[test]
fn json_stays_exact_and_free_of_raw_controls() {
    let server = hostile();
    let tags = acr(&server, &["tags", "evil", "--json"]).quiet_success();
    assert!(!has_controls(&tags.output.stdout), "{:?}", tags.stdout());
    assert_eq!(tags.json(), serde_json::json!(["ok", EVIL]));

    let referrers = acr(&server, &["--json", "referrers", &format!("evil@{DIGEST}")]);
    let referrers = referrers.quiet_success();
    assert!(!has_controls(&referrers.output.stdout));
    assert_eq!(
        referrers.json()[0]["artifactType"],
        format!("application/{EVIL}")
    );

    let show = acr(&server, &["show", "--json", &format!("evil@{DIGEST}")]).quiet_success();
    assert!(!has_controls(&show.output.stdout), "{:?}", show.stdout());
    assert_eq!(show.json()["manifest"]["architecture"], EVIL);
}
