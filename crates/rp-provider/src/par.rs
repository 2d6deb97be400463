//! Pushed authorization requests (RFC 9126): the client posts the authorization parameters
//! (or a signed request object) with its authentication; the provider checks what it can at
//! once (the client, the redirect URI, the response type), keeps them for 60 s under a
//! one-time `request_uri`, and the authorization endpoint later takes them from there.

use crate::op::{Op, Params, now, parse_params};
use crate::store::PushedRequest;
use crate::token::{authenticate_client, no_store_json, oauth_error};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;
use std::sync::Arc;

/// The `request_uri` prefix (RFC 9126 §2.2).
pub const URN: &str = "urn:ietf:params:oauth:request_uri:";

/// How long a pushed request lives (RFC 9126 §2.2: short; the request is used at once).
pub const TTL: i64 = 60;

fn invalid(error: &str, description: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, error, description)
}

/// POST /par
pub async fn par(State(op): State<Arc<Op>>, headers: HeaderMap, body: Bytes) -> Response {
    let form = match parse_params(&body) {
        Ok(f) => f,
        Err(e) => return invalid("invalid_request", &e.to_string()),
    };
    let client = match authenticate_client(&op, &headers, &form) {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    // RFC 9126 §2.1: request_uri must not be pushed.
    if form.contains_key("request_uri") {
        return invalid("invalid_request", "request_uri cannot be pushed");
    }
    let mut params: Vec<(String, String)> = Vec::new();
    match form.get("request") {
        Some(jwt) => match crate::request_object::verify(
            &op,
            &client,
            jwt,
            crate::request_object::Signing::Signed,
        ) {
            Ok(values) => params = values,
            Err(e) => return invalid("invalid_request_object", &e),
        },
        None => {
            for name in [
                "response_type",
                "redirect_uri",
                "scope",
                "state",
                "nonce",
                "code_challenge",
                "code_challenge_method",
                "prompt",
                "max_age",
                "login_hint",
                "acr_values",
                "claims",
                "response_mode",
                "ui_locales",
                "dpop_jkt",
            ] {
                if let Some(v) = form.get(name) {
                    params.push((name.to_string(), v.clone()));
                }
            }
        }
    }
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if form
        .get("client_id")
        .is_some_and(|id| *id != client.client_id)
    {
        return invalid(
            "invalid_request",
            "client_id differs from the authenticated client",
        );
    }
    match get("redirect_uri") {
        Some(r) if Op::match_redirect_uri(&client, r) => {}
        Some(_) => {
            return invalid(
                "invalid_redirect_uri",
                "the redirect_uri is not registered for this client",
            );
        }
        None => return invalid("invalid_request", "redirect_uri is missing"),
    }
    if get("response_type") != Some("code") {
        return invalid(
            "unsupported_response_type",
            "only response_type=code is supported",
        );
    }
    params.retain(|(k, _)| k != "client_id");
    params.push(("client_id".into(), client.client_id.clone()));
    let request_uri = format!("{URN}{}", op.random(32));
    op.store.put_pushed(
        &request_uri,
        PushedRequest {
            client_id: client.client_id.clone(),
            params,
            expires_at: now() + TTL,
        },
    );
    no_store_json(
        StatusCode::CREATED,
        &json!({ "request_uri": request_uri, "expires_in": TTL }),
    )
}

/// At the authorization endpoint: the pushed parameters of `request_uri`, for the client the
/// query names; `Err` with the reason to show the user (the redirect URI is unknown then).
pub fn take(op: &Op, params: &Params) -> Option<Result<Params, String>> {
    let uri = params.get("request_uri")?;
    if !uri.starts_with(URN) {
        return None;
    }
    let Some(pushed) = op.store.take_pushed(uri, now()) else {
        return Some(Err(
            "The request_uri is unknown, expired or was already used (RFC 9126 §4).".into(),
        ));
    };
    if params.get("client_id") != Some(&pushed.client_id) {
        return Some(Err(
            "The client_id is not the one that pushed this request.".into(),
        ));
    }
    let mut out = Params::default();
    for (k, v) in pushed.params {
        out.set(&k, v);
    }
    out.set(PUSHED_MARK, "1".into());
    Some(Ok(out))
}

/// A parameter name no client can send (it has a space), marking pushed parameters.
pub const PUSHED_MARK: &str = " pushed";
