//! [`Response`]: a response whose status has not been judged yet, with bounded body reading.

use std::io::Read;

use super::deadline::DownloadProgress;
use super::{Method, Url};
use crate::error::{Credentials, Error, Result};
use crate::options::MinProgress;
use crate::redact;

/// Error bodies are read up to this size.
const ERROR_BODY_LIMIT: u64 = 64 * 1024;

/// A response whose status has not been judged yet.
pub(crate) struct Response {
    pub status: u16,
    pub url: Url,
    pub method: Method,
    headers: ureq::http::HeaderMap,
    /// `None` once consumed; an unread body is drained on drop (see `Drop`).
    body: Option<ureq::Body>,
    /// What the request carried, for the hint of a 401.
    pub(crate) credentials: Credentials,
    /// The rule a streamed body ([`Response::into_reader`]) is held to.
    pub(super) min_progress: Option<MinProgress>,
}

impl Response {
    pub(super) fn new(
        url: Url,
        method: Method,
        response: ureq::http::Response<ureq::Body>,
    ) -> Self {
        let (parts, body) = response.into_parts();
        Response {
            status: parts.status.as_u16(),
            url,
            method,
            headers: parts.headers,
            body: Some(body),
            credentials: Credentials::Sent,
            min_progress: None,
        }
    }

    /// A header value, when present and text.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// All values of a header.
    pub(crate) fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }

    /// Every header as text (a name with several values appears once per value).
    #[cfg_attr(not(feature = "azure"), allow(dead_code))]
    pub(crate) fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers
            .iter()
            .filter_map(|(n, v)| Some((n.as_str(), v.to_str().ok()?)))
    }

    /// The `Content-Length`, when announced and a number.
    pub(crate) fn content_length(&self) -> Option<u64> {
        self.header("content-length")
            .and_then(|v| v.trim().parse::<u64>().ok())
    }

    /// 2xx.
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn take_body(&mut self) -> ureq::Body {
        self.body
            .take()
            .unwrap_or_else(|| ureq::Body::builder().data(Vec::new()))
    }

    /// The body as a stream, held to `Timeouts::min_progress`.
    pub(crate) fn into_reader(mut self) -> impl Read + Send + 'static {
        let reader = self.take_body().into_with_config().limit(u64::MAX).reader();
        match self.min_progress {
            Some(rule) => Box::new(DownloadProgress::new(
                reader,
                rule,
                redact::url(self.url.as_str()),
            )) as Box<dyn Read + Send>,
            None => Box::new(reader),
        }
    }

    /// Reads the whole body, refusing more than `limit` bytes without reading further.
    pub(crate) fn bytes(mut self, what: &'static str, limit: u64) -> Result<Vec<u8>> {
        if self.content_length().is_some_and(|len| len > limit) {
            return Err(Error::TooLarge { what, limit });
        }
        let url = redact::url(self.url.as_str());
        let mut out = Vec::new();
        let mut reader = self
            .take_body()
            .into_with_config()
            .limit(u64::MAX)
            .reader()
            .take(limit + 1);
        reader
            .read_to_end(&mut out)
            .map_err(|e| read_error(e, what, url))?;
        if out.len() as u64 > limit {
            return Err(Error::TooLarge { what, limit });
        }
        Ok(out)
    }

    /// Decodes a JSON body of at most `limit` bytes.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(
        self,
        what: &'static str,
        limit: u64,
    ) -> Result<T> {
        let bytes = self.bytes(what, limit)?;
        serde_json::from_slice(&bytes).map_err(|e| Error::decode(what, e))
    }

    /// Turns an unexpected response into the registry error it describes.
    pub(crate) fn into_error(self) -> Error {
        let (status, method, url, credentials) = (
            self.status,
            self.method.to_string(),
            redact::url(self.url.as_str()),
            self.credentials,
        );
        let body = self
            .bytes("error body", ERROR_BODY_LIMIT)
            .unwrap_or_default();
        crate::error::registry_error(status, &method, &url, &body, credentials)
    }

    /// `Ok(self)` when the status is one of `expected`, else the registry error.
    pub(crate) fn expect(self, expected: &[u16]) -> Result<Self> {
        if expected.contains(&self.status) {
            Ok(self)
        } else {
            Err(self.into_error())
        }
    }
}

/// A failed body read: [`Error::Timeout`] when a deadline or timeout ended it.
fn read_error(e: std::io::Error, what: &'static str, url: String) -> Error {
    let ureq_timeout = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<ureq::Error>())
        .is_some_and(|u| matches!(u, ureq::Error::Timeout(_)));
    let timed_out = matches!(
        e.kind(),
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
    );
    if ureq_timeout || timed_out {
        return Error::Timeout {
            url,
            message: format!("reading the {what} did not finish in time ({e})"),
        };
    }
    Error::Transport {
        url,
        message: format!("reading the {what} failed: {e}"),
        source: Some(Box::new(e)),
    }
}

impl Drop for Response {
    /// ureq pools a connection only once its response was read to the end: drain a small unread
    /// body (announced length up to 64 KiB) so callers that only look at the status keep the
    /// connection. A body of unknown or larger length is not read (that could block), and its
    /// connection is closed.
    fn drop(&mut self) {
        let small = self.content_length().is_some_and(|n| n <= ERROR_BODY_LIMIT);
        let Some(body) = self.body.take() else { return };
        if small {
            let mut reader = body.into_with_config().limit(ERROR_BODY_LIMIT).reader();
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        }
    }
}
