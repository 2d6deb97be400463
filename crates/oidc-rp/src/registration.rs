//! Dynamic client registration (RFC 7591, OpenID Connect Dynamic Client Registration 1.0),
//! sent with `openidconnect`'s registration request over our [`HttpClient`].

use crate::client::{ClientConfig, TokenAuthMethod};
use crate::discovery::ProviderMetadata;
use crate::error::{ConfigError, Error, ProviderError, Result, display_url, truncate};
use crate::http::HttpClient;
use crate::secret::Secret;
use openidconnect::core::{
    CoreApplicationType, CoreClientAuthMethod, CoreGrantType, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm,
    CoreRegisterErrorResponseType, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::registration::{
    ClientRegistrationError, EmptyAdditionalClientRegistrationResponse,
};
use openidconnect::{
    AccessToken, ClientContactEmail, ClientName, LocalizedClaim, RedirectUrl, ResponseTypes,
};
use serde::{Deserialize, Serialize};

/// Client metadata members defined after OpenID Connect Dynamic Registration 1.0.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ExtraClientMetadata {
    /// RFC 7591 §2 `scope`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// RP-Initiated Logout 1.0 §3.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// Front-Channel Logout 1.0 §2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontchannel_logout_uri: Option<String>,
    /// Front-Channel Logout 1.0 §2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontchannel_logout_session_required: Option<bool>,
    /// Back-Channel Logout 1.0 §2.2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    /// Back-Channel Logout 1.0 §2.2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_session_required: Option<bool>,
    /// Where a third party starts a login (OIDC Core §4, Registration §2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiate_login_uri: Option<String>,
}

impl openidconnect::registration::AdditionalClientMetadata for ExtraClientMetadata {}

type RegistrationRequestType = openidconnect::registration::ClientRegistrationRequest<
    ExtraClientMetadata,
    EmptyAdditionalClientRegistrationResponse,
    CoreApplicationType,
    CoreClientAuthMethod,
    CoreRegisterErrorResponseType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// What to register.
#[derive(Debug, Clone, Default)]
pub struct RegistrationRequest {
    /// Redirect URIs (loopback `http` URIs for native clients, RFC 8252 §7.3).
    pub redirect_uris: Vec<String>,
    /// `client_name`.
    pub client_name: Option<String>,
    /// `application_type`: `native` for CLIs (OIDC Registration §2), `web` otherwise.
    pub native: bool,
    /// `token_endpoint_auth_method`; `client_secret_basic` when absent.
    pub token_endpoint_auth_method: Option<TokenAuthMethod>,
    /// `grant_types`; `authorization_code` (and `refresh_token`) when empty.
    pub grant_types: Vec<String>,
    /// `contacts`.
    pub contacts: Vec<String>,
    /// `id_token_signed_response_alg`.
    pub id_token_signed_response_alg: Option<String>,
    /// `userinfo_signed_response_alg`.
    pub userinfo_signed_response_alg: Option<String>,
    /// The client's key: its public half is registered as `jwks` (for `private_key_jwt` and
    /// signed request objects).
    pub signing_key: Option<std::sync::Arc<crate::client_key::ClientKey>>,
    /// `request_object_signing_alg` (RS256, ES256 or none).
    pub request_object_signing_alg: Option<String>,
    /// Members defined by later specifications.
    pub extra: ExtraClientMetadata,
    /// RFC 7591 §3 initial access token, when the provider requires one.
    pub initial_access_token: Option<Secret>,
    /// `response_types`; `code` when empty. The implicit and hybrid types need the
    /// `implicit` grant beside `authorization_code` (RFC 7591 §2.1).
    pub response_types: Vec<crate::ResponseType>,
}

/// The registered `response_types`: `code` when none are named.
fn response_types(types: &[crate::ResponseType]) -> Vec<ResponseTypes<CoreResponseType>> {
    if types.is_empty() {
        return vec![ResponseTypes::new(vec![CoreResponseType::Code])];
    }
    types
        .iter()
        .map(|t| {
            ResponseTypes::new(
                t.as_str()
                    .split(' ')
                    .map(|w| match w {
                        "code" => CoreResponseType::Code,
                        "id_token" => CoreResponseType::IdToken,
                        _ => CoreResponseType::Token,
                    })
                    .collect(),
            )
        })
        .collect()
}

fn alg(name: &Option<String>) -> Result<Option<CoreJwsSigningAlgorithm>> {
    name.as_ref()
        .map(|n| {
            serde_json::from_value(serde_json::Value::String(n.clone())).map_err(|_| {
                Error::Config(ConfigError::UnsupportedAlg {
                    what: "signing algorithm",
                    alg: n.clone(),
                })
            })
        })
        .transpose()
}

/// Register a client and return its configuration.
///
/// ```no_run
/// # async fn f() -> oidc_rp::Result<()> {
/// use oidc_rp::registration::{self, RegistrationRequest};
/// use oidc_rp::{HttpClient, RelyingParty, discovery};
/// let http = HttpClient::default();
/// let metadata = discovery::discover(&http, "https://op.example.com").await?;
/// let client = registration::register(
///     &http,
///     &metadata,
///     &RegistrationRequest {
///         redirect_uris: vec!["http://127.0.0.1:8400/callback".into()],
///         client_name: Some("my tool".into()),
///         native: true,
///         ..RegistrationRequest::default()
///     },
/// )
/// .await?;
/// let rp = RelyingParty::new(http, metadata, client)?;
/// # let _ = rp; Ok(()) }
/// ```
pub async fn register(
    http: &HttpClient,
    metadata: &ProviderMetadata,
    request: &RegistrationRequest,
) -> Result<ClientConfig> {
    let issuer = metadata.issuer().as_str();
    let endpoint = match metadata.registration_endpoint() {
        Some(e) => e.clone(),
        // Some providers name it only in their RFC 8414 document.
        None => {
            let oauth = crate::discovery::authorization_server_metadata(http, issuer).await?;
            let found =
                oauth
                    .and_then(|m| m.registration_endpoint)
                    .ok_or_else(|| Error::Unsupported {
                        issuer: issuer.to_string(),
                        capability: "dynamic client registration".into(),
                        detail: Some(
                            "no registration_endpoint in its OpenID or RFC 8414 metadata".into(),
                        ),
                    })?;
            openidconnect::RegistrationUrl::new(found.clone()).map_err(|e| Error::InvalidUrl {
                url: display_url(&found),
                reason: format!("the provider's registration_endpoint: {e}"),
            })?
        }
    };
    let endpoint = &endpoint;
    http.check_url(endpoint.url(), "registration endpoint")?;
    let redirect_uris = request
        .redirect_uris
        .iter()
        .map(|u| {
            RedirectUrl::new(u.clone()).map_err(|e| Error::InvalidUrl {
                url: display_url(u),
                reason: e.to_string(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let auth = request
        .token_endpoint_auth_method
        .unwrap_or(TokenAuthMethod::ClientSecretBasic);
    let grant_types = if request.grant_types.is_empty() {
        vec![
            CoreGrantType::AuthorizationCode,
            CoreGrantType::RefreshToken,
        ]
    } else {
        request
            .grant_types
            .iter()
            .map(|g| serde_json::from_value(serde_json::Value::String(g.clone())))
            .collect::<std::result::Result<Vec<CoreGrantType>, _>>()
            .map_err(|e| Error::Config(ConfigError::Registration(format!("bad grant type: {e}"))))?
    };
    let mut req = RegistrationRequestType::new(redirect_uris, request.extra.clone())
        .set_application_type(Some(if request.native {
            CoreApplicationType::Native
        } else {
            CoreApplicationType::Web
        }))
        .set_response_types(Some(response_types(&request.response_types)))
        .set_grant_types(Some(grant_types))
        .set_token_endpoint_auth_method(Some(
            serde_json::from_value(serde_json::Value::String(auth.name().into()))
                .unwrap_or(CoreClientAuthMethod::ClientSecretBasic),
        ))
        .set_id_token_signed_response_alg(alg(&request.id_token_signed_response_alg)?)
        .set_userinfo_signed_response_alg(alg(&request.userinfo_signed_response_alg)?);
    if let Some(key) = &request.signing_key {
        let jwks: openidconnect::JsonWebKeySet<CoreJsonWebKey> =
            serde_json::from_value(serde_json::json!({ "keys": [key.public_jwk()] }))
                .map_err(|e| ConfigError::ClientKey(format!("cannot be registered: {e}")))?;
        req = req.set_jwks(Some(jwks));
    }
    if request.request_object_signing_alg.is_some() {
        req = req.set_request_object_signing_alg(alg(&request.request_object_signing_alg)?);
    }
    if let Some(name) = &request.client_name {
        req = req.set_client_name(Some(LocalizedClaim::from(ClientName::new(name.clone()))));
    }
    if !request.contacts.is_empty() {
        req = req.set_contacts(Some(
            request
                .contacts
                .iter()
                .cloned()
                .map(ClientContactEmail::new)
                .collect(),
        ));
    }
    if let Some(token) = &request.initial_access_token {
        req = req.set_initial_access_token(Some(AccessToken::new(token.expose().to_string())));
    }
    let url = display_url(endpoint.as_str());
    let response = req
        .register_async(endpoint, http)
        .await
        .map_err(|e| match e {
            ClientRegistrationError::Request(e) => e,
            ClientRegistrationError::ServerResponse(r) => Error::Provider(ProviderError {
                endpoint: "registration",
                status: 400,
                error: Some(r.error().as_ref().to_string()),
                description: r.error_description().map(|d| truncate(d, 300)),
                uri: r.error_uri().cloned(),
            }),
            ClientRegistrationError::Response(status, body, _) => {
                let text = String::from_utf8_lossy(&body);
                let parsed: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
                Error::Provider(ProviderError {
                    endpoint: "registration",
                    status: status.as_u16(),
                    error: parsed
                        .as_ref()
                        .and_then(|v| v["error"].as_str().map(str::to_string)),
                    description: parsed
                        .as_ref()
                        .and_then(|v| v["error_description"].as_str().map(|d| truncate(d, 300)))
                        .or_else(|| (!text.trim().is_empty()).then(|| truncate(&text, 200))),
                    uri: None,
                })
            }
            ClientRegistrationError::Parse(e) => Error::BadResponse {
                what: "registration response",
                url: url.clone(),
                reason: e.to_string(),
            },
            other => Error::BadResponse {
                what: "registration response",
                url: url.clone(),
                reason: other.to_string(),
            },
        })?;
    Ok(ClientConfig {
        client_id: response.client_id().as_str().to_string(),
        client_secret: response
            .client_secret()
            .map(|s| Secret::new(s.secret().clone())),
        token_endpoint_auth_method: response
            .token_endpoint_auth_method()
            .and_then(|m| serde_json::to_value(m).ok())
            .and_then(|v| v.as_str().and_then(TokenAuthMethod::parse))
            .or(Some(auth)),
        id_token_signed_response_alg: response
            .id_token_signed_response_alg()
            .and_then(|a| serde_json::to_value(a).ok())
            .and_then(|v| v.as_str().map(str::to_string)),
        userinfo_signed_response_alg: response
            .userinfo_signed_response_alg()
            .and_then(|a| serde_json::to_value(a).ok())
            .and_then(|v| v.as_str().map(str::to_string)),
        redirect_uris: response
            .redirect_uris()
            .iter()
            .map(|u| u.as_str().to_string())
            .collect(),
        registration_access_token: response
            .registration_access_token()
            .map(|t| Secret::new(t.secret().clone())),
        registration_client_uri: response
            .registration_client_uri()
            .map(|u| u.as_str().to_string()),
        signing_key: request.signing_key.clone(),
        custom_auth: None,
    })
}
