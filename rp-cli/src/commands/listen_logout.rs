//! `rp listen-logout`: receive front- and back-channel logout requests for a cached login on a
//! loopback listener, validate them, and drop the cached tokens of the session they end.

use super::target::{self, TargetArgs};
use crate::cache;
use crate::exit::CliError;
use crate::listener::{BACKCHANNEL_PATH, FRONTCHANNEL_PATH, Incoming, Listener, WaitError};
use crate::progress;
use clap::Args;
use hyper::Method;
use oidc_rp::{FrontChannelLogout, ReplayCache};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `rp listen-logout`.
#[derive(Debug, Args)]
#[command(
    after_help = "Answers POST /backchannel-logout (a logout token: 200 when valid, 400 with the reason
otherwise; Back-Channel Logout 1.0 §2.8) and GET /frontchannel-logout?iss=..&sid=.. (Front-Channel
Logout 1.0), with Cache-Control: no-store. A valid request for the profile's session drops its
cached tokens. One line per request on stdout (JSON lines with --json).

Examples:
  rp login --issuer https://op.example.com --register --logout-listener --scope openid --profile app
  rp listen-logout --profile app
  rp listen-logout --profile app --once --timeout 600"
)]
pub struct ListenLogoutArgs {
    #[command(flatten)]
    pub target: target::PublicTargetArgs,
    /// The listener's port (default: the one registered at login).
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,
    /// Stop after the first valid logout of the profile's session.
    #[arg(long)]
    pub once: bool,
    /// Stop after this many seconds (default: run until interrupted).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
}

struct Session {
    profile: String,
    sid: Option<String>,
    sub: String,
    live: bool,
}

/// Run the command.
pub async fn run(args: ListenLogoutArgs) -> Result<(), CliError> {
    let target: TargetArgs = args.target.clone().into();
    let opened = target::open(&target, false, false).await?;
    let (Some(name), Some(profile)) = (opened.name, opened.profile) else {
        return Err(CliError::Usage(
            "rp listen-logout needs a cached login (rp login first)".into(),
        ));
    };
    let rp = target::connect(&target, Some(&profile)).await?;
    let port = args.port.or(profile.logout_listener_port).ok_or_else(|| {
        CliError::Usage(
            "no logout listener was registered for this profile: log in with --register --logout-listener, or give --port".into(),
        )
    })?;
    let listener = Arc::new(Listener::bind(port).map_err(|e| {
        CliError::Usage(format!(
            "cannot listen on 127.0.0.1:{port}: {e}; choose another --port"
        ))
    })?);
    progress!(
        "listening for logout requests for profile \"{name}\" on {} and {}",
        listener.uri(BACKCHANNEL_PATH),
        listener.uri(FRONTCHANNEL_PATH)
    );
    let mut session = Session {
        profile: name,
        sid: profile
            .id_token_claims
            .get("sid")
            .and_then(Value::as_str)
            .map(str::to_string),
        sub: profile.sub.clone(),
        live: true,
    };
    let replay = ReplayCache::default();
    let deadline = Instant::now()
        + args
            .timeout
            .map(Duration::from_secs)
            .unwrap_or(Duration::from_secs(100 * 365 * 24 * 3600));
    loop {
        let incoming = match listener.next(deadline).await {
            Ok(i) => i,
            Err(WaitError::Timeout { .. }) | Err(WaitError::Closed) => return Ok(()),
        };
        let ended = match (incoming.method.clone(), incoming.path.as_str()) {
            (Method::POST, BACKCHANNEL_PATH) => {
                backchannel(&rp, incoming, &replay, &mut session, &args).await?
            }
            (Method::GET, FRONTCHANNEL_PATH) => {
                frontchannel(&rp, incoming, &mut session, &args).await?
            }
            _ => {
                let _ = incoming.page(
                    404,
                    "Not found",
                    "This listener answers logout requests only.",
                );
                false
            }
        };
        if ended && args.once {
            return Ok(());
        }
    }
}

fn report(args: &ListenLogoutArgs, event: Value, line: String) {
    if args.target.json {
        crate::rawln!("{event}");
    } else {
        crate::outln!("{line}");
    }
}

/// Drop the profile's cached tokens if the request ends its session.
async fn drop_if_ours(
    session: &mut Session,
    sid: Option<&str>,
    sub: Option<&str>,
) -> Result<bool, CliError> {
    let ours = match (sid, &session.sid) {
        (Some(sid), Some(ours)) => sid == ours,
        (Some(_), None) => false,
        (None, _) => sub == Some(session.sub.as_str()),
    };
    if !ours || !session.live {
        return Ok(false);
    }
    let _lock = target::lock(&session.profile).await?;
    cache::remove(&session.profile).map_err(CliError::Cache)?;
    session.live = false;
    Ok(true)
}

async fn backchannel(
    rp: &oidc_rp::RelyingParty,
    incoming: Incoming,
    replay: &ReplayCache,
    session: &mut Session,
    args: &ListenLogoutArgs,
) -> Result<bool, CliError> {
    let token = url::form_urlencoded::parse(&incoming.body)
        .find(|(k, _)| k == "logout_token")
        .map(|(_, v)| v.into_owned());
    let Some(token) = token else {
        let _ = incoming.json(
            400,
            &json!({"error": "invalid_request", "error_description": "logout_token is missing"}),
        );
        report(
            args,
            json!({"channel": "back", "accepted": false, "reason": "logout_token is missing"}),
            "back-channel logout rejected (400): logout_token is missing".into(),
        );
        return Ok(false);
    };
    match rp.validate_logout_token(&token, replay).await {
        Ok(lt) => {
            // Written before the cache is touched and before a --once run exits.
            incoming.json(200, &json!({})).written().await;
            let dropped = drop_if_ours(session, lt.sid.as_deref(), lt.subject.as_deref()).await?;
            report(
                args,
                json!({"channel": "back", "accepted": true, "sid": lt.sid, "sub": lt.subject, "dropped": dropped, "profile": session.profile}),
                format!(
                    "back-channel logout accepted (sid {}, sub {}): {}",
                    lt.sid.as_deref().unwrap_or("-"),
                    lt.subject.as_deref().unwrap_or("-"),
                    if dropped {
                        format!(
                            "dropped the cached tokens of profile \"{}\"",
                            session.profile
                        )
                    } else {
                        "not the cached session; nothing to drop".to_string()
                    }
                ),
            );
            Ok(dropped)
        }
        Err(e) => {
            let reason = e.to_string();
            let _ = incoming.json(
                400,
                &json!({"error": "invalid_request", "error_description": reason}),
            );
            report(
                args,
                json!({"channel": "back", "accepted": false, "reason": reason, "check": e.check()}),
                format!("back-channel logout rejected (400): {reason}"),
            );
            Ok(false)
        }
    }
}

async fn frontchannel(
    rp: &oidc_rp::RelyingParty,
    incoming: Incoming,
    session: &mut Session,
    args: &ListenLogoutArgs,
) -> Result<bool, CliError> {
    let request = FrontChannelLogout::parse(&incoming.query);
    match request.check(rp.issuer(), session.sid.as_deref(), true) {
        Ok(()) => {
            let sid = request.sid.clone();
            let dropped = drop_if_ours(session, sid.as_deref(), None).await?;
            incoming
                .frameable_page(200, "Logged out", "rp dropped the cached session.")
                .written()
                .await;
            report(
                args,
                json!({"channel": "front", "accepted": true, "sid": sid, "dropped": dropped, "profile": session.profile}),
                format!(
                    "front-channel logout accepted (sid {}): {}",
                    sid.as_deref().unwrap_or("-"),
                    if dropped {
                        "dropped the cached tokens"
                    } else {
                        "nothing to drop"
                    }
                ),
            );
            Ok(dropped)
        }
        Err(e) => {
            let reason = e.to_string();
            let _ = incoming.frameable_page(400, "Not logged out", &reason);
            report(
                args,
                json!({"channel": "front", "accepted": false, "reason": reason}),
                format!("front-channel logout rejected (400): {reason}"),
            );
            Ok(false)
        }
    }
}
