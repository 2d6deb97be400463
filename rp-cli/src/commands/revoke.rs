//! `rp revoke`: RFC 7009 revocation.

use super::target::{self, TargetArgs};
use crate::cache;
use crate::exit::CliError;
use clap::Args;
use serde_json::json;

/// `rp revoke`.
#[derive(Debug, Args)]
#[command(
    after_help = "Without --token, the profile's refresh token (which ends the whole grant at
providers that follow RFC 7009 §2.1) and access token are revoked and removed from the cache.

Examples:
  rp revoke
  rp revoke --token \"$TOKEN\" --token-type-hint access_token"
)]
pub struct RevokeArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// A token to revoke instead of the profile's.
    #[arg(long, value_name = "TOKEN", allow_hyphen_values = true)]
    pub token: Option<String>,
    /// `token_type_hint` for --token (access_token, refresh_token).
    #[arg(long, value_name = "HINT")]
    pub token_type_hint: Option<String>,
}

/// Run the command.
pub async fn run(args: RevokeArgs) -> Result<(), CliError> {
    let target::Opened {
        name,
        mut profile,
        lock: _lock,
    } = target::open(&args.target, args.token.is_some(), true).await?;
    let rp = target::connect(&args.target, profile.as_ref()).await?;
    let mut revoked = Vec::new();
    match (&args.token, profile.as_mut()) {
        (Some(t), _) => {
            rp.revoke(t, args.token_type_hint.as_deref()).await?;
            revoked.push(
                args.token_type_hint
                    .clone()
                    .unwrap_or_else(|| "token".into()),
            );
        }
        (None, Some(p)) => {
            if let Some(refresh) = &p.tokens.refresh_token {
                rp.revoke(refresh.expose(), Some("refresh_token")).await?;
                revoked.push("refresh_token".to_string());
            }
            rp.revoke(p.tokens.access_token.expose(), Some("access_token"))
                .await?;
            revoked.push("access_token".to_string());
            // The login is over: nothing usable is left to cache.
            cache::remove(&p.name).map_err(CliError::Cache)?;
        }
        (None, None) => {
            return Err(target::no_token());
        }
    }
    if args.target.json {
        target::print_result(rp.issuer(), name.as_deref(), json!({"revoked": revoked}));
    } else {
        crate::outln!("Revoked at {}: {}.", rp.issuer(), revoked.join(", "));
        if let (Some(n), None) = (&name, &args.token) {
            crate::outln!("Profile \"{n}\" removed from the cache.");
        }
    }
    Ok(())
}
