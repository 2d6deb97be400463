//! `rp token`: print one valid token alone, for scripts and as a kubectl credential plugin.
//!
//! It runs before every kubectl command, so the common case (the cached token is still good)
//! reads one file and prints: no lock, no network, no provider. When the token expires within
//! `--min-ttl`, the profile's lock is taken, the file read again (a concurrent run may just
//! have refreshed it), and the tokens refreshed (rotation-safe, as `rp refresh`).

use super::target::{self, TargetArgs};
use crate::cache::Profile;
use crate::exit::CliError;
use clap::Args;
use serde_json::json;

/// `rp token`.
#[derive(Debug, Args)]
#[command(after_help = "Prints the token alone on stdout (nothing else), so that
  curl -H \"Authorization: Bearer $(rp token)\" https://api.example.com/
works. Exit status 11 when the cached login cannot give a valid token any more.

As a kubectl credential plugin (client.authentication.k8s.io/v1; the ID token by default):
  users:
  - name: me
    user:
      exec:
        apiVersion: client.authentication.k8s.io/v1
        command: rp
        args: [token, --exec-credential, --profile, work]
        interactiveMode: IfAvailable

With a person at the terminal (kubectl's KUBERNETES_EXEC_INFO says so), rp logs in again by
itself when no token can be had otherwise: prompts and report on stderr, the credential alone
on stdout.

Examples:
  rp token                              the access token of the only profile
  rp token --profile work --min-ttl 300
  rp token --id-token
  rp token --exec-credential --profile work")]
pub struct TokenArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Refresh first when the token expires within this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub min_ttl: u64,
    /// Print the ID token instead of the access token.
    #[arg(long, conflicts_with = "refresh_token")]
    pub id_token: bool,
    /// Print the refresh token instead of the access token (never refreshed first).
    #[arg(long)]
    pub refresh_token: bool,
    /// Print a kubectl ExecCredential (client.authentication.k8s.io/v1) with the ID token
    /// (or the access token with --access-token) and its expiry.
    #[arg(long, conflicts_with = "refresh_token")]
    pub exec_credential: bool,
    /// With --exec-credential: the access token instead of the ID token.
    #[arg(long, requires = "exec_credential", conflicts_with = "id_token")]
    pub access_token: bool,
}

/// Which token is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Access,
    Id,
    Refresh,
}

impl Kind {
    fn of(args: &TokenArgs) -> Kind {
        if args.refresh_token {
            Kind::Refresh
        } else if args.id_token || (args.exec_credential && !args.access_token) {
            Kind::Id
        } else {
            Kind::Access
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Access => "access token",
            Kind::Id => "ID token",
            Kind::Refresh => "refresh token",
        }
    }
}

/// The token of `kind` and its expiry (`None`: the provider did not say).
fn current(profile: &Profile, kind: Kind) -> Option<(oidc_rp::Secret, Option<i64>)> {
    match kind {
        Kind::Access => Some((
            profile.tokens.access_token.clone(),
            profile.tokens.expires_at,
        )),
        Kind::Id => Some((
            profile.tokens.id_token.clone()?,
            profile
                .id_token_claims
                .get("exp")
                .and_then(|v| oidc_rp::time::numeric_date_value(v).ok()),
        )),
        Kind::Refresh => Some((profile.tokens.refresh_token.clone()?, None)),
    }
}

/// Good for at least `min_ttl` more seconds (a token without a stated expiry is taken as good,
/// as gcloud and kubelogin do: only the provider can say otherwise).
fn fresh_enough(expires_at: Option<i64>, min_ttl: u64, now: i64) -> bool {
    expires_at.is_none_or(|t| t.saturating_sub(now) > min_ttl.min(i64::MAX as u64) as i64)
}

/// What kubectl says about the call (`KUBERNETES_EXEC_INFO`, client.authentication.k8s.io):
/// the API version to answer in, and whether a person is there to log in.
#[derive(Debug, Default, PartialEq, Eq)]
struct ExecInfo {
    api_version: Option<String>,
    interactive: bool,
}

impl ExecInfo {
    /// Read from the environment; absent or unreadable means "not interactive".
    fn from_env() -> ExecInfo {
        std::env::var("KUBERNETES_EXEC_INFO")
            .ok()
            .filter(|v| v.len() <= 1 << 20)
            .map(|v| ExecInfo::parse(&v))
            .unwrap_or_default()
    }

    fn parse(text: &str) -> ExecInfo {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
            return ExecInfo::default();
        };
        let api_version = v["apiVersion"]
            .as_str()
            .filter(|a| {
                matches!(
                    *a,
                    "client.authentication.k8s.io/v1" | "client.authentication.k8s.io/v1beta1"
                )
            })
            .map(str::to_string);
        ExecInfo {
            api_version,
            interactive: v["spec"]["interactive"].as_bool() == Some(true),
        }
    }
}

/// Run the command.
pub async fn run(args: TokenArgs) -> Result<(), CliError> {
    let info = if args.exec_credential {
        ExecInfo::from_env()
    } else {
        ExecInfo::default()
    };
    match token(&args, &info).await {
        // kubectl says a person is there: log in (everything on stderr, the credential
        // alone on stdout), then answer with the new token.
        Err(CliError::LoginRequired {
            profile, reason, ..
        }) if info.interactive => {
            crate::progress!("{reason}; logging in again (profile \"{profile}\")");
            login_interactively(&profile).await?;
            let fresh = target::load_named(&profile)?;
            let kind = Kind::of(&args);
            let now = oidc_rp::time::unix_now();
            match current(&fresh, kind) {
                Some((token, exp)) if exp.is_none_or(|t| t > now) => {
                    print(&args, &info, &fresh, kind, &token, exp)
                }
                _ => Err(CliError::LoginRequired {
                    profile,
                    issuer: fresh.issuer.clone(),
                    reason: format!("the new login brought no valid {}", kind.name()),
                }),
            }
        }
        other => other,
    }
}

/// `rp login --profile NAME` as a child whose output goes to stderr (stdout is kubectl's),
/// with the terminal as its stdin for prompts.
async fn login_interactively(profile: &str) -> Result<(), CliError> {
    let exe = std::env::current_exe()
        .map_err(|e| CliError::Internal(format!("cannot find rp's own executable: {e}")))?;
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["login", "--profile", profile])
        .stdin(std::process::Stdio::inherit())
        .stdout(std::process::Stdio::from(std::io::stderr()))
        .stderr(std::process::Stdio::inherit());
    let status = tokio::task::spawn_blocking(move || cmd.status())
        .await
        .map_err(|e| CliError::Internal(e.to_string()))?
        .map_err(|e| CliError::Internal(format!("cannot start rp login: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(CliError::Failed(format!(
            "the interactive login failed ({status}); run `rp login --profile {profile}` to see why"
        )))
    }
}

async fn token(args: &TokenArgs, info: &ExecInfo) -> Result<(), CliError> {
    let kind = Kind::of(args);
    let name = target::profile_name(&args.target)?
        .ok_or_else(|| CliError::Usage("name the profile with --profile".into()))?;
    // The fast path: no lock, no network.
    let profile = target::load_named(&name)?;
    let now = oidc_rp::time::unix_now();
    if let Some((token, exp)) = current(&profile, kind)
        && (kind == Kind::Refresh || fresh_enough(exp, args.min_ttl, now))
    {
        return print(args, info, &profile, kind, &token, exp);
    }
    if kind == Kind::Refresh {
        return Err(CliError::LoginRequired {
            profile: name,
            issuer: profile.issuer.clone(),
            reason: "the profile has no refresh token".into(),
        });
    }
    // Refresh under the lock, after reading the profile again.
    let _lock = target::lock(&name).await?;
    let mut profile = target::load_named(&name)?;
    let now = oidc_rp::time::unix_now();
    if let Some((token, exp)) = current(&profile, kind)
        && fresh_enough(exp, args.min_ttl, now)
    {
        return print(args, info, &profile, kind, &token, exp);
    }
    let Some(refresh_token) = profile.tokens.refresh_token.clone() else {
        return Err(CliError::LoginRequired {
            profile: name,
            issuer: profile.issuer.clone(),
            reason: format!(
                "the cached {} expires within {} s and there is no refresh token",
                kind.name(),
                args.min_ttl
            ),
        });
    };
    let rp = target::connect(&args.target, Some(&profile)).await?;
    let previous = target::stored_id_token(&profile);
    crate::progress!(
        "the cached {} expires within {} s: refreshing",
        kind.name(),
        args.min_ttl
    );
    let refreshed = super::refresh::refresh_and_save(
        &rp,
        &refresh_token,
        previous.as_ref(),
        None,
        Some(&mut profile),
    )
    .await;
    match refreshed {
        Ok(_) => {}
        // The grant is gone (revoked, expired, reused): only a new login helps, which is what
        // exit status 11 tells a script or kubectl.
        Err(CliError::Rp(oidc_rp::Error::Provider(e)))
            if e.error.as_deref() == Some("invalid_grant") =>
        {
            return Err(CliError::LoginRequired {
                profile: name,
                issuer: profile.issuer.clone(),
                reason: format!(
                    "the provider refused the refresh token (invalid_grant{}): the grant was revoked or expired",
                    e.description
                        .as_deref()
                        .map(|d| format!(": {}", crate::output::one_line(d, 200)))
                        .unwrap_or_default()
                ),
            });
        }
        Err(e) => return Err(e),
    }
    let now = oidc_rp::time::unix_now();
    match current(&profile, kind) {
        Some((token, exp)) if fresh_enough(exp, args.min_ttl, now) => {
            print(args, info, &profile, kind, &token, exp)
        }
        Some((token, exp)) if exp.is_some_and(|t| t > now) => {
            // Valid, only shorter-lived than asked: the provider's lifetime is what it is.
            crate::progress!(
                "the refreshed {} is valid for less than {} s",
                kind.name(),
                args.min_ttl
            );
            print(args, info, &profile, kind, &token, exp)
        }
        _ => Err(CliError::LoginRequired {
            profile: name,
            issuer: profile.issuer.clone(),
            reason: format!(
                "the refresh brought no {} valid for {} s",
                kind.name(),
                args.min_ttl
            ),
        }),
    }
}

fn print(
    args: &TokenArgs,
    info: &ExecInfo,
    profile: &Profile,
    kind: Kind,
    token: &oidc_rp::Secret,
    expires_at: Option<i64>,
) -> Result<(), CliError> {
    if args.exec_credential {
        let mut status = json!({ "token": token.expose() });
        if let Some(t) = expires_at {
            let stamp = target::rfc3339(t).ok_or_else(|| {
                CliError::Internal(format!("expiry {t} is not a representable time"))
            })?;
            status["expirationTimestamp"] = stamp.into();
        }
        crate::rawln!(
            "{}",
            json!({
                "apiVersion": info
                    .api_version
                    .as_deref()
                    .unwrap_or("client.authentication.k8s.io/v1"),
                "kind": "ExecCredential",
                "status": status,
            })
        );
    } else if args.target.json {
        target::print_result(
            &profile.issuer,
            Some(&profile.name),
            json!({
                "token": token.expose(),
                "kind": kind.name(),
                "token_type": (kind == Kind::Access).then_some(profile.tokens.token_type.as_str()),
                "expires_at": expires_at,
            }),
        );
    } else {
        crate::rawln!("{}", token.expose());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ttl_margin_is_strict() {
        assert!(fresh_enough(Some(1_000 + 61), 60, 1_000));
        assert!(!fresh_enough(Some(1_000 + 60), 60, 1_000));
        assert!(!fresh_enough(Some(999), 0, 1_000));
        assert!(fresh_enough(None, 60, 1_000));
        assert!(!fresh_enough(Some(i64::MIN), u64::MAX, 1_000));
    }

    #[test]
    fn kubectls_exec_info_is_read() {
        let i = ExecInfo::parse(
            r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":true}}"#,
        );
        assert_eq!(
            i.api_version.as_deref(),
            Some("client.authentication.k8s.io/v1beta1")
        );
        assert!(i.interactive);
        let i = ExecInfo::parse(r#"{"apiVersion":"evil/v9","spec":{"interactive":"yes"}}"#);
        assert_eq!(i, ExecInfo::default());
        assert_eq!(ExecInfo::parse("not json"), ExecInfo::default());
    }

    #[test]
    fn expiry_is_rfc3339_utc() {
        assert_eq!(
            target::rfc3339(1_764_525_600).unwrap(),
            "2025-11-30T18:00:00Z"
        );
    }
}
