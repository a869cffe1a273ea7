//! The crate's one error type.
//!
//! Every fallible operation returns [`Error`]. A failure the registry reported keeps the HTTP
//! status and the parsed `{"errors":[{code,message,detail}]}` body ([`RegistryError`]); the
//! predicates ([`Error::is_not_found`], [`Error::is_unauthorized`], …) answer the usual questions
//! without matching on status codes. Messages say what failed and, where the fix is known, what to
//! do. Neither `Display` nor `Debug` ever shows a token, a password or a SAS signature: URLs are
//! redacted before they are stored.

use std::fmt;
use std::time::{Duration, SystemTime};

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to a registry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An argument was rejected before any request was sent: `value` broke `rule`.
    #[error("invalid {what} {value:?}: {rule}")]
    InvalidInput {
        /// What the value is, e.g. "repository name".
        what: &'static str,
        /// The offending value (never a secret).
        value: String,
        /// The rule it broke.
        rule: String,
    },

    /// The registry answered with an error status.
    #[error("{0}")]
    Registry(Box<RegistryError>),

    /// The registry is throttling (`429`, or `503` with `Retry-After`) and asked for a wait longer
    /// than the retry options allow (`RetryOptions::max_delay`, or what remains of
    /// `RetryOptions::budget`): the call failed at once instead of sleeping. Retry after
    /// `retry_after`.
    #[error(
        "{error}; the registry asks to retry after {} (at {}), longer than this client waits \
         (RetryOptions::max_delay and budget; acr: --timeout)",
        describe_wait(*retry_after),
        httpdate::fmt_http_date(*retry_at)
    )]
    Throttled {
        /// The wait the registry asked for, from when it answered.
        retry_after: Duration,
        /// When that wait ends.
        retry_at: SystemTime,
        /// The registry's answer (status, error body).
        error: Box<RegistryError>,
    },

    /// Bytes did not hash to the digest they were requested or announced by.
    #[error("digest mismatch for {what}: expected {expected}, got {actual}")]
    DigestMismatch {
        /// What was being verified, e.g. "blob" or "manifest".
        what: &'static str,
        /// The digest asked for or announced.
        expected: String,
        /// The digest of the bytes received.
        actual: String,
    },

    /// A body was shorter or longer than announced.
    #[error("size mismatch for {what}: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        /// What was being read.
        what: &'static str,
        /// The announced length.
        expected: u64,
        /// The length received.
        actual: u64,
    },

    /// A response body exceeded the limit this client reads.
    #[error("{what} is larger than the {limit}-byte limit; refused without reading further")]
    TooLarge {
        /// What was being read, e.g. "manifest".
        what: &'static str,
        /// The limit in bytes.
        limit: u64,
    },

    /// An image went past one of the safety limits of its transfer (children of an index, manifest
    /// bytes, blobs: `ImageLimits` in the `image` module); refused before anything is written.
    #[error(
        "{what} exceeds the limit of {limit}; raise ImageLimits::{option} if the image is trusted"
    )]
    LimitExceeded {
        /// What went past the limit, e.g. "children of the image index".
        what: &'static str,
        /// The limit.
        limit: u64,
        /// The `ImageLimits` field that sets it.
        option: &'static str,
    },

    /// The registry steered the client to a URL it refuses to follow (another origin for a
    /// next-page link, a redirect on a write, too many redirects).
    #[error("refused to follow {what} to {url}: {reason}")]
    Redirect {
        /// What carried the URL: "next-page link", "redirect", "upload location".
        what: &'static str,
        /// The URL, redacted.
        url: String,
        /// Why it was refused.
        reason: &'static str,
    },

    /// A connection could not be made or broke (DNS, TCP, TLS, protocol).
    #[error("transport error talking to {url}: {message}")]
    Transport {
        /// The URL, redacted.
        url: String,
        /// What the transport said.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// A configured timeout elapsed.
    #[error(
        "timed out talking to {url}: {message}; raise the timeouts in ClientOptions (acr: \
         --timeout) if the registry is slow"
    )]
    Timeout {
        /// The URL, redacted.
        url: String,
        /// Which timeout fired.
        message: String,
    },

    /// Signing in failed: Azure AD, the token exchange, or the registry's token service.
    #[error("authentication failed: {message}")]
    Authentication {
        /// What failed and, where known, what to do.
        message: String,
        /// The underlying error, e.g. the Azure AD failure or the token service's answer.
        #[source]
        source: Option<Box<Error>>,
    },

    /// A response could not be decoded (bad JSON, missing header, malformed challenge).
    #[error("could not decode {what}: {message}")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// The decoder's message.
        message: String,
    },

    /// A local I/O error (reading an upload source, writing a download, a layout directory).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),

    /// The configuration of the client is unusable (bad endpoint, plain http without opt-in).
    #[error("invalid configuration: {0}")]
    Config(String),

    /// Offline (no request may be sent), and what a pull needs is not in the cache: the message
    /// names the missing digest or tag.
    #[error("offline: {0}")]
    Offline(String),
}

impl Error {
    pub(crate) fn invalid(
        what: &'static str,
        value: impl Into<String>,
        rule: impl Into<String>,
    ) -> Self {
        Error::InvalidInput {
            what,
            value: value.into(),
            rule: rule.into(),
        }
    }

    pub(crate) fn decode(what: &'static str, message: impl fmt::Display) -> Self {
        Error::Decode {
            what,
            message: message.to_string(),
        }
    }

    pub(crate) fn auth(message: impl Into<String>, source: Option<Error>) -> Self {
        Error::Authentication {
            message: message.into(),
            source: source.map(Box::new),
        }
    }

    /// An authentication failure caused by the token service's answer `source`. The message repeats
    /// the registry's error code, message and hint: the cause of a refused sign-in (a wrong
    /// audience, ARM tokens disabled, a bad password) must show in the one line most programs
    /// print, not only in the source chain.
    pub(crate) fn auth_refused(context: impl Into<String>, source: Error) -> Self {
        let mut message = context.into();
        if let Some(reg) = source.registry_error() {
            if let Some(first) = reg.errors.first() {
                message.push_str(&format!(": {}", first.code));
                if !first.message.is_empty() {
                    message.push_str(&format!(" ({})", first.message));
                }
            }
            if let Some(hint) = &reg.hint {
                message.push_str(". ");
                message.push_str(hint);
            }
        }
        Error::auth(message, Some(source))
    }

    /// The registry's error, when the registry answered with an error status.
    pub fn registry_error(&self) -> Option<&RegistryError> {
        match self {
            Error::Registry(e) => Some(e),
            Error::Throttled { error, .. } => Some(error),
            Error::Authentication {
                source: Some(s), ..
            } => s.registry_error(),
            _ => None,
        }
    }

    /// The HTTP status of a registry failure.
    pub fn status(&self) -> Option<u16> {
        self.registry_error().map(|e| e.status)
    }

    /// True when the registry's error body names `code` (e.g. [`ErrorCode::DigestInvalid`]).
    pub fn has_code(&self, code: ErrorCode) -> bool {
        self.registry_error()
            .is_some_and(|e| e.errors.iter().any(|d| d.code == code))
    }

    /// 404, or a `*_UNKNOWN` error code.
    pub fn is_not_found(&self) -> bool {
        self.registry_error().is_some_and(|e| {
            e.status == 404
                || e.errors.iter().any(|d| {
                    matches!(
                        d.code,
                        ErrorCode::NameUnknown
                            | ErrorCode::ManifestUnknown
                            | ErrorCode::BlobUnknown
                            | ErrorCode::BlobUploadUnknown
                    )
                })
        })
    }

    /// 401: no credentials, or credentials the registry refused.
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(401)
    }

    /// 403: the identity may not do this, or a firewall refused the client.
    pub fn is_forbidden(&self) -> bool {
        self.status() == Some(403)
    }

    /// 429, `TOOMANYREQUESTS`, or [`Error::Throttled`]: the registry is throttling.
    pub fn is_throttled(&self) -> bool {
        matches!(self, Error::Throttled { .. })
            || self.status() == Some(429)
            || self.has_code(ErrorCode::TooManyRequests)
    }

    /// How long the registry asked to wait before retrying ([`Error::Throttled`]).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Throttled { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// A transport failure or timeout (the request may not have reached the registry).
    pub fn is_transport(&self) -> bool {
        matches!(self, Error::Transport { .. } | Error::Timeout { .. })
    }
}

/// A failure reported by the registry: the status and the parsed error body.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RegistryError {
    /// The HTTP status code.
    pub status: u16,
    /// The HTTP method of the failed request.
    pub method: String,
    /// The URL of the failed request, with secrets redacted.
    pub url: String,
    /// The entries of the `{"errors":[...]}` body; empty when the body had none.
    pub errors: Vec<ErrorDetail>,
    /// What to do about it, when known.
    pub hint: Option<String>,
}

impl RegistryError {
    /// The first error code, if the body had one.
    pub fn code(&self) -> Option<&ErrorCode> {
        self.errors.first().map(|e| &e.code)
    }
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} failed with status {}",
            self.method, self.url, self.status
        )?;
        for (i, e) in self.errors.iter().enumerate() {
            f.write_str(if i == 0 { ": " } else { "; " })?;
            write!(f, "{}", e.code)?;
            if !e.message.is_empty() {
                write!(f, " ({})", e.message)?;
            }
        }
        if let Some(hint) = &self.hint {
            write!(f, ". {hint}")?;
        }
        Ok(())
    }
}

/// One entry of a registry error body.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[non_exhaustive]
pub struct ErrorDetail {
    /// The error code, e.g. `MANIFEST_UNKNOWN`.
    pub code: ErrorCode,
    /// The registry's message.
    #[serde(default)]
    pub message: String,
    /// Free-form detail the registry attached.
    #[serde(default)]
    pub detail: Option<serde_json::Value>,
}

/// The error codes of the distribution specification, and ACR's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `BLOB_UNKNOWN`: the blob is not in the repository.
    BlobUnknown,
    /// `BLOB_UPLOAD_INVALID`: the upload session or chunk was rejected.
    BlobUploadInvalid,
    /// `BLOB_UPLOAD_UNKNOWN`: the upload session does not exist.
    BlobUploadUnknown,
    /// `DIGEST_INVALID`: the content does not match the digest.
    DigestInvalid,
    /// `MANIFEST_BLOB_UNKNOWN`: the manifest references a missing blob.
    ManifestBlobUnknown,
    /// `MANIFEST_INVALID`: the manifest failed validation.
    ManifestInvalid,
    /// `MANIFEST_UNKNOWN`: no such manifest.
    ManifestUnknown,
    /// `NAME_INVALID`: bad repository name.
    NameInvalid,
    /// `NAME_UNKNOWN`: no such repository.
    NameUnknown,
    /// `SIZE_INVALID`: the content length does not match.
    SizeInvalid,
    /// `TAG_INVALID`: bad tag.
    TagInvalid,
    /// `UNAUTHORIZED`: authentication required.
    Unauthorized,
    /// `DENIED`: access denied.
    Denied,
    /// `UNSUPPORTED`: the operation is not supported.
    Unsupported,
    /// `TOOMANYREQUESTS`: throttled.
    TooManyRequests,
    /// Any other code, verbatim.
    Other(String),
}

impl ErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::BlobUnknown => "BLOB_UNKNOWN",
            ErrorCode::BlobUploadInvalid => "BLOB_UPLOAD_INVALID",
            ErrorCode::BlobUploadUnknown => "BLOB_UPLOAD_UNKNOWN",
            ErrorCode::DigestInvalid => "DIGEST_INVALID",
            ErrorCode::ManifestBlobUnknown => "MANIFEST_BLOB_UNKNOWN",
            ErrorCode::ManifestInvalid => "MANIFEST_INVALID",
            ErrorCode::ManifestUnknown => "MANIFEST_UNKNOWN",
            ErrorCode::NameInvalid => "NAME_INVALID",
            ErrorCode::NameUnknown => "NAME_UNKNOWN",
            ErrorCode::SizeInvalid => "SIZE_INVALID",
            ErrorCode::TagInvalid => "TAG_INVALID",
            ErrorCode::Unauthorized => "UNAUTHORIZED",
            ErrorCode::Denied => "DENIED",
            ErrorCode::Unsupported => "UNSUPPORTED",
            ErrorCode::TooManyRequests => "TOOMANYREQUESTS",
            ErrorCode::Other(s) => s,
        }
    }
}

impl From<&str> for ErrorCode {
    fn from(s: &str) -> Self {
        match s {
            "BLOB_UNKNOWN" => ErrorCode::BlobUnknown,
            "BLOB_UPLOAD_INVALID" => ErrorCode::BlobUploadInvalid,
            "BLOB_UPLOAD_UNKNOWN" => ErrorCode::BlobUploadUnknown,
            "DIGEST_INVALID" => ErrorCode::DigestInvalid,
            "MANIFEST_BLOB_UNKNOWN" => ErrorCode::ManifestBlobUnknown,
            "MANIFEST_INVALID" => ErrorCode::ManifestInvalid,
            "MANIFEST_UNKNOWN" => ErrorCode::ManifestUnknown,
            "NAME_INVALID" => ErrorCode::NameInvalid,
            "NAME_UNKNOWN" => ErrorCode::NameUnknown,
            "SIZE_INVALID" => ErrorCode::SizeInvalid,
            "TAG_INVALID" => ErrorCode::TagInvalid,
            "UNAUTHORIZED" => ErrorCode::Unauthorized,
            "DENIED" => ErrorCode::Denied,
            "UNSUPPORTED" => ErrorCode::Unsupported,
            "TOOMANYREQUESTS" => ErrorCode::TooManyRequests,
            other => ErrorCode::Other(other.to_string()),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(ErrorCode::from(s.as_str()))
    }
}

/// A wait in words: `90 s`, `2 h 5 min`.
fn describe_wait(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0..120 => format!("{secs} s"),
        120..7200 => format!("{} min {} s", secs / 60, secs % 60),
        _ => format!("{} h {} min", secs / 3600, (secs % 3600) / 60),
    }
}

/// What a failed request carried, for the hint of a `401`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Credentials {
    /// Credentials went with the request.
    #[default]
    Sent,
    /// The client has none (anonymous).
    Anonymous,
    /// None were sent: the URL is not on the registry's origin (a redirect target).
    WithheldOffOrigin,
    /// None were sent: the registry's `401` carried no `WWW-Authenticate` challenge.
    NoChallenge,
    /// None were sent: the registry's challenge names no scheme this client answers.
    UnusableChallenge,
}

#[derive(serde::Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errors: Vec<ErrorDetail>,
}

/// Builds the error for a failed response: parses the body and adds the known fixes.
pub(crate) fn registry_error(
    status: u16,
    method: &str,
    url: &str,
    body: &[u8],
    credentials: Credentials,
) -> Error {
    let errors = serde_json::from_slice::<ErrorBody>(body)
        .map(|b| b.errors)
        .unwrap_or_default();
    let message_has = |needle: &str| {
        errors
            .iter()
            .any(|e| e.message.to_ascii_lowercase().contains(needle))
    };
    let hint = match status {
        401 if message_has("arm aad token disallowed") => Some(
            "The registry refuses Azure Resource Manager tokens: set ClientOptions::audience to \
             Audience::ContainerRegistry (https://containerregistry.azure.net), or enable ARM tokens on the registry"
                .to_string(),
        ),
        401 if message_has("audience") => Some(
            "The Azure AD token was issued for an audience the registry does not accept: set \
             ClientOptions::audience (Audience::ContainerRegistry works in every cloud; older registries want \
             the Azure Resource Manager audience of their cloud)"
                .to_string(),
        ),
        401 if credentials == Credentials::Anonymous => Some(
            "This operation needs credentials: anonymous access only allows pulls from registries that enable it"
                .to_string(),
        ),
        401 if credentials == Credentials::WithheldOffOrigin => Some(
            "No credentials were sent: this URL is not on the registry's origin (the registry \
             redirected here), and credentials only go to the registry itself"
                .to_string(),
        ),
        401 if credentials == Credentials::NoChallenge => Some(
            "No credentials were sent: the registry answered 401 without a WWW-Authenticate \
             challenge, so the client cannot tell how to sign in"
                .to_string(),
        ),
        401 if credentials == Credentials::UnusableChallenge => Some(
            "No credentials were sent: the registry's WWW-Authenticate challenge names no \
             scheme this client supports (Bearer or Basic) or could not be parsed"
                .to_string(),
        ),
        401 => Some("The credentials were refused: check the identity and its role on the registry".to_string()),
        403 if message_has("not allowed access") || message_has("firewall") || message_has("ip ") => Some(
            "The registry's firewall refused this client: add its IP address to the registry's network rules"
                .to_string(),
        ),
        403 => Some("The identity lacks permission for this operation on the registry".to_string()),
        429 => Some("The registry is throttling: retry later or lower the request rate".to_string()),
        404 if errors.is_empty() && url.contains("/acr/v1/") => Some(
            "This is an Azure Container Registry-only call (/acr/v1): the registry does not \
             implement it (it is not an Azure Container Registry); use the /v2 operations instead"
                .to_string(),
        ),
        _ => None,
    };
    Error::Registry(Box::new(RegistryError {
        status,
        method: method.to_string(),
        url: url.to_string(),
        errors,
        hint,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_error_body_and_predicates() {
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest tagged by \"x\" is not found","detail":{"Tag":"x"}}]}"#;
        let e = registry_error(
            404,
            "GET",
            "https://r/v2/a/manifests/x",
            body,
            Credentials::Sent,
        );
        assert!(e.is_not_found());
        assert!(e.has_code(ErrorCode::ManifestUnknown));
        assert!(!e.is_unauthorized());
        assert_eq!(e.status(), Some(404));
        let text = e.to_string();
        assert!(text.contains("MANIFEST_UNKNOWN"), "{text}");
    }

    #[test]
    fn arm_token_hint() {
        let body = br#"{"errors":[{"code":"UNAUTHORIZED","message":"arm aad token disallowed"}]}"#;
        let e = registry_error(401, "GET", "u", body, Credentials::Sent);
        assert!(e.is_unauthorized());
        assert!(e.to_string().contains("audience"), "{e}");
    }

    #[test]
    fn refused_sign_in_repeats_the_registry_message_and_hint() {
        let body = br#"{"errors":[{"code":"UNAUTHORIZED","message":"token invalid audience: wrong audience"}]}"#;
        let cause = registry_error(401, "POST", "u", body, Credentials::Sent);
        let e = Error::auth_refused(
            "the registry's /oauth2/exchange endpoint answered 401",
            cause,
        );
        let text = e.to_string();
        assert!(
            text.contains("UNAUTHORIZED (token invalid audience"),
            "{text}"
        );
        assert!(text.contains("ClientOptions::audience"), "{text}");
        assert!(e.is_unauthorized());
        let plain = Error::auth_refused("context", Error::Config("x".into()));
        assert_eq!(plain.to_string(), "authentication failed: context");
    }

    #[test]
    fn anonymous_and_firewall_hints() {
        let e = registry_error(401, "DELETE", "u", b"", Credentials::Anonymous);
        assert!(e.to_string().contains("needs credentials"), "{e}");
        let body = br#"{"errors":[{"code":"DENIED","message":"client with IP 1.2.3.4 is not allowed access"}]}"#;
        let e = registry_error(403, "GET", "u", body, Credentials::Sent);
        assert!(e.is_forbidden());
        assert!(e.to_string().contains("firewall"), "{e}");
    }

    #[test]
    fn unknown_codes_and_garbage_bodies() {
        let e = registry_error(
            400,
            "PUT",
            "u",
            br#"{"errors":[{"code":"WEIRD"}]}"#,
            Credentials::Sent,
        );
        assert_eq!(
            e.registry_error().unwrap().code(),
            Some(&ErrorCode::Other("WEIRD".into()))
        );
        let e = registry_error(500, "PUT", "u", b"<html>", Credentials::Sent);
        assert!(e.registry_error().unwrap().errors.is_empty());
        let e = registry_error(
            429,
            "GET",
            "u",
            br#"{"errors":[{"code":"TOOMANYREQUESTS"}]}"#,
            Credentials::Sent,
        );
        assert!(e.is_throttled());
    }

    #[test]
    fn throttled_says_when_and_keeps_status_and_code() {
        let body = br#"{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}"#;
        let Error::Registry(reg) = registry_error(429, "GET", "u", body, Credentials::Sent) else {
            panic!("not a registry error");
        };
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let e = Error::Throttled {
            retry_after: Duration::from_secs(3 * 3600 + 60),
            retry_at: at,
            error: reg,
        };
        let text = e.to_string();
        assert!(text.contains("retry after 3 h 1 min"), "{text}");
        assert!(text.contains(&httpdate::fmt_http_date(at)), "{text}");
        assert!(e.is_throttled() && e.has_code(ErrorCode::TooManyRequests));
        assert_eq!(e.status(), Some(429));
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3 * 3600 + 60)));
        assert_eq!(describe_wait(Duration::from_secs(90)), "90 s");
        assert_eq!(describe_wait(Duration::from_secs(150)), "2 min 30 s");
    }

    #[test]
    fn unauthorized_hints_name_what_was_sent() {
        let hint = |c| registry_error(401, "GET", "u", b"", c).to_string();
        assert!(hint(Credentials::Sent).contains("credentials were refused"));
        for c in [
            Credentials::WithheldOffOrigin,
            Credentials::NoChallenge,
            Credentials::UnusableChallenge,
        ] {
            let text = hint(c);
            assert!(text.contains("No credentials were sent"), "{text}");
            assert!(!text.contains("refused"), "{text}");
        }
        assert!(hint(Credentials::WithheldOffOrigin).contains("redirected"));
    }

    #[test]
    fn acr_only_calls_say_so_on_a_bare_404() {
        let url = "http://127.0.0.1:5000/acr/v1/_catalog";
        let e = registry_error(404, "GET", url, b"404 page not found\n", Credentials::Sent);
        assert!(
            e.to_string().contains("Azure Container Registry-only"),
            "{e}"
        );
        assert!(e.is_not_found());
        // ACR's own 404 for a missing repository is not about the API
        let body = br#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository x is not found"}]}"#;
        let e = registry_error(404, "GET", url, body, Credentials::Sent);
        assert!(!e.to_string().contains("Registry-only"), "{e}");
        let e = registry_error(
            404,
            "GET",
            "http://r/v2/a/tags/list",
            b"",
            Credentials::Sent,
        );
        assert!(!e.to_string().contains("Registry-only"), "{e}");
    }
}
