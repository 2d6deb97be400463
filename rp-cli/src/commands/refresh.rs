//! `rp refresh`: the refresh_token grant on a cached profile, under its lock.

use super::target::{self, TargetArgs};
use crate::cache::{self, StoredTokens};
use crate::exit::CliError;
use crate::output;
use clap::Args;
use oidc_rp::Secret;
use serde_json::json;

/// `rp refresh`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  rp refresh                                  the only cached profile
  rp refresh --profile work --json
  rp refresh --issuer https://op.example.com --client-id app --client-secret s --token RT")]
pub struct RefreshArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// A refresh token to use instead of the profile's (nothing is cached then).
    #[arg(long, value_name = "TOKEN", allow_hyphen_values = true)]
    pub token: Option<String>,
    /// Ask for a narrower scope.
    #[arg(long)]
    pub scope: Option<String>,
}

/// Save the refresh token of a refused refresh response in the profile (or, for a token given
/// with `--token`, print it: it exists nowhere else).
fn keep_rotated(profile: Option<&mut cache::Profile>, rotated: &Secret) -> Result<(), CliError> {
    match profile {
        Some(p) => {
            p.tokens.refresh_token = Some(rotated.clone());
            p.updated_at = oidc_rp::time::unix_now();
            cache::save(p).map_err(CliError::Cache)?;
            crate::progress!(
                "the provider rotated the refresh token, but the rest of its response was refused or could not be checked: the new refresh token is saved in profile \"{}\" (the unchecked ID and access tokens are not)",
                p.name
            );
        }
        _ => {
            crate::progress!(
                "the provider rotated the refresh token, but the rest of its response was refused or could not be checked; the one you gave is spent, use this one next:"
            );
            crate::outln!("{}", rotated.expose());
        }
    }
    Ok(())
}

/// Refresh, and when `profile` is given save the result in it (the caller holds its lock).
///
/// A response refused after the provider rotated the refresh token still leaves the new
/// refresh token in the profile (RFC 6749 §6: the one sent is spent), and nothing else of
/// the refused response. Without a profile (a token given on the command line) the rotated
/// token is printed, since it exists nowhere else.
pub async fn refresh_and_save(
    rp: &oidc_rp::RelyingParty,
    refresh_token: &Secret,
    previous: Option<&oidc_rp::StoredIdToken>,
    scope: Option<&str>,
    mut profile: Option<&mut cache::Profile>,
) -> Result<oidc_rp::Refreshed, CliError> {
    let refreshed = match rp.refresh(refresh_token, previous, scope).await {
        Ok(r) => r,
        Err(e) => {
            if let Some(rotated) = e.rotated_refresh_token() {
                keep_rotated(profile, rotated)?;
            }
            return Err(e.into());
        }
    };
    if let Some(p) = profile.as_mut() {
        let now = oidc_rp::time::unix_now();
        let fresh = StoredTokens::from_response(
            &refreshed.tokens,
            refreshed
                .id_token
                .as_ref()
                .filter(|_| refreshed.id_token_renewed)
                .map(|t| t.raw.clone()),
            now,
        );
        // Without a new ID token or a scope in the response, the cached ones still hold.
        p.tokens = StoredTokens {
            refresh_token: Some(refreshed.refresh_token.clone()),
            id_token: fresh.id_token.or_else(|| p.tokens.id_token.take()),
            scope: fresh.scope.or_else(|| p.tokens.scope.take()),
            ..fresh
        };
        if let Some(id) = &refreshed.id_token {
            p.id_token_claims = id.claims();
        }
        p.updated_at = now;
        cache::save(p).map_err(CliError::Cache)?;
    }
    Ok(refreshed)
}

/// Run the command.
pub async fn run(args: RefreshArgs) -> Result<(), CliError> {
    let target::Opened {
        name,
        mut profile,
        lock: _lock,
    } = target::open(&args.target, args.token.is_some(), true).await?;
    let rp = target::connect(&args.target, profile.as_ref()).await?;
    let refresh_token = match (&args.token, &profile) {
        (Some(t), _) => Secret::new(t.as_str()),
        (None, Some(p)) => p.tokens.refresh_token.clone().ok_or_else(|| {
            CliError::Usage(format!(
                "profile `{}` has no refresh token; log in with --scope including offline_access",
                p.name
            ))
        })?,
        (None, None) => {
            return Err(target::no_token());
        }
    };
    let previous = match (&profile, &args.token) {
        (Some(p), None) => target::stored_id_token(p),
        _ => None,
    };
    let explicit = args.token.is_some();
    let refreshed = refresh_and_save(
        &rp,
        &refresh_token,
        previous.as_ref(),
        args.scope.as_deref(),
        if explicit { None } else { profile.as_mut() },
    )
    .await?;
    let expires_at = refreshed
        .tokens
        .expires_in()
        .map(|d| oidc_rp::time::unix_now() + d.as_secs() as i64);
    if args.target.json {
        target::print_result(
            rp.issuer(),
            name.as_deref(),
            json!({
                            "rotated": refreshed.rotated,
                "id_token_renewed": refreshed.id_token_renewed,
                "checks": refreshed.report,
                "id_token_claims": refreshed.id_token.as_ref().filter(|_| refreshed.id_token_renewed).map(|t| t.claims()),
                "token_response": super::login::token_response_json(&refreshed.tokens),
            }),
        );
        return Ok(());
    }
    crate::outln!(
        "Refreshed at {}: new access token{}; refresh token {}; {}.",
        rp.issuer(),
        expires_at
            .map(|t| format!(" (expires {})", target::until(t)))
            .unwrap_or_default(),
        if refreshed.rotated {
            "rotated"
        } else {
            "kept (not rotated by the provider)"
        },
        if refreshed.id_token_renewed {
            "new ID token validated (same iss, sub, aud as at login)"
        } else {
            "no new ID token; the previous one is kept"
        }
    );
    crate::outln!("\nChecks:\n{}", output::report(&refreshed.report));
    if let Some(n) = &name {
        crate::outln!("Profile \"{n}\" updated.");
    }
    Ok(())
}
