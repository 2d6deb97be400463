//! The loopback callback listener (RFC 8252 §7.3, §8.3).
//!
//! * binds 127.0.0.1 only (an IP literal, not `localhost`, so no other interface or resolver is
//!   involved), on a fixed or an ephemeral port;
//! * accepts the callback as a GET query or a `form_post` POST, on `/callback` only;
//! * a request whose `state` is not the login's is answered 400 and ignored: it can never
//!   complete the login (RFC 6749 §10.12), so another local process cannot inject a code;
//! * single use: once the callback is accepted the listener stops;
//! * bodies are capped, pages are not cached and send no referrer (the URL holds the code).

use oidc_rp::{AuthTransaction, CallbackParams};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tiny_http::{Request, Server};

/// Largest form_post body accepted.
const MAX_BODY: u64 = 64 * 1024;
/// The callback path.
pub const CALLBACK_PATH: &str = "/callback";

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

impl Cancel {
    /// Make `wait` return [`WaitError::Cancelled`].
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        self.server.unblock();
    }
}

impl std::fmt::Debug for Cancel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cancel")
    }
}

impl std::fmt::Debug for Accepted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accepted")
            .field("params", &self.params)
            .finish()
    }
}

/// Why no callback was accepted.
#[derive(Debug)]
pub enum WaitError {
    /// The deadline passed; `rejected` requests had a wrong state.
    Timeout {
        /// Requests refused for their state.
        rejected: usize,
    },
    /// Cancelled (the headless driver failed).
    Cancelled,
}

/// The accepted callback, whose HTTP request is still open: answer it with [`Accepted::respond`].
pub struct Accepted {
    /// The callback parameters.
    pub params: CallbackParams,
    request: Request,
}

impl Accepted {
    /// Answer the browser (or the headless driver) with the outcome of the login.
    pub fn respond(self, ok: bool, title: &str, detail: &str) {
        let status = if ok { 200 } else { 400 };
        send(self.request, page(status, title, detail));
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

    /// `http://127.0.0.1:PORT/callback`.
    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}{CALLBACK_PATH}", self.addr.port())
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle to cancel [`Listener::wait`] from another thread.
    pub fn cancel_handle(&self) -> Cancel {
        Cancel {
            server: self.server.clone(),
            cancelled: self.cancelled.clone(),
        }
    }

    /// Wait for the callback answering `txn`. Blocks; run it on a blocking thread.
    pub fn wait(&self, txn: &AuthTransaction, timeout: Duration) -> Result<Accepted, WaitError> {
        let deadline = Instant::now() + timeout;
        let mut rejected = 0;
        loop {
            if self.cancelled.load(Ordering::SeqCst) {
                return Err(WaitError::Cancelled);
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(WaitError::Timeout { rejected });
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
            if path != CALLBACK_PATH {
                send(
                    request,
                    page(
                        404,
                        "Not found",
                        "This listener only answers the login callback.",
                    ),
                );
                continue;
            }
            let raw: Vec<u8> = match request.method() {
                tiny_http::Method::Get => query.as_bytes().to_vec(),
                tiny_http::Method::Post => {
                    let is_form = request.headers().iter().any(|h| {
                        h.field.equiv("Content-Type")
                            && h.value
                                .as_str()
                                .starts_with("application/x-www-form-urlencoded")
                    });
                    let mut body = Vec::new();
                    let read = request
                        .as_reader()
                        .take(MAX_BODY + 1)
                        .read_to_end(&mut body);
                    if !is_form || read.is_err() || body.len() as u64 > MAX_BODY {
                        send(
                            request,
                            page(400, "Bad request", "Expected a form_post callback."),
                        );
                        continue;
                    }
                    body
                }
                _ => {
                    send(request, page(405, "Method not allowed", "Use GET or POST."));
                    continue;
                }
            };
            let params = match CallbackParams::parse(&raw) {
                Ok(p) => p,
                Err(e) => {
                    send(request, page(400, "Bad request", &e.to_string()));
                    continue;
                }
            };
            if !txn.state_matches(params.state.as_deref()) {
                rejected += 1;
                tracing::warn!(
                    "refused a callback whose state does not match this login (from {:?})",
                    request.remote_addr()
                );
                send(
                    request,
                    page(
                        400,
                        "Unexpected callback",
                        "This response does not belong to the login in progress (state mismatch). It was ignored.",
                    ),
                );
                continue;
            }
            return Ok(Accepted { params, request });
        }
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A response: status line and body.
struct Page {
    status: u16,
    body: String,
}

fn page(status: u16, title: &str, detail: &str) -> Page {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>rp: {t}</title>\
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}}</style></head>\
<body><h1>{t}</h1><p>{d}</p><p>You can close this tab and return to the terminal.</p></body></html>",
        t = esc(title),
        d = esc(detail)
    );
    Page { status, body }
}

/// Write the response ourselves, with `Connection: close`.
///
/// tiny_http cannot close a connection from the server side (it drops a `Connection` header
/// set on a response), and its connection threads stay with a keep-alive connection until
/// the client closes it; new connections arriving in a burst can then wait behind idle ones
/// indefinitely. Every answer of this listener therefore asks the client to close.
fn send(request: Request, page: Page) {
    let reason = match page.status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Error",
    };
    let head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nX-Frame-Options: DENY\r\n\
X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
        page.status,
        page.body.len()
    );
    let mut writer = request.into_writer();
    let _ = writer
        .write_all(head.as_bytes())
        .and_then(|_| writer.write_all(page.body.as_bytes()))
        .and_then(|_| writer.flush());
}
