//! `rp userinfo`: the userinfo endpoint with the cached access token.

use super::target::{self, TargetArgs};
use crate::exit::CliError;
use crate::output;
use clap::Args;
use serde_json::json;

/// `rp userinfo`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  rp userinfo
  rp userinfo --profile work --json
  rp userinfo --issuer https://op.example.com --client-id app --token \"$ACCESS_TOKEN\"")]
pub struct UserinfoArgs {
    #[command(flatten)]
    pub target: target::PublicTargetArgs,
    /// An access token to use instead of the profile's (its sub is then not compared).
    #[arg(long, value_name = "TOKEN", allow_hyphen_values = true)]
    pub token: Option<String>,
}

/// Run the command.
pub async fn run(args: UserinfoArgs) -> Result<(), CliError> {
    let target: TargetArgs = args.target.clone().into();
    let target::Opened { name, profile, .. } =
        target::open(&target, args.token.is_some(), false).await?;
    let rp = target::connect(&target, profile.as_ref()).await?;
    let (token, sub) = match (&args.token, &profile) {
        (Some(t), _) => (oidc_rp::AccessToken::bearer(t.as_str()), None),
        (None, Some(p)) => (p.tokens.access(), Some(p.sub.clone())),
        (None, None) => {
            return Err(target::no_token());
        }
    };
    let info = rp.userinfo_for(&token, sub.as_deref()).await?;
    if target.json {
        target::print_result(
            rp.issuer(),
            name.as_deref(),
            json!({
                            "userinfo": info.claims,
                "signed": info.signed,
                "checks": info.report,
            }),
        );
        return Ok(());
    }
    crate::outln!("{}", output::claims(&info.claims));
    crate::outln!("Checks:\n{}", output::report(&info.report));
    Ok(())
}
