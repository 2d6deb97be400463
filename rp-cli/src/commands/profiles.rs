//! `rp profiles`: the cached logins, one line each; `show` one; `rm` one (revoking its
//! tokens at the provider first with `--revoke`).

use super::target;
use crate::cache::{self, Profile};
use crate::cli::HttpArgs;
use crate::exit::CliError;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

/// `rp profiles`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  rp profiles                       every cached login, one line each
  rp profiles --json
  rp profiles show work
  rp profiles rm work --revoke      revoke its tokens at the provider, then forget it")]
pub struct ProfilesArgs {
    #[command(subcommand)]
    pub action: Option<Action>,
    /// Print JSON.
    #[arg(long, global = true)]
    pub json: bool,
}

/// What to do with the profiles.
#[derive(Debug, Subcommand)]
pub enum Action {
    /// Every cached login (the default).
    List,
    /// One login: issuer, client, subject, tokens' expiry, scope (never a secret).
    Show {
        /// The profile.
        name: String,
    },
    /// Forget a login; with --revoke, revoke its refresh and access tokens first.
    Rm {
        /// The profile.
        name: String,
        /// Revoke the tokens at the provider (RFC 7009) before deleting them.
        #[arg(long)]
        revoke: bool,
        #[command(flatten)]
        http: HttpArgs,
    },
}

/// What may be shown of a profile: no token, no secret.
fn summary(p: &Profile) -> Value {
    json!({
        "name": p.name,
        "issuer": p.issuer,
        "client_id": p.client.client_id,
        "sub": p.sub,
        "access_token_expires_at": p.tokens.expires_at,
        "id_token_expires_at": p.id_token_claims.get("exp"),
        "refresh_token": p.tokens.refresh_token.is_some(),
        "scope": p.tokens.scope,
        "updated_at": p.updated_at,
        "store": p.store,
    })
}

/// Run the command.
pub async fn run(args: ProfilesArgs) -> Result<(), CliError> {
    match args.action.unwrap_or(Action::List) {
        Action::List => {
            // Lock files left by removed profiles (each deleted only when nobody holds it).
            cache::sweep_stale_locks();
            let mut all = cache::list().map_err(CliError::Cache)?;
            // What a keyring profile holds is in the keyring (one look-up each).
            for p in all
                .iter_mut()
                .filter(|p| p.store == crate::secret_store::Store::Keyring)
            {
                let _ = crate::secret_store::fill(p);
            }
            if args.json {
                let list: Vec<Value> = all.iter().map(summary).collect();
                crate::rawln!("{}", json!({ "profiles": list }));
                return Ok(());
            }
            if all.is_empty() {
                crate::outln!("No cached logins (rp login caches one).");
                return Ok(());
            }
            crate::outln!(
                "{:<20} {:<36} {:<16} {:<16} {:<18} refresh",
                "PROFILE",
                "ISSUER",
                "CLIENT",
                "SUBJECT",
                "ACCESS TOKEN"
            );
            for p in &all {
                crate::outln!(
                    "{:<20} {:<36} {:<16} {:<16} {:<18} {}",
                    p.name,
                    p.issuer,
                    p.client.client_id,
                    p.sub,
                    p.tokens.expires_at.map_or("no expiry".into(), expiry),
                    if p.tokens.refresh_token.is_some() {
                        "yes"
                    } else {
                        "no"
                    }
                );
            }
            Ok(())
        }
        Action::Show { name } => {
            let p = target::load_named(&name)?;
            if args.json {
                crate::rawln!("{}", summary(&p));
                return Ok(());
            }
            crate::outln!("Profile \"{}\"", p.name);
            crate::outln!("  issuer:        {}", p.issuer);
            crate::outln!("  client:        {}", p.client.client_id);
            crate::outln!("  subject:       {}", p.sub);
            crate::outln!(
                "  access token:  {}",
                p.tokens.expires_at.map_or("no expiry".into(), expiry)
            );
            if let Some(exp) = p
                .id_token_claims
                .get("exp")
                .and_then(|v| oidc_rp::time::numeric_date_value(v).ok())
            {
                crate::outln!("  ID token:      {}", expiry(exp));
            }
            crate::outln!(
                "  refresh token: {}",
                if p.tokens.refresh_token.is_some() {
                    "yes"
                } else {
                    "no"
                }
            );
            if let Some(scope) = &p.tokens.scope {
                crate::outln!("  scope:         {scope}");
            }
            Ok(())
        }
        Action::Rm { name, revoke, http } => {
            // Held while revoking and deleting: a concurrent refresh cannot resurrect it.
            let lock = target::lock(&name).await?;
            let p = target::load_named(&name)?;
            let revoked = if revoke {
                revoke_tokens(&p, http).await?
            } else {
                Vec::new()
            };
            cache::remove(&name).map_err(CliError::Cache)?;
            lock.remove();
            if args.json {
                crate::rawln!("{}", json!({"removed": name, "revoked": revoked}));
            } else if revoked.is_empty() {
                crate::outln!("Profile \"{name}\" removed (its tokens were not revoked).");
            } else {
                crate::outln!(
                    "Revoked {} at {}; profile \"{name}\" removed.",
                    revoked.join(", "),
                    p.issuer
                );
            }
            Ok(())
        }
    }
}

/// Revoke a profile's refresh and access tokens at its provider (RFC 7009), refresh token
/// first (revoking it ends the grant at most providers): the names of those revoked.
pub async fn revoke_tokens(
    p: &Profile,
    http: crate::cli::HttpArgs,
) -> Result<Vec<&'static str>, CliError> {
    let targs = target::TargetArgs {
        profile: Some(p.name.clone()),
        issuer: None,
        client: crate::cli::ClientArgs {
            client_id: None,
            client_secret: None,
            token_auth_method: None,
            client_key: None,
        },
        json: false,
        http,
    };
    let rp = target::connect(&targs, Some(p)).await?;
    let mut revoked = Vec::new();
    if let Some(refresh) = &p.tokens.refresh_token {
        rp.revoke(refresh.expose(), Some("refresh_token")).await?;
        revoked.push("refresh_token");
    }
    rp.revoke(p.tokens.access_token.expose(), Some("access_token"))
        .await?;
    revoked.push("access_token");
    Ok(revoked)
}

fn expiry(t: i64) -> String {
    let now = oidc_rp::time::unix_now();
    if t <= now {
        format!("expired {}", target::until(t))
    } else {
        format!("expires {}", target::until(t))
    }
}
