//! The implicit and hybrid flows (OpenID Connect Core §3.2 and §3.3): response types that
//! return an ID token or an access token from the authorization endpoint, through the
//! browser.
//!
//! What comes through the browser is checked before anything is used: the front-channel ID
//! token is validated first (§3.2.2.11, §3.3.2.12), with its `nonce` required, `c_hash`
//! required and matched when a code came with it, and `at_hash` required and matched when
//! an access token came with it. In the hybrid flow the code is then redeemed, and the token
//! endpoint's ID token must name the same `iss` and `sub` (§3.3.3.6). The code flow stays
//! the default: RFC 9700 §2.1.2 discourages the implicit types (tokens in browser history
//! and referrers, no sender constraint).

use crate::authorize::{AuthTransaction, CallbackParams, ResponseMode, fail};
use crate::error::{Error, Result};
use crate::id_token::{self, IdTokenRules, NonceCheck};
use crate::report::{CheckId, Report};
use crate::rp::{Login, RelyingParty};
use crate::secret::Secret;
use crate::token::{TokenResponse, TokenType};
use serde::{Deserialize, Serialize};

/// `response_type` (OAuth 2.0 Multiple Response Type Encoding Practices, OIDC Core §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseType {
    /// `code`: the authorization code flow (the default, and the one to use).
    #[default]
    Code,
    /// `id_token`: implicit, an ID token only.
    IdToken,
    /// `id_token token`: implicit, an ID token and an access token.
    IdTokenToken,
    /// `code id_token`: hybrid.
    CodeIdToken,
    /// `code token`: hybrid.
    CodeToken,
    /// `code id_token token`: hybrid.
    CodeIdTokenToken,
}

impl ResponseType {
    /// Every type, in the order of OIDC Core §3.
    pub const ALL: [ResponseType; 6] = [
        ResponseType::Code,
        ResponseType::IdToken,
        ResponseType::IdTokenToken,
        ResponseType::CodeIdToken,
        ResponseType::CodeToken,
        ResponseType::CodeIdTokenToken,
    ];

    /// The `response_type` value.
    ///
    /// ```
    /// use oidc_rp::ResponseType;
    /// assert_eq!(ResponseType::CodeIdToken.as_str(), "code id_token");
    /// assert_eq!(ResponseType::parse("token id_token code"), Some(ResponseType::CodeIdTokenToken));
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseType::Code => "code",
            ResponseType::IdToken => "id_token",
            ResponseType::IdTokenToken => "id_token token",
            ResponseType::CodeIdToken => "code id_token",
            ResponseType::CodeToken => "code token",
            ResponseType::CodeIdTokenToken => "code id_token token",
        }
    }

    /// Parse a `response_type` value; its words may come in any order (the Multiple
    /// Response Type Encoding Practices make it a set).
    pub fn parse(value: &str) -> Option<ResponseType> {
        let mut words: Vec<&str> = value.split(' ').filter(|w| !w.is_empty()).collect();
        words.sort_unstable();
        let before = words.len();
        words.dedup();
        if words.len() != before {
            return None;
        }
        ResponseType::ALL.into_iter().find(|t| {
            let mut mine: Vec<&str> = t.as_str().split(' ').collect();
            mine.sort_unstable();
            mine == words
        })
    }

    /// Whether a code comes back.
    pub fn has_code(self) -> bool {
        matches!(
            self,
            ResponseType::Code
                | ResponseType::CodeIdToken
                | ResponseType::CodeToken
                | ResponseType::CodeIdTokenToken
        )
    }

    /// Whether an ID token comes from the authorization endpoint.
    pub fn has_id_token(self) -> bool {
        matches!(
            self,
            ResponseType::IdToken
                | ResponseType::IdTokenToken
                | ResponseType::CodeIdToken
                | ResponseType::CodeIdTokenToken
        )
    }

    /// Whether an access token comes from the authorization endpoint.
    pub fn has_token(self) -> bool {
        matches!(
            self,
            ResponseType::IdTokenToken | ResponseType::CodeToken | ResponseType::CodeIdTokenToken
        )
    }

    /// The code flow (nothing but a code through the browser).
    pub fn has_only_code(self) -> bool {
        self == ResponseType::Code
    }

    /// The implicit flow (no code: nothing is redeemed at the token endpoint).
    pub fn is_implicit(self) -> bool {
        !self.has_code()
    }

    /// Where the response comes when no `response_mode` is asked for: the query for `code`,
    /// the fragment for the others (Multiple Response Type Encoding Practices §2.1, §5).
    pub fn default_mode(self) -> ResponseMode {
        if self.has_only_code() {
            ResponseMode::Query
        } else {
            ResponseMode::Fragment
        }
    }
}

impl std::fmt::Display for ResponseType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl RelyingParty {
    /// [`RelyingParty::complete`] for the implicit and hybrid response types.
    pub(crate) async fn complete_front_channel(
        &self,
        txn: &AuthTransaction,
        callback: &CallbackParams,
        iss_required: bool,
        mut report: Report,
    ) -> Result<Login> {
        let kind = txn.response_type;
        txn.check_origin(callback, iss_required, &mut report)?;
        let present = |v: &Option<Secret>| v.as_ref().filter(|s| !s.expose().is_empty()).cloned();
        let missing = |report: &mut Report, what: &str| {
            fail(
                report,
                CheckId::Code,
                format!(
                    "response_type {kind} returns {what}, and the response carries none (OIDC Core §3.{})",
                    if kind.is_implicit() { "2.2.5" } else { "3.2.5" }
                ),
            )
        };
        let code = match (kind.has_code(), present(&callback.code)) {
            (true, Some(c)) => Some(c),
            (true, None) => return Err(missing(&mut report, "a code")),
            (false, _) => None,
        };
        let access = match (kind.has_token(), present(&callback.access_token)) {
            (true, Some(t)) => Some(t),
            (true, None) => return Err(missing(&mut report, "an access token")),
            (false, _) => None,
        };
        if access.is_some() {
            // RFC 6749 §4.2.2: token_type is required with an access token.
            let kind_sent = callback.token_type.as_deref().unwrap_or("");
            if !kind_sent.eq_ignore_ascii_case("bearer") {
                return Err(fail(
                    &mut report,
                    CheckId::TokenType,
                    format!(
                        "the access token's token_type is `{}`, not Bearer (RFC 6749 §4.2.2, RFC 6750)",
                        crate::error::truncate(kind_sent, 40)
                    ),
                ));
            }
            report.pass(CheckId::TokenType, "Bearer");
        }
        if code.is_some() {
            report.pass(CheckId::Code, "present");
        }
        let front = match (kind.has_id_token(), present(&callback.id_token)) {
            (true, Some(raw)) => {
                let rules = IdTokenRules {
                    max_age: txn.max_age,
                    acr_values: &txn.acr_values,
                    access_token: access.as_ref().map(Secret::expose),
                    code: code.as_ref().map(Secret::expose),
                    front_channel: true,
                    ..self.id_token_rules(NonceCheck::Equals(txn.nonce.expose()))
                };
                let token = id_token::validate(
                    raw.expose(),
                    &rules,
                    self.key_source(),
                    "front-channel ID token",
                )
                .await
                .map_err(|e| e.after(&report))?;
                report.extend(token.report.clone());
                Some(token)
            }
            (true, None) => return Err(missing(&mut report, "an ID token")),
            (false, _) => None,
        };
        let Some(code) = code else {
            // Implicit: nothing to redeem. `id_token` alone issues no access token.
            let Some(id_token) = front else {
                return Err(missing(&mut report, "an ID token"));
            };
            let tokens = TokenResponse {
                access_token: access.unwrap_or_else(|| Secret::new("")),
                token_type: TokenType::Bearer,
                expires_in: callback
                    .expires_in
                    .as_deref()
                    .and_then(|s| s.parse::<u64>().ok()),
                refresh_token: None,
                scope: None,
                id_token: Some(id_token.raw.clone()),
                issued_token_type: None,
                extra: Default::default(),
            };
            return Ok(Login {
                tokens,
                id_token,
                report,
                session_state: crate::rp::session_state(callback),
            });
        };
        // Hybrid: redeem the code (PKCE as in the code flow), then the token endpoint's ID
        // token is validated as ever, and must be the same user from the same issuer.
        let tokens = crate::token::exchange_code(
            self.call(
                "token",
                &self.token_endpoint()?,
                self.token_auth()?.as_ref(),
            ),
            &code,
            &txn.redirect_uri,
            &txn.pkce_verifier,
        )
        .await?;
        let rules = IdTokenRules {
            max_age: txn.max_age,
            acr_values: &txn.acr_values,
            ..self.id_token_rules(NonceCheck::Equals(txn.nonce.expose()))
        };
        let mut login = self.login_from(tokens, rules, report).await?;
        login.session_state = crate::rp::session_state(callback);
        if let Some(front) = front {
            let same =
                front.issuer == login.id_token.issuer && front.subject == login.id_token.subject;
            if !same {
                return Err(Error::Validation(crate::error::ValidationError {
                    subject: "ID token",
                    check: CheckId::Subject,
                    detail: "the token endpoint's ID token names another iss or sub than the authorization endpoint's (OIDC Core §3.3.3.6)".into(),
                    report: {
                        login.report.fail(
                            CheckId::Subject,
                            "iss or sub differs between the front-channel and the token endpoint ID tokens",
                        );
                        login.report.clone()
                    },
                }));
            }
            login.report.pass(
                CheckId::Subject,
                "the same iss and sub from both endpoints (OIDC Core §3.3.3.6)",
            );
        }
        Ok(login)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_types_parse_as_sets() {
        for t in ResponseType::ALL {
            assert_eq!(ResponseType::parse(t.as_str()), Some(t));
        }
        assert_eq!(
            ResponseType::parse("id_token code"),
            Some(ResponseType::CodeIdToken)
        );
        assert_eq!(ResponseType::parse("code code"), None);
        assert_eq!(ResponseType::parse("token"), None);
        assert_eq!(ResponseType::parse(""), None);
        assert!(ResponseType::CodeToken.has_token() && !ResponseType::CodeToken.has_id_token());
        assert_eq!(ResponseType::IdToken.default_mode(), ResponseMode::Fragment);
        assert_eq!(ResponseType::Code.default_mode(), ResponseMode::Query);
    }
}
