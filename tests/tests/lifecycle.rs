//! The token lifecycle end to end: refresh (rotation, reuse detection), token exchange,
//! introspection, revocation and userinfo, with the built `rp` binary against the provider.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rp_tests::*;
use serde_json::Value;
use std::path::Path;

const OFFLINE: &str = "openid profile email offline_access";

async fn login(
    op: &rp_provider::RunningProvider,
    cache: &Path,
    client: (&str, &str),
    profile: &str,
) -> Value {
    let mut cmd = rp_login(cache, op.issuer(), client);
    cmd.args([
        "--username",
        "alice",
        "--password",
        "wonderland",
        "--scope",
        OFFLINE,
    ])
    .args(["--profile", profile, "--json"]);
    output_json(cmd).await
}

fn cached(cache: &Path) -> Value {
    let dir = cache.join("profiles");
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.path().extension().is_some_and(|x| x == "json"))
        .unwrap()
        .path();
    serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_rotates_and_reuse_revokes_the_grant() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path();
    let v = login(&op, c, ("rp-demo", "rp-demo-secret"), "alice").await;
    let first = v["token_response"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();

    let r1 = run_json(c, &["refresh", "--profile", "alice"]).await;
    assert_eq!(r1["rotated"], true);
    assert_eq!(r1["id_token_renewed"], true);
    all_checks_passed(&r1);
    assert!(
        r1["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "refresh consistency")
    );
    assert!(
        r1["id_token_claims"].get("nonce").is_none(),
        "no nonce on refreshed ID tokens"
    );
    let second = cached(c)["tokens"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(first, second);

    let r2 = run_json(c, &["refresh", "--profile", "alice"]).await;
    assert_eq!(r2["rotated"], true);
    let third = cached(c)["tokens"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(second, third);
    let access = cached(c)["tokens"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();

    // Someone replays the first (rotated) refresh token: refused, and the grant is revoked.
    let (code, stderr) = run_failing(
        c,
        &[
            "refresh",
            "--issuer",
            op.issuer(),
            "--client-id",
            "rp-demo",
            "--client-secret",
            "rp-demo-secret",
            "--token",
            &first,
        ],
    )
    .await;
    assert_eq!(code, 4, "{stderr}");
    assert!(
        stderr.contains("invalid_grant") && stderr.contains("whole grant is revoked"),
        "{stderr}"
    );

    // The legitimate holder's newest tokens died with the grant.
    let (code, stderr) = run_failing(c, &["refresh", "--profile", "alice"]).await;
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("invalid_grant"), "{stderr}");
    let i = run_json(c, &["introspect", "--profile", "alice", "--token", &access]).await;
    assert_eq!(i["introspection"]["active"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn token_exchange() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path();
    login(&op, c, ("rp-demo", "rp-demo-secret"), "alice").await;

    // Access token for another access token, for an API.
    let x = run_json(c, &["exchange", "--audience", "https://api.rp.example"]).await;
    let r = &x["response"];
    assert_eq!(
        r["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    assert_eq!(r["token_type"], "Bearer");
    let exchanged = r["access_token"].as_str().unwrap().to_string();
    let i = run_json(c, &["introspect", "--token", &exchanged]).await;
    assert_eq!(i["introspection"]["active"], true);
    assert_eq!(
        i["introspection"]["aud"],
        serde_json::json!(["https://api.rp.example"])
    );
    assert_eq!(
        cached(c)["exchanged"][0]["audience"][0],
        "https://api.rp.example"
    );
    // Audience-restricted: not accepted at the userinfo endpoint (RFC 9700 §4.10).
    let (code, stderr) = run_failing(c, &["userinfo", "--token", &exchanged]).await;
    assert_eq!(code, 4, "{stderr}");

    // For a refresh token (the grant has offline_access and the policy allows it).
    let x = run_json(c, &["exchange", "--requested-token-type", "refresh_token"]).await;
    assert_eq!(
        x["response"]["issued_token_type"],
        "urn:ietf:params:oauth:token-type:refresh_token"
    );
    assert_eq!(x["response"]["token_type"], "N_A");

    // With the ID token as subject (a JWT the provider signed).
    let x = run_json(
        c,
        &[
            "exchange",
            "--subject-token-type",
            "id_token",
            "--scope",
            "openid",
        ],
    )
    .await;
    assert_eq!(
        x["response"]["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );

    // A refresh token as subject with an audience: invalid_target (RFC 8693 §2.2.2).
    let (code, stderr) = run_failing(
        c,
        &[
            "exchange",
            "--subject-token-type",
            "refresh_token",
            "--audience",
            "https://api.rp.example",
        ],
    )
    .await;
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("invalid_target"), "{stderr}");
    // An audience outside the client's policy: invalid_target.
    let (code, stderr) = run_failing(c, &["exchange", "--audience", "https://evil.example"]).await;
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("invalid_target"), "{stderr}");
    // Bad usage is caught before any request.
    let (code, _) = run_failing(c, &["exchange", "--subject-token-type", "bogus"]).await;
    assert_eq!(code, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn introspect_revoke_and_userinfo() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path();
    let v = login(&op, c, ("rp-demo", "rp-demo-secret"), "alice").await;
    let access = v["token_response"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();

    let u = run_json(c, &["userinfo"]).await;
    assert_eq!(u["userinfo"]["email"], "alice@wonderland.example");
    assert!(
        u["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "userinfo sub" && c["passed"] == true)
    );

    let i = run_json(c, &["introspect"]).await;
    let i = &i["introspection"];
    assert_eq!(i["active"], true);
    assert_eq!(i["client_id"], "rp-demo");
    assert_eq!(i["username"], "alice");
    assert_eq!(i["sub"], "248289761001");
    assert_eq!(i["token_type"], "Bearer");
    assert!(i["exp"].as_i64().unwrap() > i["iat"].as_i64().unwrap());
    let r = run_json(c, &["introspect", "--refresh"]).await;
    assert_eq!(r["introspection"]["active"], true);

    // RFC 9701: a signed introspection response, validated.
    let j = run_json(c, &["introspect", "--jwt"]).await;
    assert_eq!(j["introspection"]["active"], true);
    all_checks_passed(&j);

    // Revoke the access token alone: inactive afterwards, userinfo refused.
    let x = run_json(
        c,
        &[
            "revoke",
            "--issuer",
            op.issuer(),
            "--client-id",
            "rp-demo",
            "--client-secret",
            "rp-demo-secret",
            "--token",
            &access,
            "--token-type-hint",
            "access_token",
        ],
    )
    .await;
    assert_eq!(x["revoked"][0], "access_token");
    let i = run_json(c, &["introspect", "--token", &access]).await;
    assert_eq!(i["introspection"]["active"], false);
    let (code, stderr) = run_failing(c, &["userinfo"]).await;
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("invalid_token"), "{stderr}");

    // Revoke the rest of the profile: its refresh token ends the grant, and the cache entry goes.
    let refresh = cached(c)["tokens"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let x = run_json(c, &["revoke", "--profile", "alice"]).await;
    assert_eq!(
        x["revoked"],
        serde_json::json!(["refresh_token", "access_token"])
    );
    assert!(
        std::fs::read_dir(c.join("profiles"))
            .unwrap()
            .filter_map(|e| e.ok())
            .all(|e| e.path().extension().is_none_or(|x| x != "json"))
    );
    let i = run_json(
        c,
        &[
            "introspect",
            "--issuer",
            op.issuer(),
            "--client-id",
            "rp-demo",
            "--client-secret",
            "rp-demo-secret",
            "--token",
            &refresh,
        ],
    )
    .await;
    assert_eq!(i["introspection"]["active"], false);
    let (code, stderr) = run_failing(c, &["userinfo"]).await;
    assert_eq!(code, 2, "no profile left: {stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn jwt_access_tokens_are_introspected_too() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path();
    let v = login(&op, c, ("rp-es256", "rp-es256-secret"), "es").await;
    let at = v["token_response"]["access_token"].as_str().unwrap();
    assert_eq!(at.split('.').count(), 3, "an RFC 9068 JWT access token");
    let header: Value = serde_json::from_slice(&base64_url(at.split('.').next().unwrap())).unwrap();
    assert_eq!(header["typ"], "at+jwt");
    let i = run_json(c, &["introspect"]).await;
    assert_eq!(i["introspection"]["active"], true);
    assert_eq!(i["introspection"]["client_id"], "rp-es256");
}

fn base64_url(s: &str) -> Vec<u8> {
    // A tiny decoder for the test: the header is ASCII JSON.
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for ch in s.bytes() {
        let v = alphabet.iter().position(|a| *a == ch).unwrap() as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_refreshes_take_turns() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().to_path_buf();
    login(&op, &c, ("rp-demo", "rp-demo-secret"), "alice").await;
    for _round in 0..3 {
        let runs: Vec<_> = (0..4)
            .map(|_| {
                let mut cmd = rp(&c);
                cmd.args(["refresh", "--profile", "alice", "--json"]);
                tokio::spawn(output(cmd))
            })
            .collect();
        for r in runs {
            let out = r.await.unwrap();
            assert!(
                out.status.success(),
                "every concurrent refresh succeeds: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    // The cache holds a working refresh token.
    let r = run_json(&c, &["refresh", "--profile", "alice"]).await;
    assert_eq!(r["rotated"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn client_credentials_for_a_service_client() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path();
    let svc = [
        "--issuer",
        op.issuer(),
        "--client-id",
        "rp-service",
        "--client-secret",
        "rp-service-secret",
    ];
    let args = |extra: &[&'static str]| -> Vec<String> {
        let mut v: Vec<String> = ["client-credentials"]
            .iter()
            .chain(svc.iter())
            .map(|s| s.to_string())
            .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run = |extra: &[&'static str]| {
        let a = args(extra);
        async move { run_json(c, &a.iter().map(String::as_str).collect::<Vec<_>>()).await }
    };
    // Without scope: the client's registered scope (RFC 6749 §3.3).
    let r = run(&["--resource", "https://api.rp.example"]).await;
    assert_eq!(r["client_id"], "rp-service");
    assert_eq!(r["response"]["scope"], "api:read api:write");
    let at = r["response"]["access_token"].as_str().unwrap().to_string();
    let mut introspect = args(&[]);
    introspect[0] = "introspect".into();
    introspect.extend(["--token".to_string(), at]);
    let i = run_json(
        c,
        &introspect.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .await;
    let i = &i["introspection"];
    assert_eq!(i["active"], true);
    assert_eq!(i["sub"], "rp-service", "RFC 9068 §2.2: sub is the client");
    assert_eq!(i["aud"], serde_json::json!(["https://api.rp.example"]));
    assert!(i.get("auth_time").is_none(), "no end-user authenticated");
    assert!(i.get("username").is_none());
    // A narrower scope.
    let r = run(&["--scope", "api:read"]).await;
    assert_eq!(r["response"]["scope"], "api:read");
    // Nothing cached: there is no end-user session.
    assert!(
        !c.join("profiles").exists()
            || std::fs::read_dir(c.join("profiles"))
                .unwrap()
                .next()
                .is_none()
    );

    let fails = |extra: Vec<&'static str>, client: (&'static str, Option<&'static str>)| {
        let mut cmd = rp(c);
        cmd.args([
            "client-credentials",
            "--issuer",
            op.issuer(),
            "--client-id",
            client.0,
        ]);
        if let Some(secret) = client.1 {
            cmd.args(["--client-secret", secret]);
        }
        cmd.args(extra);
        async move { failure(&output(cmd).await) }
    };
    let svc_client = ("rp-service", Some("rp-service-secret"));
    let (code, err) = fails(vec!["--scope", "openid"], svc_client).await;
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("invalid_scope"), "{err}");
    let (code, err) = fails(vec!["--audience", "https://evil.example"], svc_client).await;
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("invalid_target"), "{err}");
    // A client without the grant, and a public client (refused before anything is sent).
    let (code, err) = fails(vec![], ("rp-demo", Some("rp-demo-secret"))).await;
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("unauthorized_client"), "{err}");
    let (code, err) = fails(vec![], ("rp-public", None)).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("confidential client"), "{err}");
    let (code, err) = fails(vec![], ("rp-service", Some("guess-7f3a9c"))).await;
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("invalid_client") && !err.contains("guess-7f3a9c"),
        "{err}"
    );
}
