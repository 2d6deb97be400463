//! The browser step shared by `rp login` and `rp logout`: open the URL in a browser (or print
//! it, or drive it headless) while the loopback listener waits for the provider's redirect.

use crate::exit::CliError;
use crate::listener::{Incoming, Listener, Rejection, WaitError};
use crate::progress;
use oidc_rp::Secret;
use oidc_rp_headless::{self as headless, Browser, CookieJar, Credentials};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// How the provider's pages are walked.
#[derive(Debug)]
pub enum Drive {
    /// rp fills the forms itself.
    Headless {
        /// The browser (cookie jar included).
        browser: Browser,
        /// For a login form, if one shows up.
        credentials: Option<Credentials>,
    },
    /// The user's browser (or, with `print_only`, the URL is printed).
    User {
        /// Print the URL instead of opening a browser.
        print_only: bool,
        /// Open it with this command instead of the default browser.
        command: Option<String>,
    },
}

type DriverTask = tokio::task::JoinHandle<oidc_rp::Result<headless::Outcome>>;

/// The request the listener accepted, and the headless driver still waiting for its answer.
#[derive(Debug)]
pub struct Arrived {
    /// The provider's redirect, not yet answered.
    pub incoming: Incoming,
    driver: Option<DriverTask>,
}

impl Arrived {
    /// Answer the redirect with a page, then let the driver (if any) read it and end.
    pub async fn respond_then_finish(self, status: u16, title: &str, detail: &str) {
        self.incoming.page(status, title, detail).written().await;
        if let Some(d) = self.driver {
            let _ = d.await;
        }
    }
}

/// The provider cookies saved by an earlier run (`--cookie-jar FILE`), or an empty jar.
pub fn load_jar(path: Option<&std::path::Path>) -> Result<Arc<CookieJar>, CliError> {
    let Some(path) = path else {
        return Ok(Arc::new(CookieJar::new()));
    };
    match std::fs::read_to_string(path) {
        Ok(json) if !json.trim().is_empty() => Ok(Arc::new(CookieJar::from_json(&json)?)),
        Ok(_) => Ok(Arc::new(CookieJar::new())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Arc::new(CookieJar::new())),
        Err(e) => Err(CliError::Usage(format!(
            "cannot read the cookie jar {}: {e}",
            path.display()
        ))),
    }
}

/// Save the provider cookies (they hold the provider session: mode 0600, atomic).
pub fn save_jar(path: Option<&std::path::Path>, jar: &CookieJar) -> Result<(), CliError> {
    let Some(path) = path else { return Ok(()) };
    let json = jar.to_json()?;
    crate::cache::write_private(path, json.as_bytes()).map_err(CliError::Cache)
}

/// What the browser step is for: it names the step in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A login: the provider redirects to the callback.
    Login,
    /// A logout: the provider redirects to the post-logout URI.
    Logout,
}

impl Purpose {
    /// "login" or "logout".
    pub fn name(self) -> &'static str {
        match self {
            Purpose::Login => "login",
            Purpose::Logout => "logout",
        }
    }
}

/// Send the user (or the driver) to `url` and wait for the redirect to `path`.
///
/// With a browser, requests that do not answer this step (another `state`, another path) are
/// refused and the wait goes on: they may come from another local process, and the genuine
/// redirect may still come. Headless, rp follows the redirects itself, so the request it
/// sends is the answer: when the listener refuses it, the step fails at once.
pub async fn walk(
    listener: Arc<Listener>,
    path: &str,
    expected_state: Option<Secret>,
    timeout: Duration,
    url: &Url,
    drive: Drive,
    purpose: Purpose,
) -> Result<Arrived, CliError> {
    let target = listener.uri(path);
    let mut driver = match drive {
        Drive::Headless {
            browser,
            credentials,
        } => {
            let url = url.clone();
            let target = target.clone();
            Some(tokio::spawn(async move {
                headless::drive(&browser, &url, &target, credentials.as_ref()).await
            }))
        }
        Drive::User {
            print_only,
            command,
        } => {
            open_browser(url, print_only, command.as_deref())?;
            progress!(
                "waiting for the provider on {target} (timeout {} s)",
                timeout.as_secs()
            );
            None
        }
    };
    // A person is waited for: show the time left (on a terminal only).
    let _countdown = driver.is_none().then(|| {
        crate::term::Countdown::start(
            format!("waiting for the {}", purpose.name()),
            std::time::Instant::now() + timeout,
        )
    });
    let wait = listener.wait_callback(path, expected_state.as_ref(), timeout);
    tokio::pin!(wait);
    let waited = match driver.as_mut() {
        None => wait.await,
        Some(handle) => tokio::select! {
            r = &mut wait => r,
            d = handle => {
                return Err(match d {
                    // The driver's last request was answered, so the listener refused it.
                    Ok(Ok(_)) => refused(&listener, path, purpose),
                    Ok(Err(e)) => e.into(),
                    Err(e) => CliError::Internal(format!("the headless browser failed: {e}")),
                });
            }
        },
    };
    match waited {
        Ok(incoming) => Ok(Arrived { incoming, driver }),
        Err(e) => {
            if let Some(d) = driver {
                d.abort();
            }
            Err(match e {
                WaitError::Timeout { rejected } => CliError::ListenerTimeout {
                    seconds: timeout.as_secs(),
                    rejected,
                    purpose: purpose.name(),
                },
                WaitError::Closed => CliError::Internal("the listener stopped".into()),
            })
        }
    }
}

/// The error for a headless walk whose final redirect the listener refused.
fn refused(listener: &Listener, path: &str, purpose: Purpose) -> CliError {
    match listener.last_rejection() {
        Some(Rejection::WrongState) => {
            let detail = "the provider redirected with a state that is not the one sent: a forged, replayed or mixed-up response";
            let mut report = oidc_rp::Report::new();
            report.fail(oidc_rp::CheckId::State, detail);
            CliError::Rp(oidc_rp::Error::Validation(oidc_rp::ValidationError {
                subject: match purpose {
                    Purpose::Login => "authorization response",
                    Purpose::Logout => "post-logout redirect",
                },
                check: oidc_rp::CheckId::State,
                detail: detail.into(),
                report,
            }))
        }
        Some(Rejection::WrongPath(other)) => CliError::Rp(oidc_rp::Error::BadResponse {
            what: "redirect",
            url: listener.uri(path),
            reason: format!(
                "the provider redirected to {} instead of {path}",
                crate::output::one_line(&other, 100)
            ),
        }),
        Some(Rejection::Malformed(reason)) => CliError::Rp(oidc_rp::Error::BadResponse {
            what: "redirect",
            url: listener.uri(path),
            reason,
        }),
        None => CliError::Internal(format!(
            "the headless {} ended without reaching {path}",
            purpose.name()
        )),
    }
}

fn open_browser(url: &url::Url, no_browser: bool, command: Option<&str>) -> Result<(), CliError> {
    if no_browser {
        crate::errln!("rp: open this URL in a browser:\n{url}");
        return Ok(());
    }
    // `$BROWSER` is a command like --browser-command: starting it is checked here, so rp
    // never says it opened a browser that could not start.
    let from_env = std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty());
    match (command, from_env.as_deref()) {
        (Some(given), _) => return run_browser_command(url, given, false),
        (None, Some(env)) => return run_browser_command(url, env, true),
        (None, None) => {}
    }
    if let Some(why) = no_display() {
        cannot_open(url, why);
        return Ok(());
    }
    match webbrowser::open(url.as_str()) {
        Err(e) => cannot_open(url, &e.to_string()),
        Ok(()) => progress!("opened the browser; if nothing appeared, open:\n{url}"),
    }
    Ok(())
}

/// Why no graphical browser can open here, on systems that need a display for one.
fn no_display() -> Option<&'static str> {
    if cfg!(all(unix, not(target_os = "macos"))) {
        let set = |v: &str| std::env::var_os(v).is_some_and(|x| !x.is_empty());
        if !set("DISPLAY") && !set("WAYLAND_DISPLAY") {
            return Some("no graphical display: DISPLAY and WAYLAND_DISPLAY are unset");
        }
    }
    None
}

fn cannot_open(url: &url::Url, why: &str) {
    crate::errln!(
        "rp: could not open a browser ({why}); open this URL in a browser that can reach this machine:\n{url}"
    );
    crate::errln!(
        "rp: no browser here (SSH, a container)? Use `rp login --device` (if the provider supports it) or `rp login --paste`"
    );
}

fn run_browser_command(url: &url::Url, command: &str, from_env: bool) -> Result<(), CliError> {
    let mut words = command
        .split_whitespace()
        .map(str::to_string)
        .collect::<Vec<_>>();
    if words.is_empty() {
        return Err(CliError::Usage("--browser-command is empty".into()));
    }
    if words.iter().any(|w| w.contains("%s")) {
        for w in &mut words {
            *w = w.replace("%s", url.as_str());
        }
    } else {
        words.push(url.to_string());
    }
    let started = std::process::Command::new(&words[0])
        .args(&words[1..])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn();
    match started {
        Ok(_) => progress!("opened the URL with `{}`", words[0]),
        // $BROWSER is the environment's, not a flag given now: say so and go on waiting.
        Err(e) if from_env => cannot_open(url, &format!("$BROWSER `{}`: {e}", words[0])),
        Err(e) => {
            return Err(CliError::Usage(format!(
                "cannot run the browser command `{}`: {e}",
                words[0]
            )));
        }
    }
    Ok(())
}
