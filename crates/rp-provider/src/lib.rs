//! # rp-provider
//!
//! The bundled OpenID Provider of `rp`: a real OP over HTTP (or HTTPS with a certificate made
//! at start), with an HTML login form, consent, users and clients from `fixtures/`, and every
//! endpoint the `oidc-rp` library talks to. The CLI embeds it (`rp login` with no issuer,
//! `rp provider`) and the tests log in against it over loopback.
//!
//! **What it is not:** a production identity server. Its users and keys are public test
//! fixtures, and its state lives in memory.
//!
//! ```no_run
//! # async fn demo() -> Result<(), rp_provider::error::Error> {
//! let provider = rp_provider::start(rp_provider::ProviderConfig::default()).await?;
//! println!("issuer: {}", provider.issuer());
//! provider.stop().await;
//! # Ok(()) }
//! ```
//!
//! The library and the provider do not depend on each other: the provider signs with its own
//! code, so a bug in the RP's verification cannot be mirrored by the provider.

// Handlers return `Result<_, Response>`: the error is the HTTP answer itself, as in axum.
#![allow(clippy::result_large_err)]

pub mod authorize;
pub mod bounded;
pub mod client_credentials;
pub mod client_jwt;
pub mod conformance;
pub mod device;
pub mod discovery;
pub mod dpop;
pub mod error;
pub mod exchange;
pub mod fixtures;
pub mod flaws;
pub mod introspection;
pub mod keys;
pub mod logout;
pub mod misbehaviour;
pub mod mtls;
pub mod op;
pub mod outbound;
pub mod pages;
pub mod par;
pub mod params;
pub mod refresh;
pub mod registration;
pub mod request_object;
pub mod response_type;
pub mod server;
pub mod session_management;
pub mod store;
pub mod throttle;
pub mod tls;
pub mod token;
pub mod userinfo;

pub use fixtures::Fixtures;
pub use op::Op;

use axum::Router;
use axum::routing::{get, post};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How to run the provider.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// Address to listen on. Default `127.0.0.1:0` (an ephemeral port on loopback).
    pub bind: SocketAddr,
    /// Serve HTTPS with a certificate made at start.
    pub tls: bool,
    /// Where to write the CA certificate when `tls` is on (default: `ca.pem` in a new
    /// private directory under the temporary directory; see [`tls::write_ca`]).
    pub ca_file: Option<PathBuf>,
    /// Users, clients and keys.
    pub fixtures: Fixtures,
    /// Serve the conformance instances (`/<test-id>`, `/<alias>/<test-id>`) and WebFinger.
    pub conformance: bool,
    /// Extra CA certificates (PEM) trusted by the provider's own requests (back-channel
    /// logout to an RP served over HTTPS with a private CA, such as `rp web --tls`).
    pub outbound_ca_pem: Option<String>,
    /// Where the provider may send its own requests (default: loopback, ports 1024 and up).
    pub outbound: outbound::OutboundPolicy,
    /// More CA certificates (PEM) whose certificates `tls_client_auth` clients may present
    /// (RFC 8705 §2.1), beside the provider's own CA (with `tls`).
    pub client_ca_pem: Option<String>,
    /// The device grant's polling interval in seconds (RFC 8628 §3.2; default 5). Tests set
    /// 0 so that a device login takes no longer than the polls themselves.
    pub device_interval: i64,
    /// Provider-side flaws (`rp provider --flaw`), for proving `rp audit`; none by default.
    pub flaws: Vec<flaws::Flaw>,
}

impl Default for ProviderConfig {
    fn default() -> Self {
        ProviderConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: false,
            ca_file: None,
            fixtures: Fixtures::embedded(),
            conformance: false,
            outbound_ca_pem: None,
            outbound: outbound::OutboundPolicy::loopback(),
            client_ca_pem: None,
            device_interval: 5,
            flaws: Vec::new(),
        }
    }
}

/// The routes of one provider instance.
pub fn instance_router(op: Arc<Op>) -> Router {
    let jwks_path = op.jwks_path().to_string();
    let mut router = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route(&jwks_path, get(discovery::jwks));
    if op.misbehaviour.observed().is_some() {
        router = router
            .route("/_conformance/requests", get(observed))
            .route("/_conformance/initiate", get(initiate))
            .route(
                "/_conformance/check_session",
                post(session_management::conformance_check),
            );
    }
    router
        .route(
            "/authorize",
            get(authorize::authorize_get).post(authorize::authorize_post),
        )
        .route("/login", post(authorize::login))
        .route("/consent", post(authorize::consent))
        .route("/device_authorization", post(device::device_authorization))
        .route("/device", get(device::page).post(device::submit))
        .route("/par", post(par::par))
        .route("/token", post(token::token))
        .route(
            "/check_session",
            get(session_management::check_session_iframe),
        )
        .route(
            "/userinfo",
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .route("/register", post(registration::register))
        .route("/introspect", post(introspection::introspect))
        .route("/revoke", post(introspection::revoke))
        .route(
            "/end_session",
            get(logout::end_session_get).post(logout::end_session_post),
        )
        .route("/logged-out", get(logout::logged_out))
        .with_state(op)
}

/// GET {issuer}/_conformance/requests: what the instance observed (the requests it received)
/// and the back-channel logout deliveries it made, for a test runner's checks.
/// GET /_conformance/initiate?client_id=…: a test instance starts a third-party login (OIDC
/// Core §4): the browser goes to the client's registered `initiate_login_uri` with `iss`.
async fn initiate(
    axum::extract::State(op): axum::extract::State<Arc<Op>>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let target = q
        .get("client_id")
        .and_then(|c| op.client(c))
        .and_then(|c| {
            c.other
                .get("initiate_login_uri")
                .and_then(|u| u.as_str())
                .map(str::to_string)
        })
        .and_then(|u| url::Url::parse(&u).ok());
    match target {
        Some(mut url) => {
            url.query_pairs_mut().append_pair("iss", &op.issuer);
            axum::response::Redirect::to(url.as_str()).into_response()
        }
        None => (
            axum::http::StatusCode::NOT_FOUND,
            "no client with an initiate_login_uri",
        )
            .into_response(),
    }
}

async fn observed(
    axum::extract::State(op): axum::extract::State<Arc<Op>>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let deliveries: Vec<serde_json::Value> = op
        .deliveries()
        .iter()
        .map(|d| serde_json::json!({"client_id": d.client_id, "uri": d.uri, "status": d.status, "error": d.error}))
        .collect();
    axum::Json(serde_json::json!({
        "requests": op.misbehaviour.observed().unwrap_or_default(),
        "backchannel_deliveries": deliveries,
    }))
    .into_response()
}

/// Each request's method and path as it arrives, and its status as it leaves (`rp provider
/// -vv`): what a provider's engineer reads to follow a client. Never the query or the body,
/// which carry codes, tokens and secrets.
async fn log_request(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    tracing::debug!(target: "rp_provider", %method, path = %path, "request");
    let response = next.run(req).await;
    tracing::debug!(target: "rp_provider", %method, path = %path, status = response.status().as_u16(), "answered");
    response
}

/// A running provider. Dropping it stops the listener; [`RunningProvider::stop`] also waits.
#[derive(Debug)]
pub struct RunningProvider {
    issuer: String,
    addr: SocketAddr,
    ca_file: Option<PathBuf>,
    issuer_ca: Option<Arc<tls::Issuer>>,
    op: Arc<Op>,
    shutdown: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RunningProvider {
    /// The issuer identifier (`http://127.0.0.1:PORT`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// With TLS: a client certificate and key (one PEM text) from the provider's CA, with the
    /// subject `CN=<common_name>`, for a `tls_client_auth` client (RFC 8705 §2.1). `None`
    /// without TLS.
    pub fn client_certificate(&self, common_name: &str) -> Option<error::Result<String>> {
        self.issuer_ca
            .as_ref()
            .map(|ca| ca.client_certificate(common_name))
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The CA certificate file clients must trust, when serving HTTPS.
    pub fn ca_file(&self) -> Option<&std::path::Path> {
        self.ca_file.as_deref()
    }

    /// The provider instance (for tests that inspect its state).
    pub fn op(&self) -> &Arc<Op> {
        &self.op
    }

    /// Stop accepting, finish the requests in flight, and wait.
    pub async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningProvider {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// Start the provider on the current tokio runtime.
pub async fn start(config: ProviderConfig) -> error::Result<RunningProvider> {
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|e| error::Error::Listen {
            addr: config.bind.to_string(),
            reason: e.to_string(),
        })?;
    let addr = listener.local_addr().map_err(|e| error::Error::Listen {
        addr: config.bind.to_string(),
        reason: e.to_string(),
    })?;
    let scheme = if config.tls { "https" } else { "http" };
    let host = match addr {
        SocketAddr::V4(a) if a.ip().is_unspecified() => "127.0.0.1".to_string(),
        SocketAddr::V4(a) => a.ip().to_string(),
        SocketAddr::V6(a) => format!("[{}]", a.ip()),
    };
    let issuer = format!("{scheme}://{host}:{}", addr.port());
    let (tls, ca_file, issuer_ca) = if config.tls {
        let generated = tls::generate()?;
        let path = tls::write_ca(&generated.ca_pem, config.ca_file.as_deref())?;
        (Some(generated.config), Some(path), Some(generated.ca))
    } else {
        (None, None, None)
    };
    let mut op = Op::new(&issuer, &config.fixtures)?;
    if let Some(ca) = &issuer_ca {
        use rustls_pki_types::pem::PemObject;
        let mut cas = vec![ca.der()];
        if let Some(pem) = &config.client_ca_pem {
            for cert in rustls_pki_types::CertificateDer::pem_slice_iter(pem.as_bytes()) {
                cas.push(cert.map_err(|e| error::Error::Tls(format!("a client CA: {e}")))?);
            }
        }
        op.client_cas = Some(mtls::ClientCas::new(&cas)?);
    }
    op.outbound_ca_pem = config.outbound_ca_pem.clone();
    op.outbound_policy = config.outbound.clone();
    op.device_interval = config.device_interval;
    if !config.flaws.is_empty() {
        tracing::warn!(target: "rp_provider", flaws = ?config.flaws, "serving with deliberate flaws");
        op.misbehaviour = Arc::new(flaws::Flawed(config.flaws.clone()));
    }
    let op = Arc::new(op);
    let (shutdown, rx) = watch::channel(false);
    let sweeper_op = op.clone();
    let mut sweeper_rx = rx.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(30));
        loop {
            tokio::select! {
                _ = tick.tick() => sweeper_op.store.sweep(op::now()),
                _ = sweeper_rx.changed() => break,
            }
        }
    });
    let mut router = instance_router(op.clone());
    if config.conformance {
        let registry = Arc::new(conformance::Registry::new(&issuer, config.fixtures.clone()));
        router = router.merge(
            Router::new()
                .route("/.well-known/webfinger", get(conformance::webfinger))
                .fallback(conformance::dispatch)
                .with_state(registry),
        );
    }
    let router = router.layer(axum::middleware::from_fn(log_request));
    let task = tokio::spawn(server::serve(listener, router, tls, rx));
    tracing::info!(target: "rp_provider", %issuer, "provider listening");
    Ok(RunningProvider {
        issuer,
        addr,
        ca_file,
        issuer_ca,
        op,
        shutdown,
        task: Some(task),
    })
}
