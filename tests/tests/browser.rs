//! In a real browser: Debian's Chromium, headless, driven through ChromeDriver (WebDriver).
//!
//! - `rp web`: the landing page, the bundled provider's login form typed into, the identity
//!   page with the expected claims, a second client (`rp login` in the same browser, so in the
//!   same provider session) listening for back-channel logout, the logout button, the
//!   logged-out page, and the second client's logout token received and validated.
//! - `rp login --browser-command`: the CLI hands the authorization URL to the browser, which
//!   fills in the provider's form; rp's loopback listener gets the callback.
//!
//! `tests/browser/install.sh` installs chromium and chromium-driver when they are missing.
//! Where it cannot (no apt, no root), the tests are skipped with the reason on stderr, unless
//! `RP_REQUIRE_BROWSER=1` (set by `.ci/run`). Screenshots of the landing and identity pages go
//! to `target/screenshots/`, and to `docs/screenshots/` with `RP_UPDATE_SCREENSHOTS=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fantoccini::{Client, ClientBuilder, Locator};
use rp_tests::*;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// (chromium, chromedriver), or why not.
fn installed() -> &'static Result<(String, String), String> {
    static TOOLS: OnceLock<Result<(String, String), String>> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let out = Command::new("sh")
            .arg(root().join("tests/browser/install.sh"))
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run tests/browser/install.sh: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        let mut lines = stdout.lines();
        match (lines.next(), lines.next()) {
            (Some(c), Some(d)) => Ok((c.to_string(), d.to_string())),
            _ => Err("install.sh did not print the two paths".into()),
        }
    })
}

/// ChromeDriver on an ephemeral port and a headless Chromium session; both end on drop.
struct Chrome {
    client: Option<Client>,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Chrome {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            // Closing the session ends the browser (also when the test failed); the driver is
            // killed either way. The tests run on a multi-threaded runtime, where a worker
            // may block in place.
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                tokio::task::block_in_place(|| {
                    let _ =
                        handle.block_on(tokio::time::timeout(Duration::from_secs(5), c.close()));
                });
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Chrome {
    fn c(&self) -> &Client {
        self.client.as_ref().unwrap()
    }
}

async fn chrome(test: &str) -> Option<Chrome> {
    let (chromium, chromedriver) = match installed() {
        Ok(paths) => paths.clone(),
        Err(why) => {
            if std::env::var("RP_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
                panic!("RP_REQUIRE_BROWSER=1 and no browser: {why}");
            }
            let _ = writeln!(
                std::io::stderr(),
                "browser test {test} SKIPPED: {why} (set RP_REQUIRE_BROWSER=1 to make this an error)"
            );
            return None;
        }
    };
    // ChromeDriver picks no port by itself: take a free one and read its "started" line.
    let port = free_port();
    let mut driver = Command::new(&chromedriver)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let stdout = driver.stdout.take().unwrap();
    let started = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .take(20)
            .any(|l| l.contains("started successfully"))
    });
    let started = tokio::time::timeout(Duration::from_secs(20), started).await;
    assert!(
        matches!(started, Ok(Ok(true))),
        "chromedriver did not start"
    );
    let profile = tempfile::tempdir().unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1100,1000",
                format!("--user-data-dir={}", profile.path().display()),
            ]
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a WebDriver session");
    Some(Chrome {
        client: Some(client),
        driver,
        _profile: profile,
    })
}

async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    let dir = root().join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), &png).unwrap();
    if std::env::var("RP_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
        let docs = root().join("docs/screenshots");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(docs.join(name), &png).unwrap();
    }
}

/// An element, waited for at most 20 s (then the page is shown in the failure).
async fn find(c: &Client, locator: Locator<'_>) -> fantoccini::elements::Element {
    match c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(locator)
        .await
    {
        Ok(e) => e,
        Err(e) => panic!(
            "{locator:?} not found ({e}) on {}: {}",
            c.current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default(),
            c.source().await.unwrap_or_default()
        ),
    }
}

/// Type into the bundled provider's login form and submit it.
async fn sign_in(c: &Client, user: &str, password: &str) {
    find(c, Locator::Id("username"))
        .await
        .send_keys(user)
        .await
        .unwrap();
    find(c, Locator::Id("password"))
        .await
        .send_keys(password)
        .await
        .unwrap();
    find(c, Locator::Css("button[type=submit]"))
        .await
        .click()
        .await
        .unwrap();
}

/// Approve the provider's consent page when it shows one (it does for registered clients).
async fn consent_if_asked(c: &Client, then: Locator<'static>) {
    let page = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("button[value=allow], #name, #logged-out, h1"))
        .await;
    if page.is_ok()
        && let Ok(allow) = c.find(Locator::Css("button[value=allow]")).await
    {
        allow.click().await.unwrap();
    }
    find(c, then).await;
}

/// A `--browser-command` that hands the URL to this test through a FIFO (no polling).
struct UrlPipe {
    dir: tempfile::TempDir,
}

impl UrlPipe {
    fn new() -> UrlPipe {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("url");
        assert!(
            Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let script = dir.path().join("open-in-test-browser");
        std::fs::write(
            &script,
            format!("#!/bin/sh\nprintf '%s\\n' \"$1\" > '{}'\n", fifo.display()),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        UrlPipe { dir }
    }

    fn command(&self) -> String {
        self.dir
            .path()
            .join("open-in-test-browser")
            .display()
            .to_string()
    }

    /// The URL rp asked to open (bounded wait).
    async fn url(&self) -> String {
        let fifo = self.dir.path().join("url");
        let read = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(std::fs::File::open(fifo).unwrap())
                .read_line(&mut line)
                .unwrap();
            line.trim().to_string()
        });
        tokio::time::timeout(Duration::from_secs(30), read)
            .await
            .expect("rp opened a URL")
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn web_app_login_identity_and_single_logout_in_chromium() {
    let Some(chrome) = chrome("web_app_login_identity_and_single_logout_in_chromium").await else {
        return;
    };
    let c = chrome.c();
    let dir = tempfile::tempdir().unwrap();
    let web = start_web(dir.path()).await;
    let (base, issuer) = (web.base.clone(), web.issuer.clone());

    // Landing page: the bundled provider is listed; dynamic registration is ticked.
    c.goto(&format!("{base}/")).await.unwrap();
    let heading = find(c, Locator::Css("h1")).await.text().await.unwrap();
    assert_eq!(heading, "Log in with OpenID Connect");
    assert!(c.source().await.unwrap().contains(&issuer));
    screenshot(c, "landing.png").await;
    find(c, Locator::Id("go")).await.click().await.unwrap();

    // The provider's form, typed into; then the identity page.
    sign_in(c, "alice", "wonderland").await;
    consent_if_asked(c, Locator::Id("name")).await;
    let name = find(c, Locator::Id("name")).await;
    assert_eq!(name.text().await.unwrap(), "Alice Liddell");
    assert_eq!(
        find(c, Locator::Id("verdict")).await.text().await.unwrap(),
        "Every check passed."
    );
    let claims = find(c, Locator::Id("id-token-claims"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        claims.contains("248289761001") && claims.contains(&issuer),
        "{claims}"
    );
    let userinfo = find(c, Locator::Id("userinfo-claims"))
        .await
        .text()
        .await
        .unwrap();
    assert!(userinfo.contains("alice@wonderland.example"), "{userinfo}");
    screenshot(c, "identity.png").await;

    // A second client in the same browser, so in the same provider session: `rp login`,
    // whose browser command hands the URL to this browser (single sign-on: no form).
    let pipe = UrlPipe::new();
    let cache = dir.path().join("cli");
    let mut cmd = rp(&cache);
    cmd.args([
        "login",
        "--issuer",
        &issuer,
        "--register",
        "--logout-listener",
    ])
    .args(["--profile", "cli", "--json", "--timeout", "60"])
    .args(["--browser-command", &pipe.command()]);
    let login = tokio::task::spawn_blocking(move || cmd.output().unwrap());
    let url = pipe.url().await;
    c.goto(&url).await.unwrap();
    let out = tokio::time::timeout(Duration::from_secs(60), login)
        .await
        .unwrap()
        .unwrap();
    let cli = json(&succeeded(out, "rp login"));
    assert_eq!(cli["subject"], "248289761001");

    let listener = listen_logout_once(&cache, "cli").await;

    // Log out of the web app: RP-initiated logout ends the provider session.
    c.goto(&format!("{base}/me")).await.unwrap();
    find(c, Locator::Id("logout")).await.click().await.unwrap();
    let done = find(c, Locator::Id("logged-out")).await;
    assert_eq!(done.text().await.unwrap(), "You are logged out");
    assert!(c.source().await.unwrap().contains("equals the state sent"));

    // The CLI client received and validated its logout token.
    let (code, stdout, stderr) = listener.finish().await;
    assert_eq!(code, 0, "{stderr}");
    let event: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(event["channel"], "back");
    assert_eq!(event["accepted"], true, "{event}");
    assert_eq!(event["sid"], cli["id_token_claims"]["sid"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn rp_login_opens_the_browser_which_fills_the_provider_form() {
    let Some(chrome) = chrome("rp_login_opens_the_browser_which_fills_the_provider_form").await
    else {
        return;
    };
    let c = chrome.c();
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let pipe = UrlPipe::new();
    let mut cmd = rp(dir.path());
    cmd.args(["login", "--issuer", op.issuer()])
        .args([
            "--client-id",
            "rp-demo",
            "--client-secret",
            "rp-demo-secret",
        ])
        .args(["--json", "--timeout", "60"])
        .args(["--browser-command", &pipe.command()]);
    let login = tokio::task::spawn_blocking(move || cmd.output().unwrap());
    let url = pipe.url().await;
    assert!(url.starts_with(op.issuer()), "{url}");
    c.goto(&url).await.unwrap();
    sign_in(c, "bob", "builder").await;
    let out = tokio::time::timeout(Duration::from_secs(60), login)
        .await
        .unwrap()
        .unwrap();
    let v = json(&succeeded(out, "rp login"));
    assert_eq!(v["userinfo"]["preferred_username"], "bob");
    all_checks_passed(&v);
    // The browser landed on rp's own page, on its loopback listener.
    find(
        c,
        Locator::XPath("//p[contains(., 'return to the terminal')]"),
    )
    .await;
    let at = c.current_url().await.unwrap();
    assert_eq!(at.host_str(), Some("127.0.0.1"));
    assert_eq!(at.path(), "/callback");
}

/// Session Management 1.0 in Chromium: a relying party's page embeds the bundled provider's
/// `check_session_iframe` and posts `client_id session_state` to it. While the user's
/// provider session lasts the iframe answers `unchanged`; after an RP-initiated logout it
/// answers `changed` (its browser state cookie is gone).
#[tokio::test(flavor = "multi_thread")]
async fn check_session_iframe_answers_unchanged_then_changed() {
    let Some(chrome) = chrome("check_session_iframe_answers_unchanged_then_changed").await else {
        return;
    };
    let c = chrome.c();
    let op = provider().await;
    let issuer = op.issuer().to_string();
    // The RP page: the OP iframe, one postMessage once it loaded, the answer as an element.
    let page = format!(
        r#"<!doctype html><html><body><script>
var ss=new URLSearchParams(location.search).get('session_state');
window.addEventListener('message',function(e){{if(e.origin==='{issuer}'){{var p=document.createElement('p');p.id='answer-'+e.data;p.textContent=e.data;document.body.appendChild(p);}}}});
var f=document.createElement('iframe');f.src='{issuer}/check_session';
f.onload=function(){{f.contentWindow.postMessage('rp-demo '+ss,'{issuer}');}};
document.body.appendChild(f);
</script></body></html>"#
    );
    let server = StaticServer::start(vec![
        ("/callback", (200, "text/html", page.clone())),
        ("/check", (200, "text/html", page)),
        (
            "/logout",
            (200, "text/html", "<p id=out>logged out</p>".into()),
        ),
    ])
    .await;
    let http = oidc_rp::HttpClient::new(oidc_rp::HttpConfig::default());
    let rp = oidc_rp::RelyingParty::discover(
        &http,
        &issuer,
        oidc_rp::ClientConfig::confidential("rp-demo", "rp-demo-secret"),
    )
    .await
    .unwrap();
    let redirect = format!("{}/callback", server.base);
    let (url, txn) = rp
        .authorization_url(
            &oidc_rp::AuthorizationRequest::with_scopes(["openid"]),
            &redirect,
        )
        .unwrap();
    c.goto(url.as_str()).await.unwrap();
    sign_in(c, "alice", "wonderland").await;
    find(c, Locator::Id("answer-unchanged")).await;
    let landed = c.current_url().await.unwrap();
    let params = oidc_rp::CallbackParams::from_redirect_url(&landed).unwrap();
    let session_state = params.session_state.clone().expect("session_state");
    let login = rp.complete(&txn, &params).await.unwrap();
    assert_eq!(login.session_state.as_deref(), Some(session_state.as_str()));
    let (logout, _) = rp
        .end_session_url(&oidc_rp::LogoutRequest {
            id_token_hint: Some(login.id_token.raw.clone()),
            post_logout_redirect_uri: Some(format!("{}/logout", server.base)),
            ..Default::default()
        })
        .unwrap();
    c.goto(logout.as_str()).await.unwrap();
    find(c, Locator::Id("out")).await;
    let mut check = url::Url::parse(&format!("{}/check", server.base)).unwrap();
    check
        .query_pairs_mut()
        .append_pair("session_state", &session_state);
    c.goto(check.as_str()).await.unwrap();
    find(c, Locator::Id("answer-changed")).await;
}

/// `rp web` polls the provider's `check_session_iframe` (Session Management 1.0): `unchanged`
/// while the provider session lasts; after someone else signs in at the provider in the same
/// browser the iframe says `changed`, the app re-checks with `prompt=none`, and ends its own
/// session when the provider will not confirm it.
#[tokio::test(flavor = "multi_thread")]
async fn web_app_follows_the_provider_session_through_its_iframe() {
    let Some(chrome) = chrome("web_app_follows_the_provider_session_through_its_iframe").await
    else {
        return;
    };
    let c = chrome.c();
    let dir = tempfile::tempdir().unwrap();
    let web = start_web(dir.path()).await;
    let (base, issuer) = (web.base.clone(), web.issuer.clone());
    c.goto(&format!("{base}/")).await.unwrap();
    find(c, Locator::Id("go")).await.click().await.unwrap();
    sign_in(c, "alice", "wonderland").await;
    consent_if_asked(c, Locator::Id("name")).await;
    assert_eq!(
        find(c, Locator::Id("name")).await.text().await.unwrap(),
        "Alice Liddell"
    );
    find(c, Locator::Css("body[data-session=unchanged]")).await;

    // Bob signs in at the provider in this browser (another client, prompt=login): a new
    // provider session, a new browser state.
    let done = StaticServer::start(vec![(
        "/callback",
        (200, "text/html", "<p id=done>done</p>".into()),
    )])
    .await;
    let http = oidc_rp::HttpClient::new(oidc_rp::HttpConfig::default());
    let other = oidc_rp::RelyingParty::discover(
        &http,
        &issuer,
        oidc_rp::ClientConfig::confidential("rp-demo", "rp-demo-secret"),
    )
    .await
    .unwrap();
    let (url, _) = other
        .authorization_url(
            &oidc_rp::AuthorizationRequest {
                prompt: Some("login".into()),
                ..oidc_rp::AuthorizationRequest::with_scopes(["openid"])
            },
            &format!("{}/callback", done.base),
        )
        .unwrap();
    c.goto(url.as_str()).await.unwrap();
    sign_in(c, "bob", "builder").await;
    find(c, Locator::Id("done")).await;

    // Back in the app: the iframe says changed, and the silent re-check (prompt=none) finds
    // no session Alice's app login can go on with (Bob never consented to this app): the
    // app ends its session and says why.
    c.goto(&format!("{base}/me")).await.unwrap();
    let notice = find(c, Locator::Id("notice")).await.text().await.unwrap();
    assert!(
        notice.contains("Session Management"),
        "the app did not follow the provider session: {notice}"
    );
    find(c, Locator::Id("logged-out")).await;
}

/// A hybrid login (`code id_token`) through `rp web` in Chromium: the answer comes in the
/// fragment, the callback page posts it back, and the identity page shows `c_hash` checked.
#[tokio::test(flavor = "multi_thread")]
async fn web_app_hybrid_login_in_chromium() {
    let Some(chrome) = chrome("web_app_hybrid_login_in_chromium").await else {
        return;
    };
    let c = chrome.c();
    let dir = tempfile::tempdir().unwrap();
    let web = start_web_with(dir.path(), &["--response-type", "code id_token"]).await;
    c.goto(&format!("{}/", web.base)).await.unwrap();
    find(c, Locator::Id("go")).await.click().await.unwrap();
    sign_in(c, "alice", "wonderland").await;
    consent_if_asked(c, Locator::Id("name")).await;
    assert_eq!(
        find(c, Locator::Id("name")).await.text().await.unwrap(),
        "Alice Liddell"
    );
    assert_eq!(
        find(c, Locator::Id("verdict")).await.text().await.unwrap(),
        "Every check passed."
    );
    let source = c.source().await.unwrap();
    assert!(
        source.contains("c_hash"),
        "the c_hash check is in the report"
    );
    // The fragment is gone from the address bar and history.
    let at = c.current_url().await.unwrap();
    assert_eq!(at.fragment(), None, "{at}");
}
