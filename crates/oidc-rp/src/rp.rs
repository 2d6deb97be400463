//! The facade: one [`RelyingParty`] per (provider, client), with one method per protocol step.

use crate::authorize::{self, AuthTransaction, AuthorizationRequest, CallbackParams};
use crate::client::ClientConfig;
use crate::client_auth::ClientAuth;
use crate::discovery::{self, ProviderMetadata};
use crate::endpoint::{Call, RequestDecorator};
use crate::error::{ConfigError, Error, Result, ValidationError};
use crate::exchange::{self, TokenExchangeRequest, TokenExchangeResponse};
use crate::http::HttpClient;
use crate::id_token::{self, IdTokenRules, NonceCheck, StoredIdToken, VerifiedIdToken};
use crate::introspect::{self, IntrospectionResponse};
use crate::jose::{self, Alg};
use crate::jwt::KeySource;
use crate::keys::{JwksCache, JwksPolicy};
use crate::report::{CheckId, Report};
use crate::revoke;
use crate::secret::Secret;
use crate::token::{self, AccessToken, ClientCredentialsRequest, TokenResponse};
use crate::userinfo::{self, UserInfo, UserinfoRules};
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
    /// Send the access token to userinfo in a form body (RFC 6750 §2.2) instead of the
    /// `Authorization` header, for providers that only take it there.
    pub userinfo_token_in_body: bool,
    /// DANGEROUS: ID token rules NOT enforced. Never set it in a program that logs anyone in:
    /// it exists so that a conformance suite can prove it notices a weakened validator (the
    /// rule set is passed in explicitly, not switched process-wide). A warning is logged
    /// whenever it is not empty.
    pub danger_skip_checks: Vec<CheckId>,
    /// How old a logout token may be (its `iat`) and still be accepted; its `jti` is
    /// remembered that long (Back-Channel Logout 1.0 §2.6). Default 10 minutes.
    pub logout_token_max_age: Duration,
}

impl Default for ValidationOptions {
    fn default() -> Self {
        ValidationOptions {
            leeway: Duration::from_secs(60),
            trusted_audiences: Vec::new(),
            userinfo_token_in_body: false,
            danger_skip_checks: Vec::new(),
            logout_token_max_age: Duration::from_secs(600),
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
    /// `session_state` of the authorization response (Session Management 1.0 §3.1): what the
    /// relying party's page posts to the provider's `check_session_iframe`.
    pub session_state: Option<String>,
}

/// Tokens after a refresh.
#[derive(Debug, Clone)]
pub struct Refreshed {
    /// The token response.
    pub tokens: TokenResponse,
    /// The new ID token, validated, when the response carried one (otherwise the previous
    /// one still stands, OIDC Core §12.2).
    pub id_token: Option<VerifiedIdToken>,
    /// Whether the response carried a new ID token.
    pub id_token_renewed: bool,
    /// The refresh token to use next: the rotated one, or the previous one when the provider
    /// did not rotate.
    pub refresh_token: Secret,
    /// Whether the provider rotated the refresh token.
    pub rotated: bool,
    /// The checks made on the response.
    pub report: Report,
}

/// A Relying Party for one provider and one client.
///
/// ```no_run
/// use oidc_rp::{AuthorizationRequest, CallbackParams, ClientConfig, HttpClient, RelyingParty};
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
/// let info = rp.userinfo(&login.tokens.access_token(), &login.id_token).await?;
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
    decorator: Option<Arc<dyn RequestDecorator>>,
    oauth_metadata: Arc<tokio::sync::OnceCell<Option<crate::discovery::AuthServerMetadata>>>,
    fapi2: bool,
}

impl RelyingParty {
    /// Discover the provider and set up the client.
    ///
    /// ```no_run
    /// # async fn f() -> oidc_rp::Result<()> {
    /// use oidc_rp::{ClientConfig, HttpClient, RelyingParty};
    /// let http = HttpClient::default();
    /// let rp = RelyingParty::discover(
    ///     &http,
    ///     "https://op.example.com",
    ///     ClientConfig::confidential("my-client", "my-secret"),
    /// )
    /// .await?;
    /// println!("ID tokens signed with {:?}", rp.id_token_algorithms());
    /// # Ok(()) }
    /// ```
    pub async fn discover(http: &HttpClient, issuer: &str, client: ClientConfig) -> Result<Self> {
        let metadata = discovery::discover(http, issuer).await?;
        RelyingParty::new(http.clone(), metadata, client)
    }

    /// Set up from metadata already at hand.
    ///
    /// ```no_run
    /// # async fn f() -> oidc_rp::Result<()> {
    /// use oidc_rp::{ClientConfig, HttpClient, RelyingParty, discovery};
    /// let http = HttpClient::default();
    /// let metadata = discovery::discover(&http, "https://op.example.com").await?;
    /// let rp = RelyingParty::new(http, metadata, ClientConfig::public("cli-app"))?;
    /// # let _ = rp; Ok(()) }
    /// ```
    pub fn new(
        http: HttpClient,
        metadata: Arc<ProviderMetadata>,
        client: ClientConfig,
    ) -> Result<Self> {
        let jwks_uri = metadata.jwks_uri().url().clone();
        http.check_url(&jwks_uri, "jwks_uri")?;
        let id_token_algs = id_token_algorithms(&metadata, &client)?;
        Ok(RelyingParty {
            jwks: Arc::new(JwksCache::new(jwks_uri, JwksPolicy::default())),
            http,
            metadata,
            client,
            id_token_algs,
            options: ValidationOptions::default(),
            decorator: None,
            oauth_metadata: Arc::default(),
            fapi2: false,
        })
    }

    /// Replace the validation options.
    ///
    /// ```
    /// # fn f(rp: oidc_rp::RelyingParty) {
    /// use oidc_rp::ValidationOptions;
    /// use std::time::Duration;
    /// let rp = rp.with_options(ValidationOptions {
    ///     leeway: Duration::from_secs(10),
    ///     ..ValidationOptions::default()
    /// });
    /// # let _ = rp; }
    /// ```
    pub fn with_options(mut self, options: ValidationOptions) -> Self {
        if !options.danger_skip_checks.is_empty() {
            tracing::warn!(
                checks = ?options.danger_skip_checks,
                "ID token checks are turned OFF: this relying party accepts tokens it must refuse"
            );
        }
        self.options = options;
        self
    }

    /// Decorate every request this relying party sends (a DPoP proof, see
    /// [`RequestDecorator`]).
    ///
    /// ```
    /// # fn f(rp: oidc_rp::RelyingParty) {
    /// use oidc_rp::{AccessToken, RequestDecorator};
    /// use std::sync::Arc;
    ///
    /// /// Adds a correlation id to every request.
    /// #[derive(Debug)]
    /// struct Trace;
    /// impl RequestDecorator for Trace {
    ///     fn decorate(
    ///         &self,
    ///         request: &mut http::Request<Vec<u8>>,
    ///         _token: Option<&AccessToken>,
    ///     ) -> oidc_rp::Result<()> {
    ///         request.headers_mut().insert("x-request-id", http::HeaderValue::from_static("42"));
    ///         Ok(())
    ///     }
    /// }
    /// let rp = rp.with_decorator(Arc::new(Trace));
    /// # let _ = rp; }
    /// ```
    pub fn with_decorator(mut self, decorator: Arc<dyn RequestDecorator>) -> Self {
        self.decorator = Some(decorator);
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

    /// The provider's JWKS cache (owned by this relying party: its keys were fetched with
    /// this relying party's HTTP client and TLS settings).
    pub fn jwks(&self) -> &Arc<JwksCache> {
        &self.jwks
    }

    /// Share the provider's keys with the other instances of a service through `store` (a
    /// [`crate::store::redis::RedisStore`], say): they are fetched once for all, and a key
    /// rotation one instance meets is seen by every instance (see
    /// [`JwksCache::with_shared`]). Replaces this relying party's key cache with an empty one
    /// of the same policy.
    ///
    /// ```no_run
    /// # async fn f(rp: oidc_rp::RelyingParty) -> oidc_rp::Result<()> {
    /// let shared = std::sync::Arc::new(oidc_rp::store::MemoryStore::default());
    /// let rp = rp.with_document_store(shared);
    /// # let _ = rp; Ok(()) }
    /// ```
    pub fn with_document_store(mut self, store: Arc<dyn crate::store::DocumentStore>) -> Self {
        let cache = JwksCache::new(self.jwks.uri().clone(), self.jwks.policy()).with_shared(store);
        self.jwks = Arc::new(cache);
        self
    }

    /// How long the provider's keys are cached and how often a token with an unknown `kid`
    /// may send this relying party back for them (default: 10 minutes; 3 refetches, then one
    /// per 30 s). Replaces the key cache with an empty one, sharing through the same store.
    ///
    /// ```no_run
    /// # fn f(rp: oidc_rp::RelyingParty) {
    /// use oidc_rp::keys::JwksPolicy;
    /// let rp = rp.with_jwks_policy(JwksPolicy {
    ///     max_age: std::time::Duration::from_secs(3600),
    ///     ..JwksPolicy::default()
    /// });
    /// # let _ = rp; }
    /// ```
    pub fn with_jwks_policy(mut self, policy: JwksPolicy) -> Self {
        let mut cache = JwksCache::new(self.jwks.uri().clone(), policy);
        if let Some(store) = self.jwks.shared() {
            cache = cache.with_shared(store);
        }
        self.jwks = Arc::new(cache);
        self
    }

    /// Share a JWKS cache between relying parties of one provider (several clients), so the
    /// keys are fetched once. The cache must be for this provider's `jwks_uri`.
    ///
    /// ```no_run
    /// # async fn f() -> oidc_rp::Result<()> {
    /// use oidc_rp::{ClientConfig, HttpClient, RelyingParty, discovery};
    /// let http = HttpClient::default();
    /// let metadata = discovery::discover(&http, "https://op.example.com").await?;
    /// let web = RelyingParty::new(http.clone(), metadata.clone(), ClientConfig::confidential("web", "s3cret"))?;
    /// let cli = RelyingParty::new(http, metadata, ClientConfig::public("cli"))?
    ///     .with_jwks_cache(web.jwks().clone())?;
    /// # let _ = cli; Ok(()) }
    /// ```
    pub fn with_jwks_cache(mut self, cache: Arc<JwksCache>) -> Result<Self> {
        if cache.uri() != self.metadata.jwks_uri().url() {
            return Err(Error::Config(ConfigError::JwksCacheMismatch));
        }
        self.jwks = cache;
        Ok(self)
    }

    /// The algorithms ID tokens may be signed with.
    pub fn id_token_algorithms(&self) -> &[Alg] {
        &self.id_token_algs
    }

    /// Build the authorization URL and the transaction to keep until the callback.
    ///
    /// ```
    /// # fn f(rp: &oidc_rp::RelyingParty) -> oidc_rp::Result<()> {
    /// use oidc_rp::AuthorizationRequest;
    /// let request = AuthorizationRequest {
    ///     prompt: Some("login".into()),
    ///     max_age: Some(3600),
    ///     ..AuthorizationRequest::with_scopes(["openid", "email"])
    /// };
    /// let (url, txn) = rp.authorization_url(&request, "http://127.0.0.1:8400/callback")?;
    /// // Redirect the browser to `url`; store `txn` (it is serde) with the user's session.
    /// let kept = serde_json::to_string(&txn).expect("serialises");
    /// # let _ = (url, kept); Ok(()) }
    /// ```
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
            && !methods.iter().any(|m| m == "S256")
        {
            tracing::warn!(
                "the provider does not list S256 in code_challenge_methods_supported; sending a PKCE S256 challenge anyway (RFC 9700 §2.1.1)"
            );
        }
        if self.fapi2
            || self
                .metadata
                .additional_metadata()
                .require_pushed_authorization_requests
                == Some(true)
        {
            return Err(Error::Config(ConfigError::PushRequired));
        }
        authorize::check_request_object(&self.metadata, &request.delivery)?;
        let request = self.decorated_request(request);
        let request = request.as_ref();
        authorize::build(
            endpoint,
            self.issuer(),
            &self.client.client_id,
            redirect_uri,
            request,
        )
    }

    fn iss_required(&self) -> bool {
        self.fapi2
            || self
                .metadata
                .additional_metadata()
                .authorization_response_iss_parameter_supported
                == Some(true)
    }

    /// Check the callback, redeem the code, and validate the ID token.
    ///
    /// ```no_run
    /// # async fn f(rp: &oidc_rp::RelyingParty, txn: &oidc_rp::AuthTransaction, query: &str) -> oidc_rp::Result<()> {
    /// use oidc_rp::CallbackParams;
    /// match rp.complete(txn, &CallbackParams::parse(query.as_bytes())?).await {
    ///     Ok(login) => println!("signed in as {}", login.id_token.subject),
    ///     Err(e) => match e.check() {
    ///         Some(rule) => eprintln!("refused by {rule:?}: {e}"),
    ///         None => eprintln!("login failed: {e}"),
    ///     },
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn complete(
        &self,
        txn: &AuthTransaction,
        callback: &CallbackParams,
    ) -> Result<Login> {
        if txn.issuer != self.issuer() || txn.client_id != self.client.client_id {
            return Err(Error::Config(ConfigError::TransactionMismatch));
        }
        let mut report = Report::new();
        let callback = self.unwrap_response(txn, callback, &mut report).await?;
        if !txn.response_type.has_only_code() {
            return self
                .complete_front_channel(txn, &callback, self.iss_required(), report)
                .await;
        }
        let code = txn.check_callback(&callback, self.iss_required(), &mut report)?;
        let token_endpoint = self.token_endpoint()?;
        let tokens = token::exchange_code(
            self.call("token", &token_endpoint, self.token_auth()?.as_ref()),
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
        login.session_state = session_state(&callback);
        Ok(login)
    }

    /// The last steps of every login: the token response's checks, then the ID token's under
    /// `rules` (with the access token for `at_hash`), the report merged.
    pub(crate) async fn login_from(
        &self,
        tokens: TokenResponse,
        rules: IdTokenRules<'_>,
        mut report: Report,
    ) -> Result<Login> {
        let raw = self.check_token_response(&tokens, &mut report)?;
        let rules = IdTokenRules {
            access_token: Some(tokens.access_token.expose()),
            ..rules
        };
        let id_token = id_token::validate(raw, &rules, self.key_source(), "ID token")
            .await
            .map_err(|e| e.after(&report))?;
        report.extend(id_token.report.clone());
        Ok(Login {
            tokens,
            id_token,
            report,
            session_state: None,
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
        require_token_type(tokens, self.expected_token_type(), report, "token response")?;
        match &tokens.id_token {
            Some(raw) => {
                report.pass(
                    CheckId::TokenResponse,
                    format!("{} token with an ID token", self.expected_token_type()),
                );
                Ok(raw.expose())
            }
            None => Err(fail(
                report,
                "no id_token: the provider did not treat this as an OpenID Connect request",
            )),
        }
    }

    /// The rules ID tokens from this provider are validated with.
    ///
    /// ```no_run
    /// # async fn f(rp: &oidc_rp::RelyingParty, raw: &str) -> oidc_rp::Result<()> {
    /// use oidc_rp::NonceCheck;
    /// let rules = rp.id_token_rules(NonceCheck::Equals("n-0S6_WzA2Mj"));
    /// let token = rp.validate_id_token(raw, &rules).await?;
    /// # let _ = token; Ok(()) }
    /// ```
    pub fn id_token_rules<'a>(&'a self, nonce: NonceCheck<'a>) -> IdTokenRules<'a> {
        IdTokenRules {
            client_secret: self.client.client_secret.as_ref(),
            leeway: self.options.leeway,
            trusted_audiences: &self.options.trusted_audiences,
            danger_skip: &self.options.danger_skip_checks,
            ..IdTokenRules::new(
                self.issuer(),
                &self.client.client_id,
                &self.id_token_algs,
                nonce,
            )
        }
    }

    /// Validate an ID token against this provider and client.
    ///
    /// ```no_run
    /// # async fn f(rp: &oidc_rp::RelyingParty, raw: &str) -> oidc_rp::Result<()> {
    /// use oidc_rp::NonceCheck;
    /// // An ID token received some other way (a front-end that did the code exchange).
    /// let token = rp.validate_id_token(raw, &rp.id_token_rules(NonceCheck::Equals("n-0S6_WzA2Mj"))).await?;
    /// for check in token.report.checks() {
    ///     println!("{}: {}", check.name, check.detail);
    /// }
    /// # Ok(()) }
    /// ```
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

    pub(crate) fn token_endpoint(&self) -> Result<Url> {
        if let Some(alias) = self.mtls_alias("token_endpoint") {
            return Ok(alias);
        }
        self.metadata
            .token_endpoint()
            .map(|t| t.url().clone())
            .ok_or_else(|| Error::Unsupported {
                issuer: self.issuer().to_string(),
                capability: "a token endpoint".into(),
                detail: Some("no token_endpoint in its metadata".into()),
            })
    }

    /// Refresh (RFC 6749 §6). A new ID token is validated like at login but without a nonce,
    /// and must match `previous` (OIDC Core §12.2); without one, `previous` is kept.
    ///
    /// When the response is refused after the provider rotated the refresh token, the error
    /// is [`Error::Refresh`] and carries the new refresh token
    /// ([`Error::rotated_refresh_token`]): keep it, since the one sent is spent.
    ///
    /// ```no_run
    /// # async fn f(rp: &oidc_rp::RelyingParty, saved_rt: oidc_rp::Secret, saved_id: oidc_rp::StoredIdToken) -> oidc_rp::Result<()> {
    /// use oidc_rp::Error;
    /// match rp.refresh(&saved_rt, Some(&saved_id), None).await {
    ///     Ok(next) => {
    ///         // Store `next.refresh_token` (rotated or not) and the new ID token, if any.
    ///         println!("rotated: {}", next.rotated);
    ///     }
    ///     Err(Error::Refresh(refused)) => {
    ///         // Refused, but the provider rotated: the new refresh token must not be lost.
    ///         let _store = refused.rotated_refresh_token;
    ///     }
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn refresh(
        &self,
        refresh_token: &Secret,
        previous: Option<&StoredIdToken>,
        scope: Option<&str>,
    ) -> Result<Refreshed> {
        let endpoint = self.token_endpoint()?;
        let tokens = token::refresh(
            self.call("token", &endpoint, self.token_auth()?.as_ref()),
            refresh_token.expose(),
            scope,
        )
        .await?;
        let rotated = tokens
            .refresh_token()
            .map(|r| r.expose())
            .filter(|r| !r.is_empty() && *r != refresh_token.expose())
            .map(Secret::new);
        match self.check_refresh(tokens, refresh_token, previous).await {
            Ok(refreshed) => Ok(refreshed),
            Err(cause) => Err(match rotated {
                Some(rotated_refresh_token) => {
                    Error::Refresh(Box::new(crate::error::RefreshError {
                        cause,
                        rotated_refresh_token,
                    }))
                }
                None => cause,
            }),
        }
    }

    /// Every check of a refresh response (OIDC Core §3.1.3.3, §12.2).
    async fn check_refresh(
        &self,
        tokens: TokenResponse,
        refresh_token: &Secret,
        previous: Option<&StoredIdToken>,
    ) -> Result<Refreshed> {
        let mut report = Report::new();
        require_token_type(
            &tokens,
            self.expected_token_type(),
            &mut report,
            "refresh response",
        )?;
        report.pass(CheckId::TokenResponse, "Bearer token response");
        let (id_token, renewed) = match &tokens.id_token {
            Some(raw) => {
                let rules = IdTokenRules {
                    access_token: Some(tokens.access_token.expose()),
                    ..self.id_token_rules(NonceCheck::NotExpected)
                };
                let mut fresh = id_token::validate(
                    raw.expose(),
                    &rules,
                    self.key_source(),
                    "refreshed ID token",
                )
                .await
                .map_err(|e| e.after(&report))?;
                match previous {
                    Some(previous) => id_token::check_refresh_consistency(&mut fresh, previous)
                        .map_err(|e| e.after(&report))?,
                    None => fresh.report.pass(
                        CheckId::RefreshConsistency,
                        "not compared: no original ID token at hand",
                    ),
                }
                report.extend(fresh.report.clone());
                (Some(fresh), true)
            }
            None => {
                report.pass(
                    CheckId::RefreshConsistency,
                    "no ID token in the response; the previous one is kept",
                );
                (None, false)
            }
        };
        let (refresh_token, rotated) = match tokens.refresh_token() {
            Some(r) if !r.expose().is_empty() => (r.clone(), r.expose() != refresh_token.expose()),
            _ => (refresh_token.clone(), false),
        };
        Ok(Refreshed {
            tokens,
            id_token,
            id_token_renewed: renewed,
            refresh_token,
            rotated,
            report,
        })
    }

    /// The client_credentials grant (RFC 6749 §4.4): an access token for the client itself,
    /// with no end-user. Only confidential clients may use it, so a public client is refused
    /// here before anything is sent.
    ///
    /// ```no_run
    /// # async fn f(rp: &oidc_rp::RelyingParty) -> oidc_rp::error::Result<()> {
    /// let response = rp
    ///     .client_credentials(&oidc_rp::ClientCredentialsRequest {
    ///         scope: Some("api:read".into()),
    ///         resource: vec!["https://api.example.com".into()],
    ///         ..Default::default()
    ///     })
    ///     .await?;
    /// println!("expires in {:?}", response.expires_in());
    /// # Ok(()) }
    /// ```
    pub async fn client_credentials(
        &self,
        request: &ClientCredentialsRequest,
    ) -> Result<TokenResponse> {
        let auth = self.token_auth()?;
        if auth.method() == "none" {
            return Err(Error::Config(ConfigError::PublicClient {
                grant: "client_credentials",
            }));
        }
        let endpoint = self.token_endpoint()?;
        token::client_credentials(self.call("token", &endpoint, auth.as_ref()), request).await
    }

    /// Token exchange (RFC 8693).
    ///
    /// ```no_run
    /// # async fn f(rp: &oidc_rp::RelyingParty, access_token: oidc_rp::Secret) -> oidc_rp::Result<()> {
    /// use oidc_rp::TokenExchangeRequest;
    /// let response = rp
    ///     .exchange(&TokenExchangeRequest {
    ///         subject_token: access_token,
    ///         subject_token_type: oidc_rp::token_types::ACCESS_TOKEN.to_string(),
    ///         audience: vec!["https://api.example.com".into()],
    ///         ..TokenExchangeRequest::default()
    ///     })
    ///     .await?;
    /// println!("issued a {}", response.issued_token_type);
    /// # Ok(()) }
    /// ```
    pub async fn exchange(&self, request: &TokenExchangeRequest) -> Result<TokenExchangeResponse> {
        let endpoint = self.token_endpoint()?;
        exchange::exchange(
            self.call("token", &endpoint, self.token_auth()?.as_ref()),
            request,
        )
        .await
    }

    /// An endpoint the provider's metadata names, or [`Error::Unsupported`].
    fn endpoint(&self, url: Option<&String>, name: &str, capability: &str) -> Result<Url> {
        let url = url.ok_or_else(|| Error::Unsupported {
            issuer: self.issuer().to_string(),
            capability: capability.to_string(),
            detail: Some(format!("no {name} in its metadata")),
        })?;
        Url::parse(url).map_err(|e| Error::InvalidUrl {
            url: crate::error::display_url(url),
            reason: format!("the provider's {name}: {e}"),
        })
    }

    /// The provider's RFC 8414 document, fetched once, for endpoints the OpenID document does
    /// not name (the OpenID document wins where both do).
    async fn oauth_metadata(&self) -> Result<Option<&crate::discovery::AuthServerMetadata>> {
        self.oauth_metadata
            .get_or_try_init(|| {
                crate::discovery::authorization_server_metadata(&self.http, self.issuer())
            })
            .await
            .map(Option::as_ref)
    }

    /// An endpoint and its authentication methods, from the OpenID document or else the
    /// RFC 8414 one: `pick` reads (endpoint, methods) from either.
    pub(crate) async fn supplemented(
        &self,
        name: &str,
        capability: &str,
        pick: impl Fn(&crate::discovery::AuthServerMetadata) -> (Option<String>, Option<Vec<String>>),
    ) -> Result<(Url, Arc<dyn ClientAuth>)> {
        let extra = self.metadata.additional_metadata();
        let from_openid = pick(&crate::discovery::AuthServerMetadata {
            issuer: String::new(),
            introspection_endpoint: extra.introspection_endpoint.clone(),
            introspection_endpoint_auth_methods_supported: extra
                .introspection_endpoint_auth_methods_supported
                .clone(),
            revocation_endpoint: extra.revocation_endpoint.clone(),
            revocation_endpoint_auth_methods_supported: extra
                .revocation_endpoint_auth_methods_supported
                .clone(),
            device_authorization_endpoint: extra.device_authorization_endpoint.clone(),
            pushed_authorization_request_endpoint: extra
                .pushed_authorization_request_endpoint
                .clone(),
            ..Default::default()
        });
        let (url, methods) = match from_openid {
            (Some(url), methods) => (Some(url), methods),
            (None, _) => match self.oauth_metadata().await? {
                Some(doc) => pick(doc),
                None => (None, None),
            },
        };
        let url = self
            .endpoint(url.as_ref(), name, capability)
            .map_err(|e| match e {
                Error::Unsupported {
                    issuer, capability, ..
                } => Error::Unsupported {
                    issuer,
                    capability,
                    detail: Some(format!("no {name} in its OpenID or RFC 8414 metadata")),
                },
                other => other,
            })?;
        let method = self.method_for(methods.as_ref())?;
        Ok((url, method))
    }

    fn method_for(&self, names: Option<&Vec<String>>) -> Result<Arc<dyn ClientAuth>> {
        match names {
            Some(names) => crate::client::auth_from_names(&self.client, Some(names)),
            None => self.token_auth(),
        }
    }

    async fn introspection_endpoint(&self) -> Result<(Url, Arc<dyn ClientAuth>)> {
        self.supplemented(
            "introspection_endpoint",
            "token introspection (RFC 7662)",
            |m| {
                (
                    m.introspection_endpoint.clone(),
                    m.introspection_endpoint_auth_methods_supported.clone(),
                )
            },
        )
        .await
    }

    /// Introspect a token (RFC 7662). `active: false` is a normal answer.
    ///
    /// ```no_run
    /// # async fn f(rp: &oidc_rp::RelyingParty, token: &str) -> oidc_rp::Result<()> {
    /// let answer = rp.introspect(token, Some("access_token")).await?;
    /// if answer.active {
    ///     println!("scope {:?}, expires {:?}", answer.scope, answer.exp);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn introspect(
        &self,
        token: &str,
        hint: Option<&str>,
    ) -> Result<IntrospectionResponse> {
        let (endpoint, method) = self.introspection_endpoint().await?;
        introspect::introspect(
            self.call("introspection", &endpoint, method.as_ref()),
            token,
            hint,
        )
        .await
    }

    /// Introspect asking for a signed JWT response (RFC 9701), validated before use.
    ///
    /// ```no_run
    /// # async fn f(rp: &oidc_rp::RelyingParty, token: &str) -> oidc_rp::Result<()> {
    /// let (answer, report) = rp.introspect_jwt(token, None).await?;
    /// println!("active: {} ({} checks passed)", answer.active, report.checks().len());
    /// # Ok(()) }
    /// ```
    pub async fn introspect_jwt(
        &self,
        token: &str,
        hint: Option<&str>,
    ) -> Result<(IntrospectionResponse, Report)> {
        let (endpoint, method) = self.introspection_endpoint().await?;
        let advertised = match &self
            .metadata
            .additional_metadata()
            .introspection_signing_alg_values_supported
        {
            Some(algs) => Some(algs.clone()),
            None => self
                .oauth_metadata()
                .await?
                .and_then(|m| m.introspection_signing_alg_values_supported.clone()),
        };
        let mut algs: Vec<Alg> = advertised
            .iter()
            .flatten()
            .filter_map(|a| Alg::parse(a))
            .filter(|a| {
                *a != Alg::None && (!a.is_symmetric() || self.client.client_secret.is_some())
            })
            .collect();
        if algs.is_empty() {
            algs.push(Alg::RS256);
        }
        introspect::introspect_jwt(
            self.call("introspection", &endpoint, method.as_ref()),
            token,
            hint,
            introspect::JwtRules {
                issuer: self.issuer(),
                client_id: &self.client.client_id,
                allowed_algs: &algs,
                client_secret: self.client.client_secret.as_ref(),
                clock: crate::time::Clock::new(None, self.options.leeway),
            },
            self.key_source(),
        )
        .await
    }

    /// Revoke a token (RFC 7009).
    ///
    /// ```no_run
    /// # async fn f(rp: &oidc_rp::RelyingParty, refresh_token: &oidc_rp::Secret) -> oidc_rp::Result<()> {
    /// rp.revoke(refresh_token.expose(), Some("refresh_token")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn revoke(&self, token: &str, hint: Option<&str>) -> Result<()> {
        let (endpoint, method) = self
            .supplemented("revocation_endpoint", "token revocation (RFC 7009)", |m| {
                (
                    m.revocation_endpoint.clone(),
                    m.revocation_endpoint_auth_methods_supported.clone(),
                )
            })
            .await?;
        revoke::revoke(
            self.call("revocation", &endpoint, method.as_ref()),
            token,
            hint,
        )
        .await
    }

    /// Under FAPI 2.0: only these ID token algorithms, requests only pushed, `iss` required.
    pub(crate) fn restrict_to_fapi2(&mut self, id_token_algs: Vec<Alg>) {
        self.id_token_algs = id_token_algs;
        self.fapi2 = true;
        if let Some(key) = self.client.signing_key.clone() {
            let issuer = self.issuer().to_string();
            self.client.custom_auth = Some(Arc::new(
                crate::client_auth::PrivateKeyJwt::for_issuer(key, issuer),
            ));
        }
    }

    /// What decorates every request.
    pub(crate) fn decorator(&self) -> Option<&dyn RequestDecorator> {
        self.decorator.as_deref()
    }

    /// Whether the client authenticates with mutual TLS (RFC 8705).
    pub(crate) fn uses_mtls(&self) -> bool {
        matches!(
            self.client.token_endpoint_auth_method,
            Some(crate::client::TokenAuthMethod::TlsClientAuth)
                | Some(crate::client::TokenAuthMethod::SelfSignedTlsClientAuth)
        )
    }

    /// The `mtls_endpoint_aliases` member `name` (RFC 8705 §5), for a client using mTLS.
    pub(crate) fn mtls_alias(&self, name: &str) -> Option<Url> {
        if !self.uses_mtls() {
            return None;
        }
        let url = self
            .metadata
            .additional_metadata()
            .mtls_endpoint_aliases
            .as_ref()?
            .get(name)?
            .as_str()?;
        Url::parse(url).ok()
    }

    /// Whether the FAPI 2.0 switch is on.
    pub(crate) fn is_fapi2(&self) -> bool {
        self.fapi2
    }

    /// Checks the caller turned off.
    pub(crate) fn options_skip(&self) -> Vec<CheckId> {
        self.options.danger_skip_checks.clone()
    }

    /// The clock leeway.
    pub(crate) fn leeway(&self) -> Duration {
        self.options.leeway
    }

    /// `request` with the decorator's authorization parameters (`dpop_jkt`) added, unless
    /// the caller set them already.
    pub(crate) fn decorated_request<'r>(
        &self,
        request: &'r AuthorizationRequest,
    ) -> std::borrow::Cow<'r, AuthorizationRequest> {
        let extra: Vec<(String, String)> = self
            .decorator
            .as_deref()
            .map(|d| d.authorization_params())
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| !request.extra.iter().any(|(e, _)| e == k))
            .collect();
        if extra.is_empty() {
            return std::borrow::Cow::Borrowed(request);
        }
        let mut owned = request.clone();
        owned.extra.extend(extra);
        std::borrow::Cow::Owned(owned)
    }

    /// The DPoP proof algorithm of the decorator, when it adds proofs.
    pub(crate) fn decorator_alg(&self) -> Option<&str> {
        self.decorator.as_deref().and_then(|d| d.proof_alg())
    }

    /// The `token_type` tokens must have here: `DPoP` with a DPoP decorator, else `Bearer`.
    fn expected_token_type(&self) -> &str {
        self.decorator
            .as_deref()
            .and_then(|d| d.token_type())
            .unwrap_or("Bearer")
    }

    pub(crate) fn call<'a>(
        &'a self,
        name: &'static str,
        url: &'a Url,
        auth: &'a dyn ClientAuth,
    ) -> Call<'a> {
        Call {
            http: &self.http,
            name,
            url,
            client_id: &self.client.client_id,
            auth,
            decorator: self.decorator.as_deref(),
        }
    }

    /// How the client authenticates at the token endpoint.
    pub(crate) fn token_auth(&self) -> Result<Arc<dyn ClientAuth>> {
        self.client.authenticator(
            self.metadata
                .token_endpoint_auth_methods_supported()
                .map(Vec::as_slice),
        )
    }

    /// The end-session URL (RP-Initiated Logout 1.0 §2) and the transaction whose `state` the
    /// post-logout redirect must carry.
    ///
    /// ```
    /// # fn f(rp: &oidc_rp::RelyingParty, login: &oidc_rp::Login) -> oidc_rp::Result<()> {
    /// use oidc_rp::LogoutRequest;
    /// let (url, txn) = rp.end_session_url(&LogoutRequest {
    ///     id_token_hint: Some(login.id_token.raw.clone()),
    ///     post_logout_redirect_uri: Some("https://app.example.com/logged-out".into()),
    ///     ..LogoutRequest::default()
    /// })?;
    /// // Redirect to `url`; when the browser comes back, check its query:
    /// // txn.check_redirect(query.as_bytes())?;
    /// # let _ = (url, txn); Ok(()) }
    /// ```
    pub fn end_session_url(
        &self,
        request: &crate::logout::LogoutRequest,
    ) -> Result<(Url, crate::logout::LogoutTransaction)> {
        let endpoint = self.endpoint(
            self.metadata
                .additional_metadata()
                .end_session_endpoint
                .as_ref(),
            "end_session_endpoint",
            "RP-initiated logout",
        )?;
        self.http.check_url(&endpoint, "end_session_endpoint")?;
        Ok(crate::logout::end_session_url(
            &endpoint,
            &self.client.client_id,
            request,
        ))
    }

    /// Validate a back-channel logout token (Back-Channel Logout 1.0 §2.6) with this client's
    /// ID token algorithms; `replay` remembers `jti`s.
    ///
    /// ```no_run
    /// # async fn f(rp: &oidc_rp::RelyingParty, form_logout_token: &str) -> oidc_rp::Result<()> {
    /// use oidc_rp::ReplayCache;
    /// let replay = ReplayCache::new(10_000); // one per process, shared by every request
    /// let token = rp.validate_logout_token(form_logout_token, &replay).await?;
    /// // End the local sessions with this `sid` (or every session of `sub`), then answer 200.
    /// println!("{:?} {:?}", token.sid, token.subject);
    /// # Ok(()) }
    /// ```
    pub async fn validate_logout_token(
        &self,
        raw: &str,
        replay: &dyn crate::store::ReplayStore,
    ) -> Result<crate::logout::LogoutToken> {
        let rules = crate::logout::LogoutTokenRules {
            client_secret: self.client.client_secret.as_ref(),
            leeway: self.options.leeway,
            max_age: self.options.logout_token_max_age,
            ..crate::logout::LogoutTokenRules::new(
                self.issuer(),
                &self.client.client_id,
                &self.id_token_algs,
            )
        };
        crate::logout::validate_logout_token(raw, &rules, self.key_source(), replay).await
    }

    /// Fetch userinfo with an access token and check it against the ID token.
    ///
    /// ```no_run
    /// # async fn f(rp: &oidc_rp::RelyingParty, login: &oidc_rp::Login) -> oidc_rp::Result<()> {
    /// let info = rp.userinfo(&login.tokens.access_token(), &login.id_token).await?;
    /// println!("{:?}", info.claims.get("email"));
    /// # Ok(()) }
    /// ```
    pub async fn userinfo(
        &self,
        access_token: &AccessToken,
        id_token: &VerifiedIdToken,
    ) -> Result<UserInfo> {
        self.userinfo_for(access_token, Some(&id_token.subject))
            .await
    }

    /// Fetch userinfo; `expected_sub` is the ID token's `sub` when one is at hand.
    ///
    /// ```no_run
    /// # async fn f(rp: &oidc_rp::RelyingParty, token: oidc_rp::Secret) -> oidc_rp::Result<()> {
    /// use oidc_rp::AccessToken;
    /// // An access token kept from an earlier login, with the `sub` it was issued for.
    /// let info = rp.userinfo_for(&AccessToken::bearer(token), Some("248289761001")).await?;
    /// # let _ = info; Ok(()) }
    /// ```
    pub async fn userinfo_for(
        &self,
        access_token: &AccessToken,
        expected_sub: Option<&str>,
    ) -> Result<UserInfo> {
        let endpoint = self
            .metadata
            .userinfo_endpoint()
            .ok_or_else(|| Error::Unsupported {
                issuer: self.issuer().to_string(),
                capability: "a userinfo endpoint".into(),
                detail: Some("no userinfo_endpoint in its metadata".into()),
            })?
            .url()
            .clone();
        let endpoint = self.mtls_alias("userinfo_endpoint").unwrap_or(endpoint);
        let signed_alg = self
            .client
            .userinfo_signed_response_alg
            .as_deref()
            .map(|name| {
                Alg::parse(name).ok_or_else(|| {
                    Error::Config(ConfigError::UnsupportedAlg {
                        what: "userinfo_signed_response_alg",
                        alg: name.to_string(),
                    })
                })
            })
            .transpose()?;
        userinfo::fetch(
            &self.http,
            self.decorator.as_deref(),
            &endpoint,
            access_token,
            UserinfoRules {
                expected_sub,
                issuer: self.issuer(),
                client_id: &self.client.client_id,
                signed_alg,
                client_secret: self.client.client_secret.as_ref(),
                token_in_body: self.options.userinfo_token_in_body,
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
            Error::Config(ConfigError::UnsupportedAlg {
                what: "id_token_signed_response_alg",
                alg: name.to_string(),
            })
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

/// OIDC Core §3.1.3.3: a token response (at login or refresh) carries `token_type` Bearer, and
/// RFC 6749 §5.1: a non-empty `access_token` (an empty one would be sent as an empty
/// credential, or cached as if it were one).
fn require_token_type(
    tokens: &TokenResponse,
    expected: &str,
    report: &mut Report,
    subject: &'static str,
) -> Result<()> {
    let got = tokens.token_type.as_str();
    let detail = if tokens.access_token.expose().is_empty() {
        "access_token is empty (RFC 6749 §5.1)".to_string()
    } else if !got.eq_ignore_ascii_case(expected) {
        if expected.eq_ignore_ascii_case("Bearer") {
            format!(
                "token_type is `{}`, not Bearer (OIDC Core §3.1.3.3; DPoP tokens only where DPoP was used, RFC 9449 §5)",
                crate::error::truncate(got, 40)
            )
        } else {
            format!(
                "token_type is `{}`, not {expected}: the provider did not bind the token to the proof's key (RFC 9449 §5)",
                crate::error::truncate(got, 40)
            )
        }
    } else {
        return Ok(());
    };
    report.fail(CheckId::TokenResponse, detail.clone());
    Err(Error::Validation(ValidationError {
        subject,
        check: CheckId::TokenResponse,
        detail,
        report: report.clone(),
    }))
}

/// A `session_state` worth keeping: short, printable, one `.`-separated salt (Session
/// Management 1.0 §3.1); anything else is dropped.
pub(crate) fn session_state(callback: &CallbackParams) -> Option<String> {
    callback
        .session_state
        .clone()
        .filter(|s| s.len() <= 512 && s.contains('.') && s.bytes().all(|b| b.is_ascii_graphic()))
}
