//! The shared stores on a real redis-server (`tests/redis/install.sh` installs Debian's
//! package; each test starts its own server on an ephemeral loopback port, without
//! persistence): two store handles stand for two instances of a service.
//!
//! Without redis-server these tests are skipped with the reason on stderr, unless
//! `RP_REQUIRE_REDIS=1` is set (as `.ci/run` does): then a missing server fails them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use oidc_rp::store::redis::RedisStore;
use oidc_rp::store::{ReplayStore, TransactionStore};
use oidc_rp::{AuthorizationRequest, ClientConfig, ErrorClass, HttpClient, RelyingParty, Secret};
use oidc_rp_headless::{self as headless, Browser, Credentials};
use rp_tests::*;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A redis-server of the test's own; killed on drop.
struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn redis_server() -> Result<String, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("redis/install.sh");
    let out = Command::new("sh")
        .arg(script)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run tests/redis/install.sh: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Start a server on `port` (0: a free one); it is ready when it says so on stdout.
fn start(port: u16, test: &str) -> Option<Server> {
    let bin = match redis_server() {
        Ok(b) => b,
        Err(why) => {
            if std::env::var("RP_REQUIRE_REDIS").is_ok_and(|v| v == "1") {
                panic!("RP_REQUIRE_REDIS=1 and redis-server is unavailable: {why}");
            }
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "redis test {test} SKIPPED: {why} (set RP_REQUIRE_REDIS=1 to make this an error)"
            );
            return None;
        }
    };
    let port = if port == 0 { free_port() } else { port };
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(bin)
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args([
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "yes",
        ])
        .arg("--dir")
        .arg(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn redis-server");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let ready = lines
        .by_ref()
        .take(200)
        .map_while(Result::ok)
        .any(|l| l.contains("Ready to accept connections"));
    assert!(ready, "redis-server did not start on port {port}");
    std::thread::spawn(move || for _ in lines {});
    Some(Server {
        child,
        port,
        _dir: dir,
    })
}

fn url(server: &Server) -> String {
    format!("redis://127.0.0.1:{}/", server.port)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replay_seen_by_one_instance_is_refused_by_the_other() {
    let Some(server) = start(0, "replay") else {
        return;
    };
    let a = RedisStore::connect(&url(&server), "t1:").await.unwrap();
    let b = RedisStore::connect(&url(&server), "t1:").await.unwrap();
    let expires = oidc_rp::time::unix_now() + 600;
    assert!(a.first_use("logout iss jti-1", expires).await.unwrap());
    assert!(!b.first_use("logout iss jti-1", expires).await.unwrap());
    assert!(!a.first_use("logout iss jti-1", expires).await.unwrap());
    // Another prefix is another application.
    let other = RedisStore::connect(&url(&server), "t2:").await.unwrap();
    assert!(other.first_use("logout iss jti-1", expires).await.unwrap());
    // The key expires with what it protects.
    let client = redis::Client::open(url(&server)).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let ttl: i64 = redis::cmd("TTL")
        .arg("t1:seen:logout iss jti-1")
        .query_async(&mut c)
        .await
        .unwrap();
    assert!((590..=601).contains(&ttl), "ttl {ttl}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_login_started_on_one_instance_completes_on_the_other_once() {
    let Some(server) = start(0, "transaction") else {
        return;
    };
    let op = provider().await;
    let http = HttpClient::default();
    let rp = RelyingParty::discover(
        &http,
        op.issuer(),
        ClientConfig::confidential("rp-demo", "rp-demo-secret"),
    )
    .await
    .unwrap();
    let a = RedisStore::connect(&url(&server), "app:").await.unwrap();
    let b = RedisStore::connect(&url(&server), "app:").await.unwrap();
    let redirect = "http://127.0.0.1/callback";
    let (start_url, txn) = rp
        .authorization_url(&AuthorizationRequest::with_scopes(["openid"]), redirect)
        .unwrap();
    a.put(&txn, oidc_rp::time::unix_now() + 600).await.unwrap();

    let browser = Browser::new(&http).unwrap();
    let who = Credentials {
        username: "alice".into(),
        password: Secret::new("wonderland"),
    };
    let arrival = headless::walk(&browser, &start_url, redirect, Some(&who))
        .await
        .unwrap();
    let params = oidc_rp::CallbackParams::parse(&arrival.params()).unwrap();
    let state = params.state.clone().unwrap();
    let found = b
        .take(&state)
        .await
        .unwrap()
        .expect("B finds A's transaction");
    let login = rp.complete(&found, &params).await.unwrap();
    assert_eq!(login.id_token.subject, "248289761001");
    // One callback per login: the transaction is gone for every instance.
    assert!(a.take(&state).await.unwrap().is_none());
    assert!(b.take(&state).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_down_is_an_error_never_an_accept_and_a_restart_recovers() {
    let Some(server) = start(0, "restart") else {
        return;
    };
    let port = server.port;
    let store = RedisStore::connect(&url(&server), "r:").await.unwrap();
    let expires = oidc_rp::time::unix_now() + 600;
    assert!(store.first_use("k1", expires).await.unwrap());
    drop(server);
    let e = store.first_use("k2", expires).await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::Unavailable, "{e}");
    assert!(e.to_string().contains("nothing was accepted"), "{e}");
    // Back on the same port: the store reconnects by itself.
    let _server = start(port, "restart").unwrap();
    let mut recovered = false;
    for _ in 0..100 {
        if let Ok(fresh) = store.first_use("k3", expires).await {
            assert!(fresh);
            recovered = true;
            break;
        }
    }
    assert!(recovered, "the store did not reconnect");
}

/// The name two `rp web` instances serve behind: a load balancer on a loopback port that
/// sends each request to the instance the test picks, and keeps the logout tokens the
/// provider delivers (to replay one).
struct Balancer {
    public: String,
    to: std::sync::Arc<std::sync::Mutex<String>>,
    logout_tokens: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Balancer {
    async fn start() -> Balancer {
        use axum::body::Bytes;
        use axum::extract::State;
        use axum::http::{HeaderMap, Method, Uri};
        use axum::response::IntoResponse;
        use std::sync::{Arc, Mutex};
        type Shared = (Arc<Mutex<String>>, Arc<Mutex<Vec<String>>>, reqwest::Client);
        async fn forward(
            State((to, tokens, client)): State<Shared>,
            method: Method,
            uri: Uri,
            headers: HeaderMap,
            body: Bytes,
        ) -> axum::response::Response {
            if uri.path() == "/backchannel-logout"
                && let Some((_, t)) =
                    url::form_urlencoded::parse(&body).find(|(k, _)| k == "logout_token")
            {
                tokens.lock().unwrap().push(t.into_owned());
            }
            let target = to.lock().unwrap().clone();
            let mut request =
                client.request(method, format!("{target}{}", uri.path_and_query().unwrap()));
            for (k, v) in &headers {
                if k != "content-length" && k != "connection" {
                    request = request.header(k, v);
                }
            }
            let answer = request.body(body).send().await.unwrap();
            let status = answer.status();
            let mut out_headers = HeaderMap::new();
            for (k, v) in answer.headers() {
                if k != "content-length" && k != "transfer-encoding" && k != "connection" {
                    out_headers.append(k, v.clone());
                }
            }
            let body = answer.bytes().await.unwrap();
            (status, out_headers, body).into_response()
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let public = format!("http://{}", listener.local_addr().unwrap());
        let to = Arc::new(Mutex::new(String::new()));
        let logout_tokens = Arc::new(Mutex::new(Vec::new()));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let app = axum::Router::new().fallback(forward).with_state((
            to.clone(),
            logout_tokens.clone(),
            client,
        ));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Balancer {
            public,
            to,
            logout_tokens,
        }
    }

    fn send_to(&self, instance: &WebApp) {
        *self.to.lock().unwrap() = instance.bound.clone();
    }
}

async fn text(r: reqwest::Response) -> String {
    r.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_rp_web_instances_behind_one_name_act_as_one() {
    let Some(server) = start(0, "rp web --redis") else {
        return;
    };
    let redis_port = server.port;
    let op = provider().await;
    let lb = Balancer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let instance = |name: &'static str| {
        let cache = dir.path().join(name);
        let args = [
            "--redis".to_string(),
            url(&server),
            "--public-url".into(),
            lb.public.clone(),
            "--provider".into(),
            op.issuer().to_string(),
        ];
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            start_web_with(&cache, &args).await
        }
    };
    let a = instance("a").await;
    let b = instance("b").await;
    assert_ne!(a.bound, b.bound);
    let browser = web_client();
    let jar = std::sync::Arc::new(oidc_rp_headless::CookieJar::new());
    let at_provider = Browser::with_jar(&HttpClient::default(), jar.clone()).unwrap();

    // The login starts on A (which registers a client with the provider, kept in Redis) ...
    lb.send_to(&a);
    let landing = get_text(&browser, &lb.public).await;
    let r = browser
        .post(format!("{}/login", lb.public))
        .form(&[
            ("csrf", form_csrf(&landing)),
            ("provider", "1".into()),
            ("register", "on".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", text(r).await);
    let authorize = url::Url::parse(&location(&r)).unwrap();
    assert!(authorize.as_str().starts_with(op.issuer()), "{authorize}");
    let who = Credentials {
        username: "alice".into(),
        password: Secret::new("wonderland"),
    };
    let arrival = headless::walk(
        &at_provider,
        &authorize,
        &format!("{}/callback", lb.public),
        Some(&who),
    )
    .await
    .unwrap();
    // ... and completes on B, which never saw it start.
    lb.send_to(&b);
    let r = browser.get(arrival.url.as_str()).send().await.unwrap();
    assert_eq!(r.status(), 303, "{}", text(r).await);
    assert_eq!(location(&r), "/me");
    let me = get_text(&browser, &format!("{}/me", lb.public)).await;
    assert!(me.contains("Alice Liddell"), "{me}");
    assert!(me.contains("Every check passed."), "{me}");
    // A sees the same session.
    lb.send_to(&a);
    let me = get_text(&browser, &format!("{}/me", lb.public)).await;
    assert!(me.contains("Alice Liddell"), "{me}");

    // Another client logs out of the same provider session: the provider delivers a logout
    // token to the app's name, which sends it to A; the session ends on B too.
    cli_logs_in_and_out(&dir.path().join("cli"), op.issuer(), &jar).await;
    let token = lb
        .logout_tokens
        .lock()
        .unwrap()
        .first()
        .cloned()
        .expect("the provider delivered a logout token to the app");
    lb.send_to(&b);
    let page = get_text(&browser, &format!("{}/me", lb.public)).await;
    assert!(page.contains("back-channel logout"), "{page}");
    let r = browser
        .get(format!("{}/me", lb.public))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/", "signed out for good");

    // The same logout token replayed to B, after A accepted it: refused as a replay.
    let plain = reqwest::Client::new();
    let r = plain
        .post(format!("{}/backchannel-logout", b.bound))
        .form(&[("logout_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let why = text(r).await;
    assert!(why.contains("replayed logout token"), "{why}");

    // Redis goes away: a clear error, never a panic, never an accept.
    drop(server);
    let r = browser
        .get(format!("{}/me", lb.public))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let page = text(r).await;
    assert!(
        page.contains("Session store unavailable") && page.contains("Redis"),
        "{page}"
    );
    let r = plain
        .post(format!("{}/backchannel-logout", a.bound))
        .form(&[("logout_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503, "not accepted while Redis is down");
    let landing = browser.get(&lb.public).send().await.unwrap();
    assert_eq!(
        landing.status(),
        503,
        "the session cookie cannot be looked up"
    );

    // Back on the same port (empty: no persistence): the instances reconnect by themselves.
    let _server = start(redis_port, "rp web --redis").unwrap();
    let mut status = 0;
    for _ in 0..100 {
        status = browser
            .get(&lb.public)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        if status == 200 {
            break;
        }
    }
    assert_eq!(status, 200, "B answers again once Redis is back");
    for (name, mut w) in [("A", a), ("B", b)] {
        // (A panic in a handler would have dropped the connection, failing a request above.)
        assert!(
            w.watched.child.try_wait().unwrap().is_none(),
            "{name} is still running"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn instances_fetch_the_provider_documents_once_and_share_a_key_rotation() {
    use oidc_rp::Alg;
    use oidc_rp::store::DocumentStore;
    use std::sync::{Arc, Mutex};
    let Some(server) = start(0, "documents") else {
        return;
    };
    // A provider whose JWKS the test rotates.
    let kids = Arc::new(Mutex::new(vec!["k1"]));
    let served = kids.clone();
    let op = StaticServer::start_fn(move |_, url| {
        let body = match url.path() {
            "/.well-known/openid-configuration" => openid_configuration(serde_json::json!({})),
            "/jwks" => {
                let n = base64::Engine::encode(
                    &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                    [0xC5u8; 256],
                );
                let keys: Vec<_> = served
                    .lock()
                    .unwrap()
                    .iter()
                    .map(|k| serde_json::json!({"kty": "RSA", "kid": k, "n": n, "e": "AQAB"}))
                    .collect();
                serde_json::json!({ "keys": keys }).to_string()
            }
            _ => return None,
        };
        Some(Reply {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body,
        })
    })
    .await;
    let http = HttpClient::default();
    let max_age = std::time::Duration::from_secs(600);
    let a: Arc<dyn DocumentStore> =
        Arc::new(RedisStore::connect(&url(&server), "d:").await.unwrap());
    let b: Arc<dyn DocumentStore> =
        Arc::new(RedisStore::connect(&url(&server), "d:").await.unwrap());

    // Metadata: fetched by A, read by B.
    let meta_a = oidc_rp::discovery::discover_shared(&http, &op.base, a.as_ref(), max_age)
        .await
        .unwrap();
    let meta_b = oidc_rp::discovery::discover_shared(&http, &op.base, b.as_ref(), max_age)
        .await
        .unwrap();
    assert_eq!(op.hits("/.well-known/openid-configuration"), 1);
    assert_eq!(meta_b.issuer().as_str(), op.base);
    // Shared metadata is checked as if fetched: it names another issuer than asked, so it
    // is not used for that one.
    let other = format!("{}/tenant", op.base);
    assert!(
        oidc_rp::discovery::discover_shared(&http, &other, b.as_ref(), max_age)
            .await
            .is_err()
    );

    // Keys: fetched by A, read by B.
    let client = || ClientConfig::public("app");
    let rp_a = RelyingParty::new(http.clone(), meta_a, client())
        .unwrap()
        .with_document_store(a.clone());
    let rp_b = RelyingParty::new(http.clone(), meta_b, client())
        .unwrap()
        .with_document_store(b.clone());
    let found = |r: std::result::Result<Arc<oidc_rp::keys::VerifyingKey>, _>| {
        r.map(|k| k.kid.clone().unwrap_or_default())
    };
    let k = rp_a
        .jwks()
        .key_for(&http, Alg::RS256, Some("k1"))
        .await
        .unwrap();
    assert_eq!(found(k).unwrap(), "k1");
    let k = rp_b
        .jwks()
        .key_for(&http, Alg::RS256, Some("k1"))
        .await
        .unwrap();
    assert_eq!(found(k).unwrap(), "k1");
    assert_eq!(op.hits("/jwks"), 1, "one fetch for both instances");

    // The provider rotates; A meets the new kid first and refetches; B sees the rotation
    // without asking the provider.
    kids.lock().unwrap().push("k2");
    let k = rp_a
        .jwks()
        .key_for(&http, Alg::RS256, Some("k2"))
        .await
        .unwrap();
    assert_eq!(found(k).unwrap(), "k2");
    assert_eq!(op.hits("/jwks"), 2);
    let k = rp_b
        .jwks()
        .key_for(&http, Alg::RS256, Some("k2"))
        .await
        .unwrap();
    assert_eq!(found(k).unwrap(), "k2");
    assert_eq!(op.hits("/jwks"), 2, "B took the rotated set from the store");
    assert_eq!(rp_b.jwks().fetch_count(), 0);

    // Redis gone: the documents come from the provider (they are public and checked).
    drop(server);
    let rp_c = RelyingParty::new(
        http.clone(),
        oidc_rp::discovery::discover_shared(&http, &op.base, a.as_ref(), max_age)
            .await
            .unwrap(),
        client(),
    )
    .unwrap()
    .with_document_store(a.clone());
    let k = rp_c
        .jwks()
        .key_for(&http, Alg::RS256, Some("k2"))
        .await
        .unwrap();
    assert_eq!(found(k).unwrap(), "k2");
    assert_eq!(op.hits("/.well-known/openid-configuration"), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_logout_on_one_instance_is_never_undone_by_a_concurrent_change_on_another() {
    use rp_cli::commands::web::session::{Sessions, SignedIn};
    use rp_cli::commands::web::shared::RedisState;
    use std::sync::Arc;
    let Some(server) = start(0, "session race") else {
        return;
    };
    let instance = || async {
        let store = RedisStore::connect(&url(&server), "race:").await.unwrap();
        Arc::new(Sessions::Redis(RedisState::new(
            store.connection(),
            "race:",
        )))
    };
    let (a, b) = (instance().await, instance().await);
    let issuer = "https://op.example";
    for round in 0..100 {
        let (id, _) = a.create().await.unwrap();
        let sid = format!("sid-{round}");
        let claims = serde_json::json!({"iss": issuer, "sub": "alice", "sid": sid});
        let signed_in = SignedIn {
            issuer: issuer.into(),
            client_id: "app".into(),
            report: Default::default(),
            id_token: oidc_rp::StoredIdToken::new(
                Secret::new("h.p.s"),
                claims.as_object().unwrap().clone(),
            ),
            access_token: Secret::new("at"),
            refresh_token: None,
            userinfo: None,
            session_check: None,
        };
        a.update(&id, |s| s.signed_in = Some(signed_in.clone()))
            .await
            .unwrap();
        // B keeps changing the session (refreshed tokens) while A ends it (a logout).
        let refresher = {
            let (b, id) = (b.clone(), id.clone());
            tokio::spawn(async move {
                for i in 0..20 {
                    b.update(&id, |s| {
                        if let Some(si) = s.signed_in.as_mut() {
                            si.access_token = Secret::new(format!("at-{i}"));
                        }
                    })
                    .await
                    .unwrap();
                }
            })
        };
        let ended = a
            .end_matching(issuer, Some(&sid), None, "logged out")
            .await
            .unwrap();
        refresher.await.unwrap();
        assert_eq!(ended, 1, "round {round}");
        let s = b.get(&id).await.unwrap().unwrap();
        assert!(
            s.signed_in.is_none(),
            "round {round}: a concurrent change undid the logout"
        );
        assert_eq!(s.notice.as_deref(), Some("logged out"));
    }
}
