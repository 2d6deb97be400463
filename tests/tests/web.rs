//! `rp web` over HTTP, without a browser: the built binary serves the app, a cookie-keeping
//! HTTP client plays the browser for the app's pages, and the library's headless driver fills
//! the bundled provider's forms. (tests/tests/browser.rs does the same in Chromium.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use oidc_rp::{HttpClient, Secret};
use oidc_rp_headless::{self as headless, Browser, Credentials};
use rp_tests::*;

fn alice() -> Credentials {
    Credentials {
        username: "alice".into(),
        password: Secret::new("wonderland"),
    }
}

/// Log in through the app: landing page, provider's form (driven by `provider`), callback,
/// identity page. Returns the identity page.
async fn log_in(w: &WebApp, app: &reqwest::Client, provider: &Browser, register: bool) -> String {
    let landing = app.get(&w.base).send().await.unwrap();
    let set_cookie = landing
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    // No session for a page view: only the pre-session CSRF token (double-submit).
    assert!(
        set_cookie.starts_with("rp_web_csrf=")
            && set_cookie.contains("HttpOnly")
            && set_cookie.contains("SameSite=Strict"),
        "{set_cookie}"
    );
    let landing = landing.text().await.unwrap();
    assert!(
        landing.contains(&w.issuer),
        "the bundled provider is listed"
    );
    let mut form = vec![("csrf", form_csrf(&landing)), ("provider", "0".into())];
    if register {
        form.push(("register", "on".into()));
    }
    let r = app
        .post(format!("{}/login", w.base))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    // The session is made when the login starts.
    let session_cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        session_cookie.starts_with("rp_web_session=")
            && session_cookie.contains("HttpOnly")
            && session_cookie.contains("SameSite=Lax"),
        "{session_cookie}"
    );
    let authorize = url::Url::parse(&location(&r)).unwrap();
    assert!(authorize.as_str().starts_with(&w.issuer));
    let arrival = headless::walk(
        provider,
        &authorize,
        &format!("{}/callback", w.base),
        Some(&alice()),
    )
    .await
    .unwrap();
    let r = app.get(arrival.url.as_str()).send().await.unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(location(&r), "/me");
    let me = app.get(format!("{}/me", w.base)).send().await.unwrap();
    assert_eq!(me.headers()["cache-control"], "no-store");
    assert_eq!(me.headers()["x-frame-options"], "DENY");
    me.text().await.unwrap()
}

async fn press(w: &WebApp, app: &reqwest::Client, page: &str, action: &str) -> String {
    let r = app
        .post(format!("{}/{action}", w.base))
        .form(&[("csrf", form_csrf(page))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{action}");
    app.get(format!("{}/me", w.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn login_identity_lifecycle_buttons_and_rp_initiated_logout() {
    let dir = tempfile::tempdir().unwrap();
    let w = start_web(dir.path()).await;
    let app = web_client();
    let provider = Browser::new(&HttpClient::default()).unwrap();
    let me = log_in(&w, &app, &provider, true).await;
    assert!(me.contains("Alice Liddell"), "{me}");
    assert!(me.contains("Every check passed."));
    assert!(me.contains("id=\"checks\"") && me.contains("nonce"));
    assert!(
        me.contains("alice@wonderland.example"),
        "userinfo claims shown"
    );

    let page = press(&w, &app, &me, "refresh").await;
    assert!(
        page.contains("Refreshed") && page.contains("rotated"),
        "{page}"
    );
    let page = press(&w, &app, &page, "introspect").await;
    assert!(
        page.contains("Introspection (RFC 7662)") && page.contains(">true<"),
        "{page}"
    );
    let page = press(&w, &app, &page, "userinfo").await;
    assert!(page.contains("wonderland.example"), "{page}");

    // A form without the session's CSRF token is refused.
    let r = app
        .post(format!("{}/refresh", w.base))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // RP-initiated logout: the provider ends the session and comes back with our state.
    let r = app
        .post(format!("{}/logout", w.base))
        .form(&[("csrf", form_csrf(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let end_session = url::Url::parse(&location(&r)).unwrap();
    assert!(end_session.query().unwrap().contains("id_token_hint="));
    let arrival = headless::walk(
        &provider,
        &end_session,
        &format!("{}/logged-out", w.base),
        None,
    )
    .await
    .unwrap();
    let page = app
        .get(arrival.url.as_str())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("You are logged out"), "{page}");
    assert!(page.contains("equals the state sent"), "{page}");
    // The identity page is gone. (The provider may also have sent this app a back-channel
    // logout for the same session; then the first visit says so once.)
    let r = app.get(format!("{}/me", w.base)).send().await.unwrap();
    if r.status() == 200 {
        assert!(r.text().await.unwrap().contains("You are logged out"));
        let r = app.get(format!("{}/me", w.base)).send().await.unwrap();
        assert_eq!(location(&r), "/");
    } else {
        assert_eq!(location(&r), "/");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn back_channel_logout_from_another_client_ends_the_web_session() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let w = start_web(&cache).await;
    let app = web_client();
    let jar = std::sync::Arc::new(oidc_rp_headless::CookieJar::new());
    let provider = Browser::with_jar(&HttpClient::default(), jar.clone()).unwrap();
    // The static client this time (no registration).
    let me = log_in(&w, &app, &provider, false).await;
    assert!(me.contains("client <code>rp-web</code>"), "{me}");

    // The CLI logs in to the same provider session (the provider's cookies, shared), then
    // logs out: the provider sends the web app a logout token.
    cli_logs_in_and_out(&cache, &w.issuer, &jar).await;

    let page = app
        .get(format!("{}/me", w.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("You are logged out"), "{page}");
    assert!(page.contains("back-channel logout"), "{page}");
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_requests_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let w = start_web(dir.path()).await;
    let app = web_client();
    // A callback nobody asked for.
    let r = app
        .get(format!("{}/callback?code=x&state=y", w.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("No login in progress"));
    // A forged logout token.
    let r = app
        .post(format!("{}/backchannel-logout", w.base))
        .form(&[("logout_token", "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // A post-logout redirect without a logout in progress.
    let r = app
        .get(format!("{}/logged-out?state=z", w.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // A login form without the CSRF token.
    let r = app
        .post(format!("{}/login", w.base))
        .form(&[("provider", "0")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

/// The session table cannot be flushed: page views make no session, and a flood of started
/// logins evicts only other unauthenticated sessions. A callback with another state is
/// ignored and the login in progress goes on; another Host is refused (DNS rebinding).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sessions_survive_floods_and_forged_callbacks() {
    let dir = tempfile::tempdir().unwrap();
    let w = start_web(dir.path()).await;
    let app = web_client();
    let provider = Browser::new(&HttpClient::default()).unwrap();
    let me = log_in(&w, &app, &provider, false).await;
    assert!(me.contains("Alice Liddell"));

    // 100,000 cookie-less requests, 32 at a time.
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(32)
        .build()
        .unwrap();
    let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let workers: Vec<_> = (0..32)
        .map(|_| {
            let (plain, base, n) = (plain.clone(), w.base.clone(), n.clone());
            tokio::spawn(async move {
                while n.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < 100_000 {
                    let r = plain.get(&base).send().await.unwrap();
                    assert_eq!(r.status(), 200);
                    let _ = r.bytes().await;
                }
            })
        })
        .collect();
    for t in workers {
        t.await.unwrap();
    }
    // 5,000 started logins from a client that double-submits the pre-session CSRF token:
    // more than the 4,096 sessions a pool holds.
    let landing = plain.get(&w.base).send().await.unwrap();
    let cookie = landing.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let token = form_csrf(&landing.text().await.unwrap());
    let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let workers: Vec<_> = (0..16)
        .map(|_| {
            let (plain, base, n) = (plain.clone(), w.base.clone(), n.clone());
            let (cookie, token) = (cookie.clone(), token.clone());
            tokio::spawn(async move {
                while n.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < 5_000 {
                    let r = plain
                        .post(format!("{base}/login"))
                        .header("cookie", &cookie)
                        .form(&[("csrf", token.as_str()), ("provider", "0")])
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 303);
                }
            })
        })
        .collect();
    for t in workers {
        t.await.unwrap();
    }
    let me = app
        .get(format!("{}/me", w.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        me.contains("Alice Liddell"),
        "the signed-in session survived: {me}"
    );

    // A login in progress, then a callback with another state: ignored, and the genuine one
    // still completes.
    let second = web_client();
    let landing = second
        .get(&w.base)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = second
        .post(format!("{}/login", w.base))
        .form(&[("csrf", form_csrf(&landing)), ("provider", "0".into())])
        .send()
        .await
        .unwrap();
    let authorize = url::Url::parse(&location(&r)).unwrap();
    let r = second
        .get(format!("{}/callback?code=stolen&state=forged", w.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("ignored"));
    let arrival = headless::walk(
        &Browser::new(&HttpClient::default()).unwrap(),
        &authorize,
        &format!("{}/callback", w.base),
        Some(&alice()),
    )
    .await
    .unwrap();
    let r = second.get(arrival.url.as_str()).send().await.unwrap();
    assert_eq!(location(&r), "/me");

    // Another Host: a page that rebound its DNS name to 127.0.0.1 gets nothing.
    let r = plain
        .get(&w.base)
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 421);
}

/// Under `--tls` every answer carries HSTS; the CA goes to a private directory.
#[tokio::test(flavor = "multi_thread")]
async fn tls_answers_carry_hsts() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = rp(dir.path());
    cmd.args(["web", "--port", "0", "--tls"]);
    let mut web = Watched::spawn(cmd);
    let ca_line = web.line(|l| l.contains("the certificate's CA is in")).await;
    let ca = ca_line
        .split("the certificate's CA is in ")
        .nth(1)
        .unwrap()
        .split(" (")
        .next()
        .unwrap()
        .to_string();
    let line = web.line(|l| l.contains("listening on")).await;
    let base = line
        .split("listening on ")
        .nth(1)
        .unwrap()
        .split('/')
        .take(3)
        .collect::<Vec<_>>()
        .join("/");
    let pem = std::fs::read(&ca).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(std::path::Path::new(&ca).parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700, "{ca}");
    }
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let r = client.get(&base).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()
            .get("strict-transport-security")
            .is_some_and(|v| v.to_str().unwrap().starts_with("max-age=")),
        "{:?}",
        r.headers()
    );
    let _ = web.child.kill();
    let _ = std::fs::remove_dir_all(std::path::Path::new(&ca).parent().unwrap());
}

/// `rp web`'s `initiate_login_uri` (OIDC Core §4): a listed provider starts a login there,
/// with a login_hint, and the user lands on the app's own `target_link_uri`; another issuer,
/// a foreign target, or one the browser would read as another origin, start nothing.
#[tokio::test(flavor = "multi_thread")]
async fn third_party_initiated_login() {
    let dir = tempfile::tempdir().unwrap();
    let w = start_web(dir.path()).await;
    let app = web_client();
    let initiate = |query: Vec<(&str, String)>| {
        let mut url = url::Url::parse(&format!("{}/initiate", w.base)).unwrap();
        url.query_pairs_mut().extend_pairs(query);
        url
    };
    for bad in [
        vec![("iss", "https://evil.example".to_string())],
        vec![
            ("iss", w.issuer.clone()),
            ("target_link_uri", "https://evil.example/x".into()),
        ],
        vec![
            ("iss", w.issuer.clone()),
            ("target_link_uri", format!("{}//evil.example/x", w.base)),
        ],
    ] {
        let r = app.get(initiate(bad.clone())).send().await.unwrap();
        assert_eq!(r.status(), 400, "{bad:?}");
    }
    let r = app
        .get(initiate(vec![
            ("iss", w.issuer.clone()),
            ("login_hint", "alice".into()),
            ("target_link_uri", format!("{}/me?from=portal", w.base)),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let authorize = url::Url::parse(&location(&r)).unwrap();
    assert!(authorize.as_str().starts_with(&w.issuer));
    assert_eq!(query_param(&authorize, "login_hint"), "alice");
    let http = HttpClient::new(oidc_rp::HttpConfig::default());
    let arrival = headless::walk(
        &Browser::new(&http).unwrap(),
        &authorize,
        &format!("{}/callback", w.base),
        Some(&alice()),
    )
    .await
    .unwrap();
    let r = app.get(arrival.url.as_str()).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/me?from=portal");
    let me = app
        .get(format!("{}/me", w.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(me.contains("248289761001"), "{me}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redis_that_does_not_answer_at_start_is_exit_3_and_its_password_is_not_shown() {
    let dir = tempfile::tempdir().unwrap();
    // A port nothing listens on.
    let port = free_port();
    let (code, stderr) = run_failing(
        dir.path(),
        &[
            "web",
            "--port",
            "0",
            "--redis",
            &format!("redis://:hunter2-not-shown@127.0.0.1:{port}/"),
        ],
    )
    .await;
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("cannot use Redis at redis://127.0.0.1:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("start redis-server or fix --redis"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
}
