//! Token introspection (RFC 7662, with the RFC 9701 JWT response) and revocation (RFC 7009).
//! Both require client authentication.

use crate::op::{Op, Params, REFRESH_TOKEN_TTL, now, parse_params};
use crate::store::{TokenKind, TokenRecord};
use crate::token::{authenticate_client, no_store_json, oauth_error};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// The form and the authenticated client of an introspection or revocation request.
fn authenticated(
    op: &Op,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Params, Arc<crate::fixtures::Client>), Response> {
    let form = form_of(headers, body)?;
    let client = authenticate_client(op, headers, &form)?;
    if form.get("token").is_none() {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "token is missing",
        ));
    }
    Ok((form, client))
}

/// With the `open-introspection` or `open-revocation` flaw: a request without any client
/// authentication is taken as from the client the token was issued to.
fn unauthenticated(
    op: &Op,
    headers: &HeaderMap,
    body: &[u8],
) -> Option<(Params, Arc<crate::fixtures::Client>)> {
    if headers.contains_key(header::AUTHORIZATION) {
        return None;
    }
    let form = form_of(headers, body).ok()?;
    if form.contains_key("client_secret") || form.contains_key("client_assertion") {
        return None;
    }
    let record = op.store.token(form.get("token")?, now())?;
    let client = op.client(&record.client_id)?;
    Some((form, client))
}

fn form_of(headers: &HeaderMap, body: &[u8]) -> Result<Params, Response> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    parse_params(body)
        .map_err(|e| oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &e.to_string()))
}

/// The introspection members of a live token (RFC 7662 §2.2).
fn describe(op: &Op, record: &TokenRecord) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("active".into(), json!(true));
    m.insert("scope".into(), json!(record.scope.join(" ")));
    m.insert("client_id".into(), json!(record.client_id));
    if let Some(name) = op
        .user(&record.sub)
        .and_then(|u| u.claims.get("preferred_username").cloned())
    {
        m.insert("username".into(), name);
    }
    if record.kind == TokenKind::Access {
        m.insert("token_type".into(), json!("Bearer"));
    } else {
        m.insert("token_type".into(), json!("refresh_token"));
    }
    m.insert("exp".into(), json!(record.expires_at));
    m.insert("iat".into(), json!(record.issued_at));
    m.insert("nbf".into(), json!(record.issued_at));
    m.insert("sub".into(), json!(record.sub));
    let aud = if record.audience.is_empty() {
        json!(record.client_id)
    } else {
        json!(record.audience)
    };
    m.insert("aud".into(), aud);
    m.insert("iss".into(), json!(op.issuer));
    m.insert("jti".into(), json!(record.jti));
    // No end-user authenticated for a client_credentials token.
    if record.auth_time > 0 {
        m.insert("auth_time".into(), json!(record.auth_time));
    }
    if let Some(act) = &record.actor {
        m.insert("act".into(), act.clone());
    }
    m
}

/// POST /introspect
pub async fn introspect(State(op): State<Arc<Op>>, headers: HeaderMap, body: Bytes) -> Response {
    let open = op
        .flaw(crate::flaws::Flaw::OpenIntrospection)
        .then(|| unauthenticated(&op, &headers, &body))
        .flatten();
    let (form, client) = match open
        .map(Ok)
        .unwrap_or_else(|| authenticated(&op, &headers, &body))
    {
        Ok(v) => v,
        Err(r) => return r,
    };
    if client.is_public() {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "introspection needs an authenticated (confidential) client (RFC 7662 §2.1)",
        );
    }
    let token = form.get("token").map(String::as_str).unwrap_or_default();
    // RFC 7662 §4: a client learns only about tokens issued to it or meant for it; any other
    // token is simply inactive, so the endpoint cannot be used to scan for tokens.
    let body = match op.store.token(token, now()) {
        Some(_) if op.flaw(crate::flaws::Flaw::IntrospectInactive) => json!({"active": false}),
        Some(r) if r.client_id == client.client_id || r.audience.contains(&client.client_id) => {
            Value::Object(describe(&op, &r))
        }
        _ => json!({"active": false}),
    };
    let wants_jwt = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/token-introspection+jwt"));
    if !wants_jwt {
        return no_store_json(StatusCode::OK, &body);
    }
    // RFC 9701 §5: a signed JWT wrapping the response.
    let claims = json!({
        "iss": op.issuer,
        "aud": client.client_id,
        "iat": now(),
        "token_introspection": body,
    });
    match op
        .keys()
        .sign_typed("RS256", "token-introspection+jwt", &claims)
    {
        Ok(jwt) => {
            let mut resp = (StatusCode::OK, jwt).into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/token-introspection+jwt"),
            );
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(e) => oauth_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            &e.to_string(),
        ),
    }
}

/// POST /revoke
pub async fn revoke(State(op): State<Arc<Op>>, headers: HeaderMap, body: Bytes) -> Response {
    let open = op
        .flaw(crate::flaws::Flaw::OpenRevocation)
        .then(|| unauthenticated(&op, &headers, &body))
        .flatten();
    let (form, client) = match open
        .map(Ok)
        .unwrap_or_else(|| authenticated(&op, &headers, &body))
    {
        Ok(v) => v,
        Err(r) => return r,
    };
    let token = form.get("token").map(String::as_str).unwrap_or_default();
    let t = now();
    match op.store.token(token, t) {
        Some(r) if r.client_id != client.client_id => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                "the token was issued to another client",
            );
        }
        Some(_) if op.flaw(crate::flaws::Flaw::RevokeNoop) => {}
        Some(r) => {
            op.store.revoke_token(token);
            // RFC 7009 §2.1: revoking a refresh token invalidates its grant's access tokens.
            if r.kind == TokenKind::Refresh {
                op.store.revoke_grant(&r.grant_id, t + REFRESH_TOKEN_TTL);
            }
        }
        // RFC 7009 §2.2: unknown or already invalid tokens are answered 200 as well.
        None => {}
    }
    let mut resp = StatusCode::OK.into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
