//! The loopback listener (RFC 8252 §7.3, §8.3): login callbacks, post-logout redirects, and
//! front- and back-channel logout requests.
//!
//! * binds 127.0.0.1 only (an IP literal, not `localhost`, so no other interface or resolver is
//!   involved), on a fixed or an ephemeral port;
//! * a callback is accepted as a GET query or a `form_post` POST, on its path only;
//! * a login callback whose `state` is not the login's is answered 400 and ignored: it can
//!   never complete the login (RFC 6749 §10.12), so another local process cannot inject a code;
//! * bodies are capped, pages are not cached and send no referrer (URLs hold codes);
//! * every answer asks the client to close the connection (see [`send`]).

use oidc_rp::{CallbackParams, Secret};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;
use tiny_http::{Method, Request, Server};

/// Largest request body accepted.
const MAX_BODY: u64 = 64 * 1024;
/// The login callback path.
pub const CALLBACK_PATH: &str = "/callback";
/// The post-logout redirect path.
pub const LOGOUT_PATH: &str = "/logout";
/// The back-channel logout path.
pub const BACKCHANNEL_PATH: &str = "/backchannel-logout";
/// The front-channel logout path.
pub const FRONTCHANNEL_PATH: &str = "/frontchannel-logout";

/// A bound listener.
pub struct Listener {
    server: Arc<Server>,
    addr: SocketAddr,
    cancelled: Arc<AtomicBool>,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Listener({})", self.addr)
    }
}

/// A cancel handle for a waiting listener.
#[derive(Clone)]
pub struct Cancel {
    server: Arc<Server>,
    cancelled: Arc<AtomicBool>,
}

impl std::fmt::Debug for Cancel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cancel")
    }
}

impl Cancel {
    /// Make a wait return [`WaitError::Cancelled`].
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        self.server.unblock();
    }
}

/// Why no request was accepted.
#[derive(Debug)]
pub enum WaitError {
    /// The deadline passed; `rejected` callbacks had a wrong state.
    Timeout {
        /// Callbacks refused for their state.
        rejected: usize,
    },
    /// Cancelled.
    Cancelled,
}

/// A request, its body read (capped), still waiting for its answer.
pub struct Incoming {
    /// The method.
    pub method: Method,
    /// The path.
    pub path: String,
    /// The query string.
    pub query: String,
    /// The body of a form POST.
    pub body: Vec<u8>,
    request: Request,
}

impl std::fmt::Debug for Incoming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Incoming({} {})", self.method, self.path)
    }
}

impl Incoming {
    /// The parameters: the query of a GET, the form of a POST.
    pub fn form(&self) -> &[u8] {
        if self.method == Method::Post {
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
    pub fn page(self, status: u16, title: &str, detail: &str) {
        send(
            self.request,
            status,
            "text/html; charset=utf-8",
            &page(title, detail),
            true,
        );
    }

    /// Answer with a page that may be shown in a provider's iframe (front-channel logout).
    pub fn frameable_page(self, status: u16, title: &str, detail: &str) {
        send(
            self.request,
            status,
            "text/html; charset=utf-8",
            &page(title, detail),
            false,
        );
    }

    /// Answer with any body.
    pub fn raw(self, status: u16, content_type: &str, body: &str) {
        send(self.request, status, content_type, body, true);
    }

    /// Answer with JSON.
    pub fn json(self, status: u16, body: &serde_json::Value) {
        send(
            self.request,
            status,
            "application/json",
            &body.to_string(),
            true,
        );
    }
}

impl Listener {
    /// Bind 127.0.0.1:`port` (0 for an ephemeral port).
    pub fn bind(port: u16) -> std::io::Result<Listener> {
        let tcp = TcpListener::bind(("127.0.0.1", port))?;
        let addr = tcp.local_addr()?;
        let server = Server::from_listener(tcp, None).map_err(std::io::Error::other)?;
        Ok(Listener {
            server: Arc::new(server),
            addr,
            cancelled: Arc::new(AtomicBool::new(false)),
        })
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn uri(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.addr.port())
    }

    /// The login redirect URI.
    pub fn redirect_uri(&self) -> String {
        self.uri(CALLBACK_PATH)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle to cancel a wait from another thread.
    pub fn cancel_handle(&self) -> Cancel {
        Cancel {
            server: self.server.clone(),
            cancelled: self.cancelled.clone(),
        }
    }

    /// The next request before `deadline`, with a form body read. Blocks.
    pub fn next(&self, deadline: Instant) -> Result<Incoming, WaitError> {
        loop {
            if self.cancelled.load(Ordering::SeqCst) {
                return Err(WaitError::Cancelled);
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(WaitError::Timeout { rejected: 0 });
            }
            let mut request = match self.server.recv_timeout(remaining) {
                Ok(Some(r)) => r,
                Ok(None) => continue,
                Err(e) => {
                    tracing::debug!("listener: {e}");
                    continue;
                }
            };
            let url = request.url().to_string();
            let (path, query) = url.split_once('?').unwrap_or((&url, ""));
            let (path, query) = (path.to_string(), query.to_string());
            let method = request.method().clone();
            let mut body = Vec::new();
            if method == Method::Post {
                let is_form = request.headers().iter().any(|h| {
                    h.field.equiv("Content-Type")
                        && h.value
                            .as_str()
                            .starts_with("application/x-www-form-urlencoded")
                });
                let read = request
                    .as_reader()
                    .take(MAX_BODY + 1)
                    .read_to_end(&mut body);
                if !is_form || read.is_err() || body.len() as u64 > MAX_BODY {
                    send(
                        request,
                        400,
                        "text/html; charset=utf-8",
                        &page("Bad request", "Expected a form POST."),
                        true,
                    );
                    continue;
                }
            } else if method != Method::Get {
                send(
                    request,
                    405,
                    "text/html; charset=utf-8",
                    &page("Method not allowed", "Use GET or POST."),
                    true,
                );
                continue;
            }
            return Ok(Incoming {
                method,
                path,
                query,
                body,
                request,
            });
        }
    }

    /// Wait for the request on `path` (GET query or form_post). With `expected_state`,
    /// requests carrying another state (or none) are answered 400 and ignored. Blocks.
    pub fn wait_callback(
        &self,
        path: &str,
        expected_state: Option<&Secret>,
        timeout: Duration,
    ) -> Result<Incoming, WaitError> {
        let deadline = Instant::now() + timeout;
        let mut rejected = 0;
        loop {
            let incoming = match self.next(deadline) {
                Ok(i) => i,
                Err(WaitError::Timeout { .. }) => return Err(WaitError::Timeout { rejected }),
                Err(e) => return Err(e),
            };
            if incoming.path != path {
                incoming.page(
                    404,
                    "Not found",
                    "This listener only answers the login callback.",
                );
                continue;
            }
            let params = match incoming.params() {
                Ok(p) => p,
                Err(e) => {
                    let msg = e.to_string();
                    incoming.page(400, "Bad request", &msg);
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
                    tracing::warn!("refused a callback whose state does not match this login");
                    incoming.page(
                        400,
                        "Unexpected callback",
                        "This response does not belong to the login in progress (state mismatch). It was ignored.",
                    );
                    continue;
                }
            }
            return Ok(incoming);
        }
    }
}

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

/// Write the response ourselves, with `Connection: close`.
///
/// tiny_http cannot close a connection from the server side (it drops a `Connection` header
/// set on a response), and its connection threads stay with a keep-alive connection until
/// the client closes it; new connections arriving in a burst can then wait behind idle ones
/// indefinitely. Every answer of this listener therefore asks the client to close.
fn send(request: Request, status: u16, content_type: &str, body: &str, deny_frames: bool) {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Error",
    };
    let frames = if deny_frames {
        "X-Frame-Options: DENY\r\n"
    } else {
        ""
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
Cache-Control: no-cache, no-store\r\nReferrer-Policy: no-referrer\r\n{frames}\
X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut writer = request.into_writer();
    let _ = writer
        .write_all(head.as_bytes())
        .and_then(|_| writer.write_all(body.as_bytes()))
        .and_then(|_| writer.flush());
}
