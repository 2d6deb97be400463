//! ID token validation: every rule of OpenID Connect Core 1.0 §3.1.3.7, plus `at_hash`
//! (§3.1.3.8) and `c_hash` (§3.3.2.11), with a report of each check.
//!
//! Order: the token's format and algorithm first, then the signature (nothing in the claims
//! is believed before it verifies, RFC 8725 §3.1), then the claims in the order of §3.1.3.7.
//!
//! Time checks use a leeway (default 60 s) for clock skew between RP and provider.

use crate::error::{Result, truncate};
use crate::jose::{Alg, half_hash};
use crate::jwt::{Checker, KeySource, SignaturePolicy, TypRule, verify_signed};
use crate::report::{CheckId, Report};
use crate::secret::Secret;
use crate::time::{Clock, TimeError, numeric_date};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::time::Duration;
use subtle::ConstantTimeEq;

/// How the `nonce` claim is checked.
#[derive(Debug, Clone, Copy)]
pub enum NonceCheck<'a> {
    /// It must be present and equal this value (§3.1.3.7 rule 11).
    Equals(&'a str),
    /// Not checked: a refreshed ID token answers no authorization request (§12.2).
    NotExpected,
    /// It must equal this value when present: the device grant (RFC 8628) defines no
    /// `nonce`, so a provider may drop the one sent; its ID token comes straight from the
    /// token endpoint in answer to a secret device code, so nothing can be injected.
    IfPresent(&'a str),
}

/// What an ID token is checked against.
#[derive(Debug, Clone)]
pub struct IdTokenRules<'a> {
    /// The issuer, compared exactly with `iss`.
    pub issuer: &'a str,
    /// This client's id, which `aud` must contain.
    pub client_id: &'a str,
    /// The client secret, the only key HMAC-signed tokens are checked with.
    pub client_secret: Option<&'a Secret>,
    /// Algorithms accepted. `none` only when the client registered it.
    pub allowed_algs: &'a [Alg],
    /// The nonce rule.
    pub nonce: NonceCheck<'a>,
    /// Allowed clock skew.
    pub leeway: Duration,
    /// `max_age` sent with the request, if any.
    pub max_age: Option<u64>,
    /// `acr_values` sent with the request, if any.
    pub acr_values: &'a [String],
    /// The access token issued with this ID token, for `at_hash`.
    pub access_token: Option<&'a str>,
    /// The code issued with this ID token in the front channel, for `c_hash`.
    pub code: Option<&'a str>,
    /// The ID token came from the authorization endpoint: `at_hash` and `c_hash` are then
    /// required when an access token or a code came with it (OIDC Core §3.2.2.10,
    /// §3.3.2.11).
    pub front_channel: bool,
    /// Audiences besides the client that are trusted (§3.1.3.7 rule 3).
    pub trusted_audiences: &'a [String],
    /// The current time, in seconds since the epoch (`None`: the system clock).
    pub now: Option<i64>,
    /// Rules NOT enforced. Empty in every real use; it exists so that a test suite can prove
    /// it notices a weakened validator (see `ValidationOptions::danger_skip_checks`).
    pub danger_skip: &'a [CheckId],
}

impl<'a> IdTokenRules<'a> {
    /// Rules with the defaults: 60 s leeway, no `max_age`, no `acr`, no extra audiences.
    pub fn new(
        issuer: &'a str,
        client_id: &'a str,
        allowed_algs: &'a [Alg],
        nonce: NonceCheck<'a>,
    ) -> Self {
        IdTokenRules {
            issuer,
            client_id,
            client_secret: None,
            allowed_algs,
            nonce,
            leeway: Duration::from_secs(60),
            max_age: None,
            acr_values: &[],
            access_token: None,
            code: None,
            front_channel: false,
            trusted_audiences: &[],
            now: None,
            danger_skip: &[],
        }
    }
}

/// A verified ID token. Only [`validate`] makes one.
#[derive(Debug, Clone, Serialize)]
pub struct VerifiedIdToken {
    /// The compact token (kept for `id_token_hint`; redacted in `Debug`).
    #[serde(skip)]
    pub raw: Secret,
    /// The algorithm it was signed with.
    #[serde(skip)]
    pub alg: Alg,
    /// `iss`.
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// `aud`.
    pub audiences: Vec<String>,
    /// `exp`.
    pub expires_at: i64,
    /// `iat`.
    pub issued_at: i64,
    /// `auth_time`.
    pub auth_time: Option<i64>,
    /// `sid`.
    pub sid: Option<String>,
    /// `azp`.
    pub azp: Option<String>,
    /// The claims JSON, as sent (serialised as `claims`).
    #[serde(rename = "claims", serialize_with = "raw_json")]
    payload: String,
    /// The checks made.
    pub report: Report,
}

fn raw_json<S: serde::Serializer>(payload: &str, ser: S) -> std::result::Result<S::Ok, S::Error> {
    use serde::Serialize as _;
    let raw: &RawValue = serde_json::from_str(payload).map_err(serde::ser::Error::custom)?;
    raw.serialize(ser)
}

impl VerifiedIdToken {
    /// Every claim, as sent.
    pub fn claims(&self) -> Map<String, Value> {
        serde_json::from_str(&self.payload).unwrap_or_default()
    }

    /// One claim, as sent.
    pub fn claim(&self, name: &str) -> Option<Value> {
        self.claims().remove(name)
    }

    /// The claims JSON text.
    pub fn claims_json(&self) -> &str {
        &self.payload
    }
}

/// The claims this module checks, borrowed from the payload without allocating. Other
/// members are skipped by the parser; a claim given twice is a format error (RFC 7519 §4:
/// names must be unique, and two values could fool two readers).
#[derive(Debug, Default, Deserialize)]
struct Claims<'a> {
    #[serde(borrow, default)]
    iss: Option<&'a RawValue>,
    #[serde(borrow, default)]
    sub: Option<&'a RawValue>,
    #[serde(borrow, default)]
    aud: Option<&'a RawValue>,
    #[serde(borrow, default)]
    azp: Option<&'a RawValue>,
    #[serde(borrow, default)]
    exp: Option<&'a RawValue>,
    #[serde(borrow, default)]
    iat: Option<&'a RawValue>,
    #[serde(borrow, default)]
    nbf: Option<&'a RawValue>,
    #[serde(borrow, default)]
    auth_time: Option<&'a RawValue>,
    #[serde(borrow, default)]
    nonce: Option<&'a RawValue>,
    #[serde(borrow, default)]
    acr: Option<&'a RawValue>,
    #[serde(borrow, default)]
    at_hash: Option<&'a RawValue>,
    #[serde(borrow, default)]
    c_hash: Option<&'a RawValue>,
    #[serde(borrow, default)]
    sid: Option<&'a RawValue>,
}

impl<'a> Claims<'a> {
    fn get(&self, name: &str) -> Option<&'a RawValue> {
        match name {
            "iss" => self.iss,
            "sub" => self.sub,
            "aud" => self.aud,
            "azp" => self.azp,
            "exp" => self.exp,
            "iat" => self.iat,
            "nbf" => self.nbf,
            "auth_time" => self.auth_time,
            "nonce" => self.nonce,
            "acr" => self.acr,
            "at_hash" => self.at_hash,
            "c_hash" => self.c_hash,
            "sid" => self.sid,
            _ => None,
        }
    }
}

/// Validate an ID token. `subject` names it in errors ("ID token", "refreshed ID token").
///
/// The rules are explicit: nothing process-wide changes what is checked.
///
/// ```no_run
/// # async fn f(raw: &str) -> oidc_rp::Result<()> {
/// use oidc_rp::id_token::{self, IdTokenRules, NonceCheck};
/// use oidc_rp::jwt::KeySource;
/// use oidc_rp::keys::{JwksCache, JwksPolicy};
/// use oidc_rp::{Alg, HttpClient};
/// let http = HttpClient::default();
/// let jwks_uri = url::Url::parse("https://op.example.com/jwks").unwrap();
/// let jwks = JwksCache::new(jwks_uri, JwksPolicy::default());
/// let algs = [Alg::RS256];
/// let rules = IdTokenRules {
///     max_age: Some(300), // seconds since auth_time (§3.1.3.7 rule 13)
///     ..IdTokenRules::new("https://op.example.com", "my-client", &algs, NonceCheck::Equals("n-0S6"))
/// };
/// let token = id_token::validate(raw, &rules, KeySource { jwks: &jwks, http: &http }, "ID token").await?;
/// println!("{} via {:?}", token.subject, token.alg);
/// # Ok(()) }
/// ```
pub async fn validate(
    raw: &str,
    rules: &IdTokenRules<'_>,
    keys: KeySource<'_>,
    subject: &'static str,
) -> Result<VerifiedIdToken> {
    let mut c = Checker::skipping(subject, rules.danger_skip);
    let policy = SignaturePolicy {
        allowed_algs: rules.allowed_algs,
        client_secret: rules.client_secret,
        typ: TypRule::NotForeign,
    };
    let (alg, payload) = verify_signed(raw, &policy, keys, &mut c).await?;
    let payload = String::from_utf8(payload)
        .map_err(|_| c.fail(CheckId::Format, "the claims are not UTF-8"))?;
    let mut verified = {
        // A derived struct also deserialises from an array; claims must be an object.
        if !payload.trim_start().starts_with('{') {
            return Err(c.fail(CheckId::Format, "the claims are not a JSON object"));
        }
        let claims: Claims<'_> = match serde_json::from_str(&payload) {
            Ok(claims) => claims,
            Err(e) => {
                return Err(c.fail(
                    CheckId::Format,
                    format!("the claims are not a JSON object with unique names: {e}"),
                ));
            }
        };
        check_claims(c, raw, alg, &claims, rules)?
    };
    verified.payload = payload;
    Ok(verified)
}

/// A string claim (borrowed when it has no escapes); `None` when absent or not a string.
fn str_claim<'a>(claims: &Claims<'a>, name: &str) -> Option<Cow<'a, str>> {
    let raw = claims.get(name)?.get();
    serde_json::from_str::<&'a str>(raw)
        .map(Cow::Borrowed)
        .ok()
        .or_else(|| serde_json::from_str::<String>(raw).ok().map(Cow::Owned))
}

/// A NumericDate claim (RFC 7519 §2), through the one checked time path ([`crate::time`]).
fn time_claim(claims: &Claims<'_>, name: &str) -> Option<std::result::Result<i64, TimeError>> {
    claims.get(name).map(|raw| numeric_date(raw.get()))
}

/// A string claim: `None` when absent, `Some(Err(()))` when present but not a string.
fn string_or_not<'a>(
    claims: &Claims<'a>,
    name: &str,
) -> Option<std::result::Result<Cow<'a, str>, ()>> {
    claims.get(name)?;
    Some(str_claim(claims, name).ok_or(()))
}

fn check_claims(
    mut c: Checker,
    raw: &str,
    alg: Alg,
    claims: &Claims<'_>,
    rules: &IdTokenRules<'_>,
) -> Result<VerifiedIdToken> {
    let clock = Clock::new(rules.now, rules.leeway);

    // Rule 2: iss exactly the issuer.
    let iss = string_or_not(claims, "iss");
    c.issuer(
        iss.as_ref().map(|r| r.as_deref().map_err(|_| ())),
        rules.issuer,
    )?;
    let issuer = rules.issuer.to_string();

    // §2: sub is REQUIRED, a non-empty string of at most 255 ASCII characters.
    let subject = match str_claim(claims, "sub") {
        Some(sub) if !sub.is_empty() && sub.len() <= 255 => sub.into_owned(),
        Some(_) => {
            return Err(c.fail(
                CheckId::Subject,
                "sub is empty or longer than 255 characters",
            ));
        }
        None => return Err(c.fail(CheckId::Subject, "sub is missing")),
    };
    c.report.pass(CheckId::Subject, "present");

    // Rule 3: aud contains the client; any other audience must be trusted.
    let audiences: Vec<String> = match claims.aud.map(|a| a.get()) {
        Some(a) if a.starts_with('"') && str_claim(claims, "aud").is_some() => {
            vec![str_claim(claims, "aud").unwrap_or_default().into_owned()]
        }
        Some(a)
            if a.starts_with('[')
                && serde_json::from_str::<Vec<String>>(a).is_ok_and(|v| !v.is_empty()) =>
        {
            serde_json::from_str::<Vec<String>>(a).unwrap_or_default()
        }
        Some(_) => {
            return Err(c.fail(
                CheckId::Audience,
                "aud is neither a string nor an array of strings",
            ));
        }
        None => return Err(c.fail(CheckId::Audience, "aud is missing")),
    };
    if !audiences.iter().any(|a| a == rules.client_id) {
        return Err(c.fail(
            CheckId::Audience,
            format!(
                "aud is {:?} and does not contain this client `{}`",
                audiences
                    .iter()
                    .map(|a| truncate(a, 80))
                    .collect::<Vec<_>>(),
                rules.client_id
            ),
        ));
    }
    if let Some(untrusted) = audiences
        .iter()
        .find(|a| *a != rules.client_id && !rules.trusted_audiences.contains(a))
    {
        return Err(c.fail(
            CheckId::Audience,
            format!(
                "aud also names `{}`, which this client does not trust",
                truncate(untrusted, 80)
            ),
        ));
    }
    c.report.pass(
        CheckId::Audience,
        if audiences.len() == 1 {
            "is this client"
        } else {
            "contains this client and trusted audiences only"
        },
    );

    // Rules 4-5: azp required with several audiences, and then it must be this client.
    let azp = str_claim(claims, "azp").map(Cow::into_owned);
    match (&azp, audiences.len()) {
        (Some(azp), _) if azp != rules.client_id => {
            return Err(c.fail(
                CheckId::Azp,
                format!("azp is `{}`, not this client", truncate(azp, 80)),
            ));
        }
        (Some(_), _) => c.report.pass(CheckId::Azp, "is this client"),
        (None, n) if n > 1 => {
            return Err(c.fail(
                CheckId::Azp,
                "several audiences and no azp naming the authorized party",
            ));
        }
        (None, _) => c.report.pass(CheckId::Azp, "absent, single audience"),
    }

    // Rule 9: exp in the future (RFC 7519 §4.1.4).
    let expires_at = match time_claim(claims, "exp") {
        Some(Ok(exp)) if clock.before_expiry(exp) => exp,
        Some(Ok(exp)) => {
            return Err(c.fail(
                CheckId::Expiry,
                format!("expired {} s ago ({})", clock.since(exp), clock.note()),
            ));
        }
        Some(Err(e)) => return Err(c.fail(CheckId::Expiry, e.message("exp"))),
        None => return Err(c.fail(CheckId::Expiry, "exp is missing")),
    };
    c.report.pass(
        CheckId::Expiry,
        match clock.until(expires_at) {
            left if left >= 0 => format!("expires in {left} s ({})", clock.note()),
            left => format!("expired {} s ago, within the {}", -left, clock.note()),
        },
    );

    // Rule 10: iat present and not in the future.
    let issued_at = match time_claim(claims, "iat") {
        Some(Ok(iat)) if clock.not_after_now(iat) => iat,
        Some(Ok(iat)) => {
            return Err(c.fail(
                CheckId::IssuedAt,
                format!(
                    "issued {} s in the future ({}): check the clocks",
                    clock.until(iat),
                    clock.note()
                ),
            ));
        }
        Some(Err(e)) => return Err(c.fail(CheckId::IssuedAt, e.message("iat"))),
        None => return Err(c.fail(CheckId::IssuedAt, "iat is missing")),
    };
    c.report
        .pass(CheckId::IssuedAt, ago(&clock, issued_at, "issued"));

    // RFC 7519 §4.1.5: not accepted before nbf, with the same leeway.
    match time_claim(claims, "nbf") {
        Some(Ok(nbf)) if clock.not_after_now(nbf) => c
            .report
            .pass(CheckId::NotBefore, ago(&clock, nbf, "valid since")),
        Some(Ok(nbf)) => {
            return Err(c.fail(
                CheckId::NotBefore,
                format!(
                    "not valid for another {} s ({}): the token must not be accepted before nbf",
                    clock.until(nbf),
                    clock.note()
                ),
            ));
        }
        Some(Err(e)) => return Err(c.fail(CheckId::NotBefore, e.message("nbf"))),
        None => c.report.pass(CheckId::NotBefore, "absent (optional)"),
    }

    // Rule 11: nonce.
    match rules.nonce {
        NonceCheck::Equals(_) if c.skipped(CheckId::Nonce) => c
            .report
            .pass(CheckId::Nonce, "SKIPPED: turned off by the caller"),
        NonceCheck::Equals(expected) => match str_claim(claims, "nonce") {
            Some(n) if bool::from(n.as_bytes().ct_eq(expected.as_bytes())) => {
                c.report.pass(CheckId::Nonce, "equals the nonce sent")
            }
            Some(_) => {
                return Err(c.fail(
                    CheckId::Nonce,
                    "nonce is not the one sent: a replayed or injected token",
                ));
            }
            None => return Err(c.fail(CheckId::Nonce, "nonce is missing, and one was sent")),
        },
        NonceCheck::IfPresent(expected) => match str_claim(claims, "nonce") {
            Some(n) if bool::from(n.as_bytes().ct_eq(expected.as_bytes())) => {
                c.report.pass(CheckId::Nonce, "equals the nonce sent")
            }
            Some(_) if c.skipped(CheckId::Nonce) => c
                .report
                .pass(CheckId::Nonce, "SKIPPED: turned off by the caller"),
            Some(_) => {
                return Err(c.fail(
                    CheckId::Nonce,
                    "nonce is not the one sent: a replayed or injected token",
                ));
            }
            None => c.report.pass(
                CheckId::Nonce,
                "absent: the device grant defines no nonce (RFC 8628), the token came from the token endpoint",
            ),
        },
        NonceCheck::NotExpected => c.report.pass(
            CheckId::Nonce,
            "not checked: a refreshed ID token answers no request (§12.2)",
        ),
    }

    // Rule 12: acr, when acr_values were requested.
    if rules.acr_values.is_empty() {
        c.report.pass(CheckId::Acr, "not requested");
    } else {
        match str_claim(claims, "acr") {
            Some(acr) if rules.acr_values.iter().any(|v| *v == acr) => c
                .report
                .pass(CheckId::Acr, format!("`{acr}` was requested")),
            Some(acr) => {
                return Err(c.fail(
                    CheckId::Acr,
                    format!(
                        "acr is `{}`, requested: {}",
                        truncate(&acr, 80),
                        rules.acr_values.join(", ")
                    ),
                ));
            }
            None => {
                return Err(c.fail(
                    CheckId::Acr,
                    "acr is missing, and acr_values were requested",
                ));
            }
        }
    }

    // Rule 13: auth_time with max_age.
    let auth_time = match time_claim(claims, "auth_time") {
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => return Err(c.fail(CheckId::AuthTime, e.message("auth_time"))),
        None => None,
    };
    match (rules.max_age, auth_time) {
        (Some(max_age), Some(t)) => {
            let age = clock.since(t);
            if !clock.within(t, max_age) {
                return Err(c.fail(
                    CheckId::AuthTime,
                    format!(
                        "the user authenticated {age} s ago, more than max_age {max_age} s + {}",
                        clock.note()
                    ),
                ));
            }
            c.report.pass(
                CheckId::AuthTime,
                format!(
                    "authenticated {age} s ago, within max_age {max_age} s + {}",
                    clock.note()
                ),
            );
        }
        (Some(_), None) => {
            return Err(c.fail(
                CheckId::AuthTime,
                "auth_time is missing, and max_age was requested",
            ));
        }
        (None, Some(_)) => c
            .report
            .pass(CheckId::AuthTime, "present; no max_age requested"),
        (None, None) => c.report.pass(CheckId::AuthTime, "not requested"),
    }

    // §3.1.3.8: at_hash, when present, must match the access token issued with the token.
    hash_check(
        &mut c,
        claims,
        "at_hash",
        CheckId::AtHash,
        rules.access_token,
        alg,
        rules.front_channel,
    )?;
    if rules.code.is_some() {
        hash_check(
            &mut c,
            claims,
            "c_hash",
            CheckId::CHash,
            rules.code,
            alg,
            rules.front_channel,
        )?;
    }

    let sid = str_claim(claims, "sid").map(Cow::into_owned);
    Ok(VerifiedIdToken {
        raw: Secret::new(raw),
        alg,
        issuer,
        subject,
        audiences,
        expires_at,
        issued_at,
        auth_time,
        sid,
        azp,
        payload: String::new(),
        report: c.report,
    })
}

/// "issued 3 s ago (60 s clock leeway)", or "… in the future, within the leeway".
fn ago(clock: &Clock, t: i64, what: &str) -> String {
    match clock.since(t) {
        age if age >= 0 => format!("{what} {age} s ago ({})", clock.note()),
        age => format!(
            "{what} {} s in the future, within the {}",
            -age,
            clock.note()
        ),
    }
}

fn hash_check(
    c: &mut Checker,
    claims: &Claims<'_>,
    name: &str,
    check: CheckId,
    value: Option<&str>,
    alg: Alg,
    required: bool,
) -> Result<()> {
    match (str_claim(claims, name), value) {
        (Some(claimed), Some(value)) => match half_hash(alg, value) {
            Some(expected) if bool::from(claimed.as_bytes().ct_eq(expected.as_bytes())) => {
                c.report.pass(check, "matches");
                Ok(())
            }
            Some(_) => Err(c.fail(
                check,
                format!("{name} does not match the value issued with the token"),
            )),
            None => {
                c.report
                    .pass(check, format!("not checkable with alg {alg}"));
                Ok(())
            }
        },
        (None, Some(_)) if required => Err(c.fail(
            check,
            format!(
                "{name} is missing from an ID token issued by the authorization endpoint with {} (OIDC Core {})",
                if name == "c_hash" { "a code" } else { "an access token" },
                if name == "c_hash" { "§3.3.2.11" } else { "§3.2.2.10, §3.3.2.11" }
            ),
        )),
        (None, Some(_)) => {
            c.report.pass(
                check,
                "absent (optional when the token comes from the token endpoint)",
            );
            Ok(())
        }
        (_, None) => {
            c.report.pass(check, "no value issued with the token");
            Ok(())
        }
    }
}

impl VerifiedIdToken {
    /// The form to keep it in (a session store, a cache file) and read back later.
    pub fn to_stored(&self) -> StoredIdToken {
        StoredIdToken {
            raw: self.raw.clone(),
            claims: self.claims(),
            checks: self.report.clone(),
        }
    }
}

/// An ID token this crate validated earlier, kept by the caller and read back: the compact
/// token (for `id_token_hint`), its claims, and the checks it passed then. It round-trips
/// through serde. It is **not** a fresh verification, so it is a type of its own: it serves
/// as the original a refreshed ID token is compared with (OIDC Core §12.2), as
/// `id_token_hint`, and to show who is signed in; never as proof of a new login.
///
/// ```
/// # fn f(login: &oidc_rp::Login) -> serde_json::Result<()> {
/// let stored = login.id_token.to_stored();
/// let text = serde_json::to_string(&stored)?;          // into the session store
/// let back: oidc_rp::StoredIdToken = serde_json::from_str(&text)?;
/// assert_eq!(back.subject(), Some(login.id_token.subject.as_str()));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredIdToken {
    /// The compact token.
    pub raw: Secret,
    /// Its claims.
    pub claims: Map<String, Value>,
    /// The checks it passed when it was validated.
    #[serde(default)]
    pub checks: Report,
}

impl StoredIdToken {
    /// A stored token from its parts (a cache that kept the token and its claims).
    pub fn new(raw: Secret, claims: Map<String, Value>) -> Self {
        StoredIdToken {
            raw,
            claims,
            checks: Report::new(),
        }
    }

    fn string(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    fn time(&self, name: &str) -> Option<i64> {
        self.claims
            .get(name)
            .and_then(|v| crate::time::numeric_date_value(v).ok())
    }

    /// `iss`.
    pub fn issuer(&self) -> Option<&str> {
        self.string("iss")
    }

    /// `sub`.
    pub fn subject(&self) -> Option<&str> {
        self.string("sub")
    }

    /// `aud`, as a list.
    pub fn audiences(&self) -> Vec<String> {
        match self.claims.get("aud") {
            Some(Value::String(a)) => vec![a.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|a| a.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// `azp`.
    pub fn azp(&self) -> Option<&str> {
        self.string("azp")
    }

    /// `auth_time`.
    pub fn auth_time(&self) -> Option<i64> {
        self.time("auth_time")
    }

    /// `iat`.
    pub fn issued_at(&self) -> Option<i64> {
        self.time("iat")
    }

    /// `exp`.
    pub fn expires_at(&self) -> Option<i64> {
        self.time("exp")
    }

    /// `sid`.
    pub fn sid(&self) -> Option<&str> {
        self.string("sid")
    }
}

impl From<&VerifiedIdToken> for StoredIdToken {
    fn from(token: &VerifiedIdToken) -> Self {
        token.to_stored()
    }
}

/// OIDC Core §12.2: an ID token from a refresh must keep the original's `iss`, `sub`, `aud`,
/// `azp` and `auth_time`, and its `iat` must be the new issue time. The outcome is appended
/// to the new token's report.
pub fn check_refresh_consistency(
    new: &mut VerifiedIdToken,
    original: &StoredIdToken,
) -> Result<()> {
    let mismatch = |what: &str, new_v: &str, old_v: &str| {
        format!(
            "{what} changed from `{}` to `{}`",
            truncate(old_v, 80),
            truncate(new_v, 80)
        )
    };
    let original_audiences = original.audiences();
    let same_audiences = {
        let mut a = new.audiences.clone();
        let mut b = original_audiences.clone();
        a.sort();
        b.sort();
        a == b
    };
    let (original_iss, original_sub) = (
        original.issuer().unwrap_or_default(),
        original.subject().unwrap_or_default(),
    );
    let problem = if new.issuer != original_iss {
        Some(mismatch("iss", &new.issuer, original_iss))
    } else if new.subject != original_sub {
        Some(mismatch("sub", &new.subject, original_sub))
    } else if !same_audiences {
        Some(mismatch(
            "aud",
            &new.audiences.join(" "),
            &original_audiences.join(" "),
        ))
    } else if new.azp.as_deref() != original.azp() {
        Some(mismatch(
            "azp",
            new.azp.as_deref().unwrap_or("(none)"),
            original.azp().unwrap_or("(none)"),
        ))
    } else if new.auth_time.is_some()
        && original.auth_time().is_some()
        && new.auth_time != original.auth_time()
    {
        Some("auth_time changed: it must stay the time of the original authentication".to_string())
    } else if original.issued_at().is_some_and(|t| new.issued_at < t) {
        Some("iat is older than the original ID token's".to_string())
    } else {
        None
    };
    match problem {
        None => {
            new.report.pass(
                CheckId::RefreshConsistency,
                "same iss, sub, aud, azp and auth_time as the original",
            );
            Ok(())
        }
        Some(detail) => {
            new.report.fail(CheckId::RefreshConsistency, detail.clone());
            Err(crate::error::Error::Validation(
                crate::error::ValidationError {
                    subject: "refreshed ID token",
                    check: CheckId::RefreshConsistency,
                    detail,
                    report: new.report.clone(),
                },
            ))
        }
    }
}
