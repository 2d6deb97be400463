//! `rp introspect`: RFC 7662 introspection (RFC 9701 signed response with `--jwt`).

use super::target::{self, TargetArgs};
use crate::exit::CliError;
use crate::output;
use clap::Args;
use serde_json::json;

/// `rp introspect`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  rp introspect                         the profile's access token
  rp introspect --refresh               the profile's refresh token
  rp introspect --token \"$TOKEN\" --token-type-hint access_token --json
  rp introspect --jwt                   ask for a signed response (RFC 9701) and validate it")]
pub struct IntrospectArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// The token (default: the profile's access token).
    #[arg(
        long,
        value_name = "TOKEN",
        conflicts_with = "refresh",
        allow_hyphen_values = true
    )]
    pub token: Option<String>,
    /// Introspect the profile's refresh token.
    #[arg(long)]
    pub refresh: bool,
    /// `token_type_hint` (access_token, refresh_token).
    #[arg(long, value_name = "HINT")]
    pub token_type_hint: Option<String>,
    /// Ask for a signed JWT response (RFC 9701) and validate it.
    #[arg(long)]
    pub jwt: bool,
}

/// Run the command.
pub async fn run(args: IntrospectArgs) -> Result<(), CliError> {
    let target::Opened { name, profile, .. } =
        target::open(&args.target, args.token.is_some(), false).await?;
    let (token, default_hint) = match (&args.token, &profile, args.refresh) {
        (Some(t), _, _) => (t.clone(), None),
        (None, Some(p), true) => (
            p.tokens
                .refresh_token
                .as_ref()
                .ok_or_else(|| {
                    CliError::Usage(format!("profile `{}` has no refresh token", p.name))
                })?
                .expose()
                .to_string(),
            Some("refresh_token"),
        ),
        (None, Some(p), false) => (
            p.tokens.access_token.expose().to_string(),
            Some("access_token"),
        ),
        (None, None, _) => {
            return Err(target::no_token());
        }
    };
    let hint = args.token_type_hint.as_deref().or(default_hint);
    let rp = target::connect(&args.target, profile.as_ref()).await?;
    let (response, report) = if args.jwt {
        let (r, report) = rp.introspect_jwt(&token, hint).await?;
        (r, Some(report))
    } else {
        (rp.introspect(&token, hint).await?, None)
    };
    if args.target.json {
        target::print_result(
            rp.issuer(),
            name.as_deref(),
            json!({
                            "introspection": response,
                "checks": report,
            }),
        );
        return Ok(());
    }
    if !response.active {
        crate::outln!(
            "active: false (the token is unknown, expired, revoked, or not for this client)"
        );
    } else {
        let mut shown = serde_json::to_value(&response)
            .ok()
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default();
        for t in ["exp", "iat", "nbf"] {
            if let Some(v) = response_time(&response, t) {
                shown.insert(t.into(), json!(format!("{v} ({})", target::until(v))));
            }
        }
        crate::outln!("{}", output::claims(&shown));
    }
    if let Some(report) = report {
        crate::outln!("Signed response checks:\n{}", output::report(&report));
    }
    Ok(())
}

fn response_time(r: &oidc_rp::IntrospectionResponse, name: &str) -> Option<i64> {
    match name {
        "exp" => r.exp,
        "iat" => r.iat,
        _ => r.nbf,
    }
}
