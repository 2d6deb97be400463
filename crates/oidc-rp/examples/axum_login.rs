//! Log users in to an axum app with the authorization code flow and PKCE.
//!
//! ```text
//! cargo run -p oidc-rp --example axum_login              # one login, driven headless, then exit
//! cargo run -p oidc-rp --example axum_login -- --serve   # keep serving: open the printed URL
//! ```
//!
//! Without `OIDC_ISSUER` the example starts the bundled provider in-process (user `alice`,
//! password `wonderland`, client `rp-demo`). With `OIDC_ISSUER`, `OIDC_CLIENT_ID` and
//! `OIDC_CLIENT_SECRET` it logs in to that provider instead; register
//! `http://127.0.0.1:<port>/callback` there (`OIDC_PORT` fixes the port).
//!
//! What it shows:
//! - one [`RelyingParty`] for the whole app (discovery and the JWKS are fetched once);
//! - the in-flight login is an [`AuthTransaction`] the app keeps (here in memory, keyed by a
//!   random `HttpOnly` cookie; it serialises, so a session store or a signed cookie works too);
//! - `RelyingParty::complete` checks `state`, `iss`, the code exchange and every ID token
//!   rule, and returns a [`oidc_rp::Report`] of the checks;
//! - errors are typed; what a provider sends is shown as plain text, never as HTML.
#![allow(clippy::unwrap_used)]

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use oidc_rp::{
    AuthTransaction, AuthorizationRequest, CallbackParams, ClientConfig, HttpClient, RelyingParty,
    Secret,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Logins that were started and not finished are capped, so that a stream of `/login`
/// requests cannot grow memory without bound.
const MAX_PENDING: usize = 10_000;
const LOGIN_COOKIE: &str = "example_login";
const SESSION_COOKIE: &str = "example_session";

struct App {
    rp: RelyingParty,
    redirect_uri: String,
    /// Login id (the cookie) → the transaction to complete.
    pending: Mutex<HashMap<String, AuthTransaction>>,
    /// Session id (the cookie) → the signed-in subject.
    sessions: Mutex<HashMap<String, String>>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let serve = std::env::args().any(|a| a == "--serve");
    // The bundled provider, unless another one is named.
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
            let client = ClientConfig::confidential("rp-demo", "rp-demo-secret");
            (Some(op), issuer, client)
        }
    };
    let port: u16 = std::env::var("OIDC_PORT").map_or(Ok(0), |p| p.parse())?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let base = format!("http://{}", listener.local_addr()?);

    let http = HttpClient::default();
    let app = Arc::new(App {
        rp: RelyingParty::discover(&http, &issuer, client).await?,
        redirect_uri: format!("{base}/callback"),
        pending: Mutex::default(),
        sessions: Mutex::default(),
    });
    let router = axum::Router::new()
        .route("/", get(home))
        .route("/login", get(login))
        .route("/callback", get(callback))
        .with_state(app.clone());
    let server = tokio::spawn(async move { axum::serve(listener, router).await });

    if serve {
        println!("open {base}/ (provider {issuer}); Ctrl-C to stop");
        server.await??;
        return Ok(());
    }
    // No browser here: play its part with the headless driver, through the app's own pages.
    let browser = oidc_rp_headless::Browser::new(&http)?;
    let credentials = oidc_rp_headless::Credentials {
        username: "alice".into(),
        password: Secret::new("wonderland"),
    };
    let start = url::Url::parse(&format!("{base}/login"))?;
    let outcome =
        oidc_rp_headless::drive(&browser, &start, &app.redirect_uri, Some(&credentials)).await?;
    println!("callback answered {}:\n{}", outcome.status, outcome.body);
    if outcome.status != 200 {
        return Err("the login failed".into());
    }
    Ok(())
}

/// The signed-in subject, or a link to log in.
async fn home(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let who = cookie(&headers, SESSION_COOKIE)
        .and_then(|id| app.sessions.lock().unwrap().get(&id).cloned());
    match who {
        Some(sub) => text(StatusCode::OK, format!("signed in as {sub}\n")),
        None => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<a href=\"/login\">log in</a>",
        )
            .into_response(),
    }
}

/// Start a login: a fresh state, nonce and PKCE verifier, kept server-side until the
/// callback comes back.
async fn login(State(app): State<Arc<App>>) -> Response {
    let request = AuthorizationRequest::with_scopes(["openid", "profile", "email"]);
    let (url, txn) = match app.rp.authorization_url(&request, &app.redirect_uri) {
        Ok(pair) => pair,
        Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let id = Secret::random(32);
    {
        let mut pending = app.pending.lock().unwrap();
        if pending.len() >= MAX_PENDING {
            // A real app would evict the oldest; the example refuses.
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                "too many logins in flight".into(),
            );
        }
        pending.insert(id.expose().to_string(), txn);
    }
    let set = format!(
        "{LOGIN_COOKIE}={}; HttpOnly; SameSite=Lax; Path=/; Max-Age=600",
        id.expose()
    );
    ([(header::SET_COOKIE, set)], Redirect::to(url.as_str())).into_response()
}

/// Finish the login: the transaction is taken (used once), the callback checked, the code
/// exchanged and the ID token validated.
async fn callback(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(txn) =
        cookie(&headers, LOGIN_COOKIE).and_then(|id| app.pending.lock().unwrap().remove(&id))
    else {
        return text(StatusCode::BAD_REQUEST, "no login in progress\n".into());
    };
    let params = match CallbackParams::parse(query.unwrap_or_default().as_bytes()) {
        Ok(p) => p,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("{e}\n")),
    };
    let login = match app.rp.complete(&txn, &params).await {
        Ok(login) => login,
        // The error names the rule that failed (`e.check()`) and never holds a secret.
        Err(e) => return text(StatusCode::UNAUTHORIZED, format!("login refused: {e}\n")),
    };
    let mut page = format!("signed in as {}\n", login.id_token.subject);
    for check in login.report.checks() {
        let mark = if check.passed { "ok  " } else { "FAIL" };
        page.push_str(&format!("{mark} {}: {}\n", check.name, check.detail));
    }
    let session = Secret::random(32);
    app.sessions
        .lock()
        .unwrap()
        .insert(session.expose().to_string(), login.id_token.subject.clone());
    let clear = format!("{LOGIN_COOKIE}=; Path=/; Max-Age=0");
    let set = format!(
        "{SESSION_COOKIE}={}; HttpOnly; SameSite=Lax; Path=/",
        session.expose()
    );
    let mut response = text(StatusCode::OK, page);
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, clear.parse().unwrap());
    headers.append(header::SET_COOKIE, set.parse().unwrap());
    response
}

/// A plain-text answer: claims and provider errors are never interpreted as HTML.
fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_string())
}
