//! The loopback listener (RFC 8252 §7.3, §8.3): login callbacks, post-logout redirects, and
//! front- and back-channel logout requests.
//!
//! What it defends against (anything on this machine can connect to it, and a web page can
//! make the browser send it requests):
//!
//! * binds loopback only, as an IP literal (`127.0.0.1`, `[::1]`; `localhost` binds both), on
//!   a fixed or an ephemeral port, and answers only requests whose `Host` names it, so a page
//!   that rebinds a DNS name to 127.0.0.1 cannot talk to it;
//! * bounded in size, time and count: the request line and headers at most [`MAX_HEAD`]
//!   bytes, a form body at most [`MAX_BODY`], at most [`MAX_CONNECTIONS`] connections at
//!   once, and [`IDLE_TIMEOUT`] to send the headers (and again the body). When every slot is
//!   taken, the oldest connection that has not yet sent a complete request is dropped for the
//!   new one, so a flood of idle connections cannot lock the genuine callback out;
//! * one request per connection (`Connection: close`), served on the async runtime (no thread
//!   per connection);
//! * a callback is accepted as a GET query or a `form_post` POST, on its path only; one whose
//!   `state` is not the login's is answered 400 and ignored (RFC 6749 §10.12), so another
//!   local process cannot inject a code;
//! * pages are not cached, send no referrer (URLs hold codes) and cannot be framed (except
//!   the front-channel logout page, which a provider shows in an iframe).
//!
//! It is served with hyper: tiny_http, used before, had no bound on the request line (a
//! 400 MB line grew the process by 400 MB), no read timeout, and a thread per connection.

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use oidc_rp::{CallbackParams, Secret};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;
use tokio::sync::{mpsc, oneshot};

/// Largest request line plus headers, in bytes.
pub const MAX_HEAD: usize = 16 * 1024;
/// Largest request body (a `form_post` response or a logout token), in bytes.
pub const MAX_BODY: usize = 1024 * 1024;
/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 64;
/// Time a connection has to send its request head, and then its body.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// The login callback path.
pub const CALLBACK_PATH: &str = "/callback";
/// The post-logout redirect path.
pub const LOGOUT_PATH: &str = "/logout";
/// The back-channel logout path.
pub const BACKCHANNEL_PATH: &str = "/backchannel-logout";
/// The front-channel logout path.
pub const FRONTCHANNEL_PATH: &str = "/frontchannel-logout";

/// The loopback host a listener binds and names in its URIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoopbackHost {
    /// `127.0.0.1` (the default: RFC 8252 §7.3 prefers the IP literal).
    #[default]
    Ipv4,
    /// `[::1]`.
    Ipv6,
    /// `localhost`: binds 127.0.0.1 and, on the same port, ::1 when it can.
    Localhost,
}

impl LoopbackHost {
    /// The host of a loopback redirect URI, if it is one.
    pub fn of(url: &url::Url) -> Option<LoopbackHost> {
        match url.host()? {
            url::Host::Ipv4(ip) if ip == std::net::Ipv4Addr::LOCALHOST => Some(LoopbackHost::Ipv4),
            url::Host::Ipv6(ip) if ip == std::net::Ipv6Addr::LOCALHOST => Some(LoopbackHost::Ipv6),
            url::Host::Domain(d) if d.eq_ignore_ascii_case("localhost") => {
                Some(LoopbackHost::Localhost)
            }
            _ => None,
        }
    }

    /// As written in a URI.
    pub fn as_uri_host(self) -> &'static str {
        match self {
            LoopbackHost::Ipv4 => "127.0.0.1",
            LoopbackHost::Ipv6 => "[::1]",
            LoopbackHost::Localhost => "localhost",
        }
    }
}

/// A loopback redirect URI a user gave (`--post-logout-redirect-uri`): where to listen and
/// what to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoopbackUri {
    /// The host.
    pub host: LoopbackHost,
    /// The port; `None` for "any" (an ephemeral port is chosen, RFC 8252 §7.3).
    pub port: Option<u16>,
    /// The path the provider redirects to.
    pub path: String,
    /// The URI to send, when it is fixed (with a port): exactly as given, since providers
    /// compare registered redirect URIs as strings.
    pub exact: Option<String>,
}

impl LoopbackUri {
    /// Parse `http://{127.0.0.1|[::1]|localhost}[:port]/path`.
    pub fn parse(uri: &str) -> Result<LoopbackUri, String> {
        let url = url::Url::parse(uri).map_err(|e| format!("`{uri}` is not a URL: {e}"))?;
        if url.scheme() != "http" {
            return Err(format!(
                "`{uri}` must be an http URI on loopback (rp listens there itself; RFC 8252 §7.3)"
            ));
        }
        let host = LoopbackHost::of(&url).ok_or_else(|| {
            format!(
                "`{uri}` must name 127.0.0.1, [::1] or localhost: rp can only listen on loopback"
            )
        })?;
        if url.fragment().is_some() || url.query().is_some() {
            return Err(format!("`{uri}` must have no query or fragment"));
        }
        Ok(LoopbackUri {
            host,
            port: url.port(),
            path: url.path().to_string(),
            exact: url.port().map(|_| uri.to_string()),
        })
    }
}

/// Why a request to the listener was refused (the last one is remembered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// A callback whose `state` is not the one sent.
    WrongState,
    /// Another path.
    WrongPath(String),
    /// Unparseable parameters.
    Malformed(String),
}

/// Why no request was accepted.
#[derive(Debug)]
pub enum WaitError {
    /// The deadline passed; `rejected` callbacks had a wrong state.
    Timeout {
        /// Callbacks refused for their state.
        rejected: usize,
    },
    /// The listener stopped.
    Closed,
}

type Answer = Response<Full<Bytes>>;

/// A request, its body read (capped), waiting for its answer.
pub struct Incoming {
    /// The method.
    pub method: Method,
    /// The path.
    pub path: String,
    /// The query string.
    pub query: String,
    /// The body of a form POST.
    pub body: Bytes,
    respond: oneshot::Sender<Answer>,
    written: oneshot::Receiver<()>,
}

/// An answer handed to the connection; [`Sent::written`] waits until it is on the wire (before
/// a command exits, so the browser or provider gets it).
#[derive(Debug)]
pub struct Sent(oneshot::Receiver<()>);

impl Sent {
    /// Wait (5 s at most) until the answer was written and the connection closed.
    pub async fn written(self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.0).await;
    }
}

impl std::fmt::Debug for Incoming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Incoming({} {})", self.method, self.path)
    }
}

impl Incoming {
    /// The parameters: the query of a GET, the form of a POST.
    pub fn form(&self) -> &[u8] {
        if self.method == Method::POST {
            &self.body
        } else {
            self.query.as_bytes()
        }
    }

    /// The callback parameters.
    pub fn params(&self) -> oidc_rp::Result<CallbackParams> {
        CallbackParams::parse(self.form())
    }

    /// Answer with an HTML page.
    pub fn page(self, status: u16, title: &str, detail: &str) -> Sent {
        self.send(
            status,
            "text/html; charset=utf-8",
            page(title, detail),
            true,
        )
    }

    /// Answer with a page that may be shown in a provider's iframe (front-channel logout).
    pub fn frameable_page(self, status: u16, title: &str, detail: &str) -> Sent {
        self.send(
            status,
            "text/html; charset=utf-8",
            page(title, detail),
            false,
        )
    }

    /// Answer with any body.
    pub fn raw(self, status: u16, content_type: &str, body: &str) -> Sent {
        self.send(status, content_type, body.to_string(), true)
    }

    /// Answer with JSON.
    pub fn json(self, status: u16, body: &serde_json::Value) -> Sent {
        self.send(status, "application/json", body.to_string(), true)
    }

    fn send(self, status: u16, content_type: &str, body: String, deny_frames: bool) -> Sent {
        let _ = self
            .respond
            .send(answer(status, content_type, body, deny_frames));
        Sent(self.written)
    }
}

/// One admitted connection.
struct Conn {
    id: u64,
    /// Set once its request head has been read: only connections still sending their head
    /// (idle, or slow on purpose) may be evicted for a new one.
    head_done: Arc<AtomicBool>,
    evict: Option<oneshot::Sender<()>>,
}

struct Shared {
    conns: Mutex<Vec<Conn>>,
    next_id: AtomicU64,
    queue: mpsc::Sender<Incoming>,
    /// `Host` header values this listener answers.
    hosts: Vec<String>,
}

impl Shared {
    /// Admit a connection, evicting the oldest one still sending its head when all slots are
    /// taken; `None` when every connection is busy with a complete request.
    fn admit(self: &Arc<Self>) -> Option<Slot> {
        let mut conns = self.conns.lock().unwrap_or_else(|p| p.into_inner());
        if conns.len() >= MAX_CONNECTIONS {
            let idle = conns
                .iter()
                .position(|c| !c.head_done.load(Ordering::SeqCst))?;
            let mut evicted = conns.remove(idle);
            if let Some(tx) = evicted.evict.take() {
                let _ = tx.send(());
            }
            tracing::debug!("listener: full, dropped the oldest idle connection");
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let head_done = Arc::new(AtomicBool::new(false));
        let (tx, rx) = oneshot::channel();
        conns.push(Conn {
            id,
            head_done: head_done.clone(),
            evict: Some(tx),
        });
        Some(Slot {
            id,
            head_done,
            evicted: Some(rx),
            shared: self.clone(),
        })
    }
}

/// A connection's place; freed when dropped.
struct Slot {
    id: u64,
    head_done: Arc<AtomicBool>,
    evicted: Option<oneshot::Receiver<()>>,
    shared: Arc<Shared>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut conns = self.shared.conns.lock().unwrap_or_else(|p| p.into_inner());
        conns.retain(|c| c.id != self.id);
    }
}

/// A bound listener. Dropping it stops it.
pub struct Listener {
    addr: SocketAddr,
    host: LoopbackHost,
    requests: tokio::sync::Mutex<mpsc::Receiver<Incoming>>,
    last_rejection: Mutex<Option<Rejection>>,
    /// A document served once while waiting: a request object by reference (path, JWT).
    served: Mutex<Option<(String, Secret)>>,
    /// The response comes in the URL's fragment, which a browser never sends: a bare GET of
    /// the callback is answered with a page that posts the fragment back.
    relay_fragment: AtomicBool,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Listener({})", self.addr)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Listener {
    /// Bind 127.0.0.1:`port` (0 for an ephemeral port). Needs a tokio runtime.
    pub fn bind(port: u16) -> std::io::Result<Listener> {
        Listener::bind_host(LoopbackHost::Ipv4, port)
    }

    /// Bind `host`:`port` (0 for an ephemeral port). Needs a tokio runtime.
    pub fn bind_host(host: LoopbackHost, port: u16) -> std::io::Result<Listener> {
        let primary: SocketAddr = match host {
            LoopbackHost::Ipv6 => (std::net::Ipv6Addr::LOCALHOST, port).into(),
            _ => (std::net::Ipv4Addr::LOCALHOST, port).into(),
        };
        let mut sockets = vec![tokio_listener(primary)?];
        let addr = sockets[0].local_addr()?;
        if host == LoopbackHost::Localhost {
            // `localhost` may resolve to ::1 in the browser: listen there too when we can.
            if let Ok(v6) = tokio_listener((std::net::Ipv6Addr::LOCALHOST, addr.port()).into()) {
                sockets.push(v6);
            }
        }
        let port = addr.port();
        let hosts = match host {
            LoopbackHost::Ipv4 => vec![format!("127.0.0.1:{port}")],
            LoopbackHost::Ipv6 => vec![format!("[::1]:{port}")],
            LoopbackHost::Localhost => vec![
                format!("localhost:{port}"),
                format!("127.0.0.1:{port}"),
                format!("[::1]:{port}"),
            ],
        };
        let (queue, requests) = mpsc::channel(MAX_CONNECTIONS);
        let shared = Arc::new(Shared {
            conns: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(0),
            queue,
            hosts,
        });
        let tasks = sockets
            .into_iter()
            .map(|socket| tokio::spawn(accept_loop(socket, shared.clone())))
            .collect();
        Ok(Listener {
            addr,
            host,
            requests: tokio::sync::Mutex::new(requests),
            last_rejection: Mutex::new(None),
            served: Mutex::new(None),
            relay_fragment: AtomicBool::new(false),
            tasks,
        })
    }

    /// `http://HOST:PORT{path}`.
    pub fn uri(&self, path: &str) -> String {
        format!(
            "http://{}:{}{path}",
            self.host.as_uri_host(),
            self.addr.port()
        )
    }

    /// The login redirect URI.
    pub fn redirect_uri(&self) -> String {
        self.uri(CALLBACK_PATH)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Why the last refused request was refused.
    pub fn last_rejection(&self) -> Option<Rejection> {
        self.last_rejection
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn reject(&self, why: Rejection) {
        *self
            .last_rejection
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(why);
    }

    /// While waiting for the callback, answer one GET of `path` with `jwt` (a request object
    /// by reference, RFC 9101 §5.2: the provider fetches it once). The path should be
    /// unguessable; the object is gone once fetched.
    pub fn serve_request_object_once(&self, path: &str, jwt: Secret) {
        *self.served.lock().unwrap_or_else(|p| p.into_inner()) = Some((path.to_string(), jwt));
    }

    /// Expect the response in the redirect URI's fragment (the implicit and hybrid response
    /// types): a GET of the callback without parameters gets a page whose script posts the
    /// fragment's parameters to the same path, as a form post response would.
    pub fn relay_fragment(&self) {
        self.relay_fragment.store(true, Ordering::SeqCst);
    }

    fn take_served(&self, path: &str) -> Option<Secret> {
        let mut served = self.served.lock().unwrap_or_else(|p| p.into_inner());
        if served.as_ref().is_some_and(|(p, _)| p == path) {
            served.take().map(|(_, jwt)| jwt)
        } else {
            None
        }
    }

    /// The next request before `deadline`, its form body read.
    pub async fn next(&self, deadline: Instant) -> Result<Incoming, WaitError> {
        let mut requests = self.requests.lock().await;
        match tokio::time::timeout_at(deadline.into(), requests.recv()).await {
            Ok(Some(incoming)) => Ok(incoming),
            Ok(None) => Err(WaitError::Closed),
            Err(_) => Err(WaitError::Timeout { rejected: 0 }),
        }
    }

    /// Wait for the request on `path` (GET query or form_post). With `expected_state`,
    /// requests carrying another state (or none) are answered 400 and ignored.
    pub async fn wait_callback(
        &self,
        path: &str,
        expected_state: Option<&Secret>,
        timeout: Duration,
    ) -> Result<Incoming, WaitError> {
        let deadline = Instant::now() + timeout;
        let mut rejected = 0;
        loop {
            let incoming = match self.next(deadline).await {
                Ok(i) => i,
                Err(WaitError::Timeout { .. }) => return Err(WaitError::Timeout { rejected }),
                Err(e) => return Err(e),
            };
            if let Some(jwt) = self.take_served(&incoming.path) {
                let _ = incoming.raw(200, "application/oauth-authz-req+jwt", jwt.expose());
                continue;
            }
            if incoming.path == path
                && incoming.method == Method::GET
                && incoming.query.is_empty()
                && self.relay_fragment.load(Ordering::SeqCst)
            {
                let page = format!(
                    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>rp: completing the login</title></head><body><p>Completing the login…</p><script>{FRAGMENT_RELAY_SCRIPT}</script></body></html>"
                );
                let _ = incoming.raw(200, "text/html; charset=utf-8", &page);
                continue;
            }
            if incoming.path != path {
                self.reject(Rejection::WrongPath(incoming.path.clone()));
                let _ = incoming.page(404, "Not found", "This listener only answers the callback.");
                continue;
            }
            let params = match incoming.params() {
                Ok(p) => p,
                Err(e) => {
                    let msg = e.to_string();
                    self.reject(Rejection::Malformed(msg.clone()));
                    let _ = incoming.page(400, "Bad request", &msg);
                    continue;
                }
            };
            if let Some(expected) = expected_state {
                let matches = params
                    .state
                    .as_deref()
                    .is_some_and(|s| bool::from(s.as_bytes().ct_eq(expected.expose().as_bytes())));
                if !matches {
                    rejected += 1;
                    self.reject(Rejection::WrongState);
                    tracing::warn!("refused a callback whose state does not match this request");
                    let _ = incoming.page(
                        400,
                        "Unexpected callback",
                        "This response does not belong to the request in progress (state mismatch). It was ignored.",
                    );
                    continue;
                }
            }
            return Ok(incoming);
        }
    }
}

fn tokio_listener(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let std = std::net::TcpListener::bind(addr)?;
    std.set_nonblocking(true)?;
    tokio::net::TcpListener::from_std(std)
}

async fn accept_loop(socket: tokio::net::TcpListener, shared: Arc<Shared>) {
    loop {
        let stream = match socket.accept().await {
            Ok((s, _)) => s,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::debug!("listener: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(slot) = shared.admit() else {
            tracing::debug!("listener: every connection is busy; refused one");
            continue;
        };
        tokio::spawn(serve(stream, slot, shared.clone()));
    }
}

async fn serve(stream: tokio::net::TcpStream, mut slot: Slot, shared: Arc<Shared>) {
    let evicted = slot.evicted.take();
    let head_done = slot.head_done.clone();
    // Told once the connection is over, its answer written.
    let written: Arc<Mutex<Option<oneshot::Sender<()>>>> = Arc::default();
    let on_written = written.clone();
    let service = hyper::service::service_fn(move |req| {
        let (shared, head_done, written) = (shared.clone(), head_done.clone(), written.clone());
        async move {
            head_done.store(true, Ordering::SeqCst);
            Ok::<_, std::convert::Infallible>(handle(req, &shared, &written).await)
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(IDLE_TIMEOUT)
        .keep_alive(false)
        // A client may close its sending side and still wait for the answer.
        .half_close(true)
        .max_buf_size(MAX_HEAD);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    // The sender lives in the connection table until this slot is dropped, so the receiver
    // completes only on eviction.
    let evicted = async move {
        if let Some(rx) = evicted {
            let _ = rx.await;
        }
    };
    tokio::select! {
        r = conn => {
            if let Err(e) = r {
                tracing::debug!("listener: connection ended: {e}");
            }
        }
        () = evicted => {}
    }
    if let Some(tx) = on_written.lock().unwrap_or_else(|p| p.into_inner()).take() {
        let _ = tx.send(());
    }
    drop(slot);
}

async fn handle(
    req: Request<hyper::body::Incoming>,
    shared: &Shared,
    written: &Mutex<Option<oneshot::Sender<()>>>,
) -> Answer {
    let host_ok = req
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| shared.hosts.iter().any(|ours| ours.eq_ignore_ascii_case(h)));
    if !host_ok {
        return error(
            400,
            "Bad request",
            "This listener answers only its own host name.",
        );
    }
    let method = req.method().clone();
    if method != Method::GET && method != Method::POST {
        return error(405, "Method not allowed", "Use GET or POST.");
    }
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let body = if method == Method::POST {
        let is_form = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return error(400, "Bad request", "Expected a form POST.");
        }
        let limited = Limited::new(req.into_body(), MAX_BODY);
        match tokio::time::timeout(IDLE_TIMEOUT, limited.collect()).await {
            Ok(Ok(collected)) => collected.to_bytes(),
            Ok(Err(_)) => return error(413, "Too large", "The form is too large."),
            Err(_) => return error(408, "Timeout", "The form took too long to arrive."),
        }
    } else {
        Bytes::new()
    };
    let (respond, answered) = oneshot::channel();
    let (done, written_rx) = oneshot::channel();
    *written.lock().unwrap_or_else(|p| p.into_inner()) = Some(done);
    let incoming = Incoming {
        method,
        path,
        query,
        body,
        respond,
        written: written_rx,
    };
    if shared.queue.send(incoming).await.is_err() {
        return error(
            503,
            "Not listening",
            "Nothing is waiting for this request any more.",
        );
    }
    answered.await.unwrap_or_else(|_| {
        error(
            503,
            "Not listening",
            "Nothing is waiting for this request any more.",
        )
    })
}

fn error(status: u16, title: &str, detail: &str) -> Answer {
    answer(
        status,
        "text/html; charset=utf-8",
        page(title, detail),
        true,
    )
}

fn answer(status: u16, content_type: &str, body: String, deny_frames: bool) -> Answer {
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(CONTENT_TYPE, content_type)
        .header("cache-control", "no-cache, no-store")
        .header("referrer-policy", "no-referrer")
        .header("x-content-type-options", "nosniff")
        .header("connection", "close");
    if deny_frames {
        builder = builder.header("x-frame-options", "DENY");
    }
    builder
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// The script that posts a response in the URL's fragment to this same path as a form (the
/// fragment never reaches a server), dropping the fragment from the address bar and history
/// first. One copy for the CLI's listener and `rp web`'s callback page.
pub const FRAGMENT_RELAY_SCRIPT: &str = "(function(){\
var p=new URLSearchParams(location.hash.slice(1));history.replaceState(null,'',location.pathname);\
var f=document.createElement('form');f.method='post';f.action=location.pathname;\
p.forEach(function(v,k){var i=document.createElement('input');i.type='hidden';i.name=k;i.value=v;f.appendChild(i);});\
document.body.appendChild(f);f.submit();})();";

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(title: &str, detail: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>rp: {t}</title>\
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}}</style></head>\
<body><h1>{t}</h1><p>{d}</p><p>You can close this tab and return to the terminal.</p></body></html>",
        t = esc(title),
        d = esc(detail)
    )
}
