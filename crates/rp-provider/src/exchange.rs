//! OAuth 2.0 Token Exchange (RFC 8693) with a per-client policy from the fixtures: which
//! subject token types it may present, which token types it may ask for, and for which
//! audiences or resources.

use crate::fixtures::Client;
use crate::op::{ACCESS_TOKEN_TTL, Op, Params, now};
use crate::store::{TokenKind, TokenRecord};
use crate::token::{
    issue_access_token, issue_refresh_token, narrowed_scope, no_store_json, oauth_error,
};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

/// The grant type URN (RFC 8693 §2.1).
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// RFC 8693 §3 token type URNs.
pub const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
/// Refresh token type.
pub const REFRESH_TOKEN: &str = "urn:ietf:params:oauth:token-type:refresh_token";
/// ID token type.
pub const ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
/// Generic JWT type.
pub const JWT: &str = "urn:ietf:params:oauth:token-type:jwt";

fn invalid_request(d: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_request", d)
}

fn invalid_target(d: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_target", d)
}

/// The grant behind a presented token, if it is live and of the stated type.
fn resolve(op: &Op, token: &str, token_type: &str) -> Option<TokenRecord> {
    let t = now();
    match token_type {
        ACCESS_TOKEN => op
            .store
            .token(token, t)
            .filter(|r| r.kind == TokenKind::Access),
        REFRESH_TOKEN => op
            .store
            .token(token, t)
            .filter(|r| r.kind == TokenKind::Refresh),
        ID_TOKEN | JWT => {
            // A JWT this provider signed (an ID token, or a JWT access token).
            if let Some(r) = op.store.token(token, t) {
                return Some(r);
            }
            let claims = op.keys().verify_own(token)?;
            let exp = claims.get("exp")?.as_i64()?;
            if exp <= t || claims.get("iss")?.as_str()? != op.issuer {
                return None;
            }
            let sub = claims.get("sub")?.as_str()?.to_string();
            let aud = match claims.get("aud")? {
                Value::String(a) => a.clone(),
                Value::Array(a) => a.first()?.as_str()?.to_string(),
                _ => return None,
            };
            Some(TokenRecord {
                kind: TokenKind::Access,
                grant_id: format!(
                    "jwt:{}",
                    claims.get("sid").and_then(Value::as_str).unwrap_or(&sub)
                ),
                client_id: aud,
                sub,
                scope: vec!["openid".into()],
                claims: None,
                expires_at: exp,
                issued_at: claims.get("iat").and_then(Value::as_i64).unwrap_or(t),
                sid: claims
                    .get("sid")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                auth_time: claims.get("auth_time").and_then(Value::as_i64).unwrap_or(t),
                audience: Vec::new(),
                jti: String::new(),
                offline: false,
                actor: None,
                jkt: None,
                x5t: None,
            })
        }
        _ => None,
    }
}

/// grant_type=urn:ietf:params:oauth:grant-type:token-exchange
pub fn exchange(op: &Op, client: &Client, form: &Params) -> Response {
    let Some(policy) = client
        .token_exchange
        .as_ref()
        .filter(|_| client.allows_grant(GRANT_TYPE))
    else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "the client may not use token exchange",
        );
    };
    let get = |k: &str| form.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let (Some(subject_token), Some(subject_type)) =
        (get("subject_token"), get("subject_token_type"))
    else {
        return invalid_request(
            "subject_token and subject_token_type are required (RFC 8693 §2.1)",
        );
    };
    if !policy.subject_token_types.iter().any(|t| t == subject_type) {
        return invalid_request(&format!(
            "subject_token_type {subject_type} is not accepted for this client"
        ));
    }
    let Some(subject) = resolve(op, subject_token, subject_type) else {
        return invalid_request(
            "the subject_token is invalid, expired, revoked or not of the stated type",
        );
    };
    // A client may exchange tokens issued to it, or tokens it is an audience of.
    if subject.client_id != client.client_id && !subject.audience.contains(&client.client_id) {
        return invalid_request("the subject_token was issued to another client");
    }
    let actor = match (get("actor_token"), get("actor_token_type")) {
        (None, None) => None,
        (Some(_), None) | (None, Some(_)) => {
            return invalid_request("actor_token and actor_token_type go together (RFC 8693 §2.1)");
        }
        (Some(token), Some(kind)) => match resolve(op, token, kind) {
            Some(a) => Some(json!({ "sub": a.sub, "client_id": a.client_id })),
            None => return invalid_request("the actor_token is invalid, expired or revoked"),
        },
    };
    let targets: Vec<String> = form
        .all("audience")
        .iter()
        .chain(form.all("resource"))
        .filter(|v| !v.is_empty())
        .cloned()
        .collect();
    if subject_type == REFRESH_TOKEN && !targets.is_empty() {
        return invalid_target(
            "a refresh token cannot be exchanged for another audience; exchange an access token",
        );
    }
    if let Some(bad) = targets.iter().find(|a| !policy.audiences.contains(a)) {
        return invalid_target(&format!("the client may not obtain tokens for `{bad}`"));
    }
    let requested = get("requested_token_type").unwrap_or(ACCESS_TOKEN);
    if !policy.requested_token_types.iter().any(|t| t == requested) {
        return invalid_request(&format!(
            "requested_token_type {requested} is not allowed for this client"
        ));
    }
    let scope = match narrowed_scope(form.get("scope"), &subject.scope) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let base = TokenRecord {
        client_id: client.client_id.clone(),
        scope,
        audience: targets,
        actor,
        ..subject.clone()
    };
    match requested {
        REFRESH_TOKEN => {
            if !subject.offline || !client.allows_grant("refresh_token") {
                return invalid_request(
                    "a refresh token can only be issued for a grant with offline_access",
                );
            }
            let token = issue_refresh_token(op, &base);
            no_store_json(
                StatusCode::OK,
                &json!({"access_token": token, "issued_token_type": REFRESH_TOKEN, "token_type": "N_A", "scope": base.scope.join(" ")}),
            )
        }
        _ => {
            let token = match issue_access_token(op, client, &base) {
                Ok(t) => t,
                Err(e) => {
                    return oauth_error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "server_error",
                        &e.to_string(),
                    );
                }
            };
            let issued = if requested == JWT && client.access_token_format != "jwt" {
                return invalid_request(
                    "this client's access tokens are opaque; ask for an access_token",
                );
            } else {
                requested
            };
            no_store_json(
                StatusCode::OK,
                &json!({
                    "access_token": token,
                    "issued_token_type": issued,
                    "token_type": "Bearer",
                    "expires_in": ACCESS_TOKEN_TTL,
                    "scope": base.scope.join(" "),
                }),
            )
        }
    }
}
