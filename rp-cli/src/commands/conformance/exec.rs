//! Running one test: the real library, headless, against the test's provider instance, then
//! the verdict: the expected answer, on the expected check, and the provider's record agreeing.

use super::plans::{Case, Expect, Flow, Plan};
use crate::listener::{Incoming, Listener, WaitError};
use oidc_rp::registration::{self, RegistrationRequest};
use oidc_rp::{
    AuthorizationRequest, CheckId, ClientConfig, ClientKey, Delivery, Error, ExtraClientMetadata,
    FrontChannelLogout, HttpClient, LogoutRequest, RelyingParty, ReplayCache, ResponseMode,
    TokenAuthMethod, ValidationOptions, discovery,
};
use oidc_rp_headless::{self as headless, Browser};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod device;
mod session_management;

/// Where the provider sends the user back. Nothing listens there: the walk stops before it and
/// hands the response to the library, as a browser would hand it to the RP.
pub(super) const REDIRECT: &str = "http://127.0.0.1:9/callback";
pub(super) const POST_LOGOUT: &str = "http://127.0.0.1:9/logout";
const INITIATE: &str = "http://127.0.0.1:9/initiate";

/// The result of one run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunResult {
    /// The plan.
    pub plan: &'static str,
    /// The test id.
    pub id: &'static str,
    /// The old id.
    pub old: &'static str,
    /// The response type of the run.
    pub response_type: &'static str,
    /// The expectation, in words.
    pub expectation: String,
    /// What happened, in words.
    pub outcome: String,
    /// Why it passed or failed.
    pub reason: String,
    /// Whether it passed.
    pub passed: bool,
    /// Wall time.
    pub ms: u128,
    /// For either-answer tests: which answer we give and why.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub note: &'static str,
}

/// What the RP did.
#[derive(Debug)]
enum Got {
    Accepted,
    Rejected(Option<CheckId>, String),
}

impl From<Error> for Got {
    fn from(e: Error) -> Self {
        Got::Rejected(e.check(), e.to_string())
    }
}

fn describe(expect: Expect) -> String {
    match expect {
        Expect::Accept => "accept".into(),
        Expect::Reject(c) => format!("reject ({})", c.name()),
    }
}

/// A logout request's verdict: the session it names, or the failed check and why.
type LogoutVerdict = Result<Option<String>, (Option<CheckId>, String)>;

/// The loopback endpoints the RP under test serves: request objects, back- and front-channel
/// logout. Runs as a task until dropped.
struct Helper {
    task: tokio::task::JoinHandle<()>,
    listener: Arc<Listener>,
    rp: Arc<Mutex<Option<RelyingParty>>>,
    sid: Arc<Mutex<Option<String>>>,
    request_object: Arc<Mutex<Option<String>>>,
    /// The first logout request's verdict.
    logout: Arc<Mutex<Option<LogoutVerdict>>>,
}

impl Helper {
    fn start(issuer: String) -> std::io::Result<Helper> {
        let listener = Arc::new(Listener::bind(0)?);
        let request_object = Arc::new(Mutex::new(None::<String>));
        let logout = Arc::new(Mutex::new(None));
        let rp_slot = Arc::new(Mutex::new(None::<RelyingParty>));
        let sid_slot = Arc::new(Mutex::new(None::<String>));
        let (l, ro, lo) = (listener.clone(), request_object.clone(), logout.clone());
        let (rp, sid) = (rp_slot.clone(), sid_slot.clone());
        let replay = ReplayCache::default();
        let task = tokio::spawn(async move {
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let incoming: Incoming = match l.next(deadline).await {
                    Ok(i) => i,
                    Err(WaitError::Timeout { .. }) | Err(WaitError::Closed) => return,
                };
                match incoming.path.as_str() {
                    "/request" => {
                        let _ = match ro.lock().unwrap_or_else(|p| p.into_inner()).clone() {
                            Some(jwt) => incoming.raw(200, "application/oauth-authz-req+jwt", &jwt),
                            None => incoming.page(404, "Not found", "no request object"),
                        };
                    }
                    "/bc" => {
                        let token = url::form_urlencoded::parse(&incoming.body)
                            .find(|(k, _)| k == "logout_token")
                            .map(|(_, v)| v.into_owned())
                            .unwrap_or_default();
                        let rp = rp.lock().unwrap_or_else(|p| p.into_inner()).clone();
                        let verdict = match rp {
                            Some(rp) => rp
                                .validate_logout_token(&token, &replay)
                                .await
                                .map(|t| t.sid)
                                .map_err(|e| (e.check(), e.to_string())),
                            None => Err((None, "no RP".into())),
                        };
                        let status = if verdict.is_ok() { 200 } else { 400 };
                        *lo.lock().unwrap_or_else(|p| p.into_inner()) = Some(verdict);
                        let _ = incoming.json(status, &json!({}));
                    }
                    "/fc" => {
                        let request = FrontChannelLogout::parse(&incoming.query);
                        let ours = sid.lock().unwrap_or_else(|p| p.into_inner()).clone();
                        let verdict = request
                            .check(&issuer, ours.as_deref(), true)
                            .map(|()| request.sid.clone())
                            .map_err(|e| (e.check(), e.to_string()));
                        let status = if verdict.is_ok() { 200 } else { 400 };
                        *lo.lock().unwrap_or_else(|p| p.into_inner()) = Some(verdict);
                        let _ = incoming.frameable_page(status, "Logged out", "");
                    }
                    _ => {
                        let _ = incoming.page(404, "Not found", "");
                    }
                }
            }
        });
        Ok(Helper {
            task,
            listener,
            rp: rp_slot,
            sid: sid_slot,
            request_object,
            logout,
        })
    }

    fn uri(&self, path: &str) -> String {
        self.listener.uri(path)
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The client key registered for `private_key_jwt` and signed request objects.
fn client_key() -> Option<Arc<ClientKey>> {
    ClientKey::from_pem(include_str!("../../../../fixtures/keys/pool/rsa-4.pem"))
        .ok()
        .map(Arc::new)
}

pub(super) struct Ctx<'a> {
    http: &'a HttpClient,
    skip: &'a [CheckId],
    case: &'a Case,
    plan: Plan,
    alias: &'a str,
    issuer: String,
}

/// Run one test. `alias` names this run's instances (`{base}/{alias}/{test-id}`), so two runs
/// against one provider never share an instance or its request record.
pub async fn run(
    http: &HttpClient,
    base: &str,
    alias: &str,
    plan: Plan,
    case: &Case,
    skip: &[CheckId],
) -> RunResult {
    let started = Instant::now();
    let ctx = Ctx {
        http,
        case,
        plan,
        alias,
        issuer: format!("{base}/{alias}/{}", case.id),
        skip,
    };
    let (got, record_problem) = match flow(&ctx).await {
        Ok(extra) => (Got::Accepted, extra),
        Err(got) => (got, None),
    };
    let record = records(http, &ctx.issuer).await;
    let (passed, reason) = judge(case, &got, record_problem, &record);
    RunResult {
        plan: plan.name(),
        id: case.id,
        old: case.old,
        response_type: case.response_type.as_str(),
        expectation: describe(case.expect),
        outcome: match &got {
            Got::Accepted => "accepted".into(),
            Got::Rejected(Some(c), _) => format!("rejected ({})", c.name()),
            Got::Rejected(None, _) => "failed".into(),
        },
        reason,
        passed,
        ms: started.elapsed().as_millis(),
        note: case.note,
    }
}

/// The provider's record of the requests this test's instance received.
pub(super) async fn records(http: &HttpClient, issuer: &str) -> Vec<(String, String)> {
    let Ok(url) = url::Url::parse(&format!("{issuer}/_conformance/requests")) else {
        return Vec::new();
    };
    match http
        .get_json::<Value>(&url, "request record", "conformance")
        .await
    {
        Ok(v) => v["requests"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|r| {
                        (
                            r["method"].as_str().unwrap_or("").to_string(),
                            r["path"].as_str().unwrap_or("").to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    }
}

fn judge(
    case: &Case,
    got: &Got,
    flow_problem: Option<String>,
    record: &[(String, String)],
) -> (bool, String) {
    let paths: Vec<&str> = record.iter().map(|(_, p)| p.as_str()).collect();
    let count = |p: &str| paths.iter().filter(|x| **x == p).count();
    match (case.expect, got) {
        (Expect::Accept, Got::Accepted) => match flow_problem {
            Some(p) => (false, p),
            None => (true, "completed".into()),
        },
        (Expect::Accept, Got::Rejected(_, why)) => (false, why.clone()),
        (Expect::Reject(_), Got::Accepted) => (false, "the RP accepted what it must refuse".into()),
        (Expect::Reject(want), Got::Rejected(Some(have), why)) if *have == want => {
            // The OIDF rule for a rejection: nothing done with the refused token afterwards.
            let id_token_check = matches!(
                want,
                CheckId::Issuer
                    | CheckId::Subject
                    | CheckId::Audience
                    | CheckId::IssuedAt
                    | CheckId::Nonce
                    | CheckId::Signature
                    | CheckId::Key
                    | CheckId::AtHash
                    | CheckId::CHash
            );
            let after_bad_token = (id_token_check || want == CheckId::RefreshConsistency)
                && case.flow != Flow::BackLogout;
            // OIDC Core §3.3.2.12: a bad front-channel ID token stops the hybrid flow before
            // its code is redeemed.
            let front = case.response_type.has_id_token() && !case.response_type.has_only_code();
            if front && id_token_check && count("/token") > 0 {
                return (
                    false,
                    "the code was redeemed after the front-channel ID token was refused".into(),
                );
            }
            // After a refused refresh, no userinfo call follows the last token request.
            let last_token = paths.iter().rposition(|p| *p == "/token");
            let userinfo_after_refresh =
                last_token.is_some_and(|t| paths[t..].contains(&"/userinfo"));
            let refused_userinfo = if case.flow == Flow::Refresh {
                userinfo_after_refresh
            } else {
                after_bad_token && count("/userinfo") > 0
            };
            if refused_userinfo {
                return (
                    false,
                    "userinfo was called after the token was refused".into(),
                );
            }
            if want == CheckId::DiscoveryIssuer && count("/authorize") > 0 {
                return (
                    false,
                    "an authorization request followed the refused discovery".into(),
                );
            }
            (true, why.clone())
        }
        (Expect::Reject(want), Got::Rejected(have, why)) => (
            false,
            format!(
                "refused on the wrong check ({}, expected {}): {why}",
                have.map(|c| c.name()).unwrap_or("none"),
                want.name()
            ),
        ),
    }
}

/// The test's steps. `Ok(Some(problem))`: the flow completed but a side condition failed.
async fn flow(ctx: &Ctx<'_>) -> Result<Option<String>, Got> {
    let knobs = ctx.case.knobs;
    let issuer = match knobs.webfinger {
        Some("acct") => {
            let host = url::Url::parse(&ctx.issuer)
                .ok()
                .and_then(|u| Some(format!("{}:{}", u.host_str()?, u.port()?)))
                .unwrap_or_default();
            discovery::webfinger(
                ctx.http,
                &format!("acct:{}.{}@{host}", ctx.alias, ctx.case.id),
            )
            .await?
        }
        Some(_) => discovery::webfinger(ctx.http, &ctx.issuer).await?,
        None => ctx.issuer.clone(),
    };
    let metadata = discovery::discover(ctx.http, &issuer).await?;
    let logout_flow = matches!(
        ctx.case.flow,
        Flow::RpLogout | Flow::FrontLogout | Flow::BackLogout
    );
    let helper = if logout_flow || knobs.request_uri.is_some() {
        Some(Helper::start(issuer.clone()).map_err(|e| Got::Rejected(None, e.to_string()))?)
    } else {
        None
    };
    let key = client_key();
    let session_flow = ctx.case.flow == Flow::SessionManagement;
    let client = if knobs.register || logout_flow || session_flow || knobs.request_uri.is_some() {
        let mut extra = ExtraClientMetadata {
            post_logout_redirect_uris: Some(vec![POST_LOGOUT.into()]),
            initiate_login_uri: (ctx.case.flow == Flow::ThirdParty).then(|| INITIATE.into()),
            ..Default::default()
        };
        if let Some(h) = &helper {
            if ctx.case.flow == Flow::FrontLogout {
                extra.frontchannel_logout_uri = Some(h.uri("/fc"));
                extra.frontchannel_logout_session_required = Some(true);
            } else if logout_flow {
                extra.backchannel_logout_uri = Some(h.uri("/bc"));
                extra.backchannel_logout_session_required = Some(true);
            }
        }
        registration::register(
            ctx.http,
            &metadata,
            &RegistrationRequest {
                redirect_uris: vec![REDIRECT.into()],
                response_types: vec![ctx.case.response_type],
                client_name: Some(format!("rp conformance {}", ctx.case.id)),
                native: true,
                token_endpoint_auth_method: knobs.auth.and_then(TokenAuthMethod::parse),
                // RFC 7591 §2.1: the front-channel response types need the implicit grant.
                grant_types: if ctx.case.response_type.has_only_code() {
                    vec!["authorization_code".into(), "refresh_token".into()]
                } else {
                    vec![
                        "authorization_code".into(),
                        "implicit".into(),
                        "refresh_token".into(),
                    ]
                },
                contacts: vec!["conformance@rp.test".into()],
                id_token_signed_response_alg: knobs.client_alg.map(str::to_string),
                userinfo_signed_response_alg: knobs.userinfo_alg.map(str::to_string),
                signing_key: key.clone(),
                request_object_signing_alg: knobs.request_uri.map(str::to_string),
                extra,
                ..Default::default()
            },
        )
        .await?
    } else if knobs.fapi {
        let mut c = ClientConfig::public(rp_provider::conformance::CLIENT_ID);
        c.token_endpoint_auth_method = Some(TokenAuthMethod::PrivateKeyJwt);
        c.signing_key = ClientKey::from_pem(rp_provider::fixtures::FAPI_CLIENT_KEY_PEM)
            .ok()
            .map(Arc::new);
        c
    } else {
        let mut c = ClientConfig::confidential(
            rp_provider::conformance::CLIENT_ID,
            rp_provider::conformance::CLIENT_SECRET,
        );
        c.token_endpoint_auth_method = knobs.auth.and_then(TokenAuthMethod::parse);
        c.id_token_signed_response_alg = knobs.client_alg.map(str::to_string);
        c.userinfo_signed_response_alg = knobs.userinfo_alg.map(str::to_string);
        c
    };
    let mut rp =
        RelyingParty::new(ctx.http.clone(), metadata, client)?.with_options(ValidationOptions {
            userinfo_token_in_body: knobs.userinfo_body,
            danger_skip_checks: ctx.skip.to_vec(),
            ..ValidationOptions::default()
        });
    if knobs.fapi {
        let key = oidc_rp::dpop::DpopKey::generate_es256()?;
        rp = rp
            .with_decorator(Arc::new(oidc_rp::dpop::Dpop::new(key)))
            .with_fapi2()?;
    }
    if let Some(h) = &helper {
        *h.rp.lock().unwrap_or_else(|p| p.into_inner()) = Some(rp.clone());
    }

    // One browser for the whole test: Session Management needs the provider's cookies of the
    // login at the logout and the re-check.
    let browser = Browser::new(ctx.http)?;
    let (login, mut problem) = if ctx.case.flow == Flow::Device {
        device::login(&rp).await?
    } else if ctx.case.flow == Flow::ThirdParty {
        third_party(ctx, &rp, &issuer).await?;
        (
            login(ctx, &rp, &browser, helper.as_ref(), &key).await?,
            None,
        )
    } else {
        (
            login(ctx, &rp, &browser, helper.as_ref(), &key).await?,
            None,
        )
    };
    if let Some(h) = &helper {
        *h.sid.lock().unwrap_or_else(|p| p.into_inner()) = login.0.id_token.sid.clone();
    }
    if ctx.case.flow == Flow::ThirdParty {
        let record = records(ctx.http, &ctx.issuer).await;
        let initiated = record
            .iter()
            .position(|(_, p)| p == "/_conformance/initiate");
        let authorized = record.iter().position(|(_, p)| p == "/authorize");
        if !matches!((initiated, authorized), (Some(i), Some(a)) if i < a) {
            problem =
                Some("the authorization request did not follow the third-party initiation".into());
        }
    }
    if knobs.check_jwks_fetch {
        let record = records(ctx.http, &ctx.issuer).await;
        let jwks = record.iter().position(|(_, p)| p.starts_with("/jwks-"));
        let userinfo = record.iter().position(|(_, p)| p == "/userinfo");
        if !matches!((jwks, userinfo), (Some(j), Some(u)) if j < u) {
            problem =
                Some("the JWKS at the random jwks_uri was not fetched before userinfo".into());
        }
    }
    if let Some(claim) = knobs.claims {
        let found = match claim {
            "id_token" => login.0.id_token.claim("name"),
            _ => login.1.as_ref().and_then(|u| u.claims.get("name").cloned()),
        };
        if found.is_none() {
            problem = Some(format!(
                "the claims request for name in {claim} was not honoured"
            ));
        }
    }
    match ctx.case.flow {
        Flow::Login | Flow::Device | Flow::ThirdParty => {}
        Flow::SessionManagement => {
            if let Some(p) = session_management::run(ctx, &rp, &browser, &login.0).await? {
                problem = Some(p);
            }
        }
        Flow::LoginTwice => {
            login_again(ctx, &rp, &browser, helper.as_ref(), &key).await?;
            let record = records(ctx.http, &ctx.issuer).await;
            if record.iter().filter(|(_, p)| p == "/jwks").count() < 2 {
                problem = Some("the rotated JWKS was not fetched again".into());
            }
        }
        Flow::Refresh => {
            let refresh = login
                .0
                .tokens
                .refresh_token()
                .ok_or_else(|| Got::Rejected(None, "no refresh token was issued".into()))?;
            let refreshed = rp
                .refresh(refresh, Some(&login.0.id_token.to_stored()), None)
                .await?;
            let id = refreshed.id_token.as_ref().unwrap_or(&login.0.id_token);
            rp.userinfo(&refreshed.tokens.access_token(), id).await?;
        }
        Flow::RpLogout | Flow::FrontLogout | Flow::BackLogout => {
            let (url, txn) = rp.end_session_url(&LogoutRequest {
                id_token_hint: Some(login.0.id_token.raw.clone()),
                post_logout_redirect_uri: Some(POST_LOGOUT.into()),
                ..Default::default()
            })?;
            let browser = Browser::new(ctx.http)?;
            let arrival = headless::walk(&browser, &url, POST_LOGOUT, None).await?;
            let redirect_check = txn.check_redirect(&arrival.params());
            match ctx.case.flow {
                Flow::RpLogout => {
                    redirect_check?;
                }
                _ => {
                    redirect_check?;
                    let verdict = helper
                        .as_ref()
                        .and_then(|h| h.logout.lock().unwrap_or_else(|p| p.into_inner()).take());
                    match verdict {
                        Some(Ok(Some(sid))) if Some(&sid) == login.0.id_token.sid.as_ref() => {}
                        Some(Ok(_)) => problem = Some("the logout named another session".into()),
                        Some(Err((check, why))) => return Err(Got::Rejected(check, why)),
                        None => problem = Some("no logout request reached the RP".into()),
                    }
                }
            }
        }
    }
    Ok(problem)
}

type LoginResult = (oidc_rp::Login, Option<oidc_rp::UserInfo>);

/// OIDC Core §4: the provider sends the browser to the client's `initiate_login_uri`; the
/// request there is checked (its `iss` must be the one issuer this client is for) before the
/// login starts.
async fn third_party(ctx: &Ctx<'_>, rp: &RelyingParty, issuer: &str) -> Result<(), Got> {
    let mut start = url::Url::parse(&format!("{issuer}/_conformance/initiate"))
        .map_err(|e| Got::Rejected(None, e.to_string()))?;
    start
        .query_pairs_mut()
        .append_pair("client_id", &rp.client().client_id);
    let browser = Browser::new(ctx.http)?;
    let arrival = headless::walk(&browser, &start, INITIATE, None).await?;
    let policy = oidc_rp::initiate::InitiationPolicy {
        issuers: vec![rp.issuer().to_string()],
        target_origins: Vec::new(),
    };
    oidc_rp::initiate::InitiatedLogin::parse(&arrival.params(), &policy)?;
    Ok(())
}

async fn login(
    ctx: &Ctx<'_>,
    rp: &RelyingParty,
    browser: &Browser,
    helper: Option<&Helper>,
    key: &Option<Arc<ClientKey>>,
) -> Result<LoginResult, Got> {
    let knobs = ctx.case.knobs;
    let scope = if ctx.case.flow == Flow::Refresh {
        "openid profile email offline_access"
    } else {
        "openid profile email"
    };
    let request = AuthorizationRequest {
        scopes: scope.split(' ').map(str::to_string).collect(),
        response_mode: if knobs.jarm {
            Some(ResponseMode::QueryJwt)
        } else {
            ctx.plan.form_post().then_some(ResponseMode::FormPost)
        },
        response_type: ctx.case.response_type,
        claims: knobs
            .claims
            .map(|where_| json!({ where_: { "name": null } })),
        delivery: match (knobs.request_uri, helper) {
            (Some(alg), Some(h)) => Delivery::ByReference {
                key: if alg == "none" { None } else { key.clone() },
                request_uri: h.uri("/request"),
            },
            _ => Delivery::Query,
        },
        ..Default::default()
    };
    let (url, txn) = if knobs.fapi {
        rp.push_authorization_request(&request, REDIRECT).await?
    } else {
        rp.authorization_url(&request, REDIRECT)?
    };
    if let (Some(jwt), Some(h)) = (&txn.request_object, helper) {
        *h.request_object.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(jwt.expose().to_string());
    }
    let login = oidc_rp_headless::complete(rp, browser, &url, &txn, None).await?;
    // response_type=id_token issues no access token: no userinfo call.
    if login.tokens.access_token.expose().is_empty() {
        return Ok((login, None));
    }
    let info = rp
        .userinfo(&login.tokens.access_token(), &login.id_token)
        .await?;
    Ok((login, Some(info)))
}

async fn login_again(
    ctx: &Ctx<'_>,
    rp: &RelyingParty,
    browser: &Browser,
    helper: Option<&Helper>,
    key: &Option<Arc<ClientKey>>,
) -> Result<(), Got> {
    login(ctx, rp, browser, helper, key).await.map(|_| ())
}
