//! The device authorization grant (RFC 8628): log in on a machine without a browser, or
//! without a way for the browser to reach it, by approving a short code on another device.
//!
//! Two steps. [`RelyingParty::device_authorization`] asks the provider for a device code and
//! a user code (§3.1-3.2); the caller shows the user code and the verification URI.
//! [`RelyingParty::complete_device`] then polls the token endpoint (§3.4) as the provider
//! asks: no sooner than `interval`, five seconds slower after each `slow_down`, twice as slow
//! after a network failure (§3.5), and never past the code's expiry. The tokens are then
//! checked as any login's: every ID token rule of OIDC Core §3.1.3.7, `at_hash` included.
//!
//! What the provider sends is bounded before it is used: the user code is short printable
//! text, the URIs are `https` (or loopback `http`) URLs, and the expiry is capped at
//! [`MAX_LIFETIME`], so a hostile answer cannot keep a client polling for days.

use crate::error::{DeviceError, Error, ProviderError, Result, display_url};
use crate::id_token::{IdTokenRules, NonceCheck};
use crate::report::{CheckId, Report};
use crate::rp::{Login, RelyingParty};
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The grant type of a device code token request (RFC 8628 §3.4).
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The longest a device code is polled for, whatever `expires_in` says.
pub const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// The shortest wait between two polls, whatever `interval` says (a provider that says 0
/// is polled five times a second, not in a busy loop).
pub const MIN_INTERVAL: Duration = Duration::from_millis(200);

/// The interval when the provider names none (RFC 8628 §3.2).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);

/// How much `slow_down` adds to the interval (RFC 8628 §3.5).
pub const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// Network failures in a row after which polling gives up.
const MAX_NETWORK_FAILURES: u32 = 3;

/// What to ask for at the device authorization endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRequest {
    /// Scopes; `openid` is added when missing.
    pub scopes: Vec<String>,
    /// `acr_values` (OIDC Core §3.1.2.1), checked in the ID token when set.
    pub acr_values: Vec<String>,
    /// Extra parameters (`audience`, `resource`, provider-specific ones).
    pub extra: Vec<(String, String)>,
}

impl Default for DeviceRequest {
    fn default() -> Self {
        DeviceRequest::with_scopes(["openid"])
    }
}

impl DeviceRequest {
    /// A request for these scopes (`openid` added when missing).
    pub fn with_scopes<S: Into<String>>(scopes: impl IntoIterator<Item = S>) -> Self {
        DeviceRequest {
            scopes: scopes.into_iter().map(Into::into).collect(),
            acr_values: Vec::new(),
            extra: Vec::new(),
        }
    }
}

/// The provider's answer (RFC 8628 §3.2), checked, with what the client needs to finish.
///
/// It serialises, so a service can keep it while its user approves elsewhere; the device
/// code and the nonce are [`Secret`]s and never reach `Debug` output.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceAuthorization {
    /// The code the client polls with (secret).
    pub device_code: Secret,
    /// The code the user types at the verification URI.
    pub user_code: String,
    /// Where the user goes.
    pub verification_uri: String,
    /// The verification URI with the user code in it, when the provider gives one.
    pub verification_uri_complete: Option<String>,
    /// How long the codes live (capped at [`MAX_LIFETIME`]).
    pub expires_in: Duration,
    /// The wait between polls (at least [`MIN_INTERVAL`]).
    pub interval: Duration,
    /// When the codes were issued (seconds since the Unix epoch, this machine's clock).
    pub issued_at: u64,
    /// The nonce sent with the request.
    pub nonce: Secret,
    /// The issuer and client the codes belong to.
    pub issuer: String,
    /// The client.
    pub client_id: String,
    /// `acr_values` asked for.
    pub acr_values: Vec<String>,
}

/// What a poll brought, short of tokens: for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DevicePoll {
    /// `authorization_pending`: the user has not finished yet.
    Pending,
    /// `slow_down`: the interval is now this long.
    SlowDown {
        /// The new interval.
        interval: Duration,
    },
    /// The provider could not be reached; the next poll waits this long.
    Retrying {
        /// The next wait.
        wait: Duration,
    },
}

/// How polling waits, and who hears about each poll. The default waits on the tokio clock
/// and tells no one; a CLI shows a countdown, a test runner records the waits instead of
/// sleeping them.
pub trait DevicePacer: Send + Sync {
    /// Wait `duration` before the next poll.
    fn wait(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(duration))
    }

    /// A poll was answered with something other than tokens.
    fn polled(&self, poll: DevicePoll) {
        let _ = poll;
    }
}

/// The default pacer: real time, no display.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealTime;

impl DevicePacer for RealTime {}

/// The device authorization response as sent (RFC 8628 §3.2).
#[derive(Deserialize)]
struct Answer {
    device_code: Option<String>,
    user_code: Option<String>,
    verification_uri: Option<String>,
    /// Some providers (Google) still send the draft's name.
    verification_url: Option<String>,
    verification_uri_complete: Option<String>,
    expires_in: Option<serde_json::Value>,
    interval: Option<serde_json::Value>,
}

fn seconds(value: Option<&serde_json::Value>) -> Option<u64> {
    match value? {
        serde_json::Value::Number(n) => n.as_u64(),
        // Some providers send numbers as strings.
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Answer {
    /// Check every member before anything in it is shown or used.
    fn check(self, url: &str, http: &crate::HttpClient) -> Result<Parsed> {
        let bad = |reason: String| Error::BadResponse {
            what: "device authorization response",
            url: display_url(url),
            reason,
        };
        let device_code = self
            .device_code
            .filter(|c| !c.is_empty() && c.len() <= 4096)
            .ok_or_else(|| bad("device_code is missing, empty or longer than 4096 bytes".into()))?;
        let user_code = self
            .user_code
            .filter(|c| {
                !c.is_empty()
                    && c.len() <= 64
                    && c.chars().all(|ch| ch.is_ascii_graphic() || ch == ' ')
            })
            .ok_or_else(|| {
                bad("user_code is missing, or not up to 64 printable ASCII characters".into())
            })?;
        let verification_uri = self
            .verification_uri
            .or(self.verification_url)
            .ok_or_else(|| bad("verification_uri is missing".into()))?;
        check_page_url(&verification_uri, "verification_uri", http).map_err(&bad)?;
        let verification_uri_complete = match self.verification_uri_complete {
            Some(u) => {
                check_page_url(&u, "verification_uri_complete", http).map_err(&bad)?;
                Some(u)
            }
            None => None,
        };
        let expires_in = seconds(self.expires_in.as_ref())
            .filter(|s| *s > 0)
            .ok_or_else(|| bad("expires_in is missing or not a positive number".into()))?;
        let interval = match &self.interval {
            None => DEFAULT_INTERVAL,
            Some(v) => Duration::from_secs(
                seconds(Some(v)).ok_or_else(|| bad("interval is not a number".into()))?,
            ),
        };
        Ok(Parsed {
            device_code: Secret::new(device_code),
            user_code,
            verification_uri,
            verification_uri_complete,
            expires_in: Duration::from_secs(expires_in).min(MAX_LIFETIME),
            interval: interval.clamp(MIN_INTERVAL, MAX_LIFETIME),
        })
    }
}

struct Parsed {
    device_code: Secret,
    user_code: String,
    verification_uri: String,
    verification_uri_complete: Option<String>,
    expires_in: Duration,
    interval: Duration,
}

/// A page the user is sent to: an absolute `https` URL (or `http` where the client allows
/// it, loopback in tests), at most 2048 bytes, with no user info.
fn check_page_url(
    value: &str,
    name: &str,
    http: &crate::HttpClient,
) -> std::result::Result<(), String> {
    if value.len() > 2048 {
        return Err(format!("{name} is longer than 2048 bytes"));
    }
    let url = url::Url::parse(value).map_err(|e| format!("{name} is not a URL: {e}"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{name} carries user credentials"));
    }
    http.check_url(&url, name).map_err(|e| e.to_string())
}

impl RelyingParty {
    /// Start a device login (RFC 8628 §3.1): the codes to show the user.
    ///
    /// ```no_run
    /// # async fn f(rp: &oidc_rp::RelyingParty) -> oidc_rp::Result<()> {
    /// use oidc_rp::DeviceRequest;
    /// let auth = rp
    ///     .device_authorization(&DeviceRequest::with_scopes(["openid", "profile"]))
    ///     .await?;
    /// println!("go to {} and enter {}", auth.verification_uri, auth.user_code);
    /// let login = rp.complete_device(&auth, &oidc_rp::device::RealTime).await?;
    /// println!("signed in as {}", login.id_token.subject);
    /// # Ok(()) }
    /// ```
    pub async fn device_authorization(
        &self,
        request: &DeviceRequest,
    ) -> Result<DeviceAuthorization> {
        let (endpoint, auth) = self
            .supplemented(
                "device_authorization_endpoint",
                "the device authorization grant (RFC 8628)",
                |m| (m.device_authorization_endpoint.clone(), None),
            )
            .await?;
        let mut scopes = request.scopes.clone();
        if !scopes.iter().any(|s| s == "openid") {
            scopes.insert(0, "openid".into());
        }
        let scope = scopes.join(" ");
        let nonce = Secret::random(24);
        let acr = request.acr_values.join(" ");
        let mut params: Vec<(&str, &str)> = vec![("scope", &scope), ("nonce", nonce.expose())];
        if !acr.is_empty() {
            params.push(("acr_values", &acr));
        }
        for (k, v) in &request.extra {
            params.push((k, v));
        }
        let call = self.call("device authorization", &endpoint, auth.as_ref());
        let answer: Answer = call.json("device authorization response", &params).await?;
        let parsed = answer.check(endpoint.as_str(), self.http())?;
        Ok(DeviceAuthorization {
            device_code: parsed.device_code,
            user_code: parsed.user_code,
            verification_uri: parsed.verification_uri,
            verification_uri_complete: parsed.verification_uri_complete,
            expires_in: parsed.expires_in,
            interval: parsed.interval,
            issued_at: now_secs(),
            nonce,
            issuer: self.issuer().to_string(),
            client_id: self.client().client_id.clone(),
            acr_values: request.acr_values.clone(),
        })
    }

    /// Poll until the user approves (RFC 8628 §3.4-3.5), then validate the tokens as any
    /// login's. `pacer` waits between polls ([`RealTime`] for real use).
    ///
    /// Ends with [`Error::Device`] when the user refuses or the code expires; another
    /// provider error ends it at once, and three network failures in a row too.
    pub async fn complete_device(
        &self,
        auth: &DeviceAuthorization,
        pacer: &dyn DevicePacer,
    ) -> Result<Login> {
        if auth.issuer != self.issuer() || auth.client_id != self.client().client_id {
            return Err(Error::Config(
                crate::error::ConfigError::TransactionMismatch,
            ));
        }
        let endpoint = self.token_endpoint()?;
        let token_auth = self.token_auth()?;
        let lifetime = auth.expires_in.min(MAX_LIFETIME);
        let elapsed_before = Duration::from_secs(now_secs().saturating_sub(auth.issued_at));
        let started = tokio::time::Instant::now();
        let deadline = started + lifetime.saturating_sub(elapsed_before);
        let mut interval = auth.interval.max(MIN_INTERVAL);
        let mut wait = interval;
        let (mut polls, mut slowed, mut failures) = (0u32, 0u32, 0u32);
        // The waits asked for count too: a pacer that does not sleep (a test's virtual
        // clock) still stops at the code's lifetime.
        let mut waited = elapsed_before;
        let expired = || -> Error {
            DeviceError::Expired {
                waited_secs: (elapsed_before + started.elapsed()).as_secs(),
            }
            .into()
        };
        let tokens = loop {
            waited += wait;
            if tokio::time::Instant::now() + wait > deadline || waited > lifetime {
                return Err(expired());
            }
            pacer.wait(wait).await;
            polls += 1;
            let call = self.call("token", &endpoint, token_auth.as_ref());
            let e = match crate::token::device_code(call, auth.device_code.expose()).await {
                Ok(tokens) => break tokens,
                Err(e) => e,
            };
            let code = match &e {
                Error::Provider(ProviderError { error, .. }) => error.as_deref(),
                _ => None,
            };
            match code {
                Some("authorization_pending") => {
                    failures = 0;
                    wait = interval;
                    pacer.polled(DevicePoll::Pending);
                }
                Some("slow_down") => {
                    failures = 0;
                    slowed += 1;
                    interval = (interval + SLOW_DOWN_STEP).min(MAX_LIFETIME);
                    wait = interval;
                    pacer.polled(DevicePoll::SlowDown { interval });
                }
                Some("access_denied") => return Err(DeviceError::Denied.into()),
                Some("expired_token") => return Err(expired()),
                // §3.5: on a connection timeout, back off exponentially.
                _ if matches!(e, Error::Timeout { .. } | Error::Unreachable { .. })
                    && failures + 1 < MAX_NETWORK_FAILURES =>
                {
                    failures += 1;
                    wait = (wait * 2).min(MAX_LIFETIME);
                    pacer.polled(DevicePoll::Retrying { wait });
                }
                _ => return Err(e),
            }
        };
        let mut report = Report::new();
        let slowed = if slowed > 0 {
            format!(" (slowed down {slowed} time(s) as asked)")
        } else {
            String::new()
        };
        report.pass(
            CheckId::DeviceGrant,
            format!(
                "approved at poll {polls}, polling every {} s{slowed}",
                interval.as_secs_f32()
            ),
        );
        let rules = IdTokenRules {
            acr_values: &auth.acr_values,
            ..self.id_token_rules(NonceCheck::IfPresent(auth.nonce.expose()))
        };
        self.login_from(tokens, rules, report).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> Result<Parsed> {
        let answer: Answer = serde_json::from_value(v).expect("shape");
        let http = crate::HttpClient::new(crate::HttpConfig {
            allow_insecure_http: true,
            ..Default::default()
        });
        answer.check("https://op.example/device", &http)
    }

    fn good() -> serde_json::Value {
        json!({
            "device_code": "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS",
            "user_code": "WDJB-MJHT",
            "verification_uri": "https://op.example/device",
            "verification_uri_complete": "https://op.example/device?user_code=WDJB-MJHT",
            "expires_in": 1800,
            "interval": 5
        })
    }

    #[test]
    fn a_complete_answer_is_taken_as_sent() {
        let p = parse(good()).expect("valid");
        assert_eq!(p.user_code, "WDJB-MJHT");
        assert_eq!(p.interval, Duration::from_secs(5));
        assert_eq!(p.expires_in, Duration::from_secs(1800));
    }

    #[test]
    fn interval_defaults_to_five_seconds_and_is_floored() {
        let mut v = good();
        v.as_object_mut().expect("object").remove("interval");
        assert_eq!(parse(v).expect("valid").interval, DEFAULT_INTERVAL);
        let mut v = good();
        v["interval"] = json!(0);
        assert_eq!(parse(v).expect("valid").interval, MIN_INTERVAL);
    }

    #[test]
    fn expiry_is_capped() {
        let mut v = good();
        v["expires_in"] = json!(10_000_000);
        assert_eq!(parse(v).expect("valid").expires_in, MAX_LIFETIME);
    }

    #[test]
    fn missing_or_hostile_members_are_refused() {
        for (member, value) in [
            ("device_code", json!(null)),
            ("user_code", json!(null)),
            ("user_code", json!("AB\u{1b}[2JCD")),
            ("user_code", json!("x".repeat(65))),
            ("verification_uri", json!(null)),
            ("verification_uri", json!("javascript:alert(1)")),
            (
                "verification_uri",
                json!("https://user:pw@op.example/device"),
            ),
            ("verification_uri_complete", json!("not a url")),
            ("expires_in", json!(null)),
            ("expires_in", json!(0)),
            ("interval", json!("soon")),
        ] {
            let mut v = good();
            v[member] = value.clone();
            if value.is_null() {
                v.as_object_mut().expect("object").remove(member);
            }
            assert!(parse(v).is_err(), "{member} = {value} was accepted");
        }
    }

    #[test]
    fn the_drafts_verification_url_is_read() {
        let mut v = good();
        let uri = v["verification_uri"].take();
        v.as_object_mut()
            .expect("object")
            .remove("verification_uri");
        v["verification_url"] = uri;
        assert!(parse(v).is_ok());
    }

    #[test]
    fn numbers_as_strings_are_read() {
        let mut v = good();
        v["expires_in"] = json!("600");
        v["interval"] = json!("2");
        let p = parse(v).expect("valid");
        assert_eq!(p.expires_in, Duration::from_secs(600));
        assert_eq!(p.interval, Duration::from_secs(2));
    }
}
