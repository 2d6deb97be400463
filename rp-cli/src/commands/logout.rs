//! `rp logout`: RP-Initiated Logout 1.0 from the cached login, then the cache entry goes.

use super::flow::{self, Drive, load_jar, save_jar};
use super::target::{self, TargetArgs};
use crate::cache;
use crate::exit::CliError;
use crate::listener::{LOGOUT_PATH, Listener, LoopbackHost, LoopbackUri};
use crate::{output, progress};
use clap::Args;
use oidc_rp::LogoutRequest;
use oidc_rp_headless::Browser;
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// `rp logout`.
#[derive(Debug, Args)]
#[command(
    after_help = "rp sends the cached ID token as id_token_hint and a loopback post_logout_redirect_uri
with a fresh state, waits for the provider to redirect back, checks the state, and deletes the
cached tokens. The provider then logs out every other client of the session (front- and
back-channel).

Examples:
  rp logout                              opens the browser
  rp logout --headless                   follows the provider's pages itself
  rp logout --profile work --no-browser --port 8400"
)]
pub struct LogoutArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Walk the provider's logout pages without a browser.
    #[arg(long, conflicts_with = "no_browser")]
    pub headless: bool,
    /// Print the end-session URL instead of opening a browser.
    #[arg(long)]
    pub no_browser: bool,
    /// Open the end-session URL with this command instead of the default browser (the URL
    /// replaces `%s`, or is appended); `$BROWSER` is honoured without it.
    #[arg(long, value_name = "CMD", conflicts_with = "no_browser")]
    pub browser_command: Option<String>,
    /// Port of the post-logout redirect listener (default: the registered one, else ephemeral).
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,
    /// The post_logout_redirect_uri to send and listen on: http on 127.0.0.1, [::1] or
    /// localhost, with a port (or none: an ephemeral one) and a path, as registered with the
    /// provider (default: the one registered at login, else http://127.0.0.1:PORT/logout).
    #[arg(long, value_name = "URI")]
    pub post_logout_redirect_uri: Option<String>,
    /// Seconds to wait for the post-logout redirect.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub timeout: u64,
    /// The provider cookies of `rp login --cookie-jar` (headless: log out that browser session).
    #[arg(long, value_name = "FILE")]
    pub cookie_jar: Option<PathBuf>,
}

/// Run the command.
pub async fn run(args: LogoutArgs) -> Result<(), CliError> {
    let opened = target::open(&args.target, false, true).await?;
    let (Some(name), Some(profile)) = (opened.name.clone(), opened.profile.clone()) else {
        return Err(CliError::Usage(
            "rp logout needs a cached login (rp login first)".into(),
        ));
    };
    let rp = target::connect(&args.target, Some(&profile)).await?;
    let wanted = args
        .post_logout_redirect_uri
        .as_deref()
        .or(profile.post_logout_redirect_uri.as_deref())
        .map(LoopbackUri::parse)
        .transpose()
        .map_err(|e| CliError::Usage(format!("post-logout redirect URI: {e}")))?;
    let (host, port, path) = match &wanted {
        Some(w) => (w.host, args.port.or(w.port).unwrap_or(0), w.path.clone()),
        None => (
            LoopbackHost::Ipv4,
            args.port.unwrap_or(0),
            LOGOUT_PATH.to_string(),
        ),
    };
    let listener = Listener::bind_host(host, port).map_err(|e| {
        CliError::Usage(format!(
            "cannot listen on {}:{port}: {e}; choose another --port",
            host.as_uri_host()
        ))
    })?;
    // A fixed URI goes out exactly as given (providers compare strings).
    let post_logout = match wanted.and_then(|w| w.exact).filter(|_| args.port.is_none()) {
        Some(exact) => exact,
        None => listener.uri(&path),
    };
    let (url, txn) = rp.end_session_url(&LogoutRequest {
        id_token_hint: profile.tokens.id_token.clone(),
        post_logout_redirect_uri: Some(post_logout),
        ..Default::default()
    })?;
    progress!("ending the session of {} at {}", profile.sub, rp.issuer());
    let jar = load_jar(args.cookie_jar.as_deref())?;
    let drive = if args.headless {
        Drive::Headless {
            browser: Browser::with_jar(rp.http(), jar.clone())?,
            credentials: None,
        }
    } else {
        Drive::User {
            print_only: args.no_browser,
            command: args.browser_command.clone(),
        }
    };
    let arrived = flow::walk(
        Arc::new(listener),
        &path,
        None,
        Duration::from_secs(args.timeout.max(1)),
        &url,
        drive,
        flow::Purpose::Logout,
    )
    .await?;
    let checked = txn.check_redirect(arrived.incoming.form());
    match &checked {
        Ok(_) => {
            arrived
                .respond_then_finish(
                    200,
                    "Logged out",
                    "rp checked the provider's answer and deleted the cached tokens.",
                )
                .await
        }
        Err(e) => {
            let detail = e.to_string();
            arrived
                .respond_then_finish(400, "Logout not confirmed", &detail)
                .await
        }
    }
    save_jar(args.cookie_jar.as_deref(), &jar)?;
    let report = checked?;
    cache::remove(&name).map_err(CliError::Cache)?;
    if args.target.json {
        target::print_result(
            rp.issuer(),
            Some(&name),
            json!({
                            "checks": report,
                "cache_deleted": true,
            }),
        );
        return Ok(());
    }
    crate::outln!(
        "Logged out of {} (profile \"{name}\"):\n  ✓ end-session request sent with id_token_hint, post_logout_redirect_uri and state\n{}  ✓ cached tokens deleted",
        rp.issuer(),
        output::report(&report)
    );
    Ok(())
}
