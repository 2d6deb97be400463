//! Logout: the end_session endpoint (RP-Initiated Logout 1.0), then the logout of every client
//! that took part in the session: back-channel logout tokens POSTed in parallel (Back-Channel
//! Logout 1.0 §2.4-2.5) and a page of front-channel iframes (Front-Channel Logout 1.0 §3).

use crate::fixtures::Client;
use crate::flaws::Flaw;
use crate::misbehaviour::LogoutTokenSigning;
use crate::op::{Op, Params, cookie_value, now, parse_params};
use crate::pages::{self, esc};
use crate::store::Session;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// The back-channel logout event (Back-Channel Logout 1.0 §2.4).
pub const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// How long a back-channel delivery may take.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// One back-channel logout delivery, as recorded by the provider.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The client.
    pub client_id: String,
    /// Where it went.
    pub uri: String,
    /// The HTTP status answered, if any.
    pub status: Option<u16>,
    /// What went wrong, if anything.
    pub error: Option<String>,
}

/// GET /end_session
pub async fn end_session_get(
    State(op): State<Arc<Op>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    end_session(&op, &headers, q.unwrap_or_default().as_bytes()).await
}

/// POST /end_session
pub async fn end_session_post(
    State(op): State<Arc<Op>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    end_session(&op, &headers, &body).await
}

fn user_error(title: &str, detail: &str) -> Response {
    pages::html(StatusCode::BAD_REQUEST, pages::error(title, detail), &[])
}

fn first_aud(claims: &Value) -> Option<String> {
    match claims.get("aud")? {
        Value::String(a) => Some(a.clone()),
        Value::Array(a) => a.first()?.as_str().map(str::to_string),
        _ => None,
    }
}

/// Whether a post-logout redirect URI is registered: exactly (RP-Initiated Logout 1.0 §3),
/// or, for native clients, on loopback with any port as for redirect URIs (RFC 8252 §7.3).
/// The port rule is our extension: a native app cannot know its listener's port when it
/// registers, for logout any more than for login. oidc-provider matches exactly.
fn registered_post_logout(client: &Client, uri: &str) -> bool {
    let as_redirects = Client {
        redirect_uris: client.post_logout_redirect_uris.clone(),
        ..client.clone()
    };
    Op::match_redirect_uri(&as_redirects, uri)
}

async fn end_session(op: &Arc<Op>, headers: &HeaderMap, raw: &[u8]) -> Response {
    let params = match parse_params(raw) {
        Ok(p) => p,
        Err(e) => return user_error("Invalid request", &e.to_string()),
    };
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());

    // RP-Initiated Logout §2: the hint must be an ID token this OP issued; expired is fine.
    let hint = match get("id_token_hint") {
        None => None,
        Some(h) => match op.keys().verify_own(h) {
            Some(c) if c["iss"] == op.issuer => Some(c),
            _ => {
                return user_error(
                    "Invalid logout request",
                    "The id_token_hint was not issued by this provider.",
                );
            }
        },
    };
    let hint_client = hint.as_ref().and_then(first_aud);
    let client_id = match (get("client_id"), hint_client.as_deref()) {
        (Some(a), Some(b)) if a != b => {
            return user_error(
                "Invalid logout request",
                "client_id does not match the id_token_hint.",
            );
        }
        (Some(a), _) => Some(a.to_string()),
        (None, b) => b.map(str::to_string),
    };
    let client = client_id.as_deref().and_then(|c| op.client(c));
    if client_id.is_some() && client.is_none() {
        return user_error("Invalid logout request", "Unknown client.");
    }
    let post_logout = match (get("post_logout_redirect_uri"), &client) {
        (None, _) => None,
        (Some(_), None) => {
            return user_error(
                "Invalid logout request",
                "post_logout_redirect_uri needs client_id or id_token_hint to say whose it is.",
            );
        }
        (Some(uri), Some(c)) if registered_post_logout(c, uri) => Some(uri.to_string()),
        (Some(uri), Some(_)) if op.flaw(Flaw::OpenLogoutRedirect) => Some(uri.to_string()),
        (Some(_), Some(_)) => {
            return user_error(
                "Invalid logout request",
                "post_logout_redirect_uri is not registered for this client.",
            );
        }
    };

    // Without a valid hint, the user is asked (RP-Initiated Logout §2).
    if hint.is_none() && get("confirm") != Some("yes") {
        return pages::html(
            StatusCode::OK,
            pages::confirm_logout(&op.issuer, &params),
            &[],
        );
    }

    let t = now();
    let sid = hint
        .as_ref()
        .and_then(|c| c.get("sid").and_then(Value::as_str).map(str::to_string))
        .or_else(|| {
            cookie_value(headers, "op_session")
                .and_then(|c| op.store.session(c, t))
                .map(|s| s.sid)
        });
    let ended = sid
        .as_deref()
        .filter(|_| !op.flaw(Flaw::LogoutKeepsSession))
        .and_then(|sid| op.store.end_session(sid));
    let frames = match &ended {
        Some(session) => {
            backchannel(op, session).await;
            frontchannel_urls(op, session)
        }
        None => Vec::new(),
    };
    let next = match &post_logout {
        Some(uri) => {
            let mut url = match Url::parse(uri) {
                Ok(u) => u,
                Err(_) => {
                    return user_error("Invalid logout request", "Bad post_logout_redirect_uri.");
                }
            };
            if let Some(state) = op
                .misbehaviour
                .post_logout_state(get("state"))
                .filter(|_| !op.flaw(Flaw::LogoutDropsState))
            {
                url.query_pairs_mut().append_pair("state", &state);
            }
            url.to_string()
        }
        None => op.url("/logged-out"),
    };
    let clear = op.cookie("op_session", "", 0);
    // Session Management 1.0 §3: the browser state changes, so polling RPs see `changed`.
    let clear_state = crate::session_management::cookie(op, "", 0);
    if frames.is_empty() {
        let mut resp = StatusCode::SEE_OTHER.into_response();
        if let Ok(v) = HeaderValue::from_str(&next) {
            resp.headers_mut().insert(header::LOCATION, v);
        }
        let keep = op.flaw(Flaw::LogoutKeepsSession);
        for c in [&clear, &clear_state].into_iter().filter(|_| !keep) {
            if let Ok(v) = HeaderValue::from_str(c) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
        }
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return resp;
    }
    let mut resp = pages::html(
        StatusCode::OK,
        pages::frontchannel(&frames, &next),
        &[clear, clear_state],
    );
    resp.headers_mut().insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'none'; script-src 'unsafe-inline'; frame-src *; style-src 'unsafe-inline'"),
    );
    resp
}

/// GET /logged-out
pub async fn logged_out() -> Response {
    pages::html(
        StatusCode::OK,
        pages::error_free("Signed out", "You are signed out of the provider."),
        &[],
    )
}

/// The iframe URLs of the session's clients that registered a front-channel logout URI.
fn frontchannel_urls(op: &Op, session: &Session) -> Vec<String> {
    session
        .clients
        .iter()
        .filter_map(|id| op.client(id))
        .filter_map(|c| {
            let uri = c.frontchannel_logout_uri.as_ref()?;
            let mut url = Url::parse(uri).ok()?;
            if c.frontchannel_logout_session_required {
                url.query_pairs_mut()
                    .append_pair("iss", &op.issuer)
                    .append_pair("sid", &session.sid);
            }
            Some(url.to_string())
        })
        .collect()
}

/// A logout token for `client` (Back-Channel Logout 1.0 §2.4), signed with the client's ID
/// token algorithm (never `none`).
pub fn logout_token(op: &Op, client: &Client, session: &Session) -> crate::error::Result<String> {
    let t = now();
    let mut claims = json!({
        "iss": op.issuer,
        "aud": client.client_id,
        "iat": t,
        "exp": t + 120,
        "jti": op.random(16),
        "events": { BACKCHANNEL_EVENT: {} },
        "sub": session.sub,
        "sid": session.sid,
    });
    let alg = match client.id_token_signed_response_alg.as_str() {
        "none" => "RS256",
        other => other,
    };
    match op
        .misbehaviour
        .logout_token(&mut claims, LogoutTokenSigning::Alg(alg.to_string()))
    {
        LogoutTokenSigning::Unsigned => op.keys().sign("none", &claims, None),
        LogoutTokenSigning::Alg(alg) => {
            op.keys()
                .sign_typed_with(&alg, "logout+jwt", &claims, client.client_secret.as_deref())
        }
    }
}

/// POST a logout token to every participating client with a back-channel URI, in parallel,
/// each bounded by [`DELIVERY_TIMEOUT`].
async fn backchannel(op: &Arc<Op>, session: &Session) {
    let http = op.outbound();
    let mut tasks = tokio::task::JoinSet::new();
    for client in session.clients.iter().filter_map(|id| op.client(id)) {
        let Some(uri) = client.backchannel_logout_uri.clone() else {
            continue;
        };
        // Checked again before sending: fixture clients skip registration.
        let allowed = url::Url::parse(&uri)
            .map_err(|e| e.to_string())
            .and_then(|u| op.outbound_policy.check(&u).map_err(|e| e.to_string()));
        if let Err(why) = allowed {
            op.record_delivery(Delivery {
                client_id: client.client_id.clone(),
                uri,
                status: None,
                error: Some(format!("not sent: {why}")),
            });
            continue;
        }
        let token = match logout_token(op, &client, session) {
            Ok(t) => t,
            Err(e) => {
                op.record_delivery(Delivery {
                    client_id: client.client_id.clone(),
                    uri,
                    status: None,
                    error: Some(e.to_string()),
                });
                continue;
            }
        };
        let http = http.clone();
        let client_id = client.client_id.clone();
        tasks.spawn(async move {
            let result = http
                .post(&uri)
                .form(&[("logout_token", token.as_str())])
                .timeout(DELIVERY_TIMEOUT)
                .send()
                .await;
            match result {
                Ok(r) => Delivery {
                    client_id,
                    uri,
                    status: Some(r.status().as_u16()),
                    error: None,
                },
                Err(e) => Delivery {
                    client_id,
                    uri,
                    status: None,
                    error: Some(e.to_string()),
                },
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        if let Ok(delivery) = done {
            if delivery.status != Some(200) {
                tracing::info!(target: "rp_provider", client = %delivery.client_id, status = ?delivery.status, error = ?delivery.error, "back-channel logout not acknowledged");
            }
            op.record_delivery(delivery);
        }
    }
}

/// Keep the parameters of a confirmation form.
pub fn hidden_fields(params: &Params) -> String {
    [
        "id_token_hint",
        "client_id",
        "post_logout_redirect_uri",
        "state",
        "ui_locales",
        "logout_hint",
    ]
    .iter()
    .filter_map(|k| params.get(k).map(|v| (k, v)))
    .map(|(k, v)| {
        format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            esc(k),
            esc(v)
        )
    })
    .collect()
}
