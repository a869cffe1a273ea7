//! The HTTP layer: the only module that names `ureq` (apart from `ClientOptions::agent`).
//!
//! | file | holds |
//! |---|---|
//! | `transport.rs` | [`Transport`]: the one place that sends HTTP (timeouts, retries, errors) |
//! | `deadline.rs` | the total deadline of small requests; minimum progress of blob transfers |
//! | `request.rs`, `response.rs` | [`Request`] and its [`Body`]; [`Response`] with bounded reads |
//! | `retry.rs` | when to retry and how long to wait (`Retry-After`) |
//! | `url.rs` | [`Url`]: absolute URLs, RFC 3986 resolution, origins, queries |
//! | `endpoint.rs` | endpoint validation, `Location` resolution, loopback, path segments |
//! | `link.rs` | `Link: <…>; rel="next"` |
//!
//! Layers above describe a request ([`Request`]: method, URL, headers, body, token scope) and get a
//! [`Response`] whose status they judge themselves.

mod deadline;
mod endpoint;
pub(crate) mod link;
mod request;
mod response;
mod retry;
mod transport;
mod url;

pub(crate) use endpoint::{encode_segment, is_loopback, parse_endpoint, resolve};
pub(crate) use request::{Body, Request};
pub(crate) use response::Response;
pub(crate) use retry::delay as retry_delay;
pub(crate) use transport::Transport;
#[cfg(feature = "azure")]
pub(crate) use transport::{is_transient, new_agent};
/// The agent type: `UreqTransport::with_agent` takes one.
#[cfg(feature = "azure")]
pub(crate) use ureq::Agent;
/// The HTTP method type (from the `http` crate, through ureq).
pub(crate) use ureq::http::Method;
#[cfg(feature = "azure")]
pub(crate) use url::Origin;
pub(crate) use url::{Url, form_urlencode, query_of};
