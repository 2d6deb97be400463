//! OpenID Connect Session Management 1.0: the browser state cookie, the `session_state`
//! parameter of authorization responses, and the `check_session_iframe` the relying party's
//! page polls with `postMessage`.
//!
//! The browser state (`op_bs`) is the session's public id (`sid`), in a cookie the OP iframe's
//! script can read (not HttpOnly: §3 requires it), cleared at logout. `session_state` is
//! `base64url(SHA-256(client_id " " origin " " browser_state " " salt)) "." salt` (§3.1); the
//! iframe recomputes it from the message's origin and the cookie, and answers `unchanged`
//! while they agree, `changed` once the user logged out or in as someone else.

use crate::op::Op;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The browser state cookie.
pub const COOKIE: &str = "op_bs";

/// The `Set-Cookie` of the browser state (`max_age` 0 clears it). Readable by script (§3), and
/// `SameSite=None; Secure` over TLS so that the iframe inside the relying party's page sees
/// it; on plain loopback HTTP the relying party and the provider are the same site anyway.
pub fn cookie(op: &Op, value: &str, max_age: i64) -> String {
    let site = if op.secure {
        "SameSite=None; Secure"
    } else {
        "SameSite=Lax"
    };
    format!(
        "{COOKIE}={value}; Path={}; {site}; Max-Age={max_age}",
        op.cookie_path
    )
}

/// `session_state` for `client_id` at the origin of `redirect_uri`, for the browser state `sid`
/// (§3.1), with a fresh salt.
pub fn session_state(op: &Op, client_id: &str, redirect_uri: &str, sid: &str) -> Option<String> {
    let origin = url::Url::parse(redirect_uri)
        .ok()?
        .origin()
        .ascii_serialization();
    let salt = op.random(8);
    Some(compute(client_id, &origin, sid, &salt))
}

fn compute(client_id: &str, origin: &str, browser_state: &str, salt: &str) -> String {
    let input = format!("{client_id} {origin} {browser_state} {salt}");
    let digest = ring::digest::digest(&ring::digest::SHA256, input.as_bytes());
    format!("{}.{salt}", rp_jose::b64::encode(digest.as_ref()))
}

/// The iframe's answer to `message` posted from `origin` while the browser state cookie is
/// `browser_state` (empty when absent): the same computation as the script of
/// [`check_session_iframe`], for a test runner that has no script engine.
pub fn evaluate(message: &str, origin: &str, browser_state: &str) -> &'static str {
    let Some((client_id, state)) = message.split_once(' ') else {
        return "error";
    };
    if state.contains(' ') {
        return "error";
    }
    let Some((_, salt)) = state.rsplit_once('.') else {
        return "error";
    };
    if compute(client_id, origin, browser_state, salt) == state {
        "unchanged"
    } else {
        "changed"
    }
}

/// POST {issuer}/_conformance/check_session (test instances only), form `message` and
/// `origin`, with the browser's cookies: what the OP iframe would post back, as text. The
/// instance's request record shows each poll, as the OpenID test OP's iframe reports its
/// polls to its server.
pub async fn conformance_check(
    State(_op): State<Arc<Op>>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Ok(params) = crate::op::parse_params(&body) else {
        return (StatusCode::BAD_REQUEST, "error").into_response();
    };
    let get = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
    let state = crate::op::cookie_value(&headers, COOKIE).unwrap_or("");
    let answer = evaluate(get("message"), get("origin"), state);
    let mut resp = (StatusCode::OK, answer).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The OP iframe (§3.3): answers `client_id session_state` messages with `unchanged`,
/// `changed` or `error`, recomputing the hash with Web Crypto from the message's origin and
/// the browser state cookie.
const IFRAME: &str = r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>check session</title></head><body><script>
function b64url(buf){var s='';new Uint8Array(buf).forEach(function(b){s+=String.fromCharCode(b);});return btoa(s).replace(/\+/g,'-').replace(/\//g,'_').replace(/=+$/,'');}
function browserState(){var m=document.cookie.split('; ').filter(function(c){return c.indexOf('op_bs=')===0;})[0];return m?m.substring(6):'';}
window.addEventListener('message',function(e){
  if(typeof e.data!=='string'){return;}
  var parts=e.data.split(' ');
  if(parts.length!==2){e.source.postMessage('error',e.origin);return;}
  var dot=parts[1].lastIndexOf('.');
  if(dot<0){e.source.postMessage('error',e.origin);return;}
  var salt=parts[1].substring(dot+1);
  var input=parts[0]+' '+e.origin+' '+browserState()+' '+salt;
  crypto.subtle.digest('SHA-256',new TextEncoder().encode(input)).then(function(d){
    e.source.postMessage((b64url(d)+'.'+salt)===parts[1]?'unchanged':'changed',e.origin);
  });
},false);
</script></body></html>"#;

/// GET /check_session
pub async fn check_session_iframe(State(_op): State<Arc<Op>>) -> Response {
    let mut resp = (StatusCode::OK, IFRAME).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Framed by any relying party's page, by design (§3.3); nothing else runs in it.
    h.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'none'; script-src 'unsafe-inline'"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_state_is_the_hash_of_its_parts_and_salt() {
        let s = compute("client", "http://127.0.0.1:8080", "bs", "salt");
        let (hash, salt) = s.rsplit_once('.').unwrap();
        assert_eq!(salt, "salt");
        let expected = ring::digest::digest(
            &ring::digest::SHA256,
            b"client http://127.0.0.1:8080 bs salt",
        );
        assert_eq!(hash, rp_jose::b64::encode(expected.as_ref()));
        assert_ne!(s, compute("client", "http://127.0.0.1:8080", "", "salt"));
    }

    #[test]
    fn the_runner_evaluation_answers_as_the_iframe() {
        let origin = "http://127.0.0.1:8080";
        let s = compute("client", origin, "bs", "salt");
        assert_eq!(evaluate(&format!("client {s}"), origin, "bs"), "unchanged");
        assert_eq!(evaluate(&format!("client {s}"), origin, ""), "changed");
        assert_eq!(evaluate(&format!("other {s}"), origin, "bs"), "changed");
        assert_eq!(
            evaluate(&format!("client {s}"), "http://evil", "bs"),
            "changed"
        );
        for bad in ["", "client", "client nosalt", "a b c.d"] {
            assert_eq!(evaluate(bad, origin, "bs"), "error", "{bad:?}");
        }
    }
}
