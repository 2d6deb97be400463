//! The FAPI 2.0 building blocks from the command line, over loopback against the bundled
//! provider: pushed authorization requests (RFC 9126) and DPoP (RFC 9449).
#![allow(clippy::unwrap_used)]

use rp_tests::*;

#[tokio::test(flavor = "multi_thread")]
async fn rp_login_par_pushes_and_the_login_is_checked_as_ever() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = rp_login(dir.path(), op.issuer(), ("rp-demo", "rp-demo-secret"));
    cmd.args([
        "--par",
        "--username",
        "alice",
        "--password",
        "wonderland",
        "--json",
    ]);
    let out = output_ok(cmd).await;
    let v = json(&out);
    all_checks_passed(&v);
    assert_eq!(v["subject"], "248289761001");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("pushing the authorization request"),
        "{stderr}"
    );
}

/// `rp login --dpop`: the tokens are bound to a key kept with the profile, and every later
/// command presents them with proofs of it (userinfo, refresh, rp token).
#[tokio::test(flavor = "multi_thread")]
async fn a_dpop_login_keeps_its_key_and_every_command_uses_it() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path();
    let mut cmd = rp(c);
    cmd.args(["login", "--issuer", op.issuer(), "--client-id", "rp-public"])
        .args(["--username", "alice", "--password", "wonderland"])
        .args([
            "--profile",
            "bank",
            "--scope",
            "openid email offline_access",
        ])
        .args(["--prompt", "consent", "--dpop", "--par", "--json"]);
    let v = output_json(cmd).await;
    all_checks_passed(&v);
    assert_eq!(v["token_response"]["token_type"], "DPoP", "{v}");

    let u = run_json(c, &["userinfo", "--profile", "bank"]).await;
    assert_eq!(u["userinfo"]["email"], "alice@wonderland.example");
    let r = run_json(c, &["refresh", "--profile", "bank"]).await;
    all_checks_passed(&r);
    assert_eq!(r["token_response"]["token_type"], "DPoP");
    let t = run_json(c, &["token", "--profile", "bank"]).await;
    assert_eq!(t["token_type"], "DPoP");
    // The bound token alone, without the key, is refused by the provider.
    let (code, stderr) = run_failing(
        c,
        &[
            "userinfo",
            "--issuer",
            op.issuer(),
            "--client-id",
            "rp-public",
            "--token",
            t["token"].as_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("DPoP-bound"), "{stderr}");
}
