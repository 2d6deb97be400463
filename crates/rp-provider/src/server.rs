//! Serving: a hyper HTTP/1.1 connection per accepted socket on the tokio runtime (so many
//! requests are served at once on every worker thread), optionally behind rustls, with a
//! header read timeout so idle connections cannot pile up.

use axum::Router;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

/// The request header that carries the connection's client certificate (DER, base64) to the
/// handlers. Any value a client sends under this name is removed first, so only the TLS
/// layer can set it.
pub const PEER_CERTIFICATE: &str = "x-rp-provider-peer-certificate";

/// The router behind a request rewrite that sets [`PEER_CERTIFICATE`] to this connection's
/// certificate (or removes it): one small wrapper per connection, not a re-layered router.
fn with_peer_certificate(
    router: Router,
    peer: Option<Vec<u8>>,
) -> tower::util::MapRequest<Router, impl FnMut(Request<Incoming>) -> Request<Incoming> + Clone> {
    let value = peer.and_then(|der| {
        axum::http::HeaderValue::from_str(&base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            der,
        ))
        .ok()
    });
    tower::ServiceExt::map_request(router, move |mut request: Request<Incoming>| {
        let headers = request.headers_mut();
        headers.remove(PEER_CERTIFICATE);
        if let Some(v) = &value {
            headers.insert(PEER_CERTIFICATE, v.clone());
        }
        request
    })
}

/// The client certificate of the request's TLS connection (DER), if it presented one.
pub fn peer_certificate(headers: &axum::http::HeaderMap) -> Option<Vec<u8>> {
    let v = headers.get(PEER_CERTIFICATE)?.to_str().ok()?;
    base64::Engine::decode(&base64::engine::general_purpose::STANDARD, v).ok()
}

/// The RFC 8705 §3.1 thumbprint (`x5t#S256`) of a certificate.
pub fn thumbprint(der: &[u8]) -> String {
    rp_jose::b64::encode(ring::digest::digest(&ring::digest::SHA256, der).as_ref())
}

/// Accept connections until `shutdown` turns true.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let acceptor = tls.map(TlsAcceptor::from);
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.changed() => break,
        };
        let (stream, _) = match accepted {
            Ok(s) => s,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(target: "rp_provider", "accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let acceptor = acceptor.clone();
        let mut conn_shutdown = shutdown.clone();
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10))
                .keep_alive(true);
            let result = match acceptor {
                Some(acceptor) => {
                    let tls = match tokio::time::timeout(
                        Duration::from_secs(10),
                        acceptor.accept(stream),
                    )
                    .await
                    {
                        Ok(Ok(s)) => s,
                        _ => return,
                    };
                    let peer = tls
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|c| c.first())
                        .map(|c| c.to_vec());
                    let service = TowerToHyperService::new(with_peer_certificate(router, peer));
                    let conn = builder.serve_connection(TokioIo::new(tls), service);
                    tokio::pin!(conn);
                    tokio::select! {
                        r = conn.as_mut() => r,
                        _ = conn_shutdown.changed() => { conn.as_mut().graceful_shutdown(); conn.await }
                    }
                }
                None => {
                    let service = TowerToHyperService::new(with_peer_certificate(router, None));
                    let conn = builder.serve_connection(TokioIo::new(stream), service);
                    tokio::pin!(conn);
                    tokio::select! {
                        r = conn.as_mut() => r,
                        _ = conn_shutdown.changed() => { conn.as_mut().graceful_shutdown(); conn.await }
                    }
                }
            };
            if let Err(e) = result {
                tracing::debug!(target: "rp_provider", "connection ended: {e}");
            }
        });
    }
}
