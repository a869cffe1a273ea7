//! Paged listings as iterators.
//!
//! A [`Pager`] yields items (`Iterator<Item = Result<T>>`), fetching pages lazily by following the
//! registry's `Link: <…>; rel="next"` header. [`Pager::pages`] walks page by page instead, and
//! every page carries a [`continuation`](Page::continuation): hand it to [`Pager::resume`] (or to
//! the `continuation` field of a list operation's options) to carry on later, from another process
//! even. A next link that points at another origin is refused with
//! [`Error::Redirect`](crate::Error::Redirect): a registry must not steer the client, with its
//! token, elsewhere.
//!
//! A registry must not keep the client listing forever either. A next link back to a page this
//! pager already fetched (compared after normalisation: percent-encoding of unreserved characters,
//! hex case and the order of query parameters do not matter) is refused at once with
//! [`Error::Redirect`](crate::Error::Redirect), and a listing stops with the same error after
//! `max_pages` pages (an option of every list operation; [`DEFAULT_MAX_PAGES`] when `None`).
//! After either error the [`continuation`](Pager::continuation) is the refused page, so a caller
//! that trusts the registry can resume from it with a fresh bound.

use std::collections::{HashSet, VecDeque};
use std::fmt;

use crate::error::{Error, Result};
use crate::http::{Method, Request, Url, link, query_of};
use crate::pipeline::Pipeline;
use crate::redact;

/// List pages are read up to this size.
const PAGE_LIMIT: u64 = 16 * 1024 * 1024;

/// Pages a listing follows at most when its options leave `max_pages` at `None`: 10,000 pages,
/// ten million names at ACR's 1000 per page.
pub const DEFAULT_MAX_PAGES: u32 = 10_000;

type Decode<T> = fn(&[u8]) -> Result<Vec<T>>;

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Where the next page starts (the registry's next link, as path and query), or `None` on the
    /// last page.
    pub continuation: Option<String>,
}

/// An iterator over the items of a paged listing. See the [module docs](self).
///
/// ```no_run
/// use azcontainerregistry::{Client, ClientOptions, Credential, ListRepositoriesOptions};
/// # let client = Client::new(
/// #     "https://r.azurecr.io",
/// #     Credential::anonymous(),
/// #     ClientOptions::default(),
/// # )?;
/// let first_100 = ListRepositoriesOptions {
///     page_size: Some(100),
///     ..Default::default()
/// };
/// let mut pages = client.list_repositories(first_100).pages();
/// let first = pages.next().transpose()?;
/// if let Some(token) = first.and_then(|p| p.continuation) {
///     // later, perhaps in another process:
///     let from_there = ListRepositoriesOptions {
///         continuation: Some(token),
///         ..Default::default()
///     };
///     let rest = client.list_repositories(from_there);
///     for name in rest {
///         println!("{}", name?);
///     }
/// }
/// # Ok::<(), azcontainerregistry::Error>(())
/// ```
pub struct Pager<T> {
    pipeline: Pipeline,
    next: Option<Url>,
    path: String,
    scope: String,
    decode: Decode<T>,
    buffer: VecDeque<T>,
    failed: bool,
    pending_error: Option<Error>,
    /// Normalised keys of the pages fetched (or being fetched): a next link among them is a loop.
    visited: HashSet<String>,
    /// Pages fetched since the start (or the last resume).
    fetched: u32,
    max_pages: u32,
}

impl<T> fmt::Debug for Pager<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pager")
            .field("path", &self.path)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl<T> Pager<T> {
    /// A pager starting at `first` (path and query, or a continuation), for the listing at `path`,
    /// fetching at most `max_pages` pages ([`DEFAULT_MAX_PAGES`] when `None`; 0 is refused).
    pub(crate) fn new(
        pipeline: Pipeline,
        path: &str,
        first: Result<String>,
        scope: String,
        max_pages: Option<u32>,
        decode: Decode<T>,
    ) -> Self {
        let mut pager = Pager {
            pipeline,
            next: None,
            path: path.to_string(),
            scope,
            decode,
            buffer: VecDeque::new(),
            failed: false,
            pending_error: None,
            visited: HashSet::new(),
            fetched: 0,
            max_pages: max_pages.unwrap_or(DEFAULT_MAX_PAGES),
        };
        let first = if max_pages == Some(0) {
            Err(Error::invalid(
                "max_pages",
                "0",
                "a listing may fetch at least 1 page",
            ))
        } else {
            first
        };
        match first.and_then(|f| pager.checked(&f)) {
            Ok(url) => pager.next = Some(url),
            Err(e) => {
                // reported on the first call to next(); nothing is sent
                pager.failed = true;
                pager.pending_error = Some(e);
            }
        }
        pager
    }

    /// Continues a listing from a [`Page::continuation`]. The continuation must belong to the same
    /// listing (same path) on the same registry. The page bound and the loop check start afresh.
    pub fn resume(mut self, continuation: &str) -> Self {
        self.buffer.clear();
        self.visited.clear();
        self.fetched = 0;
        match self.checked(continuation) {
            Ok(url) => {
                self.next = Some(url);
                self.failed = false;
                self.pending_error = None;
            }
            Err(e) => {
                self.next = None;
                self.failed = true;
                self.pending_error = Some(e);
            }
        }
        self
    }

    /// Where the next unfetched page starts: save it to resume later. Items already fetched but not
    /// yet yielded are not covered by it; use [`pages`](Self::pages) for exact resumption.
    /// After a failed page, this is the page that failed, so the listing can be resumed where
    /// it broke off.
    pub fn continuation(&self) -> Option<String> {
        self.next.as_ref().map(|u| u.path_and_query().to_string())
    }

    /// Walks page by page instead of item by item.
    pub fn pages(self) -> Pages<T> {
        Pages { pager: self }
    }

    fn checked(&self, target: &str) -> Result<Url> {
        let url = self.pipeline.url(target)?;
        if url.origin() != self.pipeline.endpoint().origin() {
            return Err(Error::Redirect {
                what: "continuation",
                url: redact::url(url.as_str()),
                reason: "it points at another origin than the registry",
            });
        }
        if url.path() != self.path {
            return Err(Error::invalid(
                "continuation",
                target,
                format!("it does not continue the listing {}", self.path),
            ));
        }
        Ok(url)
    }

    /// Counts the page at `url` as fetched, or refuses it: a page this pager already fetched (a
    /// loop), or one past the bound.
    fn admit(&mut self, url: &Url) -> Result<()> {
        let key = visit_key(url);
        if self.visited.contains(&key) {
            return Err(Error::Redirect {
                what: "next-page link",
                url: redact::url(url.as_str()),
                reason: "it leads back to a page of this listing already fetched (a loop)",
            });
        }
        if self.fetched >= self.max_pages {
            return Err(Error::Redirect {
                what: "next-page link",
                url: redact::url(url.as_str()),
                reason: "the listing reached its page bound (max_pages in the list options)",
            });
        }
        self.visited.insert(key);
        self.fetched += 1;
        Ok(())
    }

    fn fetch_page(&mut self) -> Option<Result<Page<T>>> {
        if let Some(e) = self.pending_error.take() {
            return Some(Err(e));
        }
        if self.failed {
            return None;
        }
        let url = self.next.take()?;
        if let Err(e) = self.admit(&url) {
            // the refused page stays the continuation
            self.next = Some(url);
            self.failed = true;
            return Some(Err(e));
        }
        let result = (|| {
            let req = Request::new(Method::GET, url.clone())
                .header("Accept", "application/json")
                .scope(self.scope.clone());
            let resp = self.pipeline.send(req)?.expect(&[200])?;
            let next = link::next_link(resp.header("link"), self.pipeline.endpoint())?;
            let bytes = resp.bytes("list page", PAGE_LIMIT)?;
            let items = (self.decode)(&bytes)?;
            Ok((items, next))
        })();
        match result {
            Ok((items, next)) => {
                self.next = next;
                Some(Ok(Page {
                    items,
                    continuation: self.continuation(),
                }))
            }
            Err(e) => {
                // the listing stops here, but the page that failed stays the continuation: a caller
                // can resume from it (after a transient failure, say) instead of
                // starting over
                self.next = Some(url);
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

impl<T> Iterator for Pager<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        loop {
            if let Some(item) = self.buffer.pop_front() {
                return Some(Ok(item));
            }
            match self.fetch_page()? {
                Ok(page) => self.buffer.extend(page.items),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// Page-by-page iteration of a [`Pager`].
#[derive(Debug)]
pub struct Pages<T> {
    pager: Pager<T>,
}

impl<T> Iterator for Pages<T> {
    type Item = Result<Page<T>>;

    fn next(&mut self) -> Option<Result<Page<T>>> {
        self.pager.fetch_page()
    }
}

/// The page `url` names, written one way: unreserved characters percent-decoded, other escapes in
/// upper case, query parameters sorted. Two links with one key ask for the same page.
pub(crate) fn visit_key(url: &Url) -> String {
    let (path, query) = match url.path_and_query().split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (url.path_and_query(), None),
    };
    let mut key = normalise_escapes(path);
    if let Some(q) = query {
        let mut pairs: Vec<String> = q
            .split('&')
            .filter(|p| !p.is_empty())
            .map(normalise_escapes)
            .collect();
        pairs.sort();
        key.push('?');
        key.push_str(&pairs.join("&"));
    }
    key
}

fn normalise_escapes(text: &str) -> String {
    let bytes = text.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escape = match bytes.get(i..i + 3) {
            Some([b'%', h, l]) => hex(*h).zip(hex(*l)).map(|(h, l)| (h * 16 + l) as u8),
            _ => None,
        };
        match escape {
            Some(b) if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') => {
                out.push(b);
                i += 3;
            }
            Some(b) => {
                out.extend_from_slice(format!("%{b:02X}").as_bytes());
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Where a listing at `path` starts: the `continuation` when there is one, else `path` with the
/// page size (`n`) and `params` (left out when `None`) as its query. A page size of 0 is refused.
pub(crate) fn first_page(
    path: &str,
    page_size: Option<u32>,
    continuation: Option<&str>,
    params: &[(&str, Option<&str>)],
) -> Result<String> {
    if page_size == Some(0) {
        return Err(Error::invalid(
            "page size",
            "0",
            "a page size is at least 1",
        ));
    }
    if let Some(c) = continuation {
        return Ok(c.to_string());
    }
    let n = page_size.map(|n| n.to_string());
    let mut pairs = vec![("n", n.as_deref())];
    pairs.extend_from_slice(params);
    let query = query_of(&pairs);
    Ok(if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> String {
        visit_key(&Url::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")))
    }

    #[test]
    fn one_page_spelled_several_ways_has_one_key() {
        let a = key("https://r.io/v2/_catalog?last=a&n=10");
        assert_eq!(a, key("https://r.io/v2/_catalog?n=10&last=a"));
        assert_eq!(a, key("https://r.io/v2/_catalog?n=1%30&last=%61"));
        assert_eq!(a, key("https://r.io/v2/_catalog?last=a&&n=10"));
        assert_eq!(
            key("https://r.io/v2/a%2fb/tags/list"),
            key("https://r.io/v2/a%2Fb/tags/list")
        );
    }

    #[test]
    fn other_pages_have_other_keys() {
        let a = key("https://r.io/v2/_catalog?last=a");
        for other in [
            "https://r.io/v2/_catalog?last=b",
            "https://r.io/v2/_catalog?last=a&n=1",
            "https://r.io/v2/_catalog",
            "https://r.io/v2/_catalog?last=a%26n=1",
            "https://r.io/v2/x/tags/list?last=a",
        ] {
            assert_ne!(a, key(other), "{other}");
        }
    }
}
