//! `rp login --device`: the device authorization grant (RFC 8628) for a shell whose browser
//! is elsewhere (SSH, containers, CI). rp shows the code and the verification URL (and a QR
//! code on request), counts down on a terminal while it polls, and checks the tokens as any
//! login's. With `--username`, it answers the verification pages itself, for tests.

use crate::cli::LoginArgs;
use crate::exit::CliError;
use crate::progress;
use oidc_rp::device::{DevicePacer, DevicePoll, RealTime};
use oidc_rp::{DeviceRequest, HttpClient, Login, RelyingParty};
use oidc_rp_headless::{Browser, Credentials, DeviceDecision, approve_device};
use std::time::{Duration, Instant};

/// Polls with real waits, telling the user when the provider asks for patience.
struct Pacer;

impl DevicePacer for Pacer {
    fn wait(
        &self,
        duration: Duration,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        RealTime.wait(duration)
    }

    fn polled(&self, poll: DevicePoll) {
        match poll {
            DevicePoll::Pending => tracing::debug!("authorization_pending"),
            DevicePoll::SlowDown { interval } => progress!(
                "the provider asked to slow down; polling every {} s",
                interval.as_secs()
            ),
            DevicePoll::Retrying { wait } => progress!(
                "the provider did not answer; trying again in {} s",
                wait.as_secs()
            ),
        }
    }
}

/// The verification URL as a QR code of terminal blocks (two rows per line).
fn qr(text: &str) -> Option<String> {
    use qrcode::render::unicode::Dense1x2;
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<Dense1x2>()
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
    )
}

/// Run a device login to its validated tokens.
pub async fn login(
    rp: &RelyingParty,
    http: &HttpClient,
    args: &LoginArgs,
    credentials: Option<Credentials>,
) -> Result<Login, CliError> {
    let scope = args.scope.as_deref().unwrap_or(super::login::DEFAULT_SCOPE);
    let mut request = DeviceRequest::with_scopes(scope.split_whitespace());
    request.acr_values = args
        .acr_values
        .as_deref()
        .map(|v| v.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    if let Some(hint) = &args.login_hint {
        request.extra.push(("login_hint".into(), hint.clone()));
    }
    for p in &args.params {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| CliError::Usage(format!("--param `{p}` is not NAME=VALUE")))?;
        request.extra.push((k.to_string(), v.to_string()));
    }
    let auth = rp.device_authorization(&request).await?;
    // Provider text: shown with every control character made visible (it was also checked
    // to be a printable code and http(s) URLs).
    crate::errln!(
        "rp: to sign in, open {} and enter the code {}",
        crate::term::inline(&auth.verification_uri),
        crate::term::inline(&auth.user_code)
    );
    if let Some(complete) = &auth.verification_uri_complete {
        crate::errln!(
            "rp: or open {} (the code is filled in)",
            crate::term::inline(complete)
        );
        if args.qr
            && let Some(code) = qr(complete)
        {
            crate::errln!("{code}");
        }
    } else if args.qr
        && let Some(code) = qr(&auth.verification_uri)
    {
        crate::errln!("{code}");
    }
    let deadline = Instant::now() + auth.expires_in;
    let _countdown = crate::term::Countdown::start("waiting for the approval".into(), deadline);
    let poll = rp.complete_device(&auth, &Pacer);
    let Some(credentials) = credentials else {
        return Ok(poll.await?);
    };
    // Tests and CI: answer the verification pages ourselves while polling.
    progress!(
        "approving on the verification page as {}",
        credentials.username
    );
    let browser = Browser::new(http)?;
    let approve = approve_device(&browser, &auth, Some(&credentials), DeviceDecision::Approve);
    tokio::pin!(poll, approve);
    tokio::select! {
        done = &mut poll => Ok(done?),
        said = &mut approve => {
            said?;
            Ok(poll.await?)
        }
    }
}
