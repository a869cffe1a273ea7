//! The crate's one error type.
//!
//! Every fallible operation returns [`Error`]. A failure the registry reported keeps the HTTP
//! status and the parsed `{"errors":[{code,message,detail}]}` body ([`RegistryError`]); the
//! predicates ([`Error::is_not_found`], [`Error::is_unauthorized`], …) answer the usual questions
//! without matching on status codes. Messages say what failed and, where the fix is known, what to
//! do. Neither `Display` nor `Debug` ever shows a token, a password or a SAS signature: URLs are
//! redacted before they are stored.

use std::fmt;

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
        "timed out talking to {url}: {message}; raise the timeouts in ClientOptions if the registry is slow"
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

    /// 429 or `TOOMANYREQUESTS`: the registry is throttling.
    pub fn is_throttled(&self) -> bool {
        self.status() == Some(429) || self.has_code(ErrorCode::TooManyRequests)
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
    anonymous: bool,
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
        401 if anonymous => Some(
            "This operation needs credentials: anonymous access only allows pulls from registries that enable it"
                .to_string(),
        ),
        401 => Some("The credentials were refused: check the identity and its role on the registry".to_string()),
        403 if message_has("not allowed access") || message_has("firewall") || message_has("ip ") => Some(
            "The registry's firewall refused this client: add its IP address to the registry's network rules"
                .to_string(),
        ),
        403 => Some("The identity lacks permission for this operation on the registry".to_string()),
        429 => Some("The registry is throttling: retry later or lower the request rate".to_string()),
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
        let e = registry_error(404, "GET", "https://r/v2/a/manifests/x", body, false);
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
        let e = registry_error(401, "GET", "u", body, false);
        assert!(e.is_unauthorized());
        assert!(e.to_string().contains("audience"), "{e}");
    }

    #[test]
    fn refused_sign_in_repeats_the_registry_message_and_hint() {
        let body = br#"{"errors":[{"code":"UNAUTHORIZED","message":"token invalid audience: wrong audience"}]}"#;
        let cause = registry_error(401, "POST", "u", body, false);
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
        let e = registry_error(401, "DELETE", "u", b"", true);
        assert!(e.to_string().contains("needs credentials"), "{e}");
        let body = br#"{"errors":[{"code":"DENIED","message":"client with IP 1.2.3.4 is not allowed access"}]}"#;
        let e = registry_error(403, "GET", "u", body, false);
        assert!(e.is_forbidden());
        assert!(e.to_string().contains("firewall"), "{e}");
    }

    #[test]
    fn unknown_codes_and_garbage_bodies() {
        let e = registry_error(400, "PUT", "u", br#"{"errors":[{"code":"WEIRD"}]}"#, false);
        assert_eq!(
            e.registry_error().unwrap().code(),
            Some(&ErrorCode::Other("WEIRD".into()))
        );
        let e = registry_error(500, "PUT", "u", b"<html>", false);
        assert!(e.registry_error().unwrap().errors.is_empty());
        let e = registry_error(
            429,
            "GET",
            "u",
            br#"{"errors":[{"code":"TOOMANYREQUESTS"}]}"#,
            false,
        );
        assert!(e.is_throttled());
    }
}
