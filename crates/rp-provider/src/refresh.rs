//! The `refresh_token` grant (RFC 6749 §6) with rotation and reuse detection.
//!
//! Every use rotates the refresh token. Presenting a rotated token again means two parties
//! hold it, one of them an attacker: the whole grant is revoked, every access and refresh
//! token of it (RFC 9700 §4.14.2), and the answer is `invalid_grant`.

use crate::fixtures::Client;
use crate::flaws::Flaw;
use crate::op::ACCESS_TOKEN_TTL;
use crate::op::{Op, Params, REFRESH_TOKEN_TTL, now};
use crate::store::{RefreshLookup, TokenKind, TokenRecord};
use crate::token::{
    id_token, invalid_grant, issue_access_token, issue_refresh_token, narrowed_scope, oauth_error,
};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

/// grant_type=refresh_token
pub fn refresh(
    op: &Op,
    client: &Client,
    form: &Params,
    jkt: Option<String>,
    x5t: Option<String>,
) -> Response {
    if !client.allows_grant("refresh_token") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "the client may not use refresh_token",
        );
    }
    let Some(token) = form.get("refresh_token").filter(|t| !t.is_empty()) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "refresh_token is missing",
        );
    };
    let t = now();
    // A refresh token is bound to its client (RFC 6749 §6): check before consuming it, so a
    // client holding another's token cannot burn it.
    if let Some(record) = op.store.token(token, t) {
        if record.kind != TokenKind::Refresh {
            return invalid_grant("this is not a refresh token");
        }
        if record.client_id != client.client_id && !op.flaw(Flaw::RefreshOtherClient) {
            return invalid_grant("the refresh token was issued to another client");
        }
        // RFC 9449 §5.0: a public client's refresh token is bound to its DPoP key; checked
        // before consuming it, so a thief without the key cannot burn it either.
        if client.is_public()
            && let Some(bound) = &record.jkt
            && jkt.as_ref() != Some(bound)
        {
            return invalid_grant(
                "this refresh token is DPoP-bound: send a proof signed with its key (RFC 9449 §5.0)",
            );
        }
    }
    let lookup = if op.flaw(Flaw::NoReuseDetection) {
        // The old token is not consumed: it keeps working beside the new one.
        match op.store.token(token, t) {
            Some(r) if r.kind == TokenKind::Refresh => RefreshLookup::Fresh(Box::new(r)),
            _ => RefreshLookup::Missing,
        }
    } else {
        op.store.take_refresh(token, t)
    };
    let record = match lookup {
        RefreshLookup::Fresh(r) => r,
        RefreshLookup::Reused(grant_id) => {
            op.store.revoke_grant(&grant_id, t + REFRESH_TOKEN_TTL);
            tracing::warn!(target: "rp_provider", "refresh token reuse: grant revoked");
            return invalid_grant(
                "the refresh token was already used (rotated); the whole grant is revoked (RFC 9700 §4.14.2); log in again",
            );
        }
        RefreshLookup::Missing => {
            return invalid_grant("the refresh token is invalid, expired or revoked");
        }
    };
    // RFC 6749 §6: a narrower scope may be asked for; the new refresh token keeps the grant's.
    let scope = match narrowed_scope(form.get("scope"), &record.scope) {
        Ok(s) => s,
        Err(r) => return r,
    };
    // The new access token is bound to the key of this request's proof.
    let auth_time = match op.last_login(&record.sub) {
        Some(latest) if op.flaw(Flaw::AuthTimeMoves) => latest,
        _ => record.auth_time,
    };
    let access = TokenRecord {
        auth_time,
        scope: scope.clone(),
        jkt: jkt.clone(),
        x5t: x5t.clone().or(record.x5t.clone()),
        ..(*record).clone()
    };
    let access_token = match issue_access_token(op, client, &access) {
        Ok(a) => a,
        Err(e) => {
            return oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                &e.to_string(),
            );
        }
    };
    let refresh_token = issue_refresh_token(op, &record);
    let mut body = json!({
        "access_token": access_token,
        "token_type": if access.jkt.is_some() { "DPoP" } else { "Bearer" },
        "expires_in": ACCESS_TOKEN_TTL,
        "refresh_token": refresh_token,
        "scope": scope.join(" "),
    });
    // OIDC Core §12.2: a new ID token with the same iss, sub, aud, auth_time; no nonce.
    if scope.iter().any(|s| s == "openid") {
        match id_token(op, client, &access, None, &access_token, true) {
            Ok(t) => body["id_token"] = json!(t),
            Err(e) => {
                return oauth_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    &e.to_string(),
                );
            }
        }
    }
    crate::token::token_json(op, &body)
}
