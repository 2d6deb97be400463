//! The FAPI 2.0 Security Profile's client requirements, as one switch:
//! [`RelyingParty::with_fapi2`] checks that the provider's metadata and the client's
//! configuration can meet them, names everything that is missing, and then holds the relying
//! party to them: requests only pushed (PAR, RFC 9126), PKCE S256 (always sent), the `iss`
//! authorization response parameter required (RFC 9207), tokens sender-constrained with DPoP
//! (RFC 9449), client authentication with `private_key_jwt` and a key of an allowed
//! algorithm, and ID tokens only in PS256, ES256 or EdDSA (FAPI 2.0 Security Profile §5.4).
//! A client that authenticates with mutual TLS (RFC 8705) is sender-constrained by its
//! certificate instead of DPoP, and needs no private key.

use crate::client::TokenAuthMethod;
use crate::error::{ConfigError, Error, Result};
use crate::jose::Alg;
use crate::rp::RelyingParty;

/// The signing algorithms FAPI 2.0 allows (Security Profile §5.4.1).
pub const ALGS: [Alg; 3] = [Alg::PS256, Alg::ES256, Alg::EdDSA];

impl RelyingParty {
    /// Hold this relying party to the FAPI 2.0 Security Profile (see the module docs), or
    /// say everything that stands in the way: the provider's missing capabilities as
    /// [`Error::Unsupported`], else the client's as a configuration error.
    ///
    /// ```no_run
    /// # async fn f(rp: oidc_rp::RelyingParty) -> oidc_rp::Result<()> {
    /// use oidc_rp::dpop::{Dpop, DpopKey};
    /// use std::sync::Arc;
    /// let rp = rp
    ///     .with_decorator(Arc::new(Dpop::new(DpopKey::generate_es256()?)))
    ///     .with_fapi2()?;
    /// let (url, txn) = rp
    ///     .push_authorization_request(&oidc_rp::AuthorizationRequest::default(), "http://127.0.0.1:8400/cb")
    ///     .await?;
    /// # let _ = (url, txn); Ok(()) }
    /// ```
    pub fn with_fapi2(mut self) -> Result<Self> {
        let meta = self.metadata();
        let extra = meta.additional_metadata();
        let mut provider: Vec<String> = Vec::new();
        if extra.pushed_authorization_request_endpoint.is_none() {
            provider.push("a pushed_authorization_request_endpoint (PAR, RFC 9126)".into());
        }
        if extra.authorization_response_iss_parameter_supported != Some(true) {
            provider.push("authorization_response_iss_parameter_supported: true (RFC 9207)".into());
        }
        if let Some(methods) = &extra.code_challenge_methods_supported
            && !methods.iter().any(|m| m == "S256")
        {
            provider.push("PKCE with S256 in code_challenge_methods_supported".into());
        }
        let dpop_alg = self.decorator_alg();
        let mtls = self.uses_mtls();
        if mtls {
            // Sender-constrained by the client certificate (RFC 8705 §3).
            if extra.tls_client_certificate_bound_access_tokens != Some(true) {
                provider.push(
                    "certificate-bound access tokens (tls_client_certificate_bound_access_tokens, RFC 8705)"
                        .into(),
                );
            }
        } else {
            match (&extra.dpop_signing_alg_values_supported, dpop_alg) {
                (None, _) => {
                    provider.push("DPoP (dpop_signing_alg_values_supported, RFC 9449)".into())
                }
                (Some(algs), Some(mine)) if !algs.iter().any(|a| a == mine) => provider.push(
                    format!("DPoP proofs in {mine} (it accepts {})", algs.join(", ")),
                ),
                _ => {}
            }
        }
        let wanted = self
            .client()
            .token_endpoint_auth_method
            .filter(|_| mtls)
            .map(|m| m.name())
            .unwrap_or("private_key_jwt");
        let supported = meta
            .token_endpoint_auth_methods_supported()
            .is_some_and(|m| {
                m.iter().any(|x| {
                    serde_json::to_value(x)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .as_deref()
                        == Some(wanted)
                })
            });
        if !supported {
            provider.push(format!("{wanted} in token_endpoint_auth_methods_supported"));
        }
        let id_algs: Vec<Alg> = self
            .id_token_algorithms()
            .iter()
            .copied()
            .filter(|a| ALGS.contains(a))
            .collect();
        if id_algs.is_empty() {
            provider.push("ID tokens signed with PS256, ES256 or EdDSA".into());
        }
        if !provider.is_empty() {
            return Err(Error::Unsupported {
                issuer: self.issuer().to_string(),
                capability: "the FAPI 2.0 Security Profile".into(),
                detail: Some(format!("it lacks {}", provider.join("; "))),
            });
        }
        let mut client: Vec<String> = Vec::new();
        if dpop_alg.is_none() && !mtls {
            client
                .push("a DPoP key or a mutual TLS certificate (sender-constrained tokens)".into());
        }
        let c = self.client();
        if c.token_endpoint_auth_method != Some(TokenAuthMethod::PrivateKeyJwt) && !mtls {
            client.push("private_key_jwt or mutual TLS client authentication".into());
        }
        match &c.signing_key {
            _ if mtls => {}
            None => client.push("the client's private key".into()),
            Some(k) if !["ES256", "EdDSA", "PS256"].contains(&k.alg()) => client.push(format!(
                "a client key for ES256, EdDSA or PS256 (this one signs {})",
                k.alg()
            )),
            Some(_) => {}
        }
        if !client.is_empty() {
            return Err(Error::Config(ConfigError::Fapi2 {
                missing: client.join("; "),
            }));
        }
        self.restrict_to_fapi2(id_algs);
        Ok(self)
    }
}
