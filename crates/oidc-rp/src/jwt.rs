//! The signature half of JWT validation, shared by ID tokens, signed userinfo and logout
//! tokens: format, algorithm allow-list, explicit typing, key selection and the signature.
//! Claims are only read after the signature verified (RFC 8725 §3.1).

use crate::error::{Error, Result, ValidationError, truncate};
use crate::http::HttpClient;
use crate::jose::{Alg, Jws, verify_hmac, verify_with_key};
use crate::keys::JwksCache;
use crate::report::{CheckId, Report};
use crate::secret::Secret;

/// Where the signing key comes from.
#[derive(Debug, Clone, Copy)]
pub struct KeySource<'a> {
    /// The provider's JWKS cache.
    pub jwks: &'a JwksCache,
    /// The client used to fetch it.
    pub http: &'a HttpClient,
}

/// What `typ` header values are acceptable.
#[derive(Debug, Clone, Copy)]
pub enum TypRule {
    /// Any `typ`, or none: for reading a token of any kind (`rp decode`), never for accepting
    /// one as a particular kind.
    Any,
    /// Absent, or anything but the types of other JWT kinds (RFC 8725 §3.11).
    NotForeign,
    /// Absent or exactly this media type (with or without the `application/` prefix).
    AbsentOr(&'static str),
    /// Exactly this media type (with or without the `application/` prefix).
    Exactly(&'static str),
}

/// Tokens whose `typ` says they are something else, and must never pass as ID tokens.
const FOREIGN_TYPES: &[&str] = &[
    "logout+jwt",
    "at+jwt",
    "token-introspection+jwt",
    "secevent+jwt",
    "dpop+jwt",
    "oauth-authz-req+jwt",
];

/// The signature rules for one kind of token.
#[derive(Debug, Clone, Copy)]
pub struct SignaturePolicy<'a> {
    /// Algorithms accepted; `none` only when the client registered it.
    pub allowed_algs: &'a [Alg],
    /// The client secret, the only key HMAC-signed tokens are checked with.
    pub client_secret: Option<&'a Secret>,
    /// The `typ` rule.
    pub typ: TypRule,
}

/// Accumulates the report and turns failures into [`Error::Validation`].
#[derive(Debug)]
pub(crate) struct Checker {
    pub report: Report,
    subject: &'static str,
    /// Rules the caller turned off explicitly (see `ValidationOptions::danger_skip_checks`).
    skip: Vec<CheckId>,
}

impl Checker {
    pub fn new(subject: &'static str) -> Self {
        Checker {
            report: Report::new(),
            subject,
            skip: Vec::new(),
        }
    }

    /// A checker that skips `skip` (recorded in the report as skipped).
    pub fn skipping(subject: &'static str, skip: &[CheckId]) -> Self {
        Checker {
            skip: skip.to_vec(),
            ..Checker::new(subject)
        }
    }

    /// Whether the caller turned `check` off.
    pub fn skipped(&self, check: CheckId) -> bool {
        self.skip.contains(&check)
    }

    pub fn fail(&mut self, check: CheckId, detail: impl Into<String>) -> Error {
        let detail = detail.into();
        self.report.fail(check, detail.clone());
        Error::Validation(ValidationError {
            subject: self.subject,
            check,
            detail,
            report: self.report.clone(),
        })
    }
}

impl Checker {
    /// `iss` must be exactly the issuer (OIDC Core §3.1.3.7 rule 2 and every JWT it signs).
    /// `iss` is `None` when absent, `Some(Err(()))` when present but not a string.
    pub fn issuer(
        &mut self,
        iss: Option<std::result::Result<&str, ()>>,
        expected: &str,
    ) -> Result<()> {
        match iss {
            _ if self.skipped(CheckId::Issuer) => {
                self.report
                    .pass(CheckId::Issuer, "SKIPPED: turned off by the caller");
                Ok(())
            }
            Some(Ok(iss)) if iss == expected => {
                self.report.pass(CheckId::Issuer, "equals the issuer");
                Ok(())
            }
            Some(Ok(iss)) => Err(self.fail(
                CheckId::Issuer,
                format!(
                    "iss is `{}` but the issuer is `{expected}`",
                    truncate(iss, 200)
                ),
            )),
            Some(Err(())) => Err(self.fail(
                CheckId::Issuer,
                "iss is not a string (RFC 7519 §4.1.1: a StringOrURI)",
            )),
            None => Err(self.fail(CheckId::Issuer, "iss is missing")),
        }
    }
}

/// A string claim of a parsed claims object: `None` when absent, `Some(Err(()))` when present
/// but not a string.
pub(crate) fn string_claim<'a>(
    claims: &'a serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Option<std::result::Result<&'a str, ()>> {
    claims.get(name).map(|v| v.as_str().ok_or(()))
}

/// Whether an `aud` claim (a string or an array of strings) names `client_id`.
pub fn aud_contains(aud: Option<&serde_json::Value>, client_id: &str) -> bool {
    match aud {
        Some(serde_json::Value::String(a)) => a == client_id,
        Some(serde_json::Value::Array(items)) => {
            items.iter().any(|a| a.as_str() == Some(client_id))
        }
        _ => false,
    }
}

pub use crate::time::unix_now;

fn signature_detail(alg: Alg) -> &'static str {
    match alg {
        Alg::RS256 => "valid RS256 signature",
        Alg::RS384 => "valid RS384 signature",
        Alg::RS512 => "valid RS512 signature",
        Alg::PS256 => "valid PS256 signature",
        Alg::PS384 => "valid PS384 signature",
        Alg::PS512 => "valid PS512 signature",
        Alg::ES256 => "valid ES256 signature",
        Alg::ES384 => "valid ES384 signature",
        Alg::EdDSA => "valid EdDSA signature",
        Alg::HS256 => "valid HS256 MAC",
        Alg::HS384 => "valid HS384 MAC",
        Alg::HS512 => "valid HS512 MAC",
        Alg::None => "unsigned, as registered",
        _ => "valid signature",
    }
}

fn alg_list(algs: &[Alg]) -> String {
    algs.iter().map(|a| a.name()).collect::<Vec<_>>().join(", ")
}

/// Verify a compact JWS's signature only: the algorithm against `policy`, the key from the
/// JWKS (or the client secret for HMAC), the signature. No claim is checked: this says who
/// signed the bytes, not that the token is valid for anything (use [`crate::id_token`] or
/// [`crate::logout`] for that). Returns the algorithm, the signed payload and the report.
///
/// ```no_run
/// # async fn f(raw: &str) -> oidc_rp::Result<()> {
/// use oidc_rp::jwt::{self, KeySource, SignaturePolicy, TypRule};
/// use oidc_rp::keys::{JwksCache, JwksPolicy};
/// use oidc_rp::{Alg, HttpClient};
/// let http = HttpClient::default();
/// let jwks = JwksCache::new(url::Url::parse("https://op.example.com/jwks").unwrap(), JwksPolicy::default());
/// let policy = SignaturePolicy { allowed_algs: &[Alg::RS256, Alg::ES256], client_secret: None, typ: TypRule::Any };
/// let (alg, payload, report) = jwt::verify_signature(raw, &policy, KeySource { jwks: &jwks, http: &http }).await?;
/// # let _ = (alg, payload, report); Ok(()) }
/// ```
pub async fn verify_signature(
    raw: &str,
    policy: &SignaturePolicy<'_>,
    keys: KeySource<'_>,
) -> Result<(Alg, Vec<u8>, Report)> {
    let mut c = Checker::new("JWT");
    let (alg, payload) = verify_signed(raw, policy, keys, &mut c).await?;
    Ok((alg, payload, c.report))
}

/// Parse, check the algorithm and `typ`, find the key, verify the signature, and return the
/// algorithm and the (verified, not yet parsed) payload.
pub(crate) async fn verify_signed(
    raw: &str,
    policy: &SignaturePolicy<'_>,
    keys: KeySource<'_>,
    c: &mut Checker,
) -> Result<(Alg, Vec<u8>)> {
    let jws = Jws::parse(raw).map_err(|e| c.fail(CheckId::Format, e.0))?;

    // OIDC Core §3.1.3.7 rules 6-8, RFC 8725 §3.1: only allowed algorithms; `none` only when
    // the client registered it (then it is in the allow-list).
    let alg = match Alg::parse(&jws.header.alg) {
        Some(alg) if policy.allowed_algs.contains(&alg) => alg,
        Some(Alg::None) => {
            return Err(c.fail(
                CheckId::Algorithm,
                "alg is `none` (unsigned) and the client did not register none; refusing an unsigned token",
            ));
        }
        _ => {
            return Err(c.fail(
                CheckId::Algorithm,
                format!(
                    "alg is `{}`, accepted: {}",
                    truncate(&jws.header.alg, 20),
                    alg_list(policy.allowed_algs)
                ),
            ));
        }
    };
    let typ = jws.header.typ.as_deref();
    match (policy.typ, typ) {
        (TypRule::NotForeign, Some(t))
            if FOREIGN_TYPES.iter().any(|f| {
                t.eq_ignore_ascii_case(f) || t.eq_ignore_ascii_case(&format!("application/{f}"))
            }) =>
        {
            return Err(c.fail(
                CheckId::TokenType,
                format!(
                    "typ is `{}`: this is another kind of token",
                    truncate(t, 40)
                ),
            ));
        }
        (TypRule::AbsentOr(expected) | TypRule::Exactly(expected), Some(t))
            if !(t.eq_ignore_ascii_case(expected)
                || t.eq_ignore_ascii_case(&format!("application/{expected}"))) =>
        {
            return Err(c.fail(
                CheckId::TokenType,
                format!("typ is `{}`, expected {expected}", truncate(t, 40)),
            ));
        }
        (TypRule::Exactly(expected), None) => {
            return Err(c.fail(
                CheckId::TokenType,
                format!("typ is missing, expected {expected}"),
            ));
        }
        _ => {}
    }
    c.report
        .pass(CheckId::Algorithm, format!("{alg} is accepted"));

    // OIDC Core §10.1: asymmetric keys from the provider's JWKS, HMAC keys from the client
    // secret only (never from a JWKS, never a public key used as an HMAC secret).
    let verified = match alg {
        Alg::None => {
            c.report
                .pass(CheckId::Key, "none needed: the client registered alg none");
            jws.signature.is_empty()
        }
        a if a.is_symmetric() => {
            let Some(secret) = policy.client_secret else {
                return Err(c.fail(
                    CheckId::Key,
                    format!(
                        "{alg} tokens are keyed with the client secret, and this client has none"
                    ),
                ));
            };
            c.report.pass(CheckId::Key, "the client secret (§10.1)");
            verify_hmac(alg, secret, jws.signing_input, &jws.signature)
        }
        _ => {
            let kid = jws.header.kid.as_deref();
            let key = keys
                .jwks
                .key_for(keys.http, alg, kid)
                .await?
                .map_err(|e| c.fail(CheckId::Key, e.to_string()))?;
            c.report.pass(CheckId::Key, key.label.clone());
            verify_with_key(alg, &key, jws.signing_input, &jws.signature)
        }
    };
    if !verified && !c.skipped(CheckId::Signature) {
        return Err(c.fail(
            CheckId::Signature,
            format!("the {alg} signature does not verify: the token was altered or not signed by the provider"),
        ));
    }
    c.report.pass(CheckId::Signature, signature_detail(alg));
    Ok((alg, jws.payload))
}
