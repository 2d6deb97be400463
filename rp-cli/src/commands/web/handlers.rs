//! The web app's routes.

use super::App;
use super::pages::{self, Choice};
use super::session::{self, Shown, SignedIn, StoreDown, WebSession};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use oidc_rp::session_management::{Recheck, recheck_request};
use oidc_rp::token_types;
use oidc_rp::{
    AuthorizationRequest, CallbackParams, ClientConfig, ExtraClientMetadata, LogoutRequest,
    RegistrationRequest, RelyingParty, Secret, TokenExchangeRequest,
};
use std::collections::HashMap;
use std::sync::Arc;

/// Every route of the app, behind the Host check.
pub fn router(app: Arc<App>) -> Router {
    let checked = app.clone();
    Router::new()
        .route("/", get(landing))
        .route("/login", post(login))
        .route("/callback", get(callback).post(callback_post))
        .route("/initiate", get(initiate).post(initiate_post))
        .route("/session-check", get(session_check))
        .route("/me", get(me))
        .route("/refresh", post(refresh))
        .route("/introspect", post(introspect))
        .route("/exchange", post(exchange))
        .route("/userinfo", post(userinfo))
        .route("/logout", post(logout))
        .route("/logged-out", get(logged_out))
        .route("/backchannel-logout", post(backchannel))
        .route("/frontchannel-logout", get(frontchannel))
        .with_state(app)
        .layer(axum::middleware::from_fn(move |req, next| {
            host_check(checked.clone(), req, next)
        }))
}

/// Answer only the host names the app serves (127.0.0.1, localhost and [::1] with its port,
/// and the `--public-url`): a web page that rebinds its own DNS name to 127.0.0.1 would
/// otherwise drive the app (and, through `/login`, make it fetch any URL). Under TLS every
/// answer carries HSTS.
async fn host_check(
    app: Arc<App>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !app.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
        tracing::warn!(target: "rp_web", host = %crate::term::inline(host), "refused a request for another host");
        return plain(
            StatusCode::MISDIRECTED_REQUEST,
            "this app answers only its own host names",
        );
    }
    let mut response = next.run(req).await;
    if app.secure {
        response.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=86400"),
        );
    }
    response
}

/// An HTML response with the app's security headers. Pages are never cached (they show
/// claims) and never framed, except the front-channel logout page, which the provider loads in
/// an iframe (Front-Channel Logout 1.0 §2).
fn html(status: StatusCode, body: String, cookie: Option<String>, frameable: bool) -> Response {
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let csp = if frameable {
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'"
    } else {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'"
    };
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    if let Some(c) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        h.insert(header::SET_COOKIE, c);
    }
    r
}

fn see_other(location: &str, cookie: Option<String>) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(c) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        r.headers_mut().insert(header::SET_COOKIE, c);
    }
    r
}

fn error_page(status: StatusCode, title: &str, detail: &str) -> Response {
    html(status, pages::error(title, detail), None, false)
}

fn cookie_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::COOKIE).and_then(|v| v.to_str().ok())
}

/// The answer when the session store (Redis) does not answer: a page that says so; the
/// request changed nothing.
impl From<StoreDown> for Response {
    fn from(e: StoreDown) -> Response {
        tracing::error!(target: "rp_web", "{e}");
        error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Session store unavailable",
            &format!("{e}. Try again in a moment."),
        )
    }
}

/// What a page handler answers: a page, or an error page (`?` on the session store).
type Page = Result<Response, Response>;

/// A session id as this app makes them (32 random bytes, base64url): anything else in the
/// cookie is no session, and never a store key.
fn well_formed(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The browser's session, when it has one. Page views never make one: only a login does.
async fn session_of(
    app: &App,
    headers: &HeaderMap,
) -> Result<Option<(String, WebSession)>, StoreDown> {
    let Some(id) = session::from_cookie_header(cookie_header(headers)).filter(|id| well_formed(id))
    else {
        return Ok(None);
    };
    Ok(app.sessions.get(&id).await?.map(|s| (id, s)))
}

/// The pre-session CSRF token of a browser without a session: its cookie's, when well
/// formed, else a new one to set.
fn pre_session_csrf(app: &App, headers: &HeaderMap) -> (Secret, Option<String>) {
    match session::cookie(cookie_header(headers), session::CSRF_COOKIE).filter(|t| well_formed(t)) {
        Some(t) => (Secret::new(t), None),
        None => {
            let t = session::new_csrf();
            let cookie = session::set_csrf_cookie(t.expose(), app.secure);
            (t, Some(cookie))
        }
    }
}

fn form(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn choices(app: &App) -> Vec<Choice> {
    app.providers
        .iter()
        .map(|p| Choice {
            label: p.label.clone(),
            issuer: p.issuer.clone(),
        })
        .collect()
}

async fn landing(State(app): State<Arc<App>>, headers: HeaderMap) -> Page {
    match session_of(&app, &headers).await? {
        Some((id, s)) => {
            let page = pages::landing(&s, &choices(&app), None);
            app.sessions.update(&id, |s| s.notice = None).await?;
            Ok(html(StatusCode::OK, page, None, false))
        }
        None => {
            let (csrf, cookie) = pre_session_csrf(&app, &headers);
            let page = pages::landing(&WebSession::unsaved(csrf), &choices(&app), None);
            Ok(html(StatusCode::OK, page, cookie, false))
        }
    }
}

impl App {
    fn callback_uri(&self) -> String {
        format!("{}/callback", self.base)
    }

    /// The relying party for `issuer`: with a client registered for this app (RFC 7591), or
    /// the listed provider's static client.
    async fn relying_party(
        &self,
        issuer: &str,
        register: bool,
    ) -> Result<Arc<RelyingParty>, String> {
        let metadata = match &self.documents {
            // Fetched once for every instance (`--redis`), checked by each.
            Some(store) => {
                oidc_rp::discovery::discover_shared(
                    &self.http,
                    issuer,
                    store.as_ref(),
                    std::time::Duration::from_secs(600),
                )
                .await
            }
            None => oidc_rp::discovery::discover(&self.http, issuer).await,
        }
        .map_err(|e| e.to_string())?;
        let issuer = metadata.issuer().as_str().to_string();
        let client: ClientConfig = if register {
            let known = self
                .sessions
                .registered(&issuer)
                .await
                .map_err(|e| e.to_string())?;
            match known {
                Some(c) => c,
                None => {
                    let base = &self.base;
                    let client = oidc_rp::registration::register(
                        &self.http,
                        &metadata,
                        &RegistrationRequest {
                            redirect_uris: vec![self.callback_uri()],
                            client_name: Some("rp web".into()),
                            grant_types: if self.response_type.has_only_code() {
                                vec!["authorization_code".into(), "refresh_token".into()]
                            } else {
                                vec![
                                    "authorization_code".into(),
                                    "implicit".into(),
                                    "refresh_token".into(),
                                ]
                            },
                            response_types: vec![self.response_type],
                            extra: ExtraClientMetadata {
                                post_logout_redirect_uris: Some(vec![format!("{base}/logged-out")]),
                                backchannel_logout_uri: Some(format!("{base}/backchannel-logout")),
                                backchannel_logout_session_required: Some(true),
                                frontchannel_logout_uri: Some(format!(
                                    "{base}/frontchannel-logout"
                                )),
                                frontchannel_logout_session_required: Some(true),
                                ..Default::default()
                            },
                            ..Default::default()
                        },
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                    // Another instance may have registered meanwhile: every instance uses
                    // the client kept first.
                    self.sessions
                        .keep_registered(&issuer, client)
                        .await
                        .map_err(|e| e.to_string())?
                }
            }
        } else {
            self.providers
                .iter()
                .find(|p| p.issuer == issuer)
                .and_then(|p| p.static_client.clone())
                .ok_or_else(|| {
                    "this app has no static client at that provider: tick \"Register a client dynamically\"".to_string()
                })?
        };
        if let Some(rp) = self.local_rp(&issuer, &client.client_id) {
            return Ok(rp);
        }
        let key = (issuer.clone(), client.client_id.clone());
        let mut rp =
            RelyingParty::new(self.http.clone(), metadata, client).map_err(|e| e.to_string())?;
        if let Some(store) = &self.documents {
            rp = rp.with_document_store(store.clone());
        }
        let rp = Arc::new(rp);
        self.rps
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, rp.clone());
        Ok(rp)
    }

    fn local_rp(&self, issuer: &str, client_id: &str) -> Option<Arc<RelyingParty>> {
        self.rps
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(issuer.to_string(), client_id.to_string()))
            .cloned()
    }

    /// The relying party of a session's issuer and client: this instance's, or, for a login
    /// another instance started (`--redis`), one made here from the shared registered client
    /// or the listed static client. `None` for a client this app does not have.
    async fn known_rp(
        &self,
        issuer: &str,
        client_id: &str,
    ) -> Result<Option<Arc<RelyingParty>>, StoreDown> {
        if let Some(rp) = self.local_rp(issuer, client_id) {
            return Ok(Some(rp));
        }
        let registered = self
            .sessions
            .registered(issuer)
            .await?
            .is_some_and(|c| c.client_id == client_id);
        let listed = self.providers.iter().any(|p| {
            p.issuer == issuer
                && p.static_client
                    .as_ref()
                    .is_some_and(|c| c.client_id == client_id)
        });
        if !registered && !listed {
            return Ok(None);
        }
        match self.relying_party(issuer, registered).await {
            Ok(rp) if rp.client().client_id == client_id => Ok(Some(rp)),
            Ok(_) => Ok(None),
            Err(e) => {
                tracing::warn!(target: "rp_web", issuer = %crate::term::inline(issuer), "cannot rebuild the relying party: {}", crate::term::inline(&e));
                Ok(None)
            }
        }
    }
}

async fn login(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Page {
    let f = form(&body);
    // The session's CSRF token, or before any session the double-submitted cookie's.
    let existing = session_of(&app, &headers).await?;
    let s = match &existing {
        Some((_, s)) => s.clone(),
        None => WebSession::unsaved(pre_session_csrf(&app, &headers).0),
    };
    if !s.csrf_ok(f.get("csrf").map(String::as_str)) {
        return Err(error_page(
            StatusCode::FORBIDDEN,
            "Form expired",
            "The form's CSRF token does not match this browser session (the session expired, or the form came from another site). Start again.",
        ));
    }
    let fail = |msg: String| {
        html(
            StatusCode::BAD_REQUEST,
            pages::landing(&s, &choices(&app), Some(&msg)),
            None,
            false,
        )
    };
    let input = match f.get("provider").map(String::as_str) {
        Some("other") | None => f
            .get("issuer")
            .map(|i| i.trim().to_string())
            .unwrap_or_default(),
        Some(n) => match n.parse::<usize>().ok().and_then(|i| app.providers.get(i)) {
            Some(p) => p.issuer.clone(),
            None => {
                return Err(fail(
                    "Pick a provider from the list, or type an issuer.".into(),
                ));
            }
        },
    };
    if input.is_empty() {
        return Err(fail("Type an issuer URL or an acct: identifier.".into()));
    }
    // OpenID Connect Discovery 1.0 §2: an e-mail-like identifier finds its issuer by WebFinger.
    let issuer = if input.starts_with("acct:") || (!input.contains("://") && input.contains('@')) {
        match oidc_rp::discovery::webfinger(&app.http, &input).await {
            Ok(i) => i,
            Err(e) => return Err(fail(format!("WebFinger for {input} failed: {e}"))),
        }
    } else {
        input.trim_end_matches('/').to_string()
    };
    let register = f.get("register").is_some_and(|v| v == "on");
    start_login(&app, existing, &issuer, register, None, None)
        .await
        .map_err(fail)
}

/// Send the browser to `issuer`'s authorization endpoint, the transaction kept in its session
/// (made here, when a login starts). A session store that does not answer gives its own
/// error page (as `Ok`); `Err` is the reason the provider could not be used.
async fn start_login(
    app: &App,
    existing: Option<(String, WebSession)>,
    issuer: &str,
    register: bool,
    login_hint: Option<String>,
    after_login: Option<String>,
) -> Result<Response, String> {
    let rp = app.relying_party(issuer, register).await?;
    let request = AuthorizationRequest {
        login_hint,
        response_type: app.response_type,
        ..AuthorizationRequest::with_scopes(["openid", "profile", "email", "offline_access"])
    };
    let (url, txn) = rp
        .authorization_url(&request, &app.callback_uri())
        .map_err(|e| e.to_string())?;
    let issuer = rp.issuer().to_string();
    let (id, cookie) = match existing {
        Some((id, _)) => (id, None),
        None => match app.sessions.create().await {
            Ok((id, _)) => {
                let cookie = session::set_cookie(&id, app.secure);
                (id, Some(cookie))
            }
            Err(e) => return Ok(e.into()),
        },
    };
    let pending = (txn, issuer);
    if let Err(e) = app
        .sessions
        .update(&id, |s| {
            s.pending = Some(pending.clone());
            s.notice = None;
            s.after_login = after_login.clone();
        })
        .await
    {
        return Ok(e.into());
    }
    Ok(see_other(url.as_str(), cookie))
}

/// GET /initiate: the app's `initiate_login_uri` (OIDC Core §4). A provider the app lists
/// (and only one it lists: the `iss` is compared exactly) starts a login here;
/// `target_link_uri`, on this app's own origin only, is where the user lands afterwards.
async fn initiate(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    initiated(&app, headers, query.unwrap_or_default().as_bytes()).await
}

/// POST /initiate: the same, form-encoded (§4 allows either).
async fn initiate_post(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    initiated(&app, headers, &body).await
}

async fn initiated(app: &App, headers: HeaderMap, params: &[u8]) -> Response {
    let policy = oidc_rp::initiate::InitiationPolicy {
        issuers: app.providers.iter().map(|p| p.issuer.clone()).collect(),
        target_origins: vec![app.base.clone()],
    };
    let started = match oidc_rp::initiate::InitiatedLogin::parse(params, &policy) {
        Ok(s) => s,
        Err(e) => {
            return error_page(StatusCode::BAD_REQUEST, "Login not started", &e.to_string());
        }
    };
    // A path on this origin; `//host` would be read by the browser as another origin.
    if started
        .target_link_uri
        .as_ref()
        .is_some_and(|u| u.path().starts_with("//"))
    {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Login not started",
            "target_link_uri is not a path on this app",
        );
    }
    let after = started.target_link_uri.map(|u| match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    });
    let existing = match session_of(app, &headers).await {
        Ok(e) => e,
        Err(e) => return e.into(),
    };
    match start_login(
        app,
        existing,
        &started.issuer,
        false,
        started.login_hint,
        after,
    )
    .await
    {
        Ok(r) => r,
        Err(e) => error_page(StatusCode::BAD_GATEWAY, "Login not started", &e),
    }
}

/// GET /callback. Without parameters while a fragment response is awaited (the implicit and
/// hybrid types), a page whose script posts the fragment back here.
async fn callback(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Page {
    let query = query.unwrap_or_default();
    if query.is_empty() && !app.response_type.has_only_code() {
        let nonce = Secret::random(16);
        let mut r = html(
            StatusCode::OK,
            pages::fragment_relay(nonce.expose()),
            None,
            false,
        );
        let csp = format!(
            "default-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'; script-src 'nonce-{}'",
            nonce.expose()
        );
        if let Ok(v) = HeaderValue::from_str(&csp) {
            r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
        }
        return Ok(r);
    }
    callback_params(app, headers, query.as_bytes()).await
}

/// POST /callback: the fragment posted back (same-origin, so the session cookie comes along).
async fn callback_post(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Page {
    callback_params(app, headers, &body).await
}

async fn callback_params(app: Arc<App>, headers: HeaderMap, raw: &[u8]) -> Page {
    let Some((id, Some((txn, issuer)), rechecking, signed_in_sub)) =
        session_of(&app, &headers).await?.map(|(id, s)| {
            let sub = s.signed_in.as_ref().map(|i| i.subject().to_string());
            (id, s.pending, s.rechecking, sub)
        })
    else {
        return Err(error_page(
            StatusCode::BAD_REQUEST,
            "No login in progress",
            "This browser session has no login waiting for this answer (cookies blocked, the page reloaded, or the link came from elsewhere). Start again.",
        ));
    };
    let params = CallbackParams::parse(raw)
        .map_err(|e| error_page(StatusCode::BAD_REQUEST, "Login failed", &e.to_string()))?;
    // A callback with another state does not answer this login (RFC 6749 §10.12): it is
    // ignored, and the login in progress goes on, as at the CLI's listener.
    if !txn.state_matches(params.state.as_deref()) {
        tracing::warn!(target: "rp_web", "ignored a callback whose state does not match the login in progress");
        return Err(error_page(
            StatusCode::BAD_REQUEST,
            "Unexpected callback",
            "This response does not belong to the login in progress (state mismatch). It was ignored.",
        ));
    }
    // One callback per login: the transaction is gone before it is used, on every instance.
    let mut taken = false;
    app.sessions
        .update(&id, |s| {
            taken = s.pending.as_ref().is_some_and(|(t, _)| *t == txn);
            if taken {
                s.pending = None;
                s.rechecking = false;
            }
        })
        .await?;
    if !taken {
        return Err(error_page(
            StatusCode::BAD_REQUEST,
            "Login already completed",
            "This answer was already used (a second tab, or a replay). Start again if you are not signed in.",
        ));
    }
    let Some(rp) = app.known_rp(&issuer, &txn.client_id).await? else {
        return Err(error_page(
            StatusCode::BAD_REQUEST,
            "Unknown provider",
            "The app no longer knows this provider. Start again.",
        ));
    };
    let result = rp.complete(&txn, &params).await;
    let result = match (rechecking, signed_in_sub) {
        // Session Management 1.0 §5: the silent re-check found no session at the provider
        // for this user (logged out there, or someone else signed in): this app's session
        // ends too.
        (true, Some(sub)) => match Recheck::judge(result, &sub) {
            Ok(Recheck::Continues(login)) => Ok(*login),
            Ok(Recheck::Ended(_)) => {
                app.sessions
                    .update(&id, |s| {
                        s.end_sign_in(
                            "Your session at the provider ended, so this app ended its own (OpenID Connect Session Management).",
                        )
                    })
                    .await?;
                return Ok(see_other("/me", None));
            }
            Err(e) => Err(e),
        },
        _ => result,
    };
    let login =
        result.map_err(|e| error_page(StatusCode::BAD_REQUEST, "Login failed", &e.to_string()))?;
    let access = Secret::new(login.tokens.access_token.expose());
    let (userinfo, mut report) = (None, login.report.clone());
    let userinfo = if rp.metadata().userinfo_endpoint().is_some() {
        match rp
            .userinfo(&login.tokens.access_token(), &login.id_token)
            .await
        {
            Ok(u) => {
                report.extend(u.report.clone());
                Some(u)
            }
            Err(e) => {
                return Err(error_page(
                    StatusCode::BAD_GATEWAY,
                    "Userinfo failed",
                    &e.to_string(),
                ));
            }
        }
    } else {
        userinfo
    };
    let session_check = rp
        .metadata()
        .additional_metadata()
        .check_session_iframe
        .clone()
        .zip(login.session_state.clone());
    let signed_in = SignedIn {
        issuer: rp.issuer().to_string(),
        client_id: rp.client().client_id.clone(),
        report,
        id_token: login.id_token.to_stored(),
        access_token: access,
        refresh_token: login.tokens.refresh_token().cloned(),
        userinfo,
        session_check,
    };
    let mut after = None;
    app.sessions
        .update(&id, |s| {
            s.signed_in = Some(signed_in.clone());
            s.shown = None;
            s.notice = None;
            after = s.after_login.take();
        })
        .await?;
    // A new session id once signed in (session fixation).
    let new = app.sessions.rotate(&id).await?.unwrap_or(id);
    Ok(see_other(
        after.as_deref().unwrap_or("/me"),
        Some(session::set_cookie(&new, app.secure)),
    ))
}

async fn me(State(app): State<Arc<App>>, headers: HeaderMap) -> Page {
    let Some((id, s)) = session_of(&app, &headers).await? else {
        return Ok(see_other("/", None));
    };
    let cookie = None;
    match &s.signed_in {
        Some(signed_in) => {
            let Some((iframe, state)) = &signed_in.session_check else {
                return Ok(html(
                    StatusCode::OK,
                    pages::identity(&s, signed_in),
                    cookie,
                    false,
                ));
            };
            // Session Management 1.0 §4: the RP's script polls the provider's iframe; the
            // page's policy lets in that one frame origin and this one script.
            let origin = url::Url::parse(iframe)
                .map(|u| u.origin().ascii_serialization())
                .unwrap_or_default();
            let nonce = Secret::random(16);
            let body = pages::identity(&s, signed_in).replace(
                "</body>",
                &format!(
                    "{}</body>",
                    pages::session_poll(
                        nonce.expose(),
                        iframe,
                        &origin,
                        &signed_in.client_id,
                        state
                    )
                ),
            );
            let mut r = html(StatusCode::OK, body, cookie, false);
            let csp = format!(
                "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'; script-src 'nonce-{}'; frame-src {origin}",
                nonce.expose()
            );
            if let Ok(v) = HeaderValue::from_str(&csp) {
                r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
            }
            Ok(r)
        }
        None if s.notice.is_some() => {
            let page = pages::logged_out(
                s.notice.as_deref(),
                "Log in again to see your identity.",
                None,
            );
            app.sessions.update(&id, |s| s.notice = None).await?;
            Ok(html(StatusCode::OK, page, cookie, false))
        }
        None => Ok(see_other("/", cookie)),
    }
}

/// The signed-in session and its relying party, for the action buttons (CSRF checked).
async fn action_context(
    app: &App,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(String, SignedIn, Arc<RelyingParty>), Response> {
    let Some((id, s)) = session_of(app, headers).await? else {
        return Err(see_other("/", None));
    };
    let cookie = None;
    if !s.csrf_ok(form(body).get("csrf").map(String::as_str)) {
        return Err(error_page(
            StatusCode::FORBIDDEN,
            "Form expired",
            "The form's CSRF token does not match this browser session. Start again.",
        ));
    }
    let Some(signed_in) = s.signed_in.clone() else {
        return Err(see_other("/me", cookie));
    };
    let Some(rp) = app
        .known_rp(&signed_in.issuer, &signed_in.client_id)
        .await?
    else {
        return Err(error_page(
            StatusCode::BAD_REQUEST,
            "Unknown provider",
            "The app no longer knows this provider. Log in again.",
        ));
    };
    Ok((id, signed_in, rp))
}

async fn show(app: &App, id: &str, shown: Shown) -> Page {
    app.sessions
        .update(id, |s| s.shown = Some(shown.clone()))
        .await?;
    Ok(see_other("/me", None))
}

fn failed(title: &str, e: impl std::fmt::Display) -> Shown {
    Shown {
        title: format!("{title} failed"),
        ok: false,
        lines: vec![("error".into(), e.to_string())],
    }
}

/// `name: value` lines of a JSON object, strings without their quotes.
fn value_lines(m: &serde_json::Map<String, serde_json::Value>) -> Vec<(String, String)> {
    m.iter()
        .map(|(k, v)| {
            let v = v
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string());
            (k.clone(), v)
        })
        .collect()
}

/// The first and last characters of a token: enough to tell two apart, not to use one.
fn fragment(token: &str) -> String {
    if token.len() <= 16 {
        return "(short token)".into();
    }
    format!(
        "{}…{} ({} characters)",
        &token[..6],
        &token[token.len() - 4..],
        token.len()
    )
}

async fn refresh(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Page {
    let (id, s, rp) = action_context(&app, &headers, &body).await?;
    let Some(rt) = s.refresh_token.clone() else {
        return show(
            &app,
            &id,
            failed(
                "Refresh",
                "the provider issued no refresh token (it needs offline_access and the refresh_token grant)",
            ),
        )
        .await;
    };
    match rp.refresh(&rt, Some(&s.id_token), None).await {
        Ok(r) => {
            let mut lines = vec![
                (
                    "access token".into(),
                    fragment(r.tokens.access_token.expose()),
                ),
                (
                    "refresh token".into(),
                    if r.rotated {
                        "rotated"
                    } else {
                        "kept (not rotated)"
                    }
                    .into(),
                ),
                (
                    "ID token".into(),
                    if r.id_token_renewed {
                        "renewed, validated (same iss, sub, aud; OIDC Core §12.2)"
                    } else {
                        "none in the response; the previous one is kept"
                    }
                    .into(),
                ),
            ];
            for c in r.report.checks().iter().filter(|c| !c.passed) {
                lines.push((c.name.into(), c.detail.to_string()));
            }
            let access = Secret::new(r.tokens.access_token.expose());
            let id_token = r.id_token.as_ref().map(|t| t.to_stored());
            let refresh_token = r.refresh_token.clone();
            // Applied to the session as stored now: one logged out meanwhile stays so.
            app.sessions
                .update(&id, |s| {
                    if let Some(si) = s.signed_in.as_mut() {
                        si.access_token = access.clone();
                        si.refresh_token = Some(refresh_token.clone());
                        if let Some(t) = &id_token {
                            si.id_token = t.clone();
                        }
                    }
                })
                .await?;
            show(
                &app,
                &id,
                Shown {
                    title: "Refreshed".into(),
                    ok: true,
                    lines,
                },
            )
            .await
        }
        Err(e) => show(&app, &id, failed("Refresh", e)).await,
    }
}

async fn introspect(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Page {
    let (id, s, rp) = action_context(&app, &headers, &body).await?;
    let shown = match rp
        .introspect(s.access_token.expose(), Some("access_token"))
        .await
    {
        Ok(i) => {
            let lines = match serde_json::to_value(&i) {
                Ok(serde_json::Value::Object(m)) => value_lines(&m),
                _ => Vec::new(),
            };
            Shown {
                title: "Introspection (RFC 7662)".into(),
                ok: true,
                lines,
            }
        }
        Err(e) => failed("Introspection", e),
    };
    show(&app, &id, shown).await
}

async fn exchange(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Page {
    let (id, s, rp) = action_context(&app, &headers, &body).await?;
    let request = TokenExchangeRequest {
        subject_token: s.access_token.clone(),
        subject_token_type: token_types::ACCESS_TOKEN.into(),
        ..Default::default()
    };
    let shown = match rp.exchange(&request).await {
        Ok(r) => Shown {
            title: "Token exchange (RFC 8693)".into(),
            ok: true,
            lines: vec![
                ("issued_token_type".into(), r.issued_token_type.clone()),
                ("token_type".into(), r.token_type.clone()),
                ("access_token".into(), fragment(r.access_token.expose())),
                (
                    "expires_in".into(),
                    r.expires_in.map(|e| format!("{e} s")).unwrap_or("-".into()),
                ),
                ("scope".into(), r.scope.clone().unwrap_or("-".into())),
            ],
        },
        Err(e) => failed("Token exchange", e),
    };
    show(&app, &id, shown).await
}

async fn userinfo(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Page {
    let (id, s, rp) = action_context(&app, &headers, &body).await?;
    let shown = match rp
        .userinfo_for(
            &oidc_rp::AccessToken::bearer(s.access_token.clone()),
            Some(s.subject()),
        )
        .await
    {
        Ok(u) => Shown {
            title: "Userinfo".into(),
            ok: true,
            lines: value_lines(&u.claims),
        },
        Err(e) => failed("Userinfo", e),
    };
    show(&app, &id, shown).await
}

async fn logout(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Page {
    let (id, s, rp) = action_context(&app, &headers, &body).await?;
    let request = LogoutRequest {
        id_token_hint: (!s.id_token.raw.expose().is_empty()).then(|| s.id_token.raw.clone()),
        post_logout_redirect_uri: Some(format!("{}/logged-out", app.base)),
        ..Default::default()
    };
    match rp.end_session_url(&request) {
        Ok((url, txn)) => {
            app.sessions
                .update(&id, |s| s.logging_out = Some(txn.clone()))
                .await?;
            Ok(see_other(url.as_str(), None))
        }
        // No end_session_endpoint: end this app's session only, and say so.
        Err(_) => {
            signed_out(
                &app,
                &id,
                "The provider has no end_session_endpoint: you are logged out of this app only.",
                None,
                None,
            )
            .await
        }
    }
}

/// End this browser's sign-in (and any logout in progress) and show the logged-out page.
async fn signed_out(
    app: &App,
    id: &str,
    detail: &str,
    report: Option<&oidc_rp::Report>,
    cookie: Option<String>,
) -> Page {
    let s = app
        .sessions
        .update(id, |s| {
            s.signed_in = None;
            s.logging_out = None;
            s.shown = None;
        })
        .await?;
    let notice = s.as_ref().and_then(|s| s.notice.as_deref());
    Ok(html(
        StatusCode::OK,
        pages::logged_out(notice, detail, report),
        cookie,
        false,
    ))
}

async fn logged_out(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Page {
    let (id, txn) = match session_of(&app, &headers).await? {
        Some((id, s)) => (id, s.logging_out),
        None => (String::new(), None),
    };
    let cookie = None;
    let Some(txn) = txn else {
        return Err(error_page(
            StatusCode::BAD_REQUEST,
            "No logout in progress",
            "This browser session started no logout, so this redirect is not trusted (RP-Initiated Logout 1.0 §3: state).",
        ));
    };
    match txn.check_redirect(query.unwrap_or_default().as_bytes()) {
        Ok(report) => {
            signed_out(
                &app,
                &id,
                "The provider ended your session and sent you back with the state this app sent.",
                Some(&report),
                cookie,
            )
            .await
        }
        Err(e) => Err(error_page(
            StatusCode::BAD_REQUEST,
            "Logout not confirmed",
            &e.to_string(),
        )),
    }
}

fn plain(status: StatusCode, body: &str) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// POST /backchannel-logout (Back-Channel Logout 1.0 §2.5, §2.8): validate the logout token
/// with the relying party of its issuer, then end the matching web sessions.
async fn backchannel(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let f = form(&body);
    let Some(token) = f.get("logout_token") else {
        return plain(StatusCode::BAD_REQUEST, "logout_token is missing");
    };
    // The unverified `iss` only picks which relying party validates the token.
    let issuer = rp_jose::Compact::parse(token)
        .ok()
        .and_then(|j| serde_json::from_slice::<serde_json::Value>(&j.payload).ok())
        .and_then(|c| c.get("iss").and_then(|v| v.as_str()).map(str::to_string))
        // An issuer is a URL: a longer one is no provider of this app (and no store key).
        .filter(|iss| iss.len() <= 2048);
    let Some(issuer) = issuer else {
        return plain(
            StatusCode::BAD_REQUEST,
            "the logout token is not a JWT with an iss",
        );
    };
    let mut candidates: Vec<Arc<RelyingParty>> = app
        .rps
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .filter(|((iss, _), _)| *iss == issuer)
        .map(|(_, rp)| rp.clone())
        .collect();
    // The client registered there, when another instance made it (`--redis`).
    let unavailable = |e: StoreDown| plain(StatusCode::SERVICE_UNAVAILABLE, &e.to_string());
    match app.sessions.registered(&issuer).await {
        Ok(Some(c))
            if !candidates
                .iter()
                .any(|rp| rp.client().client_id == c.client_id) =>
        {
            match app.known_rp(&issuer, &c.client_id).await {
                Ok(Some(rp)) => candidates.push(rp),
                Ok(None) => {}
                Err(e) => return unavailable(e),
            }
        }
        Ok(_) => {}
        Err(e) => return unavailable(e),
    }
    let mut last = String::from("no client of this app is registered with that issuer");
    for rp in candidates {
        match rp.validate_logout_token(token, app.replay.as_ref()).await {
            Ok(lt) => {
                let ended = match app
                    .sessions
                    .end_matching(
                        &issuer,
                        lt.sid.as_deref(),
                        lt.subject.as_deref(),
                        "The provider ended your session (back-channel logout).",
                    )
                    .await
                {
                    Ok(n) => n,
                    // The token is spent but no session was ended: say so (the provider may
                    // retry; a retry is refused as a replay, which tells its operator).
                    Err(e) => return unavailable(e),
                };
                tracing::info!(target: "rp_web", ended, "back-channel logout");
                return plain(StatusCode::OK, "");
            }
            // Redis down: nothing was accepted, and the answer says it was not (§2.8).
            Err(e) if e.class() == oidc_rp::ErrorClass::Unavailable => {
                return plain(StatusCode::SERVICE_UNAVAILABLE, &e.to_string());
            }
            Err(e) => last = e.to_string(),
        }
    }
    plain(StatusCode::BAD_REQUEST, &last)
}

/// GET /frontchannel-logout?iss=..&sid=.. (Front-Channel Logout 1.0 §2): both are required
/// (the app registers `frontchannel_logout_session_required`).
async fn frontchannel(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    let request = oidc_rp::FrontChannelLogout::parse(query.as_deref().unwrap_or(""));
    let (Some(iss), Some(sid)) = (request.iss.as_deref(), request.sid.as_deref()) else {
        return html(
            StatusCode::BAD_REQUEST,
            pages::error("Front-channel logout", "iss and sid are required"),
            None,
            true,
        );
    };
    let ended = match app
        .sessions
        .end_matching(
            iss,
            Some(sid),
            None,
            "The provider ended your session (front-channel logout).",
        )
        .await
    {
        Ok(n) => n,
        Err(e) => return e.into(),
    };
    html(
        StatusCode::OK,
        pages::page(
            "Front-channel logout",
            &format!("<p>Front-channel logout: {ended} session(s) ended.</p>"),
        ),
        None,
        true,
    )
}

/// GET /session-check: the provider's iframe said `changed` (Session Management 1.0 §5): ask
/// again without any user interaction (`prompt=none`). A session at the provider answers
/// with a new login (the same user, or whoever is signed in there now); none ends this app's
/// session in the callback.
async fn session_check(State(app): State<Arc<App>>, headers: HeaderMap) -> Page {
    let Some((id, s)) = session_of(&app, &headers).await? else {
        return Ok(see_other("/", None));
    };
    let Some(signed_in) = &s.signed_in else {
        return Ok(see_other("/me", None));
    };
    let Some(rp) = app
        .known_rp(&signed_in.issuer, &signed_in.client_id)
        .await?
    else {
        return Ok(see_other("/me", None));
    };
    let hint = signed_in.id_token.raw.expose();
    let request = recheck_request(
        AuthorizationRequest {
            response_type: app.response_type,
            ..AuthorizationRequest::with_scopes(["openid", "profile", "email", "offline_access"])
        },
        (!hint.is_empty()).then_some(hint),
    );
    let (url, txn) = rp
        .authorization_url(&request, &app.callback_uri())
        .map_err(|e| {
            error_page(
                StatusCode::BAD_GATEWAY,
                "Session check failed",
                &e.to_string(),
            )
        })?;
    let pending = (txn, rp.issuer().to_string());
    app.sessions
        .update(&id, |s| {
            s.pending = Some(pending.clone());
            s.rechecking = true;
        })
        .await?;
    Ok(see_other(url.as_str(), None))
}
