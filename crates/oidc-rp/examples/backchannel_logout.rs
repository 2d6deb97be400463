//! Receive and validate back-channel logout tokens (OpenID Back-Channel Logout 1.0) in an
//! axum app, and end the sessions they name.
//!
//! ```text
//! cargo run -p oidc-rp --example backchannel_logout
//! ```
//!
//! It starts the bundled provider in-process, registers a client whose
//! `backchannel_logout_uri` is this app's endpoint (RFC 7591), logs `alice` in headless,
//! then ends her session at the provider (RP-initiated logout): the provider POSTs a logout
//! token to the endpoint, which validates it and drops the matching local session. Last, the
//! same token is presented again and refused as a replay.
//!
//! What it shows:
//! - `RelyingParty::validate_logout_token` checks the signature (with the provider's JWKS),
//!   `iss`, `aud`, `iat`, `exp` when present, the `events` claim, the absence of `nonce`,
//!   `sub` or `sid`, the `typ` header, and `jti` against a [`ReplayCache`];
//! - the endpoint answers 200 on success and 400 otherwise, never cached (§2.8);
//! - sessions are found by `sid` (or by `sub` when the token carries no `sid`).
#![allow(clippy::unwrap_used)]

use axum::extract::{Form, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use oidc_rp::registration::{self, ExtraClientMetadata, RegistrationRequest};
use oidc_rp::{
    AuthorizationRequest, HttpClient, LogoutRequest, LogoutToken, RelyingParty, ReplayCache, Secret,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

struct App {
    rp: tokio::sync::OnceCell<RelyingParty>,
    /// `jti`s seen, kept until the tokens expire; bounded.
    replay: ReplayCache,
    /// Local sessions: session id → (sub, provider sid).
    sessions: Mutex<HashMap<String, (String, Option<String>)>>,
    /// Reports each accepted token to `main` (the example's way to wait for it).
    seen: mpsc::Sender<(LogoutToken, String)>,
}

#[derive(serde::Deserialize)]
struct LogoutForm {
    logout_token: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let provider = rp_provider::start(rp_provider::ProviderConfig::default()).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (seen, mut deliveries) = mpsc::channel(4);
    let app = Arc::new(App {
        rp: tokio::sync::OnceCell::new(),
        replay: ReplayCache::new(10_000),
        sessions: Mutex::default(),
        seen,
    });
    let router = axum::Router::new()
        .route("/backchannel-logout", post(backchannel_logout))
        .with_state(app.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });

    // Register a client that asks for back-channel logout, with session ids.
    let http = HttpClient::default();
    let metadata = oidc_rp::discovery::discover(&http, provider.issuer()).await?;
    let redirect_uri = format!("{base}/callback");
    let logged_out = format!("{base}/logged-out");
    let client = registration::register(
        &http,
        &metadata,
        &RegistrationRequest {
            redirect_uris: vec![redirect_uri.clone()],
            client_name: Some("back-channel logout example".into()),
            extra: ExtraClientMetadata {
                backchannel_logout_uri: Some(format!("{base}/backchannel-logout")),
                backchannel_logout_session_required: Some(true),
                post_logout_redirect_uris: Some(vec![logged_out.clone()]),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await?;
    println!("registered client {}", client.client_id);
    let rp = app
        .rp
        .get_or_try_init(|| async { RelyingParty::new(http.clone(), metadata, client) })
        .await?;

    // Log in; the browser's cookie jar holds the provider session.
    let browser = oidc_rp_headless::Browser::new(&http)?;
    let (url, txn) = rp.authorization_url(
        &AuthorizationRequest::with_scopes(["openid", "profile"]),
        &redirect_uri,
    )?;
    let credentials = oidc_rp_headless::Credentials {
        username: "alice".into(),
        password: Secret::new("wonderland"),
    };
    let login = oidc_rp_headless::complete(rp, &browser, &url, &txn, Some(&credentials)).await?;
    app.sessions.lock().unwrap().insert(
        Secret::random(16).expose().to_string(),
        (login.id_token.subject.clone(), login.id_token.sid.clone()),
    );
    println!(
        "logged in as {} (provider session {})",
        login.id_token.subject,
        login.id_token.sid.as_deref().unwrap_or("-")
    );

    // End the session at the provider; it notifies every client of the session.
    let (end, _logout_txn) = rp.end_session_url(&LogoutRequest {
        id_token_hint: Some(login.id_token.raw.clone()),
        post_logout_redirect_uri: Some(logged_out.clone()),
        ..Default::default()
    })?;
    oidc_rp_headless::walk(&browser, &end, &logged_out, None).await?;

    let (token, raw) = tokio::time::timeout(Duration::from_secs(10), deliveries.recv())
        .await
        .map_err(|_| "no logout token arrived within 10 s")?
        .ok_or("the endpoint stopped")?;
    println!(
        "logout token for sub {} sid {} accepted; {} local sessions left",
        token.subject.as_deref().unwrap_or("-"),
        token.sid.as_deref().unwrap_or("-"),
        app.sessions.lock().unwrap().len()
    );
    for check in token.report.checks() {
        println!("ok   {}: {}", check.name, check.detail);
    }

    // The same token again: refused, its jti was seen.
    match rp.validate_logout_token(&raw, &app.replay).await {
        Ok(_) => return Err("a replayed logout token was accepted".into()),
        Err(e) => println!("replayed token refused: {e}"),
    }
    provider.stop().await;
    Ok(())
}

/// The back-channel logout endpoint (§2.8): validate, end the matching sessions, 200; or 400.
async fn backchannel_logout(State(app): State<Arc<App>>, Form(form): Form<LogoutForm>) -> Response {
    let Some(rp) = app.rp.get() else {
        return answer(StatusCode::SERVICE_UNAVAILABLE, "not ready");
    };
    let token = match rp
        .validate_logout_token(&form.logout_token, &app.replay)
        .await
    {
        Ok(token) => token,
        // Do not echo the token; the error names the failed rule.
        Err(e) => return answer(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    app.sessions
        .lock()
        .unwrap()
        .retain(|_, (sub, sid)| match &token.sid {
            Some(ended) => sid.as_ref() != Some(ended),
            None => token.subject.as_ref() != Some(sub),
        });
    let _ = app.seen.send((token, form.logout_token)).await;
    answer(StatusCode::OK, "")
}

fn answer(status: StatusCode, error: &str) -> Response {
    let body = if error.is_empty() {
        String::new()
    } else {
        serde_json::json!({"error": "invalid_request", "error_description": error}).to_string()
    };
    (
        status,
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_TYPE, "application/json"),
        ],
        body,
    )
        .into_response()
}
