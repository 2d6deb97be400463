//! The token endpoint (RFC 6749 §3.2, OIDC Core §3.1.3) and client authentication.

use crate::authorize::valid_pkce_value;
use crate::fixtures::Client;
use crate::flaws::Flaw;
use crate::keys::half_hash;
use crate::op::{ACCESS_TOKEN_TTL, ID_TOKEN_TTL, Op, Params, REFRESH_TOKEN_TTL, now, parse_params};
use crate::store::{CodeGrant, CodeLookup, TokenKind, TokenRecord};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// A JSON response that must not be cached (RFC 6749 §5.1).
pub fn no_store_json(status: StatusCode, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

/// An OAuth error response (RFC 6749 §5.2).
pub fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    no_store_json(
        status,
        &json!({"error": error, "error_description": description}),
    )
}

fn invalid_client(description: &str, basic: bool) -> Response {
    let mut resp = oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", description);
    if basic {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"rp-provider\""),
        );
    }
    resp
}

fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Authenticate the client of a token, introspection or revocation request with the method
/// it registered (and only that one: RFC 6749 §2.3 forbids using two at once). After
/// [`crate::throttle::LIMIT`] failures in a minute for one client id, every attempt for it is
/// answered 429 with `Retry-After` until the minute is over.
pub fn authenticate_client(
    op: &Op,
    headers: &HeaderMap,
    form: &Params,
) -> Result<Arc<Client>, Response> {
    let key = format!("client:{}", claimed_client_id(headers, form));
    if let Err(wait) = op.throttle.check(&key, now()) {
        tracing::warn!(target: "rp_provider", "client authentication throttled");
        return Err(too_many_attempts(wait, "for this client"));
    }
    let result = verify_client(op, headers, form);
    if let Err(resp) = &result
        && resp.status() == StatusCode::UNAUTHORIZED
    {
        op.throttle.failed(&key, now());
    }
    result
}

/// 429 with `Retry-After` (RFC 6585 §4).
pub fn too_many_attempts(wait: i64, whose: &str) -> Response {
    let mut resp = oauth_error(
        StatusCode::TOO_MANY_REQUESTS,
        "temporarily_unavailable",
        &format!("too many failed attempts {whose}; retry in {wait} s"),
    );
    if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// The client id a request claims (unverified: it only names whose failures to count).
fn claimed_client_id(headers: &HeaderMap, form: &Params) -> String {
    let from_basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.get(..6)
                .filter(|p| p.eq_ignore_ascii_case("basic "))
                .map(|_| &v[6..])
        })
        .and_then(|b64| STANDARD.decode(b64.trim()).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|s| s.split_once(':').map(|(i, _)| form_decode(i)));
    let from_assertion = || {
        let jwt = form.get("client_assertion")?;
        let payload = jwt.split('.').nth(1)?;
        let claims: Value = serde_json::from_slice(&rp_jose::b64::decode(payload).ok()?).ok()?;
        claims.get("iss")?.as_str().map(str::to_string)
    };
    from_basic
        .or_else(|| form.get("client_id").cloned())
        .or_else(from_assertion)
        .unwrap_or_default()
}

fn verify_client(op: &Op, headers: &HeaderMap, form: &Params) -> Result<Arc<Client>, Response> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        })
        .map(|b64| {
            STANDARD
                .decode(b64.trim())
                .ok()
                .and_then(|raw| String::from_utf8(raw).ok())
                .and_then(|s| {
                    s.split_once(':')
                        .map(|(i, p)| (form_decode(i), form_decode(p)))
                })
        });
    let (method, client_id, secret) = match (basic, form.get("client_secret")) {
        (Some(_), Some(_)) => {
            return Err(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "the client used two authentication methods at once",
            ));
        }
        (Some(None), _) => return Err(invalid_client("malformed Basic credentials", true)),
        (Some(Some((id, secret))), None) => {
            if form.get("client_id").is_some_and(|f| *f != id) {
                return Err(invalid_client(
                    "client_id differs from the authenticated client",
                    true,
                ));
            }
            ("client_secret_basic", id, Some(secret))
        }
        (None, Some(secret)) => (
            "client_secret_post",
            form.get("client_id").cloned().unwrap_or_default(),
            Some(secret.clone()),
        ),
        (None, None) => match form.get("client_assertion") {
            Some(assertion) => {
                if form.get("client_assertion_type").map(String::as_str)
                    != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
                {
                    return Err(invalid_client("unsupported client_assertion_type", false));
                }
                let (id, jws) = crate::client_jwt::check_assertion(op, assertion)
                    .map_err(|e| invalid_client(&e.to_string(), false))?;
                if form.get("client_id").is_some_and(|f| *f != id) {
                    return Err(invalid_client(
                        "client_id differs from the assertion",
                        false,
                    ));
                }
                let client = op
                    .client(&id)
                    .ok_or_else(|| invalid_client("unknown client", false))?;
                let method = crate::client_jwt::verify(&client, &jws)
                    .map_err(|e| invalid_client(&e.to_string(), false))?;
                if client.token_endpoint_auth_method != method {
                    return Err(invalid_client(
                        &format!(
                            "this client authenticates with {}, not {method}",
                            client.token_endpoint_auth_method
                        ),
                        false,
                    ));
                }
                return Ok(client);
            }
            None => (
                "none",
                form.get("client_id").cloned().unwrap_or_default(),
                None,
            ),
        },
    };
    let is_basic = method == "client_secret_basic";
    let Some(client) = op.client(&client_id) else {
        return Err(invalid_client("unknown client", is_basic));
    };
    // RFC 8705 §2.2: a self-signed certificate registered in the client's jwks (x5c),
    // presented on this TLS connection (whose handshake proved the key).
    if method == "none" && client.token_endpoint_auth_method == "self_signed_tls_client_auth" {
        let Some(cert) = crate::server::peer_certificate(headers) else {
            return Err(invalid_client(
                "self_signed_tls_client_auth needs the client certificate on the TLS connection",
                false,
            ));
        };
        let registered = client
            .other
            .get("jwks")
            .and_then(|j| j.get("keys"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|k| k.get("x5c")?.as_array()?.first()?.as_str())
            .filter_map(|c| STANDARD.decode(c).ok())
            .any(|der| der == cert);
        if !registered {
            return Err(invalid_client(
                "the TLS client certificate is not one the client registered (x5c)",
                false,
            ));
        }
        return Ok(client);
    }
    // RFC 8705 §2.1: a certificate from a trusted CA with the registered subject.
    if method == "none" && client.token_endpoint_auth_method == "tls_client_auth" {
        let Some(cert) = crate::server::peer_certificate(headers) else {
            return Err(invalid_client(
                "tls_client_auth needs the client certificate on the TLS connection",
                false,
            ));
        };
        return match crate::mtls::authenticate(op.client_cas.as_ref(), &client, &cert) {
            Ok(()) => Ok(client),
            Err(why) => Err(invalid_client(&why, false)),
        };
    }
    if client.token_endpoint_auth_method != method {
        return Err(invalid_client(
            &format!(
                "this client authenticates with {}, not {method}",
                client.token_endpoint_auth_method
            ),
            is_basic,
        ));
    }
    if let Some(secret) = secret {
        let expected = client.client_secret.as_deref().unwrap_or("");
        if (expected.is_empty() || !bool::from(secret.as_bytes().ct_eq(expected.as_bytes())))
            && !op.flaw(crate::flaws::Flaw::AnySecret)
        {
            return Err(invalid_client("wrong client secret", is_basic));
        }
    }
    Ok(client)
}

/// POST /token
pub async fn token(State(op): State<Arc<Op>>, headers: HeaderMap, body: Bytes) -> Response {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the body must be application/x-www-form-urlencoded",
        );
    }
    let form = match parse_params(&body) {
        Ok(f) => f,
        Err(e) => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &e.to_string()),
    };
    let client = match authenticate_client(&op, &headers, &form) {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    // RFC 9449 §5: a valid proof binds what is issued to its key.
    let jkt = match crate::dpop::check(&op, &headers, "POST", &op.url("/token"), None) {
        Ok(j) => j,
        Err(r) => return crate::dpop::token_error(&op, &r),
    };
    // RFC 8705 §3: tokens of a client that authenticated with its certificate are bound to it.
    let x5t = (client
        .token_endpoint_auth_method
        .ends_with("tls_client_auth"))
    .then(|| crate::server::peer_certificate(&headers).map(|c| crate::server::thumbprint(&c)))
    .flatten();
    if client.dpop_bound_access_tokens && jkt.is_none() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_dpop_proof",
            "this client's tokens must be DPoP-bound (RFC 9449 §5.2): send a DPoP proof",
        );
    }
    match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => authorization_code(&op, &client, &form, jkt, x5t),
        Some("refresh_token") => crate::refresh::refresh(&op, &client, &form, jkt, x5t),
        Some("client_credentials") => {
            crate::client_credentials::client_credentials(&op, &client, &form)
        }
        Some(crate::exchange::GRANT_TYPE) => crate::exchange::exchange(&op, &client, &form),
        Some(crate::device::GRANT_TYPE) => crate::device::token(&op, &client, &form, jkt),
        Some(other) => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &format!("grant_type {other} is not supported"),
        ),
        None => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "grant_type is missing",
        ),
    }
}

/// The scope of a derived token: the `scope` parameter when it names only granted scopes
/// (RFC 6749 §6, RFC 8693 §2.1), else the granted scope; `invalid_scope` for anything more.
pub fn narrowed_scope(asked: Option<&String>, granted: &[String]) -> Result<Vec<String>, Response> {
    let Some(asked) = asked else {
        return Ok(granted.to_vec());
    };
    let asked = crate::op::space_list(asked);
    match asked.iter().find(|x| !granted.contains(x)) {
        Some(extra) => Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            &format!("scope {extra} was not granted"),
        )),
        None => Ok(asked),
    }
}

/// `invalid_grant` (RFC 6749 §5.2).
pub fn invalid_grant(description: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", description)
}

fn authorization_code(
    op: &Op,
    client: &Client,
    form: &Params,
    jkt: Option<String>,
    x5t: Option<String>,
) -> Response {
    if !client.allows_grant("authorization_code") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "the client may not use authorization_code",
        );
    }
    let code = form.get("code").map(String::as_str).unwrap_or("");
    let t = now();
    let grant = match op.store.take_code(code, t) {
        CodeLookup::Fresh(g) => {
            if op.flaw(Flaw::ReuseCode) {
                op.store.put_code(code, (*g).clone());
            }
            g
        }
        CodeLookup::Reused(grant_id) => {
            // RFC 6749 §4.1.2: a code used twice revokes what it was exchanged for.
            op.store.revoke_grant(&grant_id, t + REFRESH_TOKEN_TTL);
            return invalid_grant(
                "the code was already used; the tokens issued for it are revoked",
            );
        }
        CodeLookup::Missing => return invalid_grant("the code is invalid or expired"),
    };
    if grant.request.client_id != client.client_id && !op.flaw(Flaw::CodeOtherClient) {
        return invalid_grant("the code was issued to another client");
    }
    if form.get("redirect_uri") != Some(&grant.request.redirect_uri)
        && !op.flaw(Flaw::RedirectMismatch)
    {
        return invalid_grant("redirect_uri does not match the authorization request");
    }
    let pkce = if op.flaw(Flaw::NoPkce) {
        None
    } else {
        Some((&grant.request.code_challenge, form.get("code_verifier")))
    };
    match pkce.unwrap_or((&None, None)) {
        (None, Some(_)) if op.flaw(Flaw::OptionalPkce) => {}
        (Some(challenge), Some(verifier)) => {
            let computed = rp_jose::b64::encode(
                ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()).as_ref(),
            );
            if !valid_pkce_value(verifier)
                || !bool::from(computed.as_bytes().ct_eq(challenge.as_bytes()))
            {
                return invalid_grant("code_verifier does not match the code_challenge");
            }
        }
        (Some(_), None) => return invalid_grant("code_verifier is missing"),
        // RFC 9700 §4.8.2: a verifier without a challenge is a PKCE downgrade attempt.
        (None, Some(_)) => return invalid_grant("code_verifier sent but no code_challenge was"),
        (None, None) => {}
    }
    // RFC 9449 §10: a code bound to a DPoP key is redeemed with a proof of that key only.
    if let Some(bound) = &grant.request.dpop_jkt
        && jkt.as_deref() != Some(bound.as_str())
    {
        return invalid_grant("the code is bound to another DPoP key (dpop_jkt, RFC 9449 §10)");
    }
    issue_tokens(op, client, &grant, jkt, x5t)
}

/// Issue an access token, an ID token and, for `offline_access`, a refresh token.
pub(crate) fn issue_tokens(
    op: &Op,
    client: &Client,
    grant: &CodeGrant,
    jkt: Option<String>,
    x5t: Option<String>,
) -> Response {
    let request = &grant.request;
    let base = base_record(&grant.grant_id, request, &grant.user, jkt, x5t);
    let offline = base.offline;
    token_response(op, client, &base, request.nonce.as_deref(), true, offline)
}

/// What every token of an authorization grants: the user, the scope, the session.
pub(crate) fn base_record(
    grant_id: &str,
    request: &crate::store::AuthzRequest,
    user: &crate::store::Authenticated,
    jkt: Option<String>,
    x5t: Option<String>,
) -> TokenRecord {
    TokenRecord {
        kind: TokenKind::Access,
        grant_id: grant_id.to_string(),
        client_id: request.client_id.clone(),
        sub: user.sub.clone(),
        scope: request.scope.clone(),
        claims: request.claims.clone(),
        expires_at: 0,
        issued_at: now(),
        sid: user.sid.clone(),
        auth_time: user.auth_time,
        audience: Vec::new(),
        jti: String::new(),
        offline: request.scope.iter().any(|s| s == "offline_access"),
        actor: None,
        jkt,
        x5t,
    }
}

/// Issue an access token from `base` (opaque or RFC 9068 JWT, per client) and store it.
pub fn issue_access_token(
    op: &Op,
    client: &Client,
    base: &TokenRecord,
) -> crate::error::Result<String> {
    let t = now();
    let record = TokenRecord {
        kind: TokenKind::Access,
        expires_at: t + ACCESS_TOKEN_TTL,
        issued_at: t,
        jti: op.random(16),
        ..base.clone()
    };
    let token = if client.access_token_format == "jwt" {
        // RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti, and scope; typ at+jwt.
        let mut claims = json!({
            "iss": op.issuer,
            "exp": record.expires_at,
            "aud": if record.audience.is_empty() { json!(op.url("/userinfo")) } else { json!(record.audience) },
            "sub": record.sub,
            "client_id": record.client_id,
            "iat": t,
            "jti": record.jti,
            "scope": record.scope.join(" "),
        });
        if record.auth_time > 0 {
            claims["auth_time"] = json!(record.auth_time);
        }
        if let Some(act) = &record.actor {
            claims["act"] = act.clone();
        }
        if let Some(jkt) = &record.jkt {
            claims["cnf"] = json!({ "jkt": jkt });
        } else if let Some(x5t) = &record.x5t {
            claims["cnf"] = json!({ "x5t#S256": x5t });
        }
        // The client's ID token algorithm when it is an asymmetric one the provider has a
        // key for (one key type per client keeps its tokens uniform; RFC 9068 §2.1 leaves the
        // algorithm to the authorization server), else RS256.
        let keys = op.keys();
        let alg = Some(client.id_token_signed_response_alg.as_str())
            .filter(|a| keys.key(a).is_some())
            .unwrap_or("RS256");
        keys.sign_typed(alg, "at+jwt", &claims)?
    } else {
        op.random(32)
    };
    op.store.put_token(&token, record);
    Ok(token)
}

/// Issue and store a refresh token for `base`'s grant.
pub fn issue_refresh_token(op: &Op, base: &TokenRecord) -> String {
    let t = now();
    let token = op.random(32);
    op.store.put_token(
        &token,
        TokenRecord {
            kind: TokenKind::Refresh,
            expires_at: t + REFRESH_TOKEN_TTL,
            issued_at: t,
            jti: op.random(16),
            audience: Vec::new(),
            ..base.clone()
        },
    );
    token
}

/// An ID token for `base`'s user and session (OIDC Core §2), with `at_hash` for `access_token`.
pub fn id_token(
    op: &Op,
    client: &Client,
    base: &TokenRecord,
    nonce: Option<&str>,
    access_token: &str,
    refresh: bool,
) -> crate::error::Result<String> {
    id_token_with_hashes(op, client, base, nonce, Some(access_token), None, refresh)
}

/// [`id_token`] with `at_hash` only for an access token issued with it, and `c_hash` for a
/// code (OIDC Core §3.3.2.11: the authorization endpoint's ID token in the hybrid flow).
pub fn id_token_with_hashes(
    op: &Op,
    client: &Client,
    base: &TokenRecord,
    nonce: Option<&str>,
    access_token: Option<&str>,
    code: Option<&str>,
    refresh: bool,
) -> crate::error::Result<String> {
    if let Some(keys) = op
        .misbehaviour
        .rotate_keys(crate::misbehaviour::KeyMoment::BeforeIdTokenSigning)
    {
        op.set_keys(keys);
    }
    let t = now();
    let alg = client.id_token_signed_response_alg.as_str();
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(op.issuer));
    claims.insert("sub".into(), json!(base.sub));
    claims.insert("aud".into(), json!(client.client_id));
    claims.insert("exp".into(), json!(t + ID_TOKEN_TTL));
    claims.insert("iat".into(), json!(t));
    claims.insert("auth_time".into(), json!(base.auth_time));
    if let Some(nonce) = nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    if let Some(access_token) = access_token {
        claims.insert("at_hash".into(), json!(half_hash(alg, access_token)));
    }
    if let Some(code) = code {
        claims.insert("c_hash".into(), json!(half_hash(alg, code)));
    }
    claims.insert("sid".into(), json!(base.sid));
    claims.insert("amr".into(), json!(["pwd"]));
    if let Some(Value::Object(wanted)) = base.claims.as_ref().and_then(|c| c.get("id_token")) {
        let released = op.claims_for(&base.sub, &[], Some(&json!({ "userinfo": wanted })));
        for (k, v) in released {
            claims.entry(k).or_insert(v);
        }
    }
    op.misbehaviour.id_token_claims(&mut claims, refresh);
    let jwt = op
        .keys()
        .sign(alg, &Value::Object(claims), client.client_secret.as_deref())?;
    Ok(op.misbehaviour.id_token(jwt))
}

/// The token response for a grant: access token, ID token (for `openid` grants) and, when
/// asked, a refresh token.
pub fn token_response(
    op: &Op,
    client: &Client,
    base: &TokenRecord,
    nonce: Option<&str>,
    with_id_token: bool,
    with_refresh: bool,
) -> Response {
    let access_token = match issue_access_token(op, client, base) {
        Ok(t) => t,
        Err(e) => {
            return oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                &e.to_string(),
            );
        }
    };
    let mut body = json!({
        "access_token": access_token,
        "token_type": if base.jkt.is_some() { "DPoP" } else { "Bearer" },
        "expires_in": ACCESS_TOKEN_TTL,
        "scope": base.scope.join(" "),
    });
    if with_id_token && base.scope.iter().any(|s| s == "openid") {
        match id_token(op, client, base, nonce, &access_token, false) {
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
    if with_refresh && client.allows_grant("refresh_token") {
        body["refresh_token"] = json!(issue_refresh_token(op, base));
    }
    if let Some(map) = body.as_object_mut() {
        op.misbehaviour.token_response(map);
    }
    token_json(op, &body)
}

/// A successful token response: JSON, never cached (RFC 6749 §5.1), unless a flaw says
/// otherwise.
pub(crate) fn token_json(op: &Op, body: &Value) -> Response {
    let mut resp = no_store_json(StatusCode::OK, body);
    if op.flaw(Flaw::CacheableTokens) {
        resp.headers_mut().remove(header::CACHE_CONTROL);
        resp.headers_mut().remove(header::PRAGMA);
    }
    if op.flaw(Flaw::TokenTextPlain) {
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    }
    resp
}
