//! JARM, the JWT Secured Authorization Response Mode (OpenID FAPI JARM, `response_mode`
//! `query.jwt` or `form_post.jwt`): the provider signs the authorization response. Before
//! anything in it is used, the JWT is checked (JARM §4.4): its signature with the provider's
//! keys and an allowed algorithm (never `none`), `iss` the issuer, `aud` this client, `exp`
//! present and not past. Only then are `code`, `state`, `iss` and the error members read out,
//! and the usual callback checks (state, RFC 9207 `iss`) run on them.

use crate::authorize::{AuthTransaction, CallbackParams};
use crate::error::Result;
use crate::jose::Alg;
use crate::jwt::{self, Checker, SignaturePolicy, TypRule};
use crate::report::{CheckId, Report};
use crate::rp::RelyingParty;
use crate::secret::Secret;
use serde_json::{Map, Value};

impl RelyingParty {
    /// The callback's parameters, out of the response JWT when the transaction asked for
    /// JARM; as they are otherwise. The JWT's checks go into `report`.
    pub(crate) async fn unwrap_response(
        &self,
        txn: &AuthTransaction,
        callback: &CallbackParams,
        report: &mut Report,
    ) -> Result<CallbackParams> {
        if !txn.response_mode.is_jwt() {
            return Ok(callback.clone());
        }
        let mut c = Checker::skipping("authorization response JWT", &self.options_skip());
        let claims = self
            .response_claims(callback.response.as_deref(), &mut c)
            .await
            .map_err(|e| e.after(report))?;
        report.extend(c.report);
        let s = |k: &str| claims.get(k).and_then(Value::as_str).map(str::to_string);
        Ok(CallbackParams {
            code: s("code").map(Secret::new),
            state: s("state"),
            iss: s("iss"),
            error: s("error"),
            error_description: s("error_description"),
            error_uri: s("error_uri"),
            session_state: None,
            response: None,
            id_token: s("id_token").map(Secret::new),
            access_token: s("access_token").map(Secret::new),
            token_type: s("token_type"),
            expires_in: claims.get("expires_in").map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }),
        })
    }

    /// The verified claims of the response JWT (JARM §4.4): signature, then `iss`, `aud`, `exp`.
    async fn response_claims(
        &self,
        raw: Option<&str>,
        c: &mut Checker,
    ) -> Result<Map<String, Value>> {
        let Some(raw) = raw else {
            return Err(c.fail(
                CheckId::ResponseJwt,
                "JARM was asked for and the response carries no `response` JWT",
            ));
        };
        // JARM §4.4: the algorithms the provider says it signs responses with, asymmetric
        // only; RS256 when it says nothing (JARM §3).
        let allowed: Vec<Alg> = self
            .metadata()
            .additional_metadata()
            .authorization_signing_alg_values_supported
            .as_ref()
            .map(|list| list.iter().filter_map(|a| Alg::parse(a)).collect())
            .unwrap_or_else(|| vec![Alg::RS256])
            .into_iter()
            .filter(|a| !matches!(a, Alg::None | Alg::HS256 | Alg::HS384 | Alg::HS512))
            .filter(|a| !self.is_fapi2() || crate::fapi::ALGS.contains(a))
            .collect();
        let policy = SignaturePolicy {
            allowed_algs: &allowed,
            client_secret: None,
            typ: TypRule::NotForeign,
        };
        let (_, payload) = jwt::verify_signed(raw, &policy, self.key_source(), c).await?;
        let Ok(Value::Object(claims)) = serde_json::from_slice(&payload) else {
            return Err(c.fail(
                CheckId::Format,
                "the response JWT's claims are not an object",
            ));
        };
        c.issuer(jwt::string_claim(&claims, "iss"), self.issuer())?;
        if !jwt::aud_contains(claims.get("aud"), &self.client().client_id) {
            return Err(c.fail(
                CheckId::Audience,
                "aud of the response JWT does not name this client",
            ));
        }
        c.report.pass(CheckId::Audience, "is this client");
        let leeway = self.leeway().as_secs() as i64;
        match claims.get("exp").and_then(Value::as_i64) {
            Some(exp) if exp + leeway > crate::time::unix_now() => c.report.pass(
                CheckId::Expiry,
                format!("not past (+ {leeway} s clock leeway)"),
            ),
            Some(_) => return Err(c.fail(CheckId::Expiry, "the response JWT has expired")),
            None => {
                return Err(c.fail(CheckId::Expiry, "the response JWT has no exp (JARM §2.1)"));
            }
        }
        c.report.pass(
            CheckId::ResponseJwt,
            "signed by the provider, for this client",
        );
        Ok(claims)
    }
}
