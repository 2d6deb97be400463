//! Dynamic registration and back-channel logout: a client registered for the audit, with a
//! loopback listener as its `backchannel_logout_uri`, logs in and out, and the logout token
//! the provider delivers is judged by the library.

use super::driver::{Client, Ctx, Evidence, Verdict};
use super::flow::{self, AuthOpts};
use oidc_rp::logout::{LogoutTokenRules, ReplayCache, validate_logout_token};
use oidc_rp::{Alg, Secret};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The logout tokens the listener received.
#[derive(Default)]
struct Inbox {
    tokens: Mutex<Vec<String>>,
    arrived: tokio::sync::Notify,
}

/// A loopback listener for back-channel logout requests; stops when dropped.
struct Listener {
    uri: String,
    inbox: Arc<Inbox>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn listen() -> std::io::Result<Listener> {
    let socket = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let uri = format!("http://{}/backchannel-logout", socket.local_addr()?);
    let inbox = Arc::new(Inbox::default());
    let state = inbox.clone();
    let app = axum::Router::new().route(
        "/backchannel-logout",
        axum::routing::post(move |body: axum::body::Bytes| {
            let state = state.clone();
            async move {
                let token = url::form_urlencoded::parse(&body)
                    .find(|(k, _)| k == "logout_token")
                    .map(|(_, v)| v.into_owned());
                if let Some(t) = token {
                    let mut tokens = state.tokens.lock().unwrap_or_else(|p| p.into_inner());
                    // Bounded: an audit expects one.
                    if tokens.len() < 8 {
                        tokens.push(t);
                    }
                    drop(tokens);
                    state.arrived.notify_one();
                }
                axum::http::StatusCode::OK
            }
        }),
    );
    let task = tokio::spawn(async move {
        let _ = axum::serve(socket, app).await;
    });
    Ok(Listener { uri, inbox, task })
}

const IDS: &[&str] = &["reg.register", "reg.bad-redirect", "logout.backchannel"];

/// The registration checks, then back-channel logout with the registered client.
pub async fn run(ctx: &Ctx) {
    let Some(endpoint) = ctx.endpoint("registration_endpoint") else {
        ctx.not_applicable(IDS, "no registration_endpoint");
        return;
    };
    let listener = match listen().await {
        Ok(l) => l,
        Err(e) => return ctx.not_run(IDS, &format!("no loopback listener: {e}")),
    };
    let metadata = json!({
        "redirect_uris": [ctx.redirect],
        "post_logout_redirect_uris": [ctx.post_logout],
        "application_type": "native",
        "client_name": "rp audit",
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_basic",
        "backchannel_logout_uri": listener.uri,
        "backchannel_logout_session_required": true,
    });
    let answer = match post_json(ctx, &endpoint, &metadata).await {
        Ok(a) => a,
        Err(e) => return ctx.not_run(IDS, &e),
    };
    let registered = answer.status == 201 || answer.status == 200;
    let client = answer
        .str("client_id")
        .filter(|_| registered)
        .map(|id| Client {
            id: id.to_string(),
            secret: answer.str("client_secret").map(Secret::new),
        });
    match &client {
        Some(_) => ctx.record(
            "reg.register",
            Verdict::Pass,
            format!("HTTP {}, a client_id", answer.status),
            Some(answer.evidence.clone()),
        ),
        None if answer.status == 401 || answer.status == 403 => {
            ctx.not_applicable(IDS, "registration needs an initial access token");
            return;
        }
        None => {
            ctx.record(
                "reg.register",
                Verdict::Fail,
                format!("HTTP {} without a client_id", answer.status),
                Some(answer.evidence.clone()),
            );
        }
    }
    // A redirect URI with a fragment (RFC 6749 §3.1.2).
    let bad = json!({
        "redirect_uris": [format!("{}#fragment", ctx.redirect)],
        "application_type": "native",
        "client_name": "rp audit (must be refused)",
    });
    match post_json(ctx, &endpoint, &bad).await {
        Ok(a) => ctx.verdict(
            "reg.bad-redirect",
            a.status == 400
                && matches!(
                    a.str("error"),
                    Some("invalid_redirect_uri" | "invalid_client_metadata")
                ),
            "refused with invalid_redirect_uri",
            format!(
                "HTTP {}: a redirect URI with a fragment was accepted",
                a.status
            ),
            Some(a.evidence),
        ),
        Err(e) => ctx.record("reg.bad-redirect", Verdict::CouldNotRun, e, None),
    }
    let Some(client) = client else {
        return ctx.not_run(&["logout.backchannel"], "no registered client");
    };
    backchannel(ctx, &client, &listener).await;
}

async fn post_json(
    ctx: &Ctx,
    url: &url::Url,
    body: &Value,
) -> Result<super::driver::Answer, String> {
    let request = axum::http::Request::builder()
        .method(axum::http::Method::POST)
        .uri(url.as_str())
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(body.to_string().into_bytes())
        .map_err(|e| e.to_string())?;
    let response = ctx.http.execute(request).await.map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(response.body()).into_owned();
    let json: Option<Value> = serde_json::from_slice(response.body()).ok();
    Ok(super::driver::Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        evidence: Evidence {
            sent: format!(
                "POST {} {}",
                super::driver::redact_url(url),
                crate::output::one_line(&body.to_string(), 200)
            ),
            received: format!(
                "HTTP {} {}",
                response.status().as_u16(),
                json.as_ref()
                    .map(super::driver::redact_json)
                    .unwrap_or_else(|| crate::output::one_line(&text, 160))
            ),
        },
        json,
        text,
    })
}

async fn backchannel(ctx: &Ctx, client: &Client, listener: &Listener) {
    let id = "logout.backchannel";
    if ctx.meta.get("backchannel_logout_supported") != Some(&Value::Bool(true)) {
        return ctx.record(
            id,
            Verdict::NotApplicable,
            "backchannel_logout_supported is not true",
            None,
        );
    }
    let Some(end) = ctx.endpoint("end_session_endpoint") else {
        return ctx.record(id, Verdict::NotApplicable, "no end_session_endpoint", None);
    };
    let browser = match ctx.browser() {
        Ok(b) => b,
        Err(e) => return ctx.record(id, Verdict::CouldNotRun, e, None),
    };
    let login = match flow::code_flow(ctx, &browser, client, &AuthOpts::default(), true).await {
        Ok(f) => f,
        Err(e) => {
            return ctx.record(
                id,
                Verdict::CouldNotRun,
                format!("the registered client's login failed: {e}"),
                None,
            );
        }
    };
    let Some(hint) = login.id_token() else {
        return ctx.record(id, Verdict::CouldNotRun, "no ID token", None);
    };
    let mut url = end.clone();
    url.query_pairs_mut()
        .append_pair("id_token_hint", hint)
        .append_pair("post_logout_redirect_uri", &ctx.post_logout);
    let sent = format!(
        "GET {} (then the logout token at {})",
        super::driver::redact_url(&url),
        listener.uri
    );
    let _ = oidc_rp_headless::walk(&browser, &url, &ctx.post_logout, None).await;
    // The provider may deliver after answering: wait for it, bounded.
    let token = {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(t) = listener
                .inbox
                .tokens
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .first()
                .cloned()
            {
                break Some(t);
            }
            if tokio::time::timeout_at(deadline, listener.inbox.arrived.notified())
                .await
                .is_err()
            {
                break None;
            }
        }
    };
    let Some(token) = token else {
        return ctx.record(
            id,
            Verdict::Fail,
            "no logout token reached the registered backchannel_logout_uri within 5 s",
            Some(Evidence {
                sent,
                received: "nothing".into(),
            }),
        );
    };
    let ev = Some(Evidence {
        sent,
        received: super::code::header_and_claims(&token),
    });
    let Some(jwks) = &ctx.jwks else {
        return ctx.record(id, Verdict::CouldNotRun, "no key set", ev);
    };
    let algs: Vec<Alg> = ctx
        .meta_list("id_token_signing_alg_values_supported")
        .iter()
        .filter_map(|a| Alg::parse(a))
        .collect();
    let rules = LogoutTokenRules {
        client_secret: client.secret.as_ref(),
        ..LogoutTokenRules::new(&ctx.issuer, &client.id, &algs)
    };
    let keys = oidc_rp::jwt::KeySource {
        jwks,
        http: &ctx.http,
    };
    match validate_logout_token(&token, &rules, keys, &ReplayCache::new(4)).await {
        Ok(t) => {
            let session = login
                .id_token()
                .map(super::driver::jwt_claims)
                .and_then(|c| c.get("sid").and_then(Value::as_str).map(str::to_string));
            let names_session = session.is_none() || t.sid == session;
            ctx.verdict(
                id,
                names_session,
                "a valid logout token for the session",
                "a valid logout token, but for another session (sid)",
                ev,
            );
        }
        Err(e) => ctx.record(id, Verdict::Fail, e.to_string(), ev),
    }
}
