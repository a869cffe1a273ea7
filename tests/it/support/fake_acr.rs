//! A stateful fake Azure Container Registry for purge tests and the purge benchmark: a std-only
//! HTTP/1.1 server on 127.0.0.1 (a thread per connection, keep-alive) holding repositories, tags
//! and manifests in memory, answering the `/acr/v1` listings (paged, `n` capped at 1000 as ACR
//! does, `Link` headers), tag and manifest deletion (404 when gone), lock changes (`PATCH`), and
//! `/v2` manifest fetches by tag or digest; and, to stand for any OCI registry, `/v2/_catalog`,
//! `/v2/{name}/tags/list` (unpaged) and the referrers API. Deleting a manifest removes its tags,
//! as ACR does; deleting a locked item answers 405 as ACR does.
//!
//! It counts requests by kind, records the order of deletions, can answer chosen requests with an
//! error a number of times (a failure in the middle of a purge), and can take a fixed time per
//! deletion (the benchmark). No authentication: clients talk to it anonymously.
//!
//! Also compiled into `examples/purge_bench.rs` (by `#[path]`), so it uses only std,
//! `serde_json` and the crate itself.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use azcontainerregistry::{Digest, Timestamp};

/// The most items ACR puts in one page, whatever `n` asks.
pub const MAX_PAGE: usize = 1000;
/// The page size when `n` is not given.
pub const DEFAULT_PAGE: usize = 100;
/// A fixed reference time for tests: 2026-01-01T00:00:00Z.
pub const NOW_UNIX: i64 = 1_767_225_600;

/// `NOW_UNIX` as a timestamp.
pub fn now() -> Timestamp {
    Timestamp::from_unix(NOW_UNIX, 0)
}

/// The time `days` days before [`now`], plus `seconds`.
pub fn days_ago(days: i64, seconds: i64) -> String {
    Timestamp::from_unix(NOW_UNIX - days * 86_400 + seconds, 0).to_rfc3339()
}

/// A tag.
#[derive(Clone, Debug)]
pub struct Tag {
    pub digest: String,
    pub updated: String,
    pub locked: bool,
}

/// A manifest.
#[derive(Clone, Debug)]
pub struct Manifest {
    pub media_type: String,
    pub bytes: Vec<u8>,
    pub updated: String,
    pub locked: bool,
    pub children: Vec<String>,
    pub subject: Option<String>,
}

/// A repository.
#[derive(Clone, Debug, Default)]
pub struct Repo {
    pub tags: BTreeMap<String, Tag>,
    pub manifests: BTreeMap<String, Manifest>,
}

/// Requests seen, by kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub catalog_pages: usize,
    pub tag_pages: usize,
    pub manifest_pages: usize,
    pub manifest_gets: usize,
    pub tag_deletes: usize,
    pub manifest_deletes: usize,
    pub patches: usize,
    pub other: usize,
}

impl Counts {
    /// Listing requests of any kind.
    pub fn list_requests(&self) -> usize {
        self.catalog_pages + self.tag_pages + self.manifest_pages
    }

    /// DELETE requests of any kind.
    pub fn deletes(&self) -> usize {
        self.tag_deletes + self.manifest_deletes
    }
}

/// A failure to answer: requests whose `METHOD path` contains `needle` get `status`, `times`
/// times.
#[derive(Clone, Debug)]
struct Fault {
    needle: String,
    status: u16,
    times: usize,
}

#[derive(Debug, Default)]
pub struct State {
    pub repos: BTreeMap<String, Repo>,
    pub counts: Counts,
    /// `repo:tag` or `repo@digest` of every successful deletion, in order.
    pub deleted: Vec<String>,
    /// DELETE requests being answered now, and the most at once.
    pub deletes_in_flight: usize,
    pub peak_deletes_in_flight: usize,
    faults: Vec<Fault>,
    delete_delay: Duration,
}

/// The fake registry; stops accepting when dropped.
pub struct FakeAcr {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl FakeAcr {
    /// Starts an empty registry on a free loopback port.
    pub fn start() -> FakeAcr {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (state.clone(), stop.clone());
        let accept = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let s = s.clone();
                std::thread::spawn(move || serve(conn, &s));
            }
        });
        FakeAcr {
            addr,
            state,
            stop,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The state, locked.
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The request counts so far.
    pub fn counts(&self) -> Counts {
        self.state().counts.clone()
    }

    /// Zeroes the counts and the deletion log.
    pub fn reset_counts(&self) {
        let mut s = self.state();
        s.counts = Counts::default();
        s.deleted.clear();
    }

    /// Every deletion answers after `delay`.
    pub fn set_delete_delay(&self, delay: Duration) {
        self.state().delete_delay = delay;
    }

    /// The next `times` requests whose `METHOD path` contains `needle` answer `status`.
    pub fn fail(&self, needle: &str, status: u16, times: usize) {
        self.state().faults.push(Fault {
            needle: needle.to_string(),
            status,
            times,
        });
    }

    /// Adds a manifest to `repo` and returns its digest. `body` makes it unique; `children` makes
    /// it an OCI index, `subject` a referrer.
    pub fn manifest(
        &self,
        repo: &str,
        body: &str,
        updated: &str,
        children: &[&str],
        subject: Option<&str>,
    ) -> String {
        let (media_type, mut json) = if children.is_empty() {
            let config = serde_json::json!({
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": Digest::of(body.as_bytes()).to_string(),
                "size": body.len(),
            });
            (
                "application/vnd.oci.image.manifest.v1+json",
                serde_json::json!({"schemaVersion": 2,
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": config, "layers": []}),
            )
        } else {
            let manifests: Vec<_> = children
                .iter()
                .map(|c| {
                    serde_json::json!({"mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "digest": c, "size": 100})
                })
                .collect();
            (
                "application/vnd.oci.image.index.v1+json",
                serde_json::json!({"schemaVersion": 2,
                    "mediaType": "application/vnd.oci.image.index.v1+json",
                    "manifests": manifests}),
            )
        };
        if let Some(s) = subject {
            json["subject"] = serde_json::json!({
                "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": s, "size": 100});
            json["artifactType"] = "application/vnd.example.signature".into();
        }
        let bytes = json.to_string().into_bytes();
        let digest = Digest::of(&bytes).to_string();
        let m = Manifest {
            media_type: media_type.to_string(),
            bytes,
            updated: updated.to_string(),
            locked: false,
            children: children.iter().map(|c| c.to_string()).collect(),
            subject: subject.map(str::to_string),
        };
        self.state()
            .repos
            .entry(repo.to_string())
            .or_default()
            .manifests
            .insert(digest.clone(), m);
        digest
    }

    /// Points `tag` of `repo` at `digest`.
    pub fn tag(&self, repo: &str, tag: &str, digest: &str, updated: &str) {
        let t = Tag {
            digest: digest.to_string(),
            updated: updated.to_string(),
            locked: false,
        };
        self.state()
            .repos
            .entry(repo.to_string())
            .or_default()
            .tags
            .insert(tag.to_string(), t);
    }

    /// An image tagged `tag`, updated (tag and manifest) at `updated`; returns its digest.
    pub fn image(&self, repo: &str, tag: &str, updated: &str) -> String {
        let d = self.manifest(repo, &format!("{repo}:{tag}"), updated, &[], None);
        self.tag(repo, tag, &d, updated);
        d
    }

    /// Locks a tag (delete and write disabled).
    pub fn lock_tag(&self, repo: &str, tag: &str) {
        if let Some(t) = self
            .state()
            .repos
            .get_mut(repo)
            .and_then(|r| r.tags.get_mut(tag))
        {
            t.locked = true;
        }
    }

    /// Locks a manifest.
    pub fn lock_manifest(&self, repo: &str, digest: &str) {
        if let Some(m) = self
            .state()
            .repos
            .get_mut(repo)
            .and_then(|r| r.manifests.get_mut(digest))
        {
            m.locked = true;
        }
    }

    /// The tags of `repo`, sorted.
    pub fn tags(&self, repo: &str) -> Vec<String> {
        self.state()
            .repos
            .get(repo)
            .map(|r| r.tags.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Whether `repo` holds the manifest `digest`.
    pub fn has_manifest(&self, repo: &str, digest: &str) -> bool {
        self.state()
            .repos
            .get(repo)
            .is_some_and(|r| r.manifests.contains_key(digest))
    }
}

impl Drop for FakeAcr {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the accept loop
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

struct Request {
    method: String,
    path: String,
    query: BTreeMap<String, String>,
    body: Vec<u8>,
}

struct Answer {
    status: u16,
    content_type: &'static str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn json(status: u16, value: serde_json::Value) -> Answer {
    Answer {
        status,
        content_type: "application/json; charset=utf-8",
        headers: Vec::new(),
        body: value.to_string().into_bytes(),
    }
}

fn error(status: u16, code: &str, message: &str) -> Answer {
    json(
        status,
        serde_json::json!({"errors": [{"code": code, "message": message}]}),
    )
}

fn empty(status: u16) -> Answer {
    Answer {
        status,
        content_type: "text/plain",
        headers: Vec::new(),
        body: Vec::new(),
    }
}

/// Percent-decoding of a path segment or query value.
pub fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        if b[i] == b'%'
            && let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn serve(conn: TcpStream, state: &Mutex<State>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut writer = match conn.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut reader = BufReader::new(conn);
    loop {
        let Some(req) = read_request(&mut reader) else {
            return;
        };
        let (answer, delay) = {
            let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
            let delay = if req.method == "DELETE" {
                s.deletes_in_flight += 1;
                s.peak_deletes_in_flight = s.peak_deletes_in_flight.max(s.deletes_in_flight);
                s.delete_delay
            } else {
                Duration::ZERO
            };
            (route(&mut s, &req), delay)
        };
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        if req.method == "DELETE" {
            state
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .deletes_in_flight -= 1;
        }
        let mut head = format!(
            "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
            answer.status,
            answer.content_type,
            answer.body.len()
        );
        for (k, v) in &answer.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        if writer.write_all(head.as_bytes()).is_err() || writer.write_all(&answer.body).is_err() {
            return;
        }
        let _ = writer.flush();
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let query = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    Some(Request {
        method,
        path: path.to_string(),
        query,
        body,
    })
}

/// One page of `items` (sorted) after `last`, `n` of them at most (capped at 1000), and the
/// `Link` to the next page.
fn page<T: Clone>(
    items: &[(String, T)],
    req: &Request,
    path: &str,
) -> (Vec<T>, Option<(String, String)>) {
    let n = req
        .query
        .get("n")
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_PAGE)
        .clamp(1, MAX_PAGE);
    let start = match req.query.get("last") {
        Some(last) => items.partition_point(|(k, _)| k.as_str() <= last.as_str()),
        None => 0,
    };
    let slice: Vec<_> = items[start..].iter().take(n).cloned().collect();
    let link = if start + slice.len() < items.len() {
        let last = &items[start + slice.len() - 1].0;
        Some((
            "Link".to_string(),
            format!(
                "<{path}?last={}&n={n}&orderby=>; rel=\"next\"",
                encode(last)
            ),
        ))
    } else {
        None
    };
    (slice.into_iter().map(|(_, v)| v).collect(), link)
}

fn attributes(locked: bool) -> serde_json::Value {
    serde_json::json!({"deleteEnabled": !locked, "writeEnabled": !locked,
        "readEnabled": true, "listEnabled": true})
}

fn tag_json(name: &str, t: &Tag) -> serde_json::Value {
    serde_json::json!({"name": name, "digest": t.digest, "createdTime": t.updated,
        "lastUpdateTime": t.updated, "signed": false,
        "changeableAttributes": attributes(t.locked)})
}

fn manifest_json(repo: &Repo, digest: &str, m: &Manifest) -> serde_json::Value {
    let tags: Vec<&String> = repo
        .tags
        .iter()
        .filter(|(_, t)| t.digest == digest)
        .map(|(n, _)| n)
        .collect();
    let refs: Vec<_> = m
        .children
        .iter()
        .map(|c| serde_json::json!({"digest": c, "architecture": "amd64", "os": "linux"}))
        .collect();
    serde_json::json!({"digest": digest, "imageSize": m.bytes.len(), "createdTime": m.updated,
        "lastUpdateTime": m.updated, "mediaType": m.media_type, "tags": tags,
        "references": refs, "changeableAttributes": attributes(m.locked)})
}

fn with_link(mut a: Answer, link: Option<(String, String)>) -> Answer {
    a.headers.extend(link);
    a
}

/// Applies a `PATCH` body's `deleteEnabled`/`writeEnabled` to a lock flag.
fn patch_lock(locked: &mut bool, body: &[u8]) {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let d = v["deleteEnabled"].as_bool();
    let w = v["writeEnabled"].as_bool();
    if d == Some(true) && w != Some(false) {
        *locked = false;
    }
    if d == Some(false) || w == Some(false) {
        *locked = true;
    }
}

fn route(s: &mut State, req: &Request) -> Answer {
    let line = format!("{} {}", req.method, req.path);
    if let Some(f) = s
        .faults
        .iter_mut()
        .find(|f| f.times > 0 && line.contains(&f.needle))
    {
        f.times -= 1;
        let status = f.status;
        count(s, req);
        return error(status, "INTERNAL", "injected failure");
    }
    count(s, req);
    let p = req.path.as_str();
    if let Some(rest) = p.strip_prefix("/acr/v1/") {
        if rest == "_catalog" && req.method == "GET" {
            let names: Vec<(String, String)> =
                s.repos.keys().map(|k| (k.clone(), k.clone())).collect();
            let (items, link) = page(&names, req, p);
            return with_link(json(200, serde_json::json!({"repositories": items})), link);
        }
        let mut segs = rest.splitn(3, '/');
        let repo_name = decode(segs.next().unwrap_or(""));
        let kind = segs.next().unwrap_or("");
        let item = segs.next().map(decode);
        let Some(repo) = s.repos.get_mut(&repo_name) else {
            return error(404, "NAME_UNKNOWN", "repository name not known to registry");
        };
        return match (req.method.as_str(), kind, item) {
            ("GET", "_tags", None) => {
                let tags: Vec<(String, serde_json::Value)> = repo
                    .tags
                    .iter()
                    .map(|(n, t)| (n.clone(), tag_json(n, t)))
                    .collect();
                let (items, link) = page(&tags, req, p);
                let body = serde_json::json!({"registry": "myregistry.azurecr.io",
                    "imageName": repo_name, "tags": items});
                with_link(json(200, body), link)
            }
            ("GET", "_manifests", None) => {
                let all: Vec<(String, serde_json::Value)> = repo
                    .manifests
                    .iter()
                    .map(|(d, m)| (d.clone(), manifest_json(repo, d, m)))
                    .collect();
                let (items, link) = page(&all, req, p);
                let body = serde_json::json!({"registry": "myregistry.azurecr.io",
                    "imageName": repo_name, "manifests": items});
                with_link(json(200, body), link)
            }
            ("DELETE", "_tags", Some(tag)) => match repo.tags.get(&tag) {
                None => error(404, "TAG_UNKNOWN", "the specified tag does not exist"),
                Some(t) if t.locked => error(405, "UNSUPPORTED", "the operation is disabled"),
                Some(_) => {
                    repo.tags.remove(&tag);
                    s.deleted.push(format!("{repo_name}:{tag}"));
                    empty(202)
                }
            },
            ("PATCH", "_tags", Some(tag)) => match repo.tags.get_mut(&tag) {
                None => error(404, "TAG_UNKNOWN", "the specified tag does not exist"),
                Some(t) => {
                    patch_lock(&mut t.locked, &req.body);
                    let body = serde_json::json!({"registry": "myregistry.azurecr.io",
                        "imageName": repo_name, "tag": tag_json(&tag, t)});
                    json(200, body)
                }
            },
            ("PATCH", "_manifests", Some(digest)) => {
                let Some(m) = repo.manifests.get_mut(&digest) else {
                    return error(404, "MANIFEST_UNKNOWN", "manifest unknown");
                };
                patch_lock(&mut m.locked, &req.body);
                let m = m.clone();
                let body = serde_json::json!({"registry": "myregistry.azurecr.io",
                    "imageName": repo_name, "manifest": manifest_json(repo, &digest, &m)});
                json(200, body)
            }
            _ => error(404, "UNSUPPORTED", "no such route in the fake"),
        };
    }
    if p == "/v2/_catalog" && req.method == "GET" {
        let names: Vec<(String, String)> = s.repos.keys().map(|k| (k.clone(), k.clone())).collect();
        let (items, link) = page(&names, req, p);
        return with_link(json(200, serde_json::json!({"repositories": items})), link);
    }
    if let Some(rest) = p.strip_prefix("/v2/")
        && let Some(repo_name) = rest.strip_suffix("/tags/list")
        && req.method == "GET"
    {
        let Some(repo) = s.repos.get(repo_name) else {
            return error(404, "NAME_UNKNOWN", "repository name not known to registry");
        };
        let tags: Vec<&String> = repo.tags.keys().collect();
        return json(200, serde_json::json!({"name": repo_name, "tags": tags}));
    }
    if let Some(rest) = p.strip_prefix("/v2/")
        && let Some((repo_name, subject)) = rest.rsplit_once("/referrers/")
        && req.method == "GET"
    {
        let Some(repo) = s.repos.get(repo_name) else {
            return error(404, "NAME_UNKNOWN", "repository name not known to registry");
        };
        let subject = decode(subject);
        let manifests: Vec<_> = repo
            .manifests
            .iter()
            .filter(|(_, m)| m.subject.as_deref() == Some(subject.as_str()))
            .map(|(d, m)| {
                serde_json::json!({"mediaType": m.media_type, "digest": d,
                    "size": m.bytes.len(), "artifactType": "application/vnd.example.signature"})
            })
            .collect();
        let mut a = json(
            200,
            serde_json::json!({"schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests}),
        );
        a.content_type = "application/vnd.oci.image.index.v1+json";
        return a;
    }
    if let Some(rest) = p.strip_prefix("/v2/")
        && let Some((repo_name, reference)) = rest.rsplit_once("/manifests/")
    {
        let reference = decode(reference);
        let Some(repo) = s.repos.get_mut(repo_name) else {
            return error(404, "NAME_UNKNOWN", "repository name not known to registry");
        };
        let digest = match repo.tags.get(&reference) {
            Some(t) => t.digest.clone(),
            None => reference,
        };
        return match req.method.as_str() {
            "GET" | "HEAD" => match repo.manifests.get(&digest) {
                None => error(404, "MANIFEST_UNKNOWN", "manifest unknown"),
                Some(m) => Answer {
                    status: 200,
                    content_type: if m.children.is_empty() {
                        "application/vnd.oci.image.manifest.v1+json"
                    } else {
                        "application/vnd.oci.image.index.v1+json"
                    },
                    headers: vec![("Docker-Content-Digest".into(), digest.clone())],
                    body: m.bytes.clone(),
                },
            },
            "DELETE" => match repo.manifests.get(&digest) {
                None => error(404, "MANIFEST_UNKNOWN", "manifest unknown"),
                Some(m) if m.locked => error(405, "UNSUPPORTED", "the operation is disabled"),
                Some(_) => {
                    repo.manifests.remove(&digest);
                    repo.tags.retain(|_, t| t.digest != digest);
                    s.deleted.push(format!("{repo_name}@{digest}"));
                    empty(202)
                }
            },
            _ => error(405, "UNSUPPORTED", "method not allowed"),
        };
    }
    error(404, "UNSUPPORTED", "no such route in the fake")
}

fn count(s: &mut State, req: &Request) {
    let c = &mut s.counts;
    let p = req.path.as_str();
    match req.method.as_str() {
        "GET" if p == "/acr/v1/_catalog" || p == "/v2/_catalog" => c.catalog_pages += 1,
        "GET" if p.ends_with("/tags/list") => c.tag_pages += 1,
        "GET" if p.starts_with("/acr/v1/") && p.ends_with("/_tags") => c.tag_pages += 1,
        "GET" if p.starts_with("/acr/v1/") && p.ends_with("/_manifests") => c.manifest_pages += 1,
        "GET" if p.contains("/manifests/") => c.manifest_gets += 1,
        "DELETE" if p.contains("/_tags/") => c.tag_deletes += 1,
        "DELETE" if p.contains("/manifests/") => c.manifest_deletes += 1,
        "PATCH" => c.patches += 1,
        _ => c.other += 1,
    }
}
