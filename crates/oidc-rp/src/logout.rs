//! Logout: RP-Initiated Logout 1.0 (the end-session URL and the post-logout redirect),
//! Back-Channel Logout 1.0 (logout token validation, with `jti` replay detection) and
//! Front-Channel Logout 1.0 (the iframe request).

use crate::error::{Error, Result, ValidationError, truncate};
use crate::jose::Alg;
use crate::jwt::{
    Checker, KeySource, SignaturePolicy, TypRule, aud_contains, string_claim, verify_signed,
};
use crate::report::{CheckId, Report};
use crate::secret::Secret;
use crate::time::{Clock, numeric_date_value};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;
use subtle::ConstantTimeEq;
use url::Url;

/// The back-channel logout event (Back-Channel Logout 1.0 §2.4).
pub const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// What to put in the end-session request (RP-Initiated Logout 1.0 §2).
#[derive(Debug, Clone, Default)]
pub struct LogoutRequest {
    /// The ID token of the session to end (recommended: it names the session).
    pub id_token_hint: Option<Secret>,
    /// A hint about the user, for providers that use one.
    pub logout_hint: Option<String>,
    /// Where to come back to; must be registered with the provider.
    pub post_logout_redirect_uri: Option<String>,
    /// Preferred languages of the provider's pages.
    pub ui_locales: Option<String>,
}

/// What must be kept until the post-logout redirect comes back.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LogoutTransaction {
    /// The `state` sent.
    pub state: Secret,
    /// The redirect URI sent.
    pub post_logout_redirect_uri: Option<String>,
}

/// Build the end-session URL: `id_token_hint`, `logout_hint`, `client_id`,
/// `post_logout_redirect_uri`, a fresh `state`, `ui_locales`.
pub(crate) fn end_session_url(
    endpoint: &Url,
    client_id: &str,
    request: &LogoutRequest,
) -> (Url, LogoutTransaction) {
    let state = oauth2::CsrfToken::new_random_len(32).secret().clone();
    let mut url = endpoint.clone();
    {
        let mut q = url.query_pairs_mut();
        if let Some(hint) = &request.id_token_hint {
            q.append_pair("id_token_hint", hint.expose());
        }
        if let Some(hint) = &request.logout_hint {
            q.append_pair("logout_hint", hint);
        }
        q.append_pair("client_id", client_id);
        if let Some(uri) = &request.post_logout_redirect_uri {
            q.append_pair("post_logout_redirect_uri", uri);
            q.append_pair("state", &state);
        }
        if let Some(locales) = &request.ui_locales {
            q.append_pair("ui_locales", locales);
        }
    }
    (
        url,
        LogoutTransaction {
            state: Secret::new(state),
            post_logout_redirect_uri: request.post_logout_redirect_uri.clone(),
        },
    )
}

impl LogoutTransaction {
    /// Check the post-logout redirect's query: its `state` must be the one sent. A missing or
    /// different `state` means the redirect does not answer this request (OIDF tests
    /// rp-init-logout-other-state / -no-state) and is reported as an error.
    pub fn check_redirect(&self, query: &[u8]) -> Result<Report> {
        let mut report = Report::new();
        let state = url::form_urlencoded::parse(query)
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned());
        let detail = match state {
            Some(s) if bool::from(s.as_bytes().ct_eq(self.state.expose().as_bytes())) => {
                report.pass(CheckId::LogoutState, "equals the state sent");
                return Ok(report);
            }
            Some(_) => {
                "the post-logout redirect carries another state: it does not answer this logout request"
            }
            None => "the post-logout redirect carries no state, and one was sent",
        };
        report.fail(CheckId::LogoutState, detail);
        Err(Error::Validation(ValidationError {
            subject: "post-logout redirect",
            check: CheckId::LogoutState,
            detail: detail.into(),
            report,
        }))
    }
}

/// A validated logout token: the session to end.
#[derive(Debug, Clone, Serialize)]
pub struct LogoutToken {
    /// `iss`.
    pub issuer: String,
    /// `sub`, when present.
    pub subject: Option<String>,
    /// `sid`, when present.
    pub sid: Option<String>,
    /// `jti`.
    pub jti: String,
    /// `iat`.
    pub issued_at: i64,
    /// The checks made.
    pub report: Report,
}

/// What a logout token is checked against.
#[derive(Debug, Clone)]
pub struct LogoutTokenRules<'a> {
    /// The issuer.
    pub issuer: &'a str,
    /// This client.
    pub client_id: &'a str,
    /// The client's ID token algorithms; `none` is never accepted here.
    pub allowed_algs: &'a [Alg],
    /// The client secret, for HMAC-signed tokens.
    pub client_secret: Option<&'a Secret>,
    /// Clock skew allowed. Default 60 s.
    pub leeway: Duration,
    /// Tokens issued longer ago than this are refused. Default 10 minutes.
    pub max_age: Duration,
    /// The current time (`None`: the system clock).
    pub now: Option<i64>,
}

impl<'a> LogoutTokenRules<'a> {
    /// Rules with the defaults.
    pub fn new(issuer: &'a str, client_id: &'a str, allowed_algs: &'a [Alg]) -> Self {
        LogoutTokenRules {
            issuer,
            client_id,
            allowed_algs,
            client_secret: None,
            leeway: Duration::from_secs(60),
            max_age: Duration::from_secs(600),
            now: None,
        }
    }
}

/// Remembers the `jti`s of accepted logout tokens until they expire, so a captured token
/// cannot be replayed (Back-Channel Logout 1.0 §2.6 rule 10). Bounded: past `capacity`
/// entries the oldest are dropped.
#[derive(Debug)]
pub struct ReplayCache {
    capacity: usize,
    inner: Mutex<(HashMap<String, i64>, VecDeque<String>)>,
}

impl Default for ReplayCache {
    fn default() -> Self {
        ReplayCache::new(10_000)
    }
}

impl ReplayCache {
    /// A cache of at most `capacity` entries.
    ///
    /// ```
    /// let replay = oidc_rp::ReplayCache::new(2);
    /// assert!(replay.first_use("jti-1", 1_700_000_600, 1_700_000_000));
    /// assert!(!replay.first_use("jti-1", 1_700_000_600, 1_700_000_001)); // replayed
    /// ```
    pub fn new(capacity: usize) -> Self {
        ReplayCache {
            capacity: capacity.max(1),
            inner: Mutex::new((HashMap::new(), VecDeque::new())),
        }
    }

    /// Record `key` until `until` (the last second, inclusive, at which it must still be
    /// refused); false when it is already recorded and `now` is not past its `until`.
    pub fn first_use(&self, key: &str, until: i64, now: i64) -> bool {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (seen, order) = &mut *guard;
        if seen.get(key).is_some_and(|t| *t >= now) {
            return false;
        }
        while let Some(oldest) = order.front() {
            let expired = seen.get(oldest).is_none_or(|t| *t < now);
            if expired || seen.len() >= self.capacity {
                if let Some(k) = order.pop_front() {
                    seen.remove(&k);
                }
            } else {
                break;
            }
        }
        seen.insert(key.to_string(), until);
        order.push_back(key.to_string());
        true
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).0.len()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl crate::store::ReplayStore for ReplayCache {
    fn first_use<'a>(
        &'a self,
        key: &'a str,
        expires_at: i64,
    ) -> futures_util::future::BoxFuture<'a, Result<bool>> {
        let fresh = ReplayCache::first_use(self, key, expires_at, crate::time::unix_now());
        Box::pin(async move { Ok(fresh) })
    }
}

/// Validate a logout token (Back-Channel Logout 1.0 §2.6). `replay` remembers the `jti`s
/// seen: a [`ReplayCache`] in one process, a shared [`crate::store::ReplayStore`] (Redis)
/// when a service runs on several instances.
///
/// ```no_run
/// # async fn f(raw: &str) -> oidc_rp::Result<()> {
/// use oidc_rp::jwt::KeySource;
/// use oidc_rp::keys::{JwksCache, JwksPolicy};
/// use oidc_rp::logout::{self, LogoutTokenRules, ReplayCache};
/// use oidc_rp::{Alg, HttpClient};
/// let http = HttpClient::default();
/// let jwks = JwksCache::new(url::Url::parse("https://op.example.com/jwks").unwrap(), JwksPolicy::default());
/// let replay = ReplayCache::new(10_000);
/// let algs = [Alg::RS256];
/// let rules = LogoutTokenRules::new("https://op.example.com", "my-client", &algs);
/// let token = logout::validate_logout_token(raw, &rules, KeySource { jwks: &jwks, http: &http }, &replay).await?;
/// # let _ = token; Ok(()) }
/// ```
pub async fn validate_logout_token(
    raw: &str,
    rules: &LogoutTokenRules<'_>,
    keys: KeySource<'_>,
    replay: &dyn crate::store::ReplayStore,
) -> Result<LogoutToken> {
    let mut c = Checker::new("logout token");
    // Rule 3: the ID token algorithm of the client; never `none`.
    let algs: Vec<Alg> = rules
        .allowed_algs
        .iter()
        .copied()
        .filter(|a| *a != Alg::None)
        .collect();
    let policy = SignaturePolicy {
        allowed_algs: &algs,
        client_secret: rules.client_secret,
        typ: TypRule::AbsentOr("logout+jwt"),
    };
    let (_, payload) = verify_signed(raw, &policy, keys, &mut c).await?;
    let claims: Map<String, Value> = serde_json::from_slice(&payload).map_err(|e| {
        c.fail(
            CheckId::Format,
            format!("the claims are not a JSON object: {e}"),
        )
    })?;
    let clock = Clock::new(rules.now, rules.leeway);
    let string = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_string);

    // Rule 4: iss, aud, iat as for ID tokens.
    c.issuer(string_claim(&claims, "iss"), rules.issuer)?;
    let issuer = rules.issuer.to_string();
    if !aud_contains(claims.get("aud"), rules.client_id) {
        return Err(c.fail(CheckId::Audience, "aud does not name this client"));
    }
    c.report.pass(CheckId::Audience, "names this client");
    let max_age = rules.max_age.as_secs();
    let issued_at = match claims.get("iat").map(numeric_date_value) {
        Some(Ok(iat)) if !clock.not_after_now(iat) => {
            return Err(c.fail(
                CheckId::IssuedAt,
                format!(
                    "issued {} s in the future ({})",
                    clock.until(iat),
                    clock.note()
                ),
            ));
        }
        Some(Ok(iat)) if !clock.within(iat, max_age) => {
            return Err(c.fail(
                CheckId::IssuedAt,
                format!(
                    "issued {} s ago: older than {max_age} s + {}",
                    clock.since(iat),
                    clock.note()
                ),
            ));
        }
        Some(Ok(iat)) => iat,
        Some(Err(e)) => return Err(c.fail(CheckId::IssuedAt, e.message("iat"))),
        None => return Err(c.fail(CheckId::IssuedAt, "iat is missing")),
    };
    c.report.pass(
        CheckId::IssuedAt,
        format!(
            "issued {} s ago, within {max_age} s + {}",
            clock.since(issued_at),
            clock.note()
        ),
    );
    // Rule 5 (exp, when present).
    let expires_at = match claims.get("exp").map(numeric_date_value) {
        None => None,
        Some(Ok(exp)) if clock.before_expiry(exp) => Some(exp),
        Some(Ok(exp)) => {
            return Err(c.fail(
                CheckId::Expiry,
                format!("expired {} s ago ({})", clock.since(exp), clock.note()),
            ));
        }
        Some(Err(e)) => return Err(c.fail(CheckId::Expiry, e.message("exp"))),
    };
    c.report.pass(
        CheckId::Expiry,
        if expires_at.is_some() {
            format!("not expired ({})", clock.note())
        } else {
            "absent (optional)".to_string()
        },
    );
    // Rule 6: events holds exactly the back-channel logout event, whose value is an object.
    match claims.get("events") {
        Some(Value::Object(events))
            if events.len() == 1 && events.get(BACKCHANNEL_EVENT).is_some_and(Value::is_object) =>
        {
            c.report
                .pass(CheckId::Events, "the back-channel logout event")
        }
        Some(Value::Object(_)) => {
            return Err(c.fail(
                CheckId::Events,
                format!("events must hold exactly {BACKCHANNEL_EVENT} with an object value"),
            ));
        }
        Some(_) => return Err(c.fail(CheckId::Events, "events is not an object")),
        None => {
            return Err(c.fail(
                CheckId::Events,
                "events is missing: this is not a logout token",
            ));
        }
    }
    // Rule 7: sid and/or sub.
    let subject = string("sub");
    let sid = string("sid");
    if subject.is_none() && sid.is_none() {
        return Err(c.fail(CheckId::SidOrSub, "neither sid nor sub is present"));
    }
    c.report.pass(CheckId::SidOrSub, "present");
    // Rule 8: no nonce (an ID token must never pass as a logout token).
    if claims.contains_key("nonce") {
        return Err(c.fail(CheckId::Nonce, "a logout token must not contain a nonce"));
    }
    c.report.pass(CheckId::Nonce, "absent, as required");
    // Rule 10: jti not seen before.
    let Some(jti) = string("jti") else {
        return Err(c.fail(CheckId::Replay, "jti is missing"));
    };
    // Remembered for as long as the token could still be accepted: until the last second of
    // its age window, and no earlier than the last second before its exp.
    let mut until = clock.last_accepted(issued_at, max_age);
    if let Some(exp) = expires_at {
        until = until.max(clock.last_before_expiry(exp));
    }
    // The store keeps time by the wall clock; the rules may run on another (a fixed `now`):
    // remember the jti for the same remaining time. A store that cannot answer is an error,
    // never an accept.
    let remaining = until.saturating_sub(clock.now()).max(0);
    let expires_at = crate::time::unix_now().saturating_add(remaining);
    if !replay
        .first_use(&format!("logout {issuer} {jti}"), expires_at)
        .await?
    {
        return Err(c.fail(
            CheckId::Replay,
            "this jti was seen before: a replayed logout token",
        ));
    }
    c.report.pass(CheckId::Replay, "first use of this jti");
    Ok(LogoutToken {
        issuer,
        subject,
        sid,
        jti,
        issued_at,
        report: c.report,
    })
}

/// A front-channel logout request (Front-Channel Logout 1.0 §2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrontChannelLogout {
    /// `iss`.
    pub iss: Option<String>,
    /// `sid`.
    pub sid: Option<String>,
}

impl FrontChannelLogout {
    /// Parse the iframe request's query.
    ///
    /// ```
    /// use oidc_rp::FrontChannelLogout;
    /// let request = FrontChannelLogout::parse("iss=https%3A%2F%2Fop.example&sid=08a5019c");
    /// // The session this browser holds: same issuer and sid, so it is ended.
    /// assert!(request.check("https://op.example", Some("08a5019c"), true).is_ok());
    /// assert!(request.check("https://op.example", Some("another"), true).is_err());
    /// ```
    pub fn parse(query: &str) -> Self {
        let mut out = FrontChannelLogout::default();
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            match k.as_ref() {
                "iss" => out.iss = Some(v.into_owned()),
                "sid" => out.sid = Some(v.into_owned()),
                _ => {}
            }
        }
        out
    }

    /// Check it against the session: `iss` and `sid`, when sent, must be the session's; when
    /// the client registered `frontchannel_logout_session_required`, both must be sent.
    pub fn check(
        &self,
        issuer: &str,
        session_sid: Option<&str>,
        session_required: bool,
    ) -> Result<()> {
        let fail = |detail: String| {
            let mut report = Report::new();
            report.fail(CheckId::SidOrSub, detail.clone());
            Err(Error::Validation(ValidationError {
                subject: "front-channel logout request",
                check: CheckId::SidOrSub,
                detail,
                report,
            }))
        };
        if session_required && (self.iss.is_none() || self.sid.is_none()) {
            return fail("iss and sid are required (frontchannel_logout_session_required)".into());
        }
        if let Some(iss) = &self.iss
            && iss != issuer
        {
            return fail(format!(
                "iss is `{}`, not this session's issuer",
                truncate(iss, 200)
            ));
        }
        match (&self.sid, session_sid) {
            (Some(sid), Some(ours)) if sid != ours => fail("sid is not this session's".into()),
            (Some(_), None) => fail("the session has no sid to compare".into()),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_cache_is_bounded_and_expires() {
        let c = ReplayCache::new(3);
        assert!(c.first_use("a", 100, 0));
        assert!(!c.first_use("a", 100, 50));
        assert!(
            c.first_use("a", 200, 150),
            "expired entries may be used again"
        );
        for k in ["b", "c", "d", "e"] {
            assert!(c.first_use(k, 1000, 160));
        }
        assert!(c.len() <= 3);
    }

    #[test]
    fn post_logout_state_must_match() {
        let t = LogoutTransaction {
            state: Secret::new("s1"),
            post_logout_redirect_uri: None,
        };
        t.check_redirect(b"state=s1").unwrap();
        let e = t.check_redirect(b"state=s2").unwrap_err();
        assert_eq!(e.check(), Some(CheckId::LogoutState));
        let e = t.check_redirect(b"").unwrap_err();
        assert!(e.to_string().contains("no state"));
    }

    #[test]
    fn front_channel_request() {
        let r = FrontChannelLogout::parse("iss=https%3A%2F%2Fop&sid=abc");
        r.check("https://op", Some("abc"), true).unwrap();
        assert!(r.check("https://other", Some("abc"), true).is_err());
        assert!(r.check("https://op", Some("xyz"), true).is_err());
        assert!(
            FrontChannelLogout::parse("")
                .check("https://op", Some("abc"), true)
                .is_err()
        );
        FrontChannelLogout::parse("")
            .check("https://op", Some("abc"), false)
            .unwrap();
    }
}
