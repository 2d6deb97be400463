//! The `client_credentials` grant (RFC 6749 §4.4): a confidential client gets an access
//! token for itself, with no end-user.
//!
//! The client's registered `scope` (RFC 7591 §2) bounds what it may ask for, and its
//! `audiences` bound the `resource` (RFC 8707 §2) and `audience` targets. The token's `sub`
//! is the client id (RFC 9068 §2.2); it carries no `openid` scope, so userinfo refuses it.

use crate::fixtures::Client;
use crate::op::{Op, Params, now};
use crate::store::{TokenKind, TokenRecord};
use crate::token::{narrowed_scope, oauth_error, token_response};
use axum::http::StatusCode;
use axum::response::Response;

/// grant_type=client_credentials
pub fn client_credentials(op: &Op, client: &Client, form: &Params) -> Response {
    // RFC 6749 §4.4: "The client credentials grant type MUST only be used by confidential
    // clients."
    if client.is_public() || !client.allows_grant("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "the client may not use client_credentials (it needs the grant and a secret or key)",
        );
    }
    let allowed = crate::op::space_list(client.scope.as_deref().unwrap_or(""));
    // RFC 6749 §3.3: without `scope`, the client's registered scope is the default.
    let scope = match narrowed_scope(form.get("scope"), &allowed) {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let mut targets: Vec<String> = form
        .all("audience")
        .iter()
        .chain(form.all("resource"))
        .cloned()
        .collect();
    targets.sort();
    targets.dedup();
    if let Some(bad) = targets.iter().find(|t| !client.audiences.contains(t)) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_target",
            &format!("{bad} is not a resource this client may get tokens for"),
        );
    }
    let t = now();
    let base = TokenRecord {
        kind: TokenKind::Access,
        grant_id: format!("cc:{}", op.random(12)),
        client_id: client.client_id.clone(),
        sub: client.client_id.clone(),
        scope,
        claims: None,
        expires_at: t,
        issued_at: t,
        sid: String::new(),
        auth_time: 0,
        audience: targets,
        jti: String::new(),
        offline: false,
        actor: None,
        jkt: None,
        x5t: None,
    };
    token_response(op, client, &base, None, false, false)
}
