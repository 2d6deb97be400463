//! A service as it runs in production, on one instance or several: the login transaction in
//! a sealed cookie bound to the browser, the login stored as JSON, typed errors mapped to HTTP
//! answers, refresh from the stored tokens, and back-channel logout with replay detection in
//! a shared store (Redis, with `--redis URL`; in memory otherwise).
//!
//! ```text
//! cargo run -p oidc-rp --features redis --example service            # one headless run, then exit
//! cargo run -p oidc-rp --features redis --example service -- --serve # keep serving
//! cargo run -p oidc-rp --features redis --example service -- --redis redis://127.0.0.1:6379/
//! ```
//!
//! Without `OIDC_ISSUER` it starts the bundled provider in-process (user `alice`, password
//! `wonderland`, client `rp-demo`). `SEAL_KEY` (64 hex digits) is the sealing key every
//! instance shares; without it a random one is made (and sealed cookies die with the process).
#![allow(clippy::unwrap_used)]

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use oidc_rp::claims::StandardClaims;
use oidc_rp::seal::{self, SealKey};
use oidc_rp::store::{DocumentStore, MemoryStore, ReplayStore};
use oidc_rp::stored::StoredLogin;
use oidc_rp::{
    AuthTransaction, AuthorizationRequest, CallbackParams, ClientConfig, Error, ErrorClass,
    HttpClient, RelyingParty, Secret,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const BROWSER_COOKIE: &str = "svc_browser";
const TXN_COOKIE: &str = "svc_login";
const SESSION_COOKIE: &str = "svc_session";
const MAX_SESSIONS: usize = 10_000;

struct App {
    rp: RelyingParty,
    redirect_uri: String,
    seal: SealKey,
    /// Seen logout-token ids: shared by every instance when it is Redis.
    replay: Arc<dyn ReplayStore>,
    /// Session id → the stored login, as JSON (what a database row would hold).
    sessions: Mutex<HashMap<String, String>>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let serve = args.iter().any(|a| a == "--serve");
    let redis = args
        .iter()
        .position(|a| a == "--redis")
        .and_then(|i| args.get(i + 1).cloned());
    let (_provider, issuer, client) = match std::env::var("OIDC_ISSUER") {
        Ok(issuer) => {
            let id = std::env::var("OIDC_CLIENT_ID")?;
            let client = match std::env::var("OIDC_CLIENT_SECRET") {
                Ok(secret) => ClientConfig::confidential(id, secret),
                Err(_) => ClientConfig::public(id),
            };
            (None, issuer, client)
        }
        Err(_) => {
            let op = rp_provider::start(rp_provider::ProviderConfig::default()).await?;
            let issuer = op.issuer().to_string();
            (
                Some(op),
                issuer,
                ClientConfig::confidential("rp-demo", "rp-demo-secret"),
            )
        }
    };
    let seal = match std::env::var("SEAL_KEY") {
        Ok(hex) => SealKey::new(&decode_hex(&hex).ok_or("SEAL_KEY is 64 hex digits")?)?,
        Err(_) => SealKey::generate()?.0,
    };
    // One store for replay detection and the provider's metadata and keys (fetched once for
    // every instance; a key rotation one instance meets is seen by all).
    let (replay, documents): (Arc<dyn ReplayStore>, Arc<dyn DocumentStore>) = match &redis {
        Some(url) => {
            let store =
                Arc::new(oidc_rp::store::redis::RedisStore::connect(url, "service:").await?);
            (store.clone(), store)
        }
        None => {
            let store = Arc::new(MemoryStore::default());
            (store.clone(), store)
        }
    };
    let port: u16 = std::env::var("OIDC_PORT").map_or(Ok(0), |p| p.parse())?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let base = format!("http://{}", listener.local_addr()?);
    let http = HttpClient::default();
    let app = Arc::new(App {
        rp: RelyingParty::new(
            http.clone(),
            oidc_rp::discovery::discover_shared(
                &http,
                &issuer,
                documents.as_ref(),
                std::time::Duration::from_secs(3600),
            )
            .await?,
            client,
        )?
        .with_document_store(documents),
        redirect_uri: format!("{base}/callback"),
        seal,
        replay,
        sessions: Mutex::default(),
    });
    let router = axum::Router::new()
        .route("/login", get(login))
        .route("/callback", get(callback))
        .route("/me", get(me))
        .route("/refresh", post(refresh))
        .route("/backchannel-logout", post(backchannel_logout))
        .with_state(app.clone());
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    if serve {
        println!("open {base}/login (provider {issuer}); Ctrl-C to stop");
        server.await??;
        return Ok(());
    }

    // No browser here: the headless driver plays it, through the service's own pages.
    let browser = oidc_rp_headless::Browser::new(&http)?;
    let credentials = oidc_rp_headless::Credentials {
        username: "alice".into(),
        password: Secret::new("wonderland"),
    };
    let start = url::Url::parse(&format!("{base}/login"))?;
    let outcome =
        oidc_rp_headless::drive(&browser, &start, &app.redirect_uri, Some(&credentials)).await?;
    println!("callback: {} {}", outcome.status, outcome.body.trim());
    if outcome.status != 200 {
        return Err("the login failed".into());
    }
    // The stored login, read back; a refresh from it; the same callback again (its sealed
    // transaction is spent: 400, a browser's mistake, not a provider's).
    for (method, path) in [("GET", "/me"), ("POST", "/refresh"), ("GET", "/me")] {
        let (status, body) = send(&http, &browser, method, &format!("{base}{path}")).await?;
        println!("{method} {path}: {status} {}", body.trim());
        if status != 200 {
            return Err(format!("{path} failed").into());
        }
    }
    let (again, _) = send(&http, &browser, "GET", outcome.callback_url.expose()).await?;
    println!("the callback replayed: {again}");
    if again != 400 {
        return Err("a replayed callback was not refused".into());
    }
    Ok(())
}

/// A request with the browser's cookies, for the demo.
async fn send(
    http: &HttpClient,
    browser: &oidc_rp_headless::Browser,
    method: &str,
    url: &str,
) -> Result<(u16, String), Box<dyn std::error::Error>> {
    let url = url::Url::parse(url)?;
    let mut request = axum::http::Request::builder()
        .method(method)
        .uri(url.as_str());
    if let Some(c) = browser.jar().cookies(&url) {
        request = request.header(header::COOKIE, c);
    }
    let response = http.execute(request.body(Vec::new())?).await?;
    Ok((
        response.status().as_u16(),
        String::from_utf8_lossy(response.body()).into_owned(),
    ))
}

/// Start a login. The transaction (state, nonce, PKCE verifier, max_age) goes into a cookie
/// sealed for this browser: the user can neither read nor alter it, and it opens in no other
/// browser (RFC 9700 §4.7). No server-side state, so any instance can finish the login.
async fn login(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let request =
        AuthorizationRequest::with_scopes(["openid", "profile", "email", "offline_access"]);
    let (url, txn) = match app.rp.authorization_url(&request, &app.redirect_uri) {
        Ok(pair) => pair,
        Err(e) => return failure(&e),
    };
    let (browser, new_browser) = match cookie(&headers, BROWSER_COOKIE) {
        Some(b) => (b, false),
        None => (Secret::random(32).expose().to_string(), true),
    };
    let sealed = match seal::seal(
        &app.seal,
        &txn,
        browser.as_bytes(),
        Duration::from_secs(600),
    ) {
        Ok(s) => s,
        Err(e) => return failure(&e),
    };
    let mut response = Redirect::to(url.as_str()).into_response();
    let h = response.headers_mut();
    h.append(
        header::SET_COOKIE,
        format!("{TXN_COOKIE}={sealed}; HttpOnly; SameSite=Lax; Path=/; Max-Age=600")
            .parse()
            .unwrap(),
    );
    if new_browser {
        h.append(
            header::SET_COOKIE,
            format!("{BROWSER_COOKIE}={browser}; HttpOnly; SameSite=Lax; Path=/")
                .parse()
                .unwrap(),
        );
    }
    response
}

/// Finish it: open the sealed transaction, let the library check everything, store the
/// login as JSON. Every failure is answered by its class.
async fn callback(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let browser = cookie(&headers, BROWSER_COOKIE).unwrap_or_default();
    let Some(sealed) = cookie(&headers, TXN_COOKIE) else {
        return text(
            StatusCode::BAD_REQUEST,
            "no login in progress in this browser",
        );
    };
    let txn: AuthTransaction = match seal::open(&app.seal, &sealed, browser.as_bytes()) {
        Ok(t) => t,
        Err(e) => return failure(&e),
    };
    let result = match CallbackParams::parse(query.unwrap_or_default().as_bytes()) {
        Ok(params) => app.rp.complete(&txn, &params).await,
        Err(e) => Err(e),
    };
    let login = match result {
        Ok(l) => l,
        Err(e) => return failure(&e),
    };
    let row = serde_json::to_string(&login).unwrap();
    let session = Secret::random(32).expose().to_string();
    {
        let mut sessions = app.sessions.lock().unwrap();
        if sessions.len() >= MAX_SESSIONS {
            return text(StatusCode::SERVICE_UNAVAILABLE, "too many sessions");
        }
        sessions.insert(session.clone(), row);
    }
    let mut response = text(
        StatusCode::OK,
        &format!("signed in as {}", login.id_token.subject),
    );
    let h = response.headers_mut();
    // The transaction is spent: the cookie goes (a replayed callback finds nothing).
    h.append(
        header::SET_COOKIE,
        format!("{TXN_COOKIE}=; Path=/; Max-Age=0").parse().unwrap(),
    );
    h.append(
        header::SET_COOKIE,
        format!("{SESSION_COOKIE}={session}; HttpOnly; SameSite=Lax; Path=/")
            .parse()
            .unwrap(),
    );
    response
}

fn stored(app: &App, headers: &HeaderMap) -> Option<(String, StoredLogin)> {
    let id = cookie(headers, SESSION_COOKIE)?;
    let row = app.sessions.lock().unwrap().get(&id).cloned()?;
    Some((id, serde_json::from_str(&row).ok()?))
}

/// The stored login's claims, typed.
async fn me(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let Some((_, login)) = stored(&app, &headers) else {
        return text(StatusCode::UNAUTHORIZED, "not signed in");
    };
    match login.id_token.claims_as::<StandardClaims>() {
        Ok(c) => text(
            StatusCode::OK,
            &format!(
                "{} <{}>",
                c.name.unwrap_or(c.sub),
                c.email.unwrap_or_default()
            ),
        ),
        Err(e) => failure(&e),
    }
}

/// Refresh with the stored tokens; the stored ID token is the reference for OIDC Core §12.2.
async fn refresh(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let Some((id, mut login)) = stored(&app, &headers) else {
        return text(StatusCode::UNAUTHORIZED, "not signed in");
    };
    let Some(token) = login.refresh_token().cloned() else {
        return text(StatusCode::CONFLICT, "no refresh token");
    };
    match app.rp.refresh(&token, Some(&login.id_token), None).await {
        Ok(r) => {
            login.tokens = r.tokens.clone();
            login.tokens.refresh_token = Some(r.refresh_token.clone());
            if let Some(t) = &r.id_token {
                login.id_token = t.to_stored();
            }
            let row = serde_json::to_string(&login).unwrap();
            app.sessions.lock().unwrap().insert(id, row);
            text(StatusCode::OK, "refreshed")
        }
        Err(e) => failure(&e),
    }
}

/// Back-channel logout: the token is validated and its `jti` recorded in the shared store,
/// so that a token replayed to another instance is refused there too.
async fn backchannel_logout(State(app): State<Arc<App>>, body: axum::body::Bytes) -> Response {
    let token = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "logout_token")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    match app
        .rp
        .validate_logout_token(&token, app.replay.as_ref())
        .await
    {
        Ok(t) => {
            app.sessions.lock().unwrap().retain(|_, row| {
                let Ok(l) = serde_json::from_str::<StoredLogin>(row) else {
                    return false;
                };
                let sid = l.id_token.claims.get("sid").and_then(|v| v.as_str());
                !(t.sid.is_some() && sid == t.sid.as_deref()
                    || t.sid.is_none() && l.id_token.subject() == t.subject.as_deref())
            });
            StatusCode::OK.into_response()
        }
        // Back-Channel Logout 1.0 §2.8: 400 for a token that does not validate.
        Err(e) if e.class() == ErrorClass::Unavailable => failure(&e),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

/// An error, answered by its class; the message never holds a secret.
fn failure(e: &Error) -> Response {
    let status = StatusCode::from_u16(e.class().http_status()).unwrap_or(StatusCode::BAD_GATEWAY);
    text(status, &format!("{e}"))
}

/// Plain text: provider text is never interpreted as HTML.
fn text(status: StatusCode, body: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{body}\n"),
    )
        .into_response()
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    (hex.len() == 64)
        .then(|| {
            (0..32)
                .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
                .collect::<Option<Vec<u8>>>()
        })
        .flatten()
}
