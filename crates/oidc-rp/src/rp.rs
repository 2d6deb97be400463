//! The facade: one [`RelyingParty`] per (provider, client), with one method per protocol step.

use crate::authorize::{self, AuthTransaction, AuthorizationRequest, CallbackParams};
use crate::client::ClientConfig;
use crate::discovery::{self, ProviderMetadata};
use crate::error::{Error, Result, ValidationError};
use crate::http::HttpClient;
use crate::id_token::{self, IdTokenRules, NonceCheck, VerifiedIdToken};
use crate::jose::{self, Alg};
use crate::jwt::KeySource;
use crate::keys::JwksCache;
use crate::report::{CheckId, Report};
use crate::token::{self, TokenResponse};
use crate::userinfo::{self, UserInfo, UserinfoRules};
use oauth2::TokenResponse as _;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Validation settings with secure defaults.
#[derive(Debug, Clone)]
pub struct ValidationOptions {
    /// Clock skew allowed on `exp`, `iat` and `auth_time`. Default 60 s.
    pub leeway: Duration,
    /// Audiences besides the client that ID tokens may name (OIDC Core §3.1.3.7 rule 3).
    pub trusted_audiences: Vec<String>,
}

impl Default for ValidationOptions {
    fn default() -> Self {
        ValidationOptions {
            leeway: Duration::from_secs(60),
            trusted_audiences: Vec::new(),
        }
    }
}

/// A completed, validated login.
#[derive(Debug, Clone)]
pub struct Login {
    /// The token response.
    pub tokens: TokenResponse,
    /// The validated ID token.
    pub id_token: VerifiedIdToken,
    /// Every check made: callback, token response, ID token.
    pub report: Report,
}

/// A Relying Party for one provider and one client.
///
/// ```no_run
/// use oidc_rp::{AuthorizationRequest, CallbackParams, ClientConfig, HttpClient, RelyingParty};
/// use oidc_rp::oauth2::TokenResponse as _;
///
/// # async fn demo(callback_query: &str) -> oidc_rp::Result<()> {
/// let http = HttpClient::default();
/// let rp = RelyingParty::discover(
///     &http,
///     "https://op.example.com",
///     ClientConfig::confidential("my-client", "my-secret"),
/// )
/// .await?;
/// let (url, txn) = rp.authorization_url(
///     &AuthorizationRequest::with_scopes(["openid", "profile"]),
///     "http://127.0.0.1:8400/callback",
/// )?;
/// // Send the user to `url`; keep `txn` (it serialises) until the callback arrives.
/// # let _ = url;
/// let login = rp.complete(&txn, &CallbackParams::parse(callback_query.as_bytes())?).await?;
/// println!("signed in as {}", login.id_token.subject);
/// let info = rp.userinfo(login.tokens.access_token().secret(), &login.id_token).await?;
/// println!("{:?}", info.claims.get("email"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct RelyingParty {
    http: HttpClient,
    metadata: Arc<ProviderMetadata>,
    client: ClientConfig,
    jwks: Arc<JwksCache>,
    id_token_algs: Vec<Alg>,
    options: ValidationOptions,
}

impl RelyingParty {
    /// Discover the provider (cached per process) and set up the client.
    pub async fn discover(http: &HttpClient, issuer: &str, client: ClientConfig) -> Result<Self> {
        let metadata = discovery::discover(http, issuer).await?;
        RelyingParty::new(http.clone(), metadata, client)
    }

    /// Set up from metadata already at hand.
    pub fn new(
        http: HttpClient,
        metadata: Arc<ProviderMetadata>,
        client: ClientConfig,
    ) -> Result<Self> {
        let jwks_uri = metadata.jwks_uri().url().clone();
        http.check_url(&jwks_uri, "jwks_uri")?;
        let id_token_algs = id_token_algorithms(&metadata, &client)?;
        Ok(RelyingParty {
            jwks: JwksCache::shared(&jwks_uri),
            http,
            metadata,
            client,
            id_token_algs,
            options: ValidationOptions::default(),
        })
    }

    /// Replace the validation options.
    pub fn with_options(mut self, options: ValidationOptions) -> Self {
        self.options = options;
        self
    }

    /// The provider's metadata.
    pub fn metadata(&self) -> &ProviderMetadata {
        &self.metadata
    }

    /// The issuer.
    pub fn issuer(&self) -> &str {
        self.metadata.issuer().as_str()
    }

    /// The client.
    pub fn client(&self) -> &ClientConfig {
        &self.client
    }

    /// The HTTP client.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The provider's JWKS cache.
    pub fn jwks(&self) -> &Arc<JwksCache> {
        &self.jwks
    }

    /// The algorithms ID tokens may be signed with.
    pub fn id_token_algorithms(&self) -> &[Alg] {
        &self.id_token_algs
    }

    /// Build the authorization URL and the transaction to keep until the callback.
    pub fn authorization_url(
        &self,
        request: &AuthorizationRequest,
        redirect_uri: &str,
    ) -> Result<(Url, AuthTransaction)> {
        let endpoint = self.metadata.authorization_endpoint().url();
        self.http.check_url(endpoint, "authorization endpoint")?;
        if let Some(methods) = &self
            .metadata
            .additional_metadata()
            .code_challenge_methods_supported
        {
            if !methods.iter().any(|m| m == "S256") {
                tracing::warn!(
                    "the provider does not list S256 in code_challenge_methods_supported; sending a PKCE S256 challenge anyway (RFC 9700 §2.1.1)"
                );
            }
        }
        authorize::build(
            endpoint,
            self.issuer(),
            &self.client.client_id,
            redirect_uri,
            request,
        )
    }

    fn iss_required(&self) -> bool {
        self.metadata
            .additional_metadata()
            .authorization_response_iss_parameter_supported
            == Some(true)
    }

    /// Check the callback, redeem the code, and validate the ID token.
    pub async fn complete(
        &self,
        txn: &AuthTransaction,
        callback: &CallbackParams,
    ) -> Result<Login> {
        if txn.issuer != self.issuer() || txn.client_id != self.client.client_id {
            return Err(Error::Config(
                "this transaction was started with another provider or client".into(),
            ));
        }
        let mut report = Report::new();
        let code = txn.check_callback(callback, self.iss_required(), &mut report)?;
        let token_endpoint = self.token_endpoint()?;
        let method = self.client.auth_method(
            self.metadata
                .token_endpoint_auth_methods_supported()
                .map(Vec::as_slice),
        )?;
        let tokens = token::exchange_code(
            &self.http,
            &token_endpoint,
            &self.client,
            method,
            &code,
            &txn.redirect_uri,
            &txn.pkce_verifier,
        )
        .await?;
        let raw = self.check_token_response(&tokens, &mut report)?;
        let rules = IdTokenRules {
            max_age: txn.max_age,
            acr_values: &txn.acr_values,
            access_token: Some(tokens.access_token().secret()),
            ..self.id_token_rules(NonceCheck::Equals(txn.nonce.expose()))
        };
        let id_token = match id_token::validate(raw, &rules, self.key_source(), "ID token").await {
            Ok(t) => t,
            Err(Error::Validation(mut v)) => {
                let mut full = report.clone();
                full.extend(v.report);
                v.report = full;
                return Err(Error::Validation(v));
            }
            Err(e) => return Err(e),
        };
        report.extend(id_token.report.clone());
        Ok(Login {
            tokens,
            id_token,
            report,
        })
    }

    fn check_token_response<'t>(
        &self,
        tokens: &'t TokenResponse,
        report: &mut Report,
    ) -> Result<&'t str> {
        let fail = |report: &mut Report, detail: &'static str| {
            report.fail(CheckId::TokenResponse, detail);
            Error::Validation(ValidationError {
                subject: "token response",
                check: CheckId::TokenResponse,
                detail: detail.into(),
                report: report.clone(),
            })
        };
        if !token::is_bearer(tokens) {
            return Err(fail(
                report,
                "token_type is not Bearer (OIDC Core §3.1.3.3)",
            ));
        }
        match &tokens.extra_fields().id_token {
            Some(raw) => {
                report.pass(CheckId::TokenResponse, "Bearer token with an ID token");
                Ok(raw.expose())
            }
            None => Err(fail(
                report,
                "no id_token: the provider did not treat this as an OpenID Connect request",
            )),
        }
    }

    /// The rules ID tokens from this provider are validated with.
    pub fn id_token_rules<'a>(&'a self, nonce: NonceCheck<'a>) -> IdTokenRules<'a> {
        IdTokenRules {
            client_secret: self.client.client_secret.as_ref(),
            leeway: self.options.leeway,
            trusted_audiences: &self.options.trusted_audiences,
            ..IdTokenRules::new(
                self.issuer(),
                &self.client.client_id,
                &self.id_token_algs,
                nonce,
            )
        }
    }

    /// Validate an ID token against this provider and client.
    pub async fn validate_id_token(
        &self,
        raw: &str,
        rules: &IdTokenRules<'_>,
    ) -> Result<VerifiedIdToken> {
        id_token::validate(raw, rules, self.key_source(), "ID token").await
    }

    pub(crate) fn key_source(&self) -> KeySource<'_> {
        KeySource {
            jwks: &self.jwks,
            http: &self.http,
        }
    }

    fn token_endpoint(&self) -> Result<Url> {
        self.metadata
            .token_endpoint()
            .map(|t| t.url().clone())
            .ok_or_else(|| Error::Config("the provider has no token_endpoint".into()))
    }

    /// Fetch userinfo with an access token and check it against the ID token.
    pub async fn userinfo(
        &self,
        access_token: &str,
        id_token: &VerifiedIdToken,
    ) -> Result<UserInfo> {
        let endpoint = self
            .metadata
            .userinfo_endpoint()
            .ok_or_else(|| Error::Config("the provider has no userinfo_endpoint".into()))?
            .url()
            .clone();
        let signed_alg = self
            .client
            .userinfo_signed_response_alg
            .as_deref()
            .map(|name| {
                Alg::parse(name).ok_or_else(|| {
                    Error::Config(format!("unsupported userinfo_signed_response_alg `{name}`"))
                })
            })
            .transpose()?;
        userinfo::fetch(
            &self.http,
            &endpoint,
            access_token,
            UserinfoRules {
                expected_sub: &id_token.subject,
                issuer: self.issuer(),
                client_id: &self.client.client_id,
                signed_alg,
                client_secret: self.client.client_secret.as_ref(),
            },
            self.key_source(),
        )
        .await
    }
}

/// The ID token algorithm allow-list: the registered `id_token_signed_response_alg` when
/// there is one (and only then can it be `none`); otherwise the provider's advertised
/// algorithms without `none` (and without HMAC for clients without a secret); RS256 when the
/// provider advertises nothing usable (OIDC Registration §2 default).
fn id_token_algorithms(metadata: &ProviderMetadata, client: &ClientConfig) -> Result<Vec<Alg>> {
    if let Some(name) = &client.id_token_signed_response_alg {
        let alg = Alg::parse(name).ok_or_else(|| {
            Error::Config(format!("unsupported id_token_signed_response_alg `{name}`"))
        })?;
        return Ok(vec![alg]);
    }
    let mut algs: Vec<Alg> = metadata
        .id_token_signing_alg_values_supported()
        .iter()
        .filter_map(jose::from_core)
        .filter(|a| *a != Alg::None)
        .filter(|a| !a.is_symmetric() || client.client_secret.is_some())
        .collect();
    if algs.is_empty() {
        algs.push(Alg::RS256);
    }
    Ok(algs)
}
