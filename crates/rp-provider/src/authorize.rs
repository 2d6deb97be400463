//! The authorization endpoint (OIDC Core §3.1.2), the login form and the consent form.
//!
//! Errors about the client or its redirect URI are shown to the user and never redirected
//! (RFC 6749 §4.1.2.1: the redirect URI cannot be trusted then); every other error goes back
//! to the client with `state` and `iss` (RFC 9207).

use crate::flaws::Flaw;
use crate::misbehaviour::KeyMoment;
use crate::op::{
    CODE_TTL, INTERACTION_TTL, Op, Params, SESSION_TTL, cookie_value, now, parse_params,
};
use crate::pages;
use crate::store::{Authenticated, AuthzRequest, CodeGrant, Interaction, ResponseMode, Session};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use url::Url;

const SESSION_COOKIE: &str = "op_session";
const INTERACTION_COOKIE: &str = "op_ix";

/// GET /authorize
pub async fn authorize_get(
    State(op): State<Arc<Op>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    authorize(&op, &headers, q.unwrap_or_default().as_bytes()).await
}

/// POST /authorize (OIDC Core §3.1.2.1: both methods must be supported)
pub async fn authorize_post(
    State(op): State<Arc<Op>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    authorize(&op, &headers, &body).await
}

fn user_error(title: &str, detail: &str) -> Response {
    pages::html(StatusCode::BAD_REQUEST, pages::error(title, detail), &[])
}

/// Where and how to answer a validated request.
struct Answer<'a> {
    redirect_uri: &'a str,
    state: Option<&'a str>,
    mode: ResponseMode,
    /// The client (the audience of a JARM response).
    client_id: &'a str,
}

impl Answer<'_> {
    fn send(&self, op: &Op, params: &[(&str, &str)], cookies: &[String]) -> Response {
        let mut all: Vec<(&str, &str)> = params.to_vec();
        let is_error = params.iter().any(|(k, _)| *k == "error");
        let state = self
            .state
            .and_then(|s| op.misbehaviour.response_state(s))
            .filter(|_| is_error || !op.flaw(Flaw::DropState));
        if let Some(state) = &state {
            all.push(("state", state));
        }
        let iss_flaw = if is_error {
            Flaw::NoIssOnError
        } else {
            Flaw::NoIss
        };
        let iss = op
            .misbehaviour
            .response_iss(&op.issuer)
            .filter(|_| !op.flaw(iss_flaw));
        if let Some(iss) = &iss {
            all.push(("iss", iss));
        }
        // JARM: the whole response as one signed JWT.
        let jwt;
        if self.mode.is_jwt() {
            jwt = match jarm_response(op, self.client_id, &all) {
                Ok(j) => j,
                Err(e) => return user_error("Server error", &e.to_string()),
            };
            all = vec![("response", jwt.as_str())];
        }
        match self.mode {
            ResponseMode::FormPost | ResponseMode::FormPostJwt => {
                let mut resp = pages::html(
                    StatusCode::OK,
                    pages::form_post(self.redirect_uri, &all),
                    cookies,
                );
                resp.headers_mut().insert(
                    "content-security-policy",
                    HeaderValue::from_static(
                        "default-src 'none'; script-src 'unsafe-inline'; form-action *",
                    ),
                );
                resp
            }
            ResponseMode::Fragment | ResponseMode::Query | ResponseMode::QueryJwt => {
                let mut url = match Url::parse(self.redirect_uri) {
                    Ok(u) => u,
                    Err(_) => {
                        return user_error(
                            "Invalid redirect URI",
                            "The redirect URI is not a URL.",
                        );
                    }
                };
                if self.mode == ResponseMode::Fragment {
                    let fragment = url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(all.iter())
                        .finish();
                    url.set_fragment(Some(&fragment));
                } else {
                    url.query_pairs_mut().extend_pairs(all.iter());
                }
                let mut resp = StatusCode::SEE_OTHER.into_response();
                if let Ok(v) = HeaderValue::from_str(url.as_str()) {
                    resp.headers_mut().insert(header::LOCATION, v);
                }
                resp.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                for c in cookies {
                    if let Ok(v) = HeaderValue::from_str(c) {
                        resp.headers_mut().append(header::SET_COOKIE, v);
                    }
                }
                resp
            }
        }
    }

    fn error(&self, op: &Op, error: &str, description: &str) -> Response {
        self.send(
            op,
            &[("error", error), ("error_description", description)],
            &[],
        )
    }
}

async fn authorize(op: &Arc<Op>, headers: &HeaderMap, raw: &[u8]) -> Response {
    let params = match parse_params(raw) {
        Ok(p) => p,
        Err(e) => return user_error("Invalid request", &e.to_string()),
    };
    // RFC 9126 §4: a pushed request's parameters replace the query (client_id and
    // request_uri) entirely.
    let params = match crate::par::take(op, &params) {
        Some(Ok(pushed)) => pushed,
        Some(Err(why)) => return user_error("Invalid request_uri", &why),
        None => params,
    };
    let pushed = params.contains_key(crate::par::PUSHED_MARK);
    // RFC 9101 §5.1: a request object by value replaces the query.
    let params = match crate::request_object::by_value(op, &params) {
        Some(Ok(object)) => {
            let mut object = object;
            if pushed {
                object.set(crate::par::PUSHED_MARK, "1".into());
            }
            object
        }
        Some(Err(why)) => return user_error("Invalid request object", &why),
        None => params,
    };
    // RFC 9101 §5.2: by reference (a conformance instance that requires one checks it
    // its own way below).
    let params = match op.misbehaviour.required_request_object_alg() {
        Some(_) => params,
        None => match crate::request_object::by_reference(op, &params).await {
            Some(Ok(object)) => object,
            Some(Err(why)) => return user_error("Invalid request_uri", &why),
            None => params,
        },
    };
    let params = match request_object(op, &params).await {
        Ok(p) => p,
        Err(resp) => return *resp,
    };
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());

    // 1. Client and redirect URI: errors here are shown, never redirected.
    let Some(client_id) = get("client_id") else {
        return user_error("Invalid request", "client_id is missing.");
    };
    let Some(client) = op.client(client_id) else {
        return user_error(
            "Unknown client",
            &format!("No client is registered as `{client_id}`."),
        );
    };
    let redirect_uri = match get("redirect_uri") {
        Some(r) if Op::match_redirect_uri(&client, r) => r.to_string(),
        Some(r) if op.flaw(Flaw::OpenRedirect) => r.to_string(),
        Some(r)
            if op.flaw(Flaw::PrefixRedirect)
                && client
                    .redirect_uris
                    .iter()
                    .any(|u| r.starts_with(u.as_str())) =>
        {
            r.to_string()
        }
        Some(_) => {
            return user_error(
                "Invalid redirect URI",
                "The redirect_uri is not registered for this client.",
            );
        }
        None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
        None => return user_error("Invalid request", "redirect_uri is missing."),
    };
    // Multiple Response Type Encoding Practices §2.1, §5: the fragment is the default of
    // every type but code, and the query is never used for tokens.
    let kinds = get("response_type")
        .filter(|t| !(op.flaw(Flaw::UnservedResponseType) && *t == "id_token token"))
        .and_then(crate::response_type::ResponseKinds::parse);
    let front = kinds.is_some_and(|k| !k.is_code_only());
    let mode = match get("response_mode") {
        None if front => ResponseMode::Fragment,
        Some("fragment") => ResponseMode::Fragment,
        Some("query") if front => ResponseMode::Fragment,
        None | Some("query") => ResponseMode::Query,
        Some("form_post") => ResponseMode::FormPost,
        // JARM §2.3.4: `jwt` is query.jwt for the code flow.
        Some("jwt") | Some("query.jwt") => ResponseMode::QueryJwt,
        Some("form_post.jwt") => ResponseMode::FormPostJwt,
        Some(_) => ResponseMode::Query,
    };
    let answer = Answer {
        redirect_uri: &redirect_uri,
        state: get("state"),
        mode,
        client_id,
    };
    if let Some(m) = get("response_mode")
        && ![
            "query",
            "fragment",
            "form_post",
            "jwt",
            "query.jwt",
            "form_post.jwt",
        ]
        .contains(&m)
    {
        return answer.error(
            op,
            "invalid_request",
            "response_mode must be query, fragment, form_post, jwt, query.jwt or form_post.jwt",
        );
    }
    if front && get("response_mode") == Some("query") {
        return answer.error(
            op,
            "invalid_request",
            "response_mode=query cannot carry tokens (Multiple Response Type Encoding Practices §5)",
        );
    }
    if front && mode.is_jwt() {
        return answer.error(
            op,
            "invalid_request",
            "JARM is served for response_type=code only",
        );
    }

    // 2. Everything else is answered at the redirect URI.
    if client.require_pushed_authorization_requests && !pushed {
        return answer.error(
            op,
            "invalid_request",
            "this client's authorization requests must be pushed (RFC 9126 §6)",
        );
    }
    if get("request_uri").is_some() {
        return answer.error(
            op,
            "request_uri_not_supported",
            "request_uri is not supported",
        );
    }
    if let Err(refusal) = op.misbehaviour.authorization(&params) {
        return answer.error(op, refusal.error, &refusal.description);
    }
    if op.flaw(Flaw::StrictParameters) && params.contains_key("rp_audit_unknown") {
        return answer.error(op, "invalid_request", "unknown parameter rp_audit_unknown");
    }
    if op.flaw(Flaw::NonceRequired) && get("nonce").is_none() {
        return answer.error(op, "invalid_request", "nonce is required");
    }
    let kinds = match (get("response_type"), kinds) {
        (Some(_), Some(k)) => k,
        (Some(_), None) => {
            return answer.error(
                op,
                "unsupported_response_type",
                "response_type must be code, id_token, id_token token, code id_token, code token or code id_token token",
            );
        }
        (None, _) => return answer.error(op, "invalid_request", "response_type is missing"),
    };
    if !client
        .response_types
        .iter()
        .any(|r| crate::response_type::ResponseKinds::parse(r) == Some(kinds))
    {
        return answer.error(
            op,
            "unauthorized_client",
            &format!(
                "the client is not registered for response_type={}",
                get("response_type").unwrap_or("")
            ),
        );
    }
    // OIDC Core §3.2.2.1, §3.3.2.11: an ID token from the authorization endpoint needs a
    // nonce (it is the only replay defence there).
    if kinds.id_token && get("nonce").is_none() {
        return answer.error(
            op,
            "invalid_request",
            "nonce is required when the authorization endpoint returns an ID token (OIDC Core §3.2.2.1)",
        );
    }
    let scope = crate::op::space_list(get("scope").unwrap_or(""));
    if !scope.iter().any(|s| s == "openid") {
        return answer.error(op, "invalid_scope", "scope must include openid");
    }
    let code_challenge = match (get("code_challenge"), get("code_challenge_method")) {
        (Some(c), Some("S256")) if valid_pkce_value(c) => Some(c.to_string()),
        (Some(_), Some("S256")) => {
            return answer.error(op, "invalid_request", "code_challenge is malformed");
        }
        // The flaw: plain stores the verifier itself; the token endpoint then compares its
        // hash, so only the acceptance is flawed (enough for an audit to see it).
        (Some(c), Some("plain")) if op.flaw(Flaw::PlainPkce) => Some(c.to_string()),
        (Some(_), _) => {
            return answer.error(
                op,
                "invalid_request",
                "code_challenge_method must be S256 (plain is not accepted)",
            );
        }
        (None, _) if client.require_pkce && kinds.code && !op.flaw(Flaw::OptionalPkce) => {
            return answer.error(
                op,
                "invalid_request",
                "PKCE (code_challenge with S256) is required (RFC 9700 §2.1.1)",
            );
        }
        (None, _) => None,
    };
    let max_age = match get("max_age").map(str::parse::<i64>) {
        None => None,
        Some(Ok(v)) if v >= 0 => Some(v),
        Some(_) => {
            return answer.error(
                op,
                "invalid_request",
                "max_age must be a non-negative integer",
            );
        }
    };
    let prompt = crate::op::space_list(get("prompt").unwrap_or(""));
    if prompt.iter().any(|p| p == "none") && prompt.len() > 1 {
        return answer.error(
            op,
            "invalid_request",
            "prompt=none cannot be combined with other values",
        );
    }
    let claims = match get("claims").map(serde_json::from_str::<serde_json::Value>) {
        None => None,
        Some(Ok(_)) if op.flaw(Flaw::ClaimsIgnored) => None,
        Some(Ok(v)) if v.is_object() => Some(v),
        Some(_) => return answer.error(op, "invalid_request", "claims is not a JSON object"),
    };
    // OIDC Core §3.1.2.1: an `id_token_hint` must be an ID token this provider issued to
    // this client (expired is fine); its `sub` then names the only user who may answer.
    let hint_sub = match get("id_token_hint") {
        None => None,
        Some(h) => match op.keys().verify_own(h) {
            Some(c)
                if c["iss"] == op.issuer.as_str()
                    && (c["aud"] == client_id
                        || c["aud"]
                            .as_array()
                            .is_some_and(|a| a.iter().any(|v| v == client_id))) =>
            {
                c["sub"].as_str().map(str::to_string)
            }
            _ => {
                return answer.error(
                    op,
                    "invalid_request",
                    "id_token_hint is not an ID token this provider issued to this client",
                );
            }
        },
    };
    let request = AuthzRequest {
        hint_sub,
        client_id: client_id.to_string(),
        redirect_uri: redirect_uri.clone(),
        scope,
        state: get("state").map(str::to_string),
        nonce: get("nonce").map(str::to_string),
        code_challenge,
        prompt,
        max_age,
        login_hint: get("login_hint").map(str::to_string),
        response_mode: mode,
        claims,
        device: None,
        response_type: kinds,
        dpop_jkt: get("dpop_jkt").map(str::to_string),
    };

    if let Some(keys) = op.misbehaviour.rotate_keys(KeyMoment::Authorization) {
        op.set_keys(keys);
    }
    // Test instances sign the fixture user in without a form, as the OIDF test OP does;
    // `prompt=none` still needs the browser's session (a silent re-check after logout must
    // find none).
    if op.misbehaviour.sign_in_without_form() && !request.prompt.iter().any(|p| p == "none") {
        let Some(user) = op.users.first() else {
            return user_error("No users", "The provider has no users.");
        };
        let (cookies, authenticated) = new_session(op, &user.sub.clone());
        return after_login(op, request, authenticated, cookies);
    }

    start_interaction(op, headers, request)
}

/// An existing session answers without a login unless the request forbids it; otherwise
/// the login form (bound to this browser by a cookie).
pub(crate) fn start_interaction(
    op: &Arc<Op>,
    headers: &HeaderMap,
    request: AuthzRequest,
) -> Response {
    let Some(client) = op.client(&request.client_id) else {
        return user_error("Unknown client", "The client was removed.");
    };
    let t = now();
    let session = cookie_value(headers, SESSION_COOKIE).and_then(|c| op.store.session(c, t));
    // OIDC Core §3.1.2.1 (errata set 2): max_age=0 is prompt=login.
    let fresh_enough = |s: &Session| {
        op.flaw(Flaw::IgnoreMaxAge)
            || request
                .max_age
                .is_none_or(|m| m > 0 && t - s.auth_time <= m)
    };
    let wants_login =
        request.prompt.iter().any(|p| p == "login") && !op.flaw(Flaw::IgnorePromptLogin);
    let hinted = |s: &Session| request.hint_sub.as_ref().is_none_or(|h| *h == s.sub);
    match session {
        Some(s) if !wants_login && fresh_enough(&s) && hinted(&s) => {
            let user = Authenticated {
                sub: s.sub,
                auth_time: s.auth_time,
                sid: s.sid,
            };
            after_login(op, request, user, Vec::new())
        }
        _ if request.prompt.iter().any(|p| p == "none") && op.flaw(Flaw::PromptNoneError) => {
            pages::html(
                StatusCode::INTERNAL_SERVER_ERROR,
                pages::error("Server error", "Something went wrong."),
                &[],
            )
        }
        _ if request.prompt.iter().any(|p| p == "none") => Answer {
            redirect_uri: &request.redirect_uri,
            state: request.state.as_deref(),
            mode: request.response_mode,
            client_id: &request.client_id,
        }
        .error(
            op,
            "login_required",
            "the user is not signed in and prompt=none forbids asking",
        ),
        _ => {
            let id = op.random(24);
            let binding = op.random(24);
            let username = request.login_hint.clone().unwrap_or_default();
            op.store.put_interaction(
                &id,
                Interaction {
                    binding: binding.clone(),
                    request,
                    user: None,
                    expires_at: t + INTERACTION_TTL,
                },
            );
            pages::html(
                StatusCode::OK,
                pages::login(&op.issuer, client.display_name(), &id, &username, None),
                &[op.cookie(INTERACTION_COOKIE, &binding, INTERACTION_TTL)],
            )
        }
    }
}

/// A JARM response (JARM §2.1): the response parameters, `iss`, `aud` the client and a
/// short `exp`, signed with the client's `authorization_signed_response_alg` (RS256 when
/// it registered none).
fn jarm_response(
    op: &Op,
    client_id: &str,
    params: &[(&str, &str)],
) -> crate::error::Result<String> {
    let alg = op
        .client(client_id)
        .and_then(|c| {
            c.other
                .get("authorization_signed_response_alg")
                .and_then(|v| v.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "RS256".into());
    let mut claims = serde_json::Map::new();
    for (k, v) in params {
        claims.insert((*k).to_string(), serde_json::json!(v));
    }
    claims.insert("aud".into(), serde_json::json!(client_id));
    claims.insert("exp".into(), serde_json::json!(now() + 60));
    op.misbehaviour.jarm_claims(&mut claims);
    let jwt = op
        .keys()
        .sign(&alg, &serde_json::Value::Object(claims), None)?;
    Ok(op.misbehaviour.jarm_jwt(jwt))
}

/// When the instance requires request objects by reference: fetch the one named by `request_uri`,
/// verify it, and let its parameters replace the query's (OIDC Core §6.3.3). Errors about the
/// client or redirect URI are shown; others go back to the client.
async fn request_object(op: &Arc<Op>, params: &Params) -> Result<Params, Box<Response>> {
    let Some(alg) = op.misbehaviour.required_request_object_alg() else {
        return Ok(params.clone());
    };
    let alg = alg.to_string();
    let fail = |error: &str, description: &str| {
        let redirect = params.get("redirect_uri").cloned().unwrap_or_default();
        let state = params.get("state").cloned();
        Box::new(
            Answer {
                redirect_uri: &redirect,
                state: state.as_deref(),
                mode: ResponseMode::Query,
                client_id: params.get("client_id").map(String::as_str).unwrap_or(""),
            }
            .error(op, error, description),
        )
    };
    let client = params
        .get("client_id")
        .and_then(|c| op.client(c))
        .ok_or_else(|| Box::new(user_error("Unknown client", "No such client.")))?;
    if !params
        .get("redirect_uri")
        .is_some_and(|r| Op::match_redirect_uri(&client, r))
    {
        return Err(Box::new(user_error(
            "Invalid redirect URI",
            "Not registered.",
        )));
    }
    let Some(uri) = params.get("request_uri") else {
        return Err(fail("invalid_request", "this test needs a request_uri"));
    };
    let signing = crate::request_object::Signing::Exactly(&alg);
    match crate::request_object::fetch(op, &client, uri, signing).await {
        Ok(values) => {
            let mut merged = params.clone();
            merged.remove("request_uri");
            for (k, v) in values {
                merged.set(&k, v);
            }
            Ok(merged)
        }
        Err(e) => Err(fail("invalid_request_uri", &e.to_string())),
    }
}

/// Start a browser session for `sub`: its `Set-Cookie` and the signed-in user.
fn new_session(op: &Op, sub: &str) -> (Vec<String>, Authenticated) {
    let t = now();
    let cookie = op.random(32);
    let session = Session {
        sid: op.random(16),
        sub: sub.to_string(),
        auth_time: t,
        expires_at: t + SESSION_TTL,
        clients: Vec::new(),
    };
    let authenticated = Authenticated {
        sub: session.sub.clone(),
        auth_time: t,
        sid: session.sid.clone(),
    };
    op.logged_in(sub, t);
    op.store.put_session(&cookie, session);
    (
        vec![
            op.cookie(SESSION_COOKIE, &cookie, SESSION_TTL),
            crate::session_management::cookie(op, &authenticated.sid, SESSION_TTL),
        ],
        authenticated,
    )
}

/// RFC 7636 §4.1/4.2: 43-128 characters of [A-Z a-z 0-9 - . _ ~].
pub fn valid_pkce_value(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// The user is known: ask for consent when needed, else issue the code.
fn after_login(
    op: &Arc<Op>,
    request: AuthzRequest,
    user: Authenticated,
    cookies: Vec<String>,
) -> Response {
    let Some(client) = op.client(&request.client_id) else {
        return user_error("Unknown client", "The client was removed.");
    };
    // RFC 8628 §5.4: a device login is always approved explicitly.
    let needs_consent = request.device.is_some()
        || !op.misbehaviour.sign_in_without_form()
            && (client.require_consent
                || request.prompt.iter().any(|p| p == "consent")
                || request.scope.iter().any(|s| s == "offline_access"));
    if needs_consent {
        if request.prompt.iter().any(|p| p == "none") {
            let answer = Answer {
                redirect_uri: &request.redirect_uri,
                state: request.state.as_deref(),
                mode: request.response_mode,
                client_id: &request.client_id,
            };
            return answer.error(
                op,
                "consent_required",
                "consent is needed and prompt=none forbids asking",
            );
        }
        let id = op.random(24);
        let binding = op.random(24);
        let page = pages::consent(&op.issuer, client.display_name(), &id, &request.scope);
        op.store.put_interaction(
            &id,
            Interaction {
                binding: binding.clone(),
                request,
                user: Some(user),
                expires_at: now() + INTERACTION_TTL,
            },
        );
        let mut cookies = cookies;
        cookies.push(op.cookie(INTERACTION_COOKIE, &binding, INTERACTION_TTL));
        return pages::html(StatusCode::OK, page, &cookies);
    }
    issue_code(op, request, user, &cookies)
}

fn issue_code(op: &Op, request: AuthzRequest, user: Authenticated, cookies: &[String]) -> Response {
    if request.device.is_some() {
        let mut resp = crate::device::finish(op, &request, Some(user));
        for c in cookies {
            if let Ok(v) = HeaderValue::from_str(c) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
        }
        return resp;
    }
    // The client takes part in the session: it is logged out with it.
    op.store.join_session(&user.sid, &request.client_id);
    let grant_id = op.random(16);
    let answer_to = (
        request.redirect_uri.clone(),
        request.state.clone(),
        request.response_mode,
        request.client_id.clone(),
    );
    let answer = Answer {
        redirect_uri: &answer_to.0,
        state: answer_to.1.as_deref(),
        mode: answer_to.2,
        client_id: &answer_to.3,
    };
    let code = request.response_type.code.then(|| op.random(32));
    let mut params = match front_channel(op, &grant_id, &request, &user, code.as_deref()) {
        Ok(p) => p,
        Err(e) => return answer.error(op, "server_error", &e.to_string()),
    };
    // Session Management 1.0 §3: the session's state as this client's origin sees it.
    if let Some(state) = crate::session_management::session_state(
        op,
        &request.client_id,
        &request.redirect_uri,
        &user.sid,
    ) {
        params.push(("session_state".into(), state));
    }
    if let Some(code) = code {
        op.store.put_code(
            &code,
            CodeGrant {
                grant_id,
                request,
                user,
                expires_at: now() + CODE_TTL,
            },
        );
        params.insert(0, ("code".into(), code));
    }
    let pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    answer.send(op, &pairs, cookies)
}

/// The tokens the implicit and hybrid types return from the authorization endpoint (OIDC
/// Core §3.2.2.5, §3.3.2.5): an access token (`token`), and an ID token (`id_token`) with
/// `at_hash` for that access token and `c_hash` for `code`.
fn front_channel(
    op: &Op,
    grant_id: &str,
    request: &AuthzRequest,
    user: &Authenticated,
    code: Option<&str>,
) -> crate::error::Result<Vec<(String, String)>> {
    let kinds = request.response_type;
    let mut params = Vec::new();
    if !kinds.id_token && !kinds.token {
        return Ok(params);
    }
    let Some(client) = op.client(&request.client_id) else {
        return Ok(params);
    };
    let base = crate::token::base_record(grant_id, request, user, None, None);
    let access = if kinds.token {
        Some(crate::token::issue_access_token(op, &client, &base)?)
    } else {
        None
    };
    if let Some(access) = &access {
        params.push(("access_token".into(), access.clone()));
        params.push(("token_type".into(), "Bearer".into()));
        params.push(("expires_in".into(), crate::op::ACCESS_TOKEN_TTL.to_string()));
    }
    if kinds.id_token {
        let jwt = crate::token::id_token_with_hashes(
            op,
            &client,
            &base,
            request.nonce.as_deref(),
            access.as_deref(),
            code,
            false,
        )?;
        params.push(("id_token".into(), jwt));
    }
    Ok(params)
}

/// A posted interaction form and the interaction it names, if its browser binding cookie came
/// with it: (form, interaction id, interaction).
fn interaction_form(
    op: &Op,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Params, String, Interaction), Response> {
    let form = parse_params(body).map_err(|e| user_error("Invalid request", &e.to_string()))?;
    let id = form.get("interaction").cloned().unwrap_or_default();
    let Some(ix) = op.store.interaction(&id, now()) else {
        return Err(user_error(
            "Login expired",
            "This sign-in page has expired or was already used. Go back to the application and start again.",
        ));
    };
    let bound = cookie_value(headers, INTERACTION_COOKIE).is_some_and(|c| {
        bool::from(subtle::ConstantTimeEq::ct_eq(
            c.as_bytes(),
            ix.binding.as_bytes(),
        ))
    });
    if !bound {
        return Err(user_error(
            "Invalid sign-in",
            "This form was not opened in this browser (missing or wrong cookie). Start again from the application.",
        ));
    }
    Ok((form, id, ix))
}

/// POST /login
pub async fn login(State(op): State<Arc<Op>>, headers: HeaderMap, body: Bytes) -> Response {
    let (form, id, ix) = match interaction_form(&op, &headers, &body) {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let username = form.get("username").map(String::as_str).unwrap_or("");
    let password = form.get("password").map(String::as_str).unwrap_or("");
    // Brakes on guessing a user's password (see crate::throttle).
    let key = format!("user:{username}");
    if let Err(wait) = op.throttle.check(&key, now()) {
        tracing::warn!(target: "rp_provider", user = %username, "sign-in throttled");
        let mut resp = pages::html(
            StatusCode::TOO_MANY_REQUESTS,
            pages::error(
                "Too many attempts",
                &format!("Too many failed sign-ins for this user. Try again in {wait} s."),
            ),
            &[],
        );
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return resp;
    }
    let Some(user) = op.authenticate(username, password) else {
        op.throttle.failed(&key, now());
        let name = op
            .client(&ix.request.client_id)
            .map(|c| c.display_name().to_string())
            .unwrap_or_default();
        tracing::info!(target: "rp_provider", user = %username, "failed login");
        return pages::html(
            StatusCode::OK,
            pages::login(
                &op.issuer,
                &name,
                &id,
                username,
                Some("Invalid username or password."),
            ),
            &[],
        );
    };
    op.store.remove_interaction(&id);
    let (mut cookies, authenticated) = new_session(&op, &user.sub.clone());
    cookies.push(op.cookie(INTERACTION_COOKIE, "", 0));
    after_login(&op, ix.request, authenticated, cookies)
}

/// POST /consent
pub async fn consent(State(op): State<Arc<Op>>, headers: HeaderMap, body: Bytes) -> Response {
    let (form, id, ix) = match interaction_form(&op, &headers, &body) {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    op.store.remove_interaction(&id);
    let Some(user) = ix.user else {
        return user_error("Invalid request", "Sign in first.");
    };
    let cookies = vec![op.cookie(INTERACTION_COOKIE, "", 0)];
    if form.get("decision").map(String::as_str) != Some("allow") && ix.request.device.is_some() {
        return crate::device::finish(&op, &ix.request, None);
    }
    if form.get("decision").map(String::as_str) != Some("allow") {
        let answer = Answer {
            redirect_uri: &ix.request.redirect_uri,
            state: ix.request.state.as_deref(),
            mode: ix.request.response_mode,
            client_id: &ix.request.client_id,
        };
        return answer.send(
            &op,
            &[
                ("error", "access_denied"),
                ("error_description", "the user denied the request"),
            ],
            &cookies,
        );
    }
    issue_code(&op, ix.request, user, &cookies)
}
