//! The device authorization grant (RFC 8628): the device authorization endpoint (§3.1-3.2),
//! the verification page where the user enters the code, signs in and approves (§3.3), and
//! the `device_code` grant at the token endpoint (§3.4-3.5).
//!
//! User codes are eight letters from an alphabet without vowels or look-alikes (§6.1: 20^8,
//! about 2^34.6), shown as `XXXX-XXXX` and compared without the dash and case-insensitively.
//! Wrong codes count against a per-provider brake ([`crate::throttle`]), as §5.1 asks.
//! The verification page always asks the user to approve, naming the client (§5.4: a
//! device code can be phished, so nothing is approved silently, even with a session).

use crate::authorize;
use crate::op::{Op, Params, now, parse_params};
use crate::pages;
use crate::store::{
    Authenticated, AuthzRequest, CodeGrant, DeviceGrant, DevicePollLookup, DeviceStatus,
    ResponseMode,
};
use crate::token::{authenticate_client, invalid_grant, oauth_error};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;
use std::sync::Arc;

/// The grant type (RFC 8628 §3.4).
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// How long device and user codes live, in seconds.
pub const DEVICE_CODE_TTL: i64 = 600;

/// The user code alphabet (RFC 8628 §6.1: consonants only, no look-alikes).
const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

/// The user code with its dash and case removed, or `None` when it cannot be one.
pub fn normalise(user_code: &str) -> Option<String> {
    let code: String = user_code
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == 8 && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

fn new_user_code(op: &Op) -> String {
    // Rejection sampling over random bytes keeps every letter equally likely.
    let mut code = String::with_capacity(8);
    while code.len() < 8 {
        let bytes = rp_jose::b64::decode(&op.random(24)).unwrap_or_default();
        for b in bytes {
            let i = usize::from(b) % 64;
            if i < ALPHABET.len() * 3 && code.len() < 8 {
                code.push(char::from(ALPHABET[i % ALPHABET.len()]));
            }
        }
    }
    code
}

fn display(code: &str) -> String {
    format!("{}-{}", &code[..4], &code[4..])
}

/// POST /device_authorization (RFC 8628 §3.1).
pub async fn device_authorization(
    State(op): State<Arc<Op>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match parse_params(&body) {
        Ok(f) => f,
        Err(e) => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &e.to_string()),
    };
    let client = match authenticate_client(&op, &headers, &form) {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    if !client.allows_grant(GRANT_TYPE) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "the client is not registered for the device_code grant",
        );
    }
    let scope = crate::op::space_list(form.get("scope").map(String::as_str).unwrap_or("openid"));
    let claims = match form
        .get("claims")
        .map(|c| serde_json::from_str::<serde_json::Value>(c))
    {
        None => None,
        Some(Ok(v)) if v.is_object() => Some(v),
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "claims is not a JSON object",
            );
        }
    };
    let device_code = op.random(32);
    let user_code = new_user_code(&op);
    let t = now();
    let request = AuthzRequest {
        client_id: client.client_id.clone(),
        redirect_uri: String::new(),
        scope,
        state: None,
        nonce: form.get("nonce").cloned(),
        code_challenge: None,
        prompt: Vec::new(),
        max_age: None,
        login_hint: form.get("login_hint").cloned(),
        response_mode: ResponseMode::Query,
        response_type: crate::response_type::ResponseKinds::CODE,
        dpop_jkt: None,
        claims,
        device: Some(user_code.clone()),
        hint_sub: None,
    };
    let mut grant = DeviceGrant {
        request,
        user_code: user_code.clone(),
        status: DeviceStatus::Pending,
        expires_at: t + DEVICE_CODE_TTL,
        interval: op.device_interval,
        last_poll_ms: None,
        polls: 0,
    };
    // Test instances have the fixture user approve at once, as they sign in without a form.
    if op.misbehaviour.sign_in_without_form()
        && let Some(user) = op.users.first()
    {
        grant.status = DeviceStatus::Approved(Authenticated {
            sub: user.sub.clone(),
            auth_time: t,
            sid: op.random(16),
        });
    }
    op.store.put_device(&device_code, grant);
    let verification_uri = op.url("/device");
    crate::token::no_store_json(
        StatusCode::OK,
        &json!({
            "device_code": device_code,
            "user_code": display(&user_code),
            "verification_uri": verification_uri,
            "verification_uri_complete": format!("{verification_uri}?user_code={}", display(&user_code)),
            "expires_in": DEVICE_CODE_TTL,
            "interval": op.device_interval,
        }),
    )
}

/// GET /device: the form where the user enters the code (prefilled from
/// `verification_uri_complete`).
pub async fn page(State(op): State<Arc<Op>>, RawQuery(q): RawQuery) -> Response {
    let params = parse_params(q.unwrap_or_default().as_bytes()).unwrap_or_default();
    let code = params.get("user_code").map(String::as_str).unwrap_or("");
    pages::html(StatusCode::OK, pages::device(&op.issuer, code, None), &[])
}

/// POST /device: check the code, then on to the login form (or straight to approval when a
/// session exists).
pub async fn submit(State(op): State<Arc<Op>>, headers: HeaderMap, body: Bytes) -> Response {
    let form: Params = parse_params(&body).unwrap_or_default();
    let typed = form.get("user_code").map(String::as_str).unwrap_or("");
    let key = "device:user_code";
    if let Err(wait) = op.throttle.check(key, now()) {
        return pages::html(
            StatusCode::TOO_MANY_REQUESTS,
            pages::error(
                "Too many attempts",
                &format!("Too many wrong codes. Try again in {wait} s."),
            ),
            &[],
        );
    }
    let grant = normalise(typed).and_then(|c| op.store.device_by_user_code(&c, now()));
    let Some(grant) = grant.filter(|g| matches!(g.status, DeviceStatus::Pending)) else {
        op.throttle.failed(key, now());
        return pages::html(
            StatusCode::OK,
            pages::device(
                &op.issuer,
                typed,
                Some("That code is not valid, expired, or was already used."),
            ),
            &[],
        );
    };
    authorize::start_interaction(&op, &headers, grant.request)
}

/// Where a device login ends: the user's decision recorded, and a page saying so.
pub fn finish(op: &Op, request: &AuthzRequest, user: Option<Authenticated>) -> Response {
    let Some(code) = &request.device else {
        return pages::html(
            StatusCode::BAD_REQUEST,
            pages::error("Invalid request", "Not a device login."),
            &[],
        );
    };
    let (status, title, text) = match user {
        Some(user) => (
            DeviceStatus::Approved(user),
            "Device approved",
            "You are signed in on your device. You may close this window.",
        ),
        None => (
            DeviceStatus::Denied,
            "Request denied",
            "The device will not be signed in. You may close this window.",
        ),
    };
    if !op.store.decide_device(code, status, now()) {
        return pages::html(
            StatusCode::BAD_REQUEST,
            pages::error(
                "Code expired",
                "This device code expired or was already used. Start again on the device.",
            ),
            &[],
        );
    }
    pages::html(StatusCode::OK, pages::error_free(title, text), &[])
}

/// The `device_code` grant at the token endpoint (RFC 8628 §3.4-3.5).
pub fn token(
    op: &Op,
    client: &crate::fixtures::Client,
    form: &Params,
    jkt: Option<String>,
) -> Response {
    let pending =
        |error: &str, description: &str| oauth_error(StatusCode::BAD_REQUEST, error, description);
    if !client.allows_grant(GRANT_TYPE) {
        return pending(
            "unauthorized_client",
            "the client may not use the device_code grant",
        );
    }
    let Some(device_code) = form.get("device_code") else {
        return pending("invalid_request", "device_code is missing");
    };
    if let Some(error) = op.misbehaviour.device_poll() {
        return pending(error, "as this test instance answers");
    }
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let found = op.store.poll_device(device_code, now_ms);
    let owner = match &found {
        DevicePollLookup::Pending { grant, .. } | DevicePollLookup::Approved(grant) => {
            Some(grant.request.client_id.clone())
        }
        _ => None,
    };
    if owner.is_some_and(|o| o != client.client_id) {
        return invalid_grant("the device code was issued to another client");
    }
    match found {
        DevicePollLookup::Missing => {
            invalid_grant("the device code is invalid or was already used")
        }
        DevicePollLookup::Expired => pending("expired_token", "the device code expired"),
        DevicePollLookup::Denied => pending("access_denied", "the user denied the request"),
        DevicePollLookup::Pending { too_fast: true, .. } => pending(
            "slow_down",
            "polled sooner than the interval allows; wait 5 s longer from now on",
        ),
        DevicePollLookup::Pending { .. } => pending(
            "authorization_pending",
            "the user has not finished at the verification page",
        ),
        DevicePollLookup::Approved(grant) => {
            let DeviceStatus::Approved(user) = grant.status.clone() else {
                return invalid_grant("the device code is not approved");
            };
            op.store.join_session(&user.sid, &client.client_id);
            let code = CodeGrant {
                grant_id: op.random(16),
                request: grant.request,
                user,
                expires_at: now(),
            };
            crate::token::issue_tokens(op, client, &code, jkt, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_normalise_and_refuse_strangers() {
        assert_eq!(normalise("wdjb-mjht").as_deref(), Some("WDJBMJHT"));
        assert_eq!(normalise("WDJB MJHT").as_deref(), Some("WDJBMJHT"));
        assert_eq!(normalise("WDJB-MJH"), None);
        assert_eq!(normalise("AEIO-UAEI"), None);
        assert_eq!(normalise("WDJB-MJHT-X"), None);
    }

    #[test]
    fn new_codes_use_the_alphabet() {
        let op = Op::new("http://127.0.0.1:1", &crate::Fixtures::embedded()).expect("op");
        for _ in 0..100 {
            let c = new_user_code(&op);
            assert_eq!(normalise(&display(&c)).as_deref(), Some(c.as_str()));
        }
    }
}
