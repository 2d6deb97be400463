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
    let port = if port == 0 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    } else {
        port
    };
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
    for _ in 0..20 {
        if let Ok(fresh) = store.first_use("k3", expires).await {
            assert!(fresh);
            recovered = true;
            break;
        }
    }
    assert!(recovered, "the store did not reconnect");
}
