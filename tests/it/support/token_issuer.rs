//! A Docker token-flow issuer ("auth server") for distribution's `auth.token` mode.
//!
//! `GET /token?service=S&scope=repository:foo:pull,push&scope=registry:catalog:*` (scopes may also
//! be space-separated in one parameter), optionally with `Authorization: Basic`, answers
//! `{"token": JWT, "access_token": JWT, "expires_in": N, "issued_at": RFC3339}`. `POST /token` with
//! a form body (`grant_type`, `service`, `scope`, `username`/`password`) is accepted too.
//!
//! The JWT is ES256, its header carries `x5c` = [base64 DER of a self-signed rcgen cert]; the
//! cert's PEM is what the registry gets as `rootcertbundle` ([`TokenIssuer::root_cert_pem`]).
//! Claims: `iss`, `sub`, `aud` (the service, as a string), `exp`, `nbf`, `iat`, `jti`, `access` =
//! every requested action (or what [`TokenIssuer::set_grant_policy`] allows).
//!
//! Every request is counted and recorded ([`TokenIssuer::token_requests`],
//! [`TokenIssuer::scope_requests`], [`TokenIssuer::requests`]) so tests can assert e.g. "one token
//! acquisition per scope".

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use serde_json::json;

/// Decides which actions to grant: `(type, name, requested actions) -> granted actions`.
/// An entry whose granted list is empty is left out of the token.
pub type GrantPolicy = Arc<dyn Fn(&str, &str, &[String]) -> Vec<String> + Send + Sync>;

/// How a [`TokenIssuer`] behaves.
#[derive(Clone, Debug)]
pub struct TokenIssuerConfig {
    /// The registry's `auth.token.service`; requests must name it (`service=`), and it becomes
    /// `aud`.
    pub service: String,
    /// The registry's `auth.token.issuer`; becomes `iss`.
    pub issuer: String,
    /// When set, requests must carry `Authorization: Basic` with exactly these credentials (else
    /// 401). When `None`, anonymous requests are served and any Basic credentials are
    /// accepted.
    pub basic: Option<(String, String)>,
    /// `expires_in` of the answer and `exp - iat` of the JWT, in seconds (distribution adds 60 s
    /// leeway).
    pub expires_in: u64,
}

impl Default for TokenIssuerConfig {
    fn default() -> Self {
        TokenIssuerConfig {
            service: "harness-registry".to_string(),
            issuer: "harness-token-issuer".to_string(),
            basic: None,
            expires_in: 300,
        }
    }
}

/// One request the issuer saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRequest {
    pub method: String,
    pub path: String,
    /// The `service` parameter, if any.
    pub service: Option<String>,
    /// Every scope requested, in order (repeated params and space-separated ones flattened).
    pub scopes: Vec<String>,
    /// The Basic user name, if an `Authorization: Basic` header was sent.
    pub basic_user: Option<String>,
    /// The status answered.
    pub status: u16,
    /// The `grant_type` form parameter of a POST, if any.
    pub grant_type: Option<String>,
    /// The `refresh_token` form parameter of a POST, if any.
    pub refresh_token: Option<String>,
}

struct State {
    config: TokenIssuerConfig,
    requests: Vec<TokenRequest>,
    fail_next: Option<(usize, u16)>,
    policy: Option<GrantPolicy>,
}

struct Shared {
    state: Mutex<State>,
    signer: EcdsaKeyPair,
    cert_der_b64: String,
    jti: AtomicU64,
    rng: SystemRandom,
}

/// The token server; stops (listener thread exits) on drop.
pub struct TokenIssuer {
    addr: SocketAddr,
    cert_pem: String,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TokenIssuer {
    /// Starts an issuer on 127.0.0.1:<free port> with a fresh P-256 key and self-signed cert.
    pub fn start(config: TokenIssuerConfig) -> TokenIssuer {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .unwrap_or_else(|e| panic!("token issuer: cannot generate a P-256 key: {e}"));
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .unwrap_or_else(|e| panic!("token issuer: bad certificate params: {e}"));
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "harness token issuer");
        let cert = params
            .self_signed(&key)
            .unwrap_or_else(|e| panic!("token issuer: cannot self-sign the certificate: {e}"));
        let rng = SystemRandom::new();
        let signer =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &key.serialize_der(), &rng)
                .unwrap_or_else(|e| panic!("token issuer: ring refuses rcgen's PKCS#8 key: {e}"));

        let listener = TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("token issuer: cannot bind 127.0.0.1:0: {e}"));
        listener
            .set_nonblocking(true)
            .unwrap_or_else(|e| panic!("token issuer: set_nonblocking: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("token issuer: local_addr: {e}"));

        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                config,
                requests: Vec::new(),
                fail_next: None,
                policy: None,
            }),
            signer,
            cert_der_b64: STANDARD.encode(cert.der()),
            jti: AtomicU64::new(1),
            rng,
        });
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let shared = Arc::clone(&shared);
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name(format!("token-issuer-{}", addr.port()))
                .spawn(move || accept_loop(listener, shared, stop))
                .unwrap_or_else(|e| panic!("token issuer: cannot spawn thread: {e}"))
        };
        TokenIssuer {
            addr,
            cert_pem: cert.pem(),
            shared,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/token`: the realm to configure in the registry.
    pub fn realm(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// PEM of the signing certificate (the registry's `rootcertbundle`).
    pub fn root_cert_pem(&self) -> &str {
        &self.cert_pem
    }

    pub fn service(&self) -> String {
        self.state().config.service.clone()
    }

    pub fn issuer(&self) -> String {
        self.state().config.issuer.clone()
    }

    /// Number of requests served so far (any outcome).
    pub fn token_requests(&self) -> usize {
        self.state().requests.len()
    }

    /// Number of requests that asked for exactly this scope string (among others, possibly).
    pub fn scope_requests(&self, scope: &str) -> usize {
        self.state()
            .requests
            .iter()
            .filter(|r| r.scopes.iter().any(|s| s == scope))
            .count()
    }

    /// scope string -> number of requests that asked for it.
    pub fn scope_counts(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for r in &self.state().requests {
            for s in &r.scopes {
                *counts.entry(s.clone()).or_insert(0) += 1;
            }
        }
        counts
    }

    /// Every request seen, in order.
    pub fn requests(&self) -> Vec<TokenRequest> {
        self.state().requests.clone()
    }

    /// Forgets the recorded requests (counts restart at 0).
    pub fn reset_counts(&self) {
        self.state().requests.clear();
    }

    /// Require (Some) or stop requiring (None) these Basic credentials.
    pub fn set_basic(&self, basic: Option<(&str, &str)>) {
        self.state().config.basic = basic.map(|(u, p)| (u.to_string(), p.to_string()));
    }

    /// Changes `expires_in` (and the JWT lifetime) of tokens issued from now on.
    pub fn set_expires_in(&self, seconds: u64) {
        self.state().config.expires_in = seconds;
    }

    /// The next `times` requests are answered with `status` and an error body, then normal service
    /// resumes.
    pub fn fail_next(&self, times: usize, status: u16) {
        self.state().fail_next = if times == 0 {
            None
        } else {
            Some((times, status))
        };
    }

    /// Restricts what is granted (None = grant every requested action).
    pub fn set_grant_policy(&self, policy: Option<GrantPolicy>) {
        self.state().policy = policy;
    }

    /// Issues a token directly (no HTTP), as the endpoint would for these scopes, for the
    /// configured service.
    pub fn issue(&self, scopes: &[&str]) -> String {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        let (config, policy) = {
            let st = self.state();
            (st.config.clone(), st.policy.clone())
        };
        make_jwt(&self.shared, &config, policy.as_ref(), "harness", &scopes)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for TokenIssuer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let shared = Arc::clone(&shared);
                let _ = std::thread::Builder::new()
                    .name("token-issuer-conn".to_string())
                    .spawn(move || {
                        let _ = handle_connection(stream, &shared);
                    });
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(2)),
        }
    }
}

struct HttpRequest {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl HttpRequest {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn read_request(stream: &TcpStream) -> std::io::Result<HttpRequest> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 {
            break;
        }
        let h = h.trim_end_matches(['\r', '\n']);
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
        if headers.len() > 200 {
            break;
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len.min(1 << 20)];
    reader.read_exact(&mut body)?;
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target, String::new()),
    };
    Ok(HttpRequest {
        method,
        path,
        query,
        headers,
        body,
    })
}

fn parse_form(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (super::percent_decode(k), super::percent_decode(v)),
            None => (super::percent_decode(kv), String::new()),
        })
        .collect()
}

fn write_response(
    mut stream: &TcpStream,
    status: u16,
    extra_headers: &[(&str, String)],
    body: &str,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in extra_headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    stream.flush()
}

fn error_body(code: &str, message: &str) -> String {
    json!({"errors": [{"code": code, "message": message}]}).to_string()
}

fn handle_connection(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let req = read_request(&stream)?;

    // Parameters: query string, plus the form body for POST.
    let mut params = parse_form(&req.query);
    if req.method == "POST" {
        params.extend(parse_form(&String::from_utf8_lossy(&req.body)));
    }
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let service = param("service");
    let scopes: Vec<String> = params
        .iter()
        .filter(|(k, _)| k == "scope")
        .flat_map(|(_, v)| v.split(' ').filter(|s| !s.is_empty()).map(str::to_string))
        .collect();

    let basic = req.header("authorization").and_then(|v| {
        let (scheme, rest) = v.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = STANDARD.decode(rest.trim()).ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (u, p) = decoded.split_once(':')?;
        Some((u.to_string(), p.to_string()))
    });
    // POST form credentials (grant_type=password) count like Basic.
    let basic = basic.or_else(|| Some((param("username")?, param("password")?)));

    let mut st = shared.state.lock().unwrap_or_else(|p| p.into_inner());
    let config = st.config.clone();
    let policy = st.policy.clone();

    let (status, headers, body): (u16, Vec<(&str, String)>, String) =
        if !req.path.ends_with("/token") {
            (
                404,
                vec![],
                error_body("NOT_FOUND", "only /token is served"),
            )
        } else if req.method != "GET" && req.method != "POST" {
            (405, vec![], error_body("UNSUPPORTED", "GET or POST"))
        } else if let Some((times, status)) = st.fail_next {
            st.fail_next = if times > 1 {
                Some((times - 1, status))
            } else {
                None
            };
            (
                status,
                vec![],
                error_body("INJECTED", "failure injected by the test"),
            )
        } else if config.basic.is_some() && basic.as_ref() != config.basic.as_ref() {
            (
                401,
                vec![(
                    "WWW-Authenticate",
                    "Basic realm=\"harness-token-issuer\"".to_string(),
                )],
                error_body("UNAUTHORIZED", "wrong or missing Basic credentials"),
            )
        } else if service.as_deref() != Some(config.service.as_str()) {
            (
                400,
                vec![],
                error_body(
                    "INVALID_SERVICE",
                    &format!("service must be {:?}, got {:?}", config.service, service),
                ),
            )
        } else {
            let sub = basic.as_ref().map(|(u, _)| u.as_str()).unwrap_or("");
            let token = make_jwt(shared, &config, policy.as_ref(), sub, &scopes);
            let body = json!({
                "token": token,
                "access_token": token,
                "expires_in": config.expires_in,
                "issued_at": rfc3339(now_secs()),
            })
            .to_string();
            (200, vec![], body)
        };
    st.requests.push(TokenRequest {
        method: req.method.clone(),
        path: req.path.clone(),
        service,
        scopes,
        basic_user: basic.map(|(u, _)| u),
        status,
        grant_type: param("grant_type"),
        refresh_token: param("refresh_token"),
    });
    drop(st);
    write_response(&stream, status, &headers, &body)
}

/// `type:name:actions`, where name may contain `:` (e.g. a host:port prefix); actions
/// comma-separated.
fn parse_scope(scope: &str) -> Option<(String, String, Vec<String>)> {
    let (typ, rest) = scope.split_once(':')?;
    let (name, actions) = rest.rsplit_once(':')?;
    let actions = actions
        .split(',')
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .collect();
    Some((typ.to_string(), name.to_string(), actions))
}

fn make_jwt(
    shared: &Shared,
    config: &TokenIssuerConfig,
    policy: Option<&GrantPolicy>,
    sub: &str,
    scopes: &[String],
) -> String {
    // Merge the actions of scopes naming the same resource.
    let mut access: Vec<(String, String, Vec<String>)> = Vec::new();
    for scope in scopes {
        let Some((typ, name, actions)) = parse_scope(scope) else {
            continue;
        };
        match access.iter_mut().find(|(t, n, _)| *t == typ && *n == name) {
            Some((_, _, acts)) => {
                for a in actions {
                    if !acts.contains(&a) {
                        acts.push(a);
                    }
                }
            }
            None => access.push((typ, name, actions)),
        }
    }
    let access: Vec<serde_json::Value> = access
        .into_iter()
        .filter_map(|(typ, name, actions)| {
            let granted = match policy {
                Some(p) => p(&typ, &name, &actions),
                None => actions,
            };
            if granted.is_empty() {
                None
            } else {
                Some(json!({"type": typ, "name": name, "actions": granted}))
            }
        })
        .collect();

    let now = now_secs();
    let jti = shared.jti.fetch_add(1, Ordering::SeqCst);
    let header = json!({"typ": "JWT", "alg": "ES256", "x5c": [shared.cert_der_b64]});
    let claims = json!({
        "iss": config.issuer,
        "sub": sub,
        "aud": config.service,
        "exp": now + config.expires_in,
        "nbf": now.saturating_sub(10),
        "iat": now,
        "jti": format!("harness-{jti}"),
        "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    // ECDSA_P256_SHA256_FIXED_SIGNING yields r||s (64 bytes), which is what JWS ES256 wants.
    let sig = shared
        .signer
        .sign(&shared.rng, signing_input.as_bytes())
        .unwrap_or_else(|e| panic!("token issuer: signing failed: {e}"));
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Unix seconds -> `YYYY-MM-DDTHH:MM:SSZ`.
fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}
