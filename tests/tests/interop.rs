//! Interop: the whole lifecycle with the built `rp` binary against panva's oidc-provider, a
//! certified OpenID Provider nobody here wrote (`tests/interop/server.mjs` configures it).
//!
//! Every test starts its own provider on an ephemeral loopback port and stops it when the
//! test ends, passed or failed (`Drop`); the provider also exits when its stdin pipe closes,
//! so a test process that is killed takes it along. `tests/interop/oidc-provider.sh install`
//! puts the pinned packages into the ignored `tests/interop/node_modules` first.
//!
//! Without Node.js and npm these tests are skipped with the reason on stderr, unless
//! `RP_REQUIRE_INTEROP=1` is set (as `.ci/run` does): then a missing peer fails them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rp_tests::*;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

const STATIC: (&str, &str) = ("rp-static", "static-secret-for-interop-tests");
const ALICE_SUB: &str = "248289761001";

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("interop")
}

/// The running oidc-provider; killed on drop.
struct Peer {
    child: Child,
    issuer: String,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Why the peer cannot run here, or Ok once its packages are installed (once per process).
fn installed() -> &'static Result<(), String> {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        for tool in ["node", "npm"] {
            let found = Command::new(tool)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if !found {
                return Err(format!(
                    "{tool} is not installed (the oidc-provider interop tests need Node.js >= 18 and npm)"
                ));
            }
        }
        let out = Command::new("sh")
            .arg(interop_dir().join("oidc-provider.sh"))
            .arg("install")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run oidc-provider.sh: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "`tests/interop/oidc-provider.sh install` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(())
    })
}

/// Start a provider, or say why not: `None` skips the test (panics with RP_REQUIRE_INTEROP=1).
fn peer(test: &str) -> Option<Peer> {
    peer_with(test, &[])
}

/// [`peer`] with environment variables for server.mjs (its TLS files).
fn peer_with(test: &str, env: &[(&str, &Path)]) -> Option<Peer> {
    if let Err(why) = installed() {
        if std::env::var("RP_REQUIRE_INTEROP").is_ok_and(|v| v == "1") {
            panic!("RP_REQUIRE_INTEROP=1 and the interop peer is unavailable: {why}");
        }
        // Straight to the process's stderr: the test harness captures eprintln! of passing
        // tests, and a skip must be seen.
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "interop test {test} SKIPPED: {why} (set RP_REQUIRE_INTEROP=1 to make this an error)"
        );
        return None;
    }
    let mut child = Command::new("node")
        .arg(interop_dir().join("server.mjs"))
        .arg("--exit-with-stdin")
        .envs(env.iter().map(|(k, v)| (k, v.as_os_str())))
        .current_dir(interop_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn node server.mjs");
    let stdout = child.stdout.take().unwrap();
    let mut peer = Peer {
        child,
        issuer: String::new(),
    };
    // The first stdout line is the issuer; the read ends if the process exits.
    let mut first = String::new();
    let mut reader = BufReader::new(stdout);
    reader.read_line(&mut first).unwrap();
    // Keep reading: oidc-provider prints notices on stdout the first time it uses a default
    // page, and a closed pipe would kill it (EPIPE) in the middle of a test.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    peer.issuer = first
        .strip_prefix("issuer ")
        .unwrap_or_else(|| panic!("server.mjs did not print its issuer: {first:?}"))
        .trim()
        .to_string();
    Some(peer)
}

/// RFC 7662 introspection of any token by the static confidential client.
async fn introspect(cache: &Path, issuer: &str, token: &str) -> Value {
    let args = [
        "introspect",
        "--issuer",
        issuer,
        "--token",
        token,
        "--client-id",
        STATIC.0,
        "--client-secret",
        STATIC.1,
    ];
    run_json(cache, &args).await["introspection"].clone()
}

fn login_args<'a>(issuer: &'a str, profile: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "login",
        "--issuer",
        issuer,
        "--username",
        "alice",
        "--password",
        "wonderland",
        "--profile",
        profile,
    ];
    v.extend_from_slice(extra);
    v
}

fn static_client<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["--client-id", STATIC.0, "--client-secret", STATIC.1];
    v.extend_from_slice(extra);
    v
}

/// `rp login` with the static client and no user (the arguments decide the rest).
fn static_login<'a>(issuer: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["login", "--issuer", issuer];
    v.extend(static_client(extra));
    v
}

fn check<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in {}", v["checks"]))
}

#[tokio::test(flavor = "multi_thread")]
async fn discovery_and_login_with_static_clients() {
    let Some(op) = peer("discovery_and_login_with_static_clients") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path();

    // Confidential client, client_secret_basic: oidc-provider's default interaction chain
    // (login form, consent form, relative redirects, cookies), then every check.
    let v = run_json(c, &login_args(&op.issuer, "static", &static_client(&[]))).await;
    all_checks_passed(&v);
    assert_eq!(v["issuer"], op.issuer.as_str());
    assert_eq!(v["id_token_claims"]["iss"], op.issuer.as_str());
    assert_eq!(v["id_token_claims"]["aud"], STATIC.0);
    assert_eq!(v["subject"], ALICE_SUB);
    assert_eq!(v["userinfo"]["email"], "alice@wonderland.example");
    // oidc-provider advertises RFC 9207, so the callback's `iss` was required and checked.
    assert_eq!(check(&v, "iss_parameter")["passed"], true);

    // Public client: PKCE with no secret (token_endpoint_auth_method none).
    let v = run_json(
        c,
        &login_args(&op.issuer, "public", &["--client-id", "rp-public"]),
    )
    .await;
    all_checks_passed(&v);
    assert_eq!(v["id_token_claims"]["aud"], "rp-public");

    // form_post response mode (oidc-provider's auto-submitting page).
    let v = run_json(
        c,
        &login_args(&op.issuer, "fp", &static_client(&["--form-post"])),
    )
    .await;
    all_checks_passed(&v);

    // A wrong password: the provider's form comes back with its message; exit status 7.
    let (code, stderr) = run_failing(
        c,
        &static_login(
            &op.issuer,
            &["--username", "alice", "--password", "looking-glass"],
        ),
    )
    .await;
    assert_eq!(code, 7, "{stderr}");
    assert!(stderr.contains("Invalid username or password."), "{stderr}");
    assert!(!stderr.contains("looking-glass"), "{stderr}");

    // A wrong client secret: invalid_client at the token endpoint, exit status 4.
    let (code, stderr) = run_failing(
        c,
        &login_args(
            &op.issuer,
            "bad",
            &["--client-id", STATIC.0, "--client-secret", "nope-9d2f"],
        ),
    )
    .await;
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("invalid_client"), "{stderr}");
    assert!(!stderr.contains("nope-9d2f"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn dynamic_registration_login_and_userinfo() {
    let Some(op) = peer("dynamic_registration_login_and_userinfo") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path();
    let v = run_json(c, &login_args(&op.issuer, "reg", &["--register"])).await;
    all_checks_passed(&v);
    let client_id = v["client_id"].as_str().unwrap();
    assert_ne!(client_id, STATIC.0);
    assert_eq!(v["id_token_claims"]["aud"], client_id);

    // userinfo with the cached access token; its sub matches the ID token's (OIDC Core §5.3.4).
    let u = run_json(c, &["userinfo", "--profile", "reg"]).await;
    assert_eq!(u["userinfo"]["sub"], ALICE_SUB);
    assert_eq!(u["userinfo"]["name"], "Alice Liddell");
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_needs_offline_access_and_consent() {
    let Some(op) = peer("refresh_needs_offline_access_and_consent") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path();
    const OFFLINE: &str = "openid profile email offline_access";

    // Without prompt=consent oidc-provider drops offline_access silently; rp says so.
    let mut cmd = rp(c);
    cmd.args(login_args(
        &op.issuer,
        "no-consent",
        &static_client(&["--scope", OFFLINE]),
    ));
    let out = output_ok(cmd).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("offline_access was asked for but no refresh token came back")
            && stderr.contains("--prompt consent"),
        "{stderr}"
    );

    let v = run_json(
        c,
        &login_args(
            &op.issuer,
            "offline",
            &static_client(&["--scope", OFFLINE, "--prompt", "consent"]),
        ),
    )
    .await;
    assert!(
        v["token_response"]["refresh_token"].is_string(),
        "a refresh token with offline_access and prompt=consent"
    );
    let first_access = v["token_response"]["access_token"].as_str().unwrap();

    let refresh = [
        "refresh",
        "--profile",
        "offline",
        "--client-secret",
        STATIC.1,
    ];
    let r = run_json(c, &refresh).await;
    all_checks_passed(&r);
    assert_ne!(r["token_response"]["access_token"], first_access);
    // The refreshed ID token is consistent with the first (OIDC Core §12.2).
    assert_eq!(check(&r, "refresh_consistency")["passed"], true);
    // Refresh again with what the cache now holds (rotated or not).
    let r2 = run_json(c, &refresh).await;
    all_checks_passed(&r2);

    // `rp token` refreshes on its own when the access token expires within --min-ttl (here
    // always: the token lives an hour), and prints the new token alone.
    let before = r2["token_response"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let mut token = rp(c);
    token.args(["token", "--profile", "offline", "--min-ttl", "7200"]);
    let out = output_ok(token).await;
    let printed = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        !printed.is_empty() && printed != before,
        "rp token did not refresh"
    );
    let info = introspect(c, &op.issuer, &printed).await;
    assert_eq!(info["active"], true, "{info}");
    // Without --min-ttl the fresh token is printed as cached, with no request.
    let mut cached = rp(c);
    cached.args(["token", "--profile", "offline"]);
    let again = output_ok(cached).await;
    assert_eq!(String::from_utf8_lossy(&again.stdout).trim(), printed);
}

#[tokio::test(flavor = "multi_thread")]
async fn pushed_and_dpop_bound_login_refresh_and_userinfo() {
    let Some(op) = peer("pushed_and_dpop_bound_login_refresh_and_userinfo") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path();
    // PAR with client authentication, DPoP with oidc-provider's nonce challenge, offline
    // access (prompt=consent, as oidc-provider wants for it).
    let v = run_json(
        c,
        &login_args(
            &op.issuer,
            "bank",
            &static_client(&[
                "--par",
                "--dpop",
                "--scope",
                "openid email offline_access",
                "--prompt",
                "consent",
            ]),
        ),
    )
    .await;
    all_checks_passed(&v);
    assert_eq!(v["token_response"]["token_type"], "DPoP", "{v}");
    assert_eq!(v["userinfo"]["email"], "alice@wonderland.example");
    let r = run_json(c, &["refresh", "--profile", "bank"]).await;
    all_checks_passed(&r);
    assert_eq!(r["token_response"]["token_type"], "DPoP");
    let u = run_json(c, &["userinfo", "--profile", "bank"]).await;
    assert_eq!(u["userinfo"]["sub"], ALICE_SUB);
    // The public client: its refresh token is bound to the key too.
    let v = run_json(
        c,
        &login_args(
            &op.issuer,
            "bank-public",
            &[
                "--client-id",
                "rp-public",
                "--par",
                "--dpop",
                "EdDSA",
                "--scope",
                "openid offline_access",
                "--prompt",
                "consent",
            ],
        ),
    )
    .await;
    all_checks_passed(&v);
    let r = run_json(c, &["refresh", "--profile", "bank-public"]).await;
    all_checks_passed(&r);
}

#[tokio::test(flavor = "multi_thread")]
async fn fapi2_login_refresh_and_userinfo() {
    let Some(op) = peer("fapi2_login_refresh_and_userinfo") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path();
    let key = interop_dir().join("../../fixtures/client-keys/rp-fapi.pem");
    let key = key.to_str().unwrap();
    // PAR + DPoP (nonces required) + private_key_jwt, against a client registered to require
    // pushed requests and DPoP-bound tokens.
    let v = run_json(
        c,
        &login_args(
            &op.issuer,
            "fapi",
            &[
                "--client-id",
                "rp-fapi",
                "--client-key",
                key,
                "--fapi2",
                "--scope",
                "openid email offline_access",
                "--prompt",
                "consent",
            ],
        ),
    )
    .await;
    all_checks_passed(&v);
    assert_eq!(v["token_response"]["token_type"], "DPoP", "{v}");
    assert_eq!(check(&v, "algorithm")["detail"], "EdDSA is accepted");
    assert_eq!(v["userinfo"]["email"], "alice@wonderland.example");
    let r = run_json(c, &["refresh", "--profile", "fapi"]).await;
    all_checks_passed(&r);
    assert_eq!(r["token_response"]["token_type"], "DPoP");
    let u = run_json(c, &["userinfo", "--profile", "fapi"]).await;
    assert_eq!(u["userinfo"]["sub"], ALICE_SUB);
    // With JARM: oidc-provider's signed authorization response (EdDSA), verified first.
    let v = run_json(
        c,
        &login_args(
            &op.issuer,
            "fapi-jarm",
            &[
                "--client-id",
                "rp-fapi",
                "--client-key",
                key,
                "--fapi2",
                "--jarm",
            ],
        ),
    )
    .await;
    all_checks_passed(&v);
    assert_eq!(check(&v, "response_jwt")["passed"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn jarm_responses_in_the_query_and_in_a_form_post() {
    let Some(op) = peer("jarm_responses_in_the_query_and_in_a_form_post") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for (profile, extra) in [
        ("q", &["--jarm"][..]),
        ("fp", &["--jarm", "--form-post"][..]),
    ] {
        let v = run_json(
            dir.path(),
            &login_args(&op.issuer, profile, &static_client(extra)),
        )
        .await;
        all_checks_passed(&v);
        assert_eq!(check(&v, "response_jwt")["passed"], true, "{profile}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn device_login_approved_on_the_verification_pages() {
    let Some(op) = peer("device_login_approved_on_the_verification_pages") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // oidc-provider's own user code and confirmation pages, then our login and consent
    // forms, then its success page; rp polls meanwhile and checks the ID token.
    let v = run_json(
        dir.path(),
        &login_args(&op.issuer, "device", &static_client(&["--device"])),
    )
    .await;
    all_checks_passed(&v);
    assert_eq!(v["subject"], ALICE_SUB);
    assert_eq!(check(&v, "device_grant")["passed"], true);
    assert_eq!(v["id_token_claims"]["aud"], STATIC.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn exchange_introspect_revoke_and_client_credentials() {
    let Some(op) = peer("exchange_introspect_revoke_and_client_credentials") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path();
    let v = run_json(
        c,
        &login_args(
            &op.issuer,
            "alice",
            &static_client(&[
                "--scope",
                "openid profile offline_access",
                "--prompt",
                "consent",
            ]),
        ),
    )
    .await;
    let access = v["token_response"]["access_token"].as_str().unwrap();
    let refresh = v["token_response"]["refresh_token"].as_str().unwrap();
    let iss = op.issuer.as_str();
    let auth = ["--client-id", STATIC.0, "--client-secret", STATIC.1];
    let with_auth = |args: &[&'static str]| [args, &auth[..]].concat();

    // Introspection of the profile's access token (RFC 7662).
    let i = run_json(c, &with_auth(&["introspect", "--profile", "alice"])).await;
    let i = &i["introspection"];
    assert_eq!(i["active"], true);
    assert_eq!(i["client_id"], STATIC.0);
    assert_eq!(i["sub"], ALICE_SUB);
    assert_eq!(i["scope"], "openid profile offline_access");

    // Token exchange (RFC 8693) through registerGrantType: a narrower token for an audience.
    let x = run_json(
        c,
        &with_auth(&[
            "exchange",
            "--profile",
            "alice",
            "--audience",
            "https://api.interop.example",
            "--scope",
            "openid",
        ]),
    )
    .await;
    assert_eq!(
        x["response"]["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    assert_eq!(x["response"]["scope"], "openid");
    let exchanged = x["response"]["access_token"].as_str().unwrap();
    let i = introspect(c, iss, exchanged).await;
    assert_eq!(i["active"], true);
    assert_eq!(i["aud"], serde_json::json!(["https://api.interop.example"]));
    assert_eq!(i["sub"], ALICE_SUB);

    // RFC 8693 §2.2.2 errors surface with their codes: a wider scope, and a refresh token
    // subject with an audience.
    let (code, stderr) = run_failing(
        c,
        &with_auth(&["exchange", "--profile", "alice", "--scope", "openid email"]),
    )
    .await;
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("invalid_scope"), "{stderr}");
    let (code, stderr) = run_failing(
        c,
        &with_auth(&[
            "exchange",
            "--profile",
            "alice",
            "--subject-token-type",
            "refresh_token",
            "--audience",
            "https://api.interop.example",
        ]),
    )
    .await;
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("invalid_target"), "{stderr}");

    // Revocation (RFC 7009) of the access token: introspection then says inactive.
    let revoke = [
        &[
            "revoke",
            "--issuer",
            iss,
            "--token-type-hint",
            "access_token",
            "--token",
            access,
        ][..],
        &auth[..],
    ]
    .concat();
    run_json(c, &revoke).await;
    assert_eq!(introspect(c, iss, access).await["active"], false);
    // The refresh token lives on (RFC 7009 §2.1 leaves that to the provider; oidc-provider
    // keeps the grant) until it is revoked too.
    assert_eq!(introspect(c, iss, refresh).await["active"], true);
    let r = run_json(c, &with_auth(&["revoke", "--profile", "alice"])).await;
    assert_eq!(r["revoked"][0], "refresh_token");
    assert_eq!(introspect(c, iss, refresh).await["active"], false);

    // Client credentials (RFC 6749 §4.4): a token for the client itself.
    let t = run_json(
        c,
        &[
            &["client-credentials", "--issuer", iss, "--scope", "api:read"][..],
            &auth[..],
        ]
        .concat(),
    )
    .await;
    assert_eq!(t["response"]["scope"], "api:read");
    let i = introspect(c, iss, t["response"]["access_token"].as_str().unwrap()).await;
    assert_eq!(i["active"], true);
    assert_eq!(i["client_id"], STATIC.0);
    assert!(i.get("sub").is_none(), "no end-user: {i}");
}

#[tokio::test(flavor = "multi_thread")]
async fn rp_initiated_logout_and_back_channel() {
    let Some(op) = peer("rp_initiated_logout_and_back_channel") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path();
    let jar = dir.path().join("jar.json");
    let jar = jar.to_str().unwrap();

    // Two registered clients in one provider session (the second signs in by SSO); the
    // second registers a back-channel logout URI on a loopback listener.
    let a = run_json(
        c,
        &login_args(&op.issuer, "a", &["--register", "--cookie-jar", jar]),
    )
    .await;
    let b = run_json(
        c,
        &login_args(
            &op.issuer,
            "b",
            &["--register", "--cookie-jar", jar, "--logout-listener"],
        ),
    )
    .await;
    assert_eq!(a["subject"], b["subject"]);
    let sid = b["id_token_claims"]["sid"]
        .as_str()
        .expect("sid")
        .to_string();

    let listener = listen_logout_once(c, "b").await;

    // RP-initiated logout of a, headless through oidc-provider's confirmation page; the
    // post-logout redirect comes back with the state rp sent.
    let v = run_json(
        c,
        &[
            "logout",
            "--profile",
            "a",
            "--headless",
            "--cookie-jar",
            jar,
            "--timeout",
            "60",
        ],
    )
    .await;
    all_checks_passed(&v);
    assert_eq!(v["cache_deleted"], true);
    assert!(
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["detail"] == "equals the state sent"),
        "{}",
        v["checks"]
    );

    // oidc-provider sent b a logout token; rp validated it, answered 200, dropped b's tokens.
    let (code, stdout, stderr) = listener.finish().await;
    assert_eq!(code, 0, "{stderr}");
    let event: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(event["channel"], "back");
    assert_eq!(event["accepted"], true, "{event}");
    assert_eq!(event["dropped"], true);
    assert_eq!(event["sid"], sid.as_str());
    assert_eq!(event["sub"], ALICE_SUB);
    let (code, stderr) = run_failing(c, &["userinfo", "--profile", "b"]).await;
    assert_eq!(code, 2, "b's profile is gone: {stderr}");

    // The provider session is over: prompt=none now answers login_required.
    let (code, stderr) = run_failing(
        c,
        &static_login(
            &op.issuer,
            &["--prompt", "none", "--headless", "--cookie-jar", jar],
        ),
    )
    .await;
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("login_required"), "{stderr}");
}

/// Mutual TLS (RFC 8705) against oidc-provider on its HTTPS listener: `tls_client_auth` with
/// a certificate from a CA it trusts (subject DN registered), `self_signed_tls_client_auth`
/// with a registered self-signed certificate; the tokens are certificate-bound (`cnf`
/// `x5t#S256`), so userinfo and refresh present the same certificate, and the provider
/// refuses the token alone.
#[tokio::test(flavor = "multi_thread")]
async fn mutual_tls_client_auth_and_certificate_bound_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let files = MtlsFiles::write(d);
    let Some(op) = peer_with(
        "mutual_tls_client_auth_and_certificate_bound_tokens",
        &[
            ("INTEROP_TLS_CERT", &files.server_cert),
            ("INTEROP_TLS_KEY", &files.server_key),
            ("INTEROP_CLIENT_CA", &files.ca),
            ("INTEROP_SELF_SIGNED_CERT", &files.self_signed_cert),
        ],
    ) else {
        return;
    };
    assert!(op.issuer.starts_with("https://"), "{}", op.issuer);
    let ca = files.ca.to_str().unwrap();
    for (client, method, pem) in [
        ("rp-mtls-pki", "tls_client_auth", &files.pki_client),
        (
            "rp-mtls-self",
            "self_signed_tls_client_auth",
            &files.self_signed_client,
        ),
    ] {
        let pem = pem.to_str().unwrap();
        let v = run_json(
            d,
            &login_args(
                &op.issuer,
                client,
                &[
                    "--ca-file",
                    ca,
                    "--client-id",
                    client,
                    "--token-auth-method",
                    method,
                    "--client-cert",
                    pem,
                    "--scope",
                    "openid email offline_access",
                    "--prompt",
                    "consent",
                ],
            ),
        )
        .await;
        all_checks_passed(&v);
        assert_eq!(
            v["userinfo"]["email"], "alice@wonderland.example",
            "{client}"
        );
        let r = run_json(d, &["refresh", "--profile", client]).await;
        all_checks_passed(&r);
        let u = run_json(d, &["userinfo", "--profile", client]).await;
        assert_eq!(u["userinfo"]["sub"], ALICE_SUB, "{client}");
        // The bound token without the certificate: refused.
        let t = run_json(d, &["token", "--profile", client]).await;
        let (code, stderr) = run_failing(
            d,
            &[
                "userinfo",
                "--issuer",
                &op.issuer,
                "--ca-file",
                ca,
                "--client-id",
                client,
                "--token",
                t["token"].as_str().unwrap(),
            ],
        )
        .await;
        assert_ne!(code, 0, "{client}: {stderr}");
        assert!(stderr.contains("invalid_token"), "{client}: {stderr}");
    }
    // A certificate from no trusted CA cannot pass for the PKI client.
    let (code, stderr) = run_failing(
        d,
        &[
            "login",
            "--issuer",
            &op.issuer,
            "--ca-file",
            ca,
            "--client-id",
            "rp-mtls-pki",
            "--token-auth-method",
            "tls_client_auth",
            "--client-cert",
            files.self_signed_client.to_str().unwrap(),
            "--username",
            "alice",
            "--password",
            "wonderland",
            "--no-cache",
        ],
    )
    .await;
    assert_ne!(code, 0, "{stderr}");
    assert!(stderr.contains("invalid_client"), "{stderr}");
}

/// The TLS material of the mutual TLS test: a CA, the provider's certificate from it, a
/// client certificate from it (CN=rp-mtls-pki), and a self-signed client certificate.
struct MtlsFiles {
    ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    self_signed_cert: PathBuf,
    pki_client: PathBuf,
    self_signed_client: PathBuf,
}

impl MtlsFiles {
    fn write(dir: &Path) -> MtlsFiles {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "rp interop test CA");
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let server_key = KeyPair::generate().unwrap();
        let server = CertificateParams::new(vec!["127.0.0.1".into()])
            .unwrap()
            .signed_by(&server_key, &ca, &ca_key)
            .unwrap();
        let client_key = KeyPair::generate().unwrap();
        let mut client_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        client_params.distinguished_name = rcgen::DistinguishedName::new();
        client_params
            .distinguished_name
            .push(DnType::CommonName, "rp-mtls-pki");
        let client = client_params.signed_by(&client_key, &ca, &ca_key).unwrap();
        let self_key = KeyPair::generate().unwrap();
        let self_signed = CertificateParams::new(vec!["rp-mtls-self".into()])
            .unwrap()
            .self_signed(&self_key)
            .unwrap();
        let put = |name: &str, text: String| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        MtlsFiles {
            ca: put("ca.pem", ca.pem()),
            server_cert: put("server.pem", server.pem()),
            server_key: put("server-key.pem", server_key.serialize_pem()),
            self_signed_cert: put("self-signed.pem", self_signed.pem()),
            pki_client: put(
                "pki-client.pem",
                format!("{}{}", client.pem(), client_key.serialize_pem()),
            ),
            self_signed_client: put(
                "self-signed-client.pem",
                format!("{}{}", self_signed.pem(), self_key.serialize_pem()),
            ),
        }
    }
}

/// Signed request objects (RFC 9101) against oidc-provider: by value, and by reference
/// (oidc-provider fetches the object from rp's loopback listener).
#[tokio::test(flavor = "multi_thread")]
async fn signed_request_objects_by_value_and_by_reference() {
    let Some(op) = peer("signed_request_objects_by_value_and_by_reference") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key = interop_dir().join("../../fixtures/client-keys/rp-fapi.pem");
    let key = key.to_str().unwrap();
    for how in ["value", "reference"] {
        let v = run_json(
            dir.path(),
            &login_args(
                &op.issuer,
                how,
                &[
                    "--client-id",
                    "rp-jar",
                    "--client-key",
                    key,
                    "--request-object",
                    how,
                ],
            ),
        )
        .await;
        all_checks_passed(&v);
        assert_eq!(v["subject"], ALICE_SUB, "{how}");
    }
}

/// The hybrid flow (`code id_token`, OIDC Core §3.3) against oidc-provider: the
/// front-channel ID token (c_hash) checked before the code is redeemed; then the implicit
/// `id_token token` and the other hybrid types, in the fragment and in a form post.
#[tokio::test(flavor = "multi_thread")]
async fn hybrid_and_implicit_logins() {
    let Some(op) = peer("hybrid_and_implicit_logins") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for kind in [
        "code id_token",
        "code id_token token",
        "code token",
        "id_token token",
        "id_token",
    ] {
        for form_post in [false, true] {
            let mut extra = vec![
                "--client-id",
                "rp-hybrid",
                "--client-secret",
                STATIC.1,
                "--response-type",
                kind,
                "--no-cache",
            ];
            if form_post {
                extra.push("--form-post");
            }
            let v = run_json(dir.path(), &login_args(&op.issuer, "hybrid", &extra)).await;
            all_checks_passed(&v);
            assert_eq!(v["subject"], ALICE_SUB, "{kind}");
            if kind.starts_with("code id_token") {
                assert_eq!(check(&v, "c_hash")["passed"], true, "{kind}: {v}");
            }
        }
    }
}

/// `rp audit` against oidc-provider: no check fails; its warnings and inapplicable checks are
/// the deliberate choices the README documents (with the settings that change them).
#[tokio::test(flavor = "multi_thread")]
async fn audit_of_oidc_provider_finds_no_failure() {
    let Some(peer) = peer("audit_of_oidc_provider_finds_no_failure") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let second = format!("rp-static-eddsa:{}", STATIC.1);
    let mut cmd = rp(dir.path());
    cmd.args([
        "audit",
        "--issuer",
        &peer.issuer,
        "--client-id",
        STATIC.0,
        "--client-secret",
        STATIC.1,
        "--username",
        "alice",
        "--password",
        "wonderland",
        "--second-client",
        &second,
        "--json",
    ]);
    let out = output(cmd).await;
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids = |verdict: &str| -> Vec<String> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["verdict"] == verdict)
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(out.status.code(), Some(0), "failed: {:?}", ids("fail"));
    assert!(
        ids("could_not_run").is_empty(),
        "{:?}",
        ids("could_not_run")
    );
    assert_eq!(
        ids("warning"),
        ["meta.cache", "userinfo.no-token", "refresh.rotation"],
        "the README's list of oidc-provider's choices"
    );
    assert_eq!(
        ids("not_applicable"),
        [
            "meta.response-types",
            "prompt.none-session",
            "hint.same-user",
            "claims.parameter",
            "refresh.reuse",
            "refresh.auth-time-elsewhere",
            "hazard.basic-encoding"
        ]
    );
}
