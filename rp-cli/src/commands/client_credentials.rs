//! `rp client-credentials`: the client_credentials grant (RFC 6749 §4.4), a token for a
//! service acting on its own behalf.

use super::target::{self, TargetArgs};
use crate::exit::CliError;
use clap::Args;
use oidc_rp::ClientCredentialsRequest;
use serde_json::json;

/// `rp client-credentials`.
#[derive(Debug, Args)]
#[command(
    after_help = "The token is printed on stdout (the last line, or `response.access_token` with
--json) and not cached: there is no end-user, so there is nothing to refresh or log out.
Only confidential clients may use this grant (RFC 6749 §4.4).

Examples:
  rp client-credentials --issuer https://op.example.com --client-id svc --client-secret s3cret
  rp client-credentials --issuer https://op.example.com --client-id svc --scope api:read --resource https://api.example.com
  RP_CLIENT_SECRET=s3cret rp client-credentials --issuer https://tenant.auth0.example --client-id svc --audience https://api.example.com --json"
)]
pub struct ClientCredentialsArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Scope wanted (default: what the provider grants the client by default).
    #[arg(long)]
    pub scope: Option<String>,
    /// A target resource URI (repeatable, RFC 8707).
    #[arg(long, value_name = "URI")]
    pub resource: Vec<String>,
    /// A target API's logical name (repeatable; Auth0-style providers require it).
    #[arg(long, value_name = "NAME")]
    pub audience: Vec<String>,
}

/// Run the command.
pub async fn run(args: ClientCredentialsArgs) -> Result<(), CliError> {
    // A profile only lends its issuer and client; nothing is written back.
    let target::Opened { name, profile, .. } = target::open(&args.target, true, false).await?;
    let rp = target::connect(&args.target, profile.as_ref()).await?;
    let response = rp
        .client_credentials(&ClientCredentialsRequest {
            scope: args.scope.clone(),
            resource: args.resource.clone(),
            audience: args.audience.clone(),
        })
        .await?;
    if args.target.json {
        target::print_result(
            rp.issuer(),
            name.as_deref(),
            json!({
                            "client_id": rp.client().client_id,
                "response": serde_json::to_value(&response).unwrap_or_default(),
            }),
        );
        return Ok(());
    }
    let scope = response.scope.clone().filter(|s| !s.is_empty());
    crate::outln!(
        "Access token for client {} from {} (token_type {}){}{}:",
        rp.client().client_id,
        rp.issuer(),
        if response.is_bearer() {
            "Bearer".into()
        } else {
            crate::term::inline(response.token_type.as_str())
        },
        response
            .expires_in()
            .map(|d| format!(", expires in {} s", d.as_secs()))
            .unwrap_or_default(),
        scope
            .map(|s| format!(", scope \"{}\"", crate::term::inline(&s)))
            .unwrap_or_default(),
    );
    crate::outln!("{}", crate::term::inline(response.access_token.expose()));
    Ok(())
}
