//! `rp exchange`: OAuth 2.0 Token Exchange (RFC 8693).

use super::target::{self, TargetArgs};
use crate::cache::{self, ExchangedToken, MAX_EXCHANGED};
use crate::exit::CliError;
use clap::Args;
use oidc_rp::{Secret, TokenExchangeRequest};
use oidc_rp::{token_type, token_types};
use serde_json::json;

/// `rp exchange`.
#[derive(Debug, Args)]
#[command(
    after_help = "Token types take short names (access_token, refresh_token, id_token, jwt,
saml1, saml2) or URNs.

Examples:
  rp exchange --audience https://api.example.com           the profile's access token as subject
  rp exchange --requested-token-type refresh_token --json
  rp exchange --subject-token \"$ID_TOKEN\" --subject-token-type id_token --resource https://api.example.com
  rp exchange --actor-token \"$SERVICE_TOKEN\" --actor-token-type access_token --audience https://api.example.com"
)]
pub struct ExchangeArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// The subject token (default: the profile's access token).
    #[arg(long, value_name = "TOKEN", allow_hyphen_values = true)]
    pub subject_token: Option<String>,
    /// The subject token's type (default: access_token).
    #[arg(long, value_name = "TYPE", default_value = "access_token")]
    pub subject_token_type: String,
    /// The acting party's token (delegation).
    #[arg(
        long,
        value_name = "TOKEN",
        requires = "actor_token_type",
        allow_hyphen_values = true
    )]
    pub actor_token: Option<String>,
    /// The actor token's type.
    #[arg(long, value_name = "TYPE", requires = "actor_token")]
    pub actor_token_type: Option<String>,
    /// The token type wanted.
    #[arg(long, value_name = "TYPE")]
    pub requested_token_type: Option<String>,
    /// A target service's logical name (repeatable).
    #[arg(long, value_name = "NAME")]
    pub audience: Vec<String>,
    /// A target resource URI (repeatable, RFC 8707).
    #[arg(long, value_name = "URI")]
    pub resource: Vec<String>,
    /// Scope wanted.
    #[arg(long)]
    pub scope: Option<String>,
}

fn urn(name: &str, flag: &str) -> Result<String, CliError> {
    token_type(name).map(str::to_string).ok_or_else(|| {
        CliError::Usage(format!(
            "{flag} `{name}` is not a token type: use access_token, refresh_token, id_token, jwt, saml1, saml2 or a URN"
        ))
    })
}

/// Run the command.
pub async fn run(args: ExchangeArgs) -> Result<(), CliError> {
    let target::Opened {
        name,
        mut profile,
        lock: _lock,
    } = target::open(&args.target, args.subject_token.is_some(), true).await?;
    let subject_type = urn(&args.subject_token_type, "--subject-token-type")?;
    let subject = match (&args.subject_token, &profile) {
        (Some(t), _) => Secret::new(t.as_str()),
        (None, Some(p)) => match subject_type.as_str() {
            token_types::ACCESS_TOKEN => p.tokens.access_token.clone(),
            token_types::REFRESH_TOKEN => p.tokens.refresh_token.clone().ok_or_else(|| {
                CliError::Usage(format!("profile `{}` has no refresh token", p.name))
            })?,
            token_types::ID_TOKEN | token_types::JWT => {
                p.tokens.id_token.clone().ok_or_else(|| {
                    CliError::Usage(format!("profile `{}` has no ID token", p.name))
                })?
            }
            other => {
                return Err(CliError::Usage(format!(
                    "the profile holds no {other}; pass it with --subject-token"
                )));
            }
        },
        (None, None) => {
            return Err(CliError::Usage(
                "give --subject-token or use a cached profile".into(),
            ));
        }
    };
    let request = TokenExchangeRequest {
        subject_token: subject,
        subject_token_type: subject_type,
        actor_token: args.actor_token.as_deref().map(Secret::new),
        actor_token_type: args
            .actor_token_type
            .as_deref()
            .map(|t| urn(t, "--actor-token-type"))
            .transpose()?,
        requested_token_type: args
            .requested_token_type
            .as_deref()
            .map(|t| urn(t, "--requested-token-type"))
            .transpose()?,
        audience: args.audience.clone(),
        resource: args.resource.clone(),
        scope: args.scope.clone(),
    };
    let rp = target::connect(&args.target, profile.as_ref()).await?;
    let response = rp.exchange(&request).await?;
    let now = oidc_rp::time::unix_now();
    let expires_at = response.expires_in.map(|s| now + s as i64);
    if let Some(p) = profile.as_mut() {
        p.exchanged.insert(
            0,
            ExchangedToken {
                token: response.access_token.clone(),
                issued_token_type: response.issued_token_type.clone(),
                token_type: response.token_type.clone(),
                expires_at,
                audience: args.audience.clone(),
                resource: args.resource.clone(),
                scope: response.scope.clone(),
                obtained_at: now,
            },
        );
        p.exchanged.truncate(MAX_EXCHANGED);
        p.updated_at = now;
        cache::save(p).map_err(CliError::Cache)?;
    }
    if args.target.json {
        target::print_result(
            rp.issuer(),
            name.as_deref(),
            json!({
                            "response": serde_json::to_value(&response).unwrap_or_default(),
            }),
        );
        return Ok(());
    }
    crate::outln!(
        "Exchanged at {}: issued a {} (token_type {}){}{}.",
        rp.issuer(),
        crate::term::inline(&response.issued_token_type),
        crate::term::inline(&response.token_type),
        expires_at
            .map(|t| format!(", expires {}", target::until(t)))
            .unwrap_or_default(),
        response
            .scope
            .as_deref()
            .map(|s| format!(", scope \"{}\"", crate::term::inline(s)))
            .unwrap_or_default(),
    );
    crate::outln!("{}", crate::term::inline(response.access_token.expose()));
    if let Some(n) = &name {
        crate::outln!("Kept in profile \"{n}\" (rp introspect --token ... to inspect it).");
    }
    Ok(())
}
