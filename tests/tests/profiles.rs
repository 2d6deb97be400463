//! `rp profiles`: list, show and remove cached logins; `rm --revoke` revokes at the provider.
#![allow(clippy::unwrap_used)]

use rp_tests::*;

#[tokio::test(flavor = "multi_thread")]
async fn list_show_and_remove_with_revocation() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    for (name, scope) in [("work", "openid offline_access"), ("home", "openid")] {
        let mut cmd = rp_login(dir.path(), op.issuer(), ("rp-demo", "rp-demo-secret"));
        cmd.args(["--username", "alice", "--password", "wonderland"])
            .args(["--profile", name, "--scope", scope]);
        output_ok(cmd).await;
    }
    let list = run_json(dir.path(), &["profiles"]).await;
    let all = list["profiles"].as_array().unwrap();
    assert_eq!(all.len(), 2, "{list}");
    let work = all.iter().find(|p| p["name"] == "work").unwrap();
    assert_eq!(work["refresh_token"], true);
    assert_eq!(work["client_id"], "rp-demo");
    assert_eq!(work["sub"], "248289761001");
    assert!(!list.to_string().contains("rp-demo-secret"), "{list}");
    let home = all.iter().find(|p| p["name"] == "home").unwrap();
    assert_eq!(home["refresh_token"], false);

    let mut cmd = rp(dir.path());
    cmd.args(["profiles"]);
    let text = String::from_utf8(output_ok(cmd).await.stdout).unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with("work ") && l.ends_with("yes")),
        "{text}"
    );

    let mut cmd = rp(dir.path());
    cmd.args(["profiles", "show", "work"]);
    let text = String::from_utf8(output_ok(cmd).await.stdout).unwrap();
    assert!(
        text.contains("refresh token: yes") && text.contains("expires in"),
        "{text}"
    );

    // rm --revoke: the refresh token is dead at the provider afterwards.
    let mut cmd = rp(dir.path());
    cmd.args(["token", "--profile", "work", "--refresh-token"]);
    let rt = String::from_utf8(output_ok(cmd).await.stdout).unwrap();
    let removed = run_json(dir.path(), &["profiles", "rm", "work", "--revoke"]).await;
    assert_eq!(
        removed["revoked"],
        serde_json::json!(["refresh_token", "access_token"])
    );
    let (code, stderr) = run_failing(
        dir.path(),
        &[
            "refresh",
            "--issuer",
            op.issuer(),
            "--client-id",
            "rp-demo",
            "--client-secret",
            "rp-demo-secret",
            "--token",
            rt.trim(),
        ],
    )
    .await;
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("invalid_grant"), "{stderr}");
    let list = run_json(dir.path(), &["profiles"]).await;
    assert_eq!(list["profiles"].as_array().unwrap().len(), 1, "{list}");
    let (code, stderr) = run_failing(dir.path(), &["profiles", "show", "work"]).await;
    assert_eq!(code, 2, "{stderr}");
}

/// The first `rp login --profile work --issuer ... --client-id ...` remembers how it logged
/// in; `rp login --profile work` alone then logs in again the same way (not to the embedded
/// provider), and a flag given overrides the profile.
#[tokio::test(flavor = "multi_thread")]
async fn a_profile_remembers_how_it_logged_in() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let mut first = rp_login(dir.path(), op.issuer(), ("rp-post", "rp-post-secret"));
    first
        .args(["--username", "alice", "--password", "wonderland"])
        .args(["--token-auth-method", "client_secret_post"])
        .args(["--profile", "work", "--scope", "openid offline_access"]);
    output_ok(first).await;

    let mut again = rp(dir.path());
    again.args(["login", "--profile", "work", "--json"]).args([
        "--username",
        "alice",
        "--password",
        "wonderland",
    ]);
    let v = output_json(again).await;
    assert_eq!(v["issuer"], op.issuer(), "{v}");
    assert_eq!(v["client_id"], "rp-post", "{v}");
    assert_eq!(v["profile"], "work", "{v}");
    let shown = run_json(dir.path(), &["profiles", "show", "work"]).await;
    assert_eq!(
        shown["refresh_token"], true,
        "the remembered scope asked for offline_access"
    );

    // A flag wins over the profile.
    let mut narrower = rp(dir.path());
    narrower
        .args(["login", "--profile", "work", "--scope", "openid", "--json"])
        .args(["--username", "alice", "--password", "wonderland"]);
    output_json(narrower).await;
    let shown = run_json(dir.path(), &["profiles", "show", "work"]).await;
    assert_eq!(shown["refresh_token"], false, "{shown}");
}

/// Every connection flag has an environment fallback; a flag wins over the environment, and
/// the environment over a profile.
#[tokio::test(flavor = "multi_thread")]
async fn environment_fallbacks_and_their_precedence() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = rp(dir.path());
    cmd.args([
        "login",
        "--json",
        "--username",
        "alice",
        "--password",
        "wonderland",
    ])
    .env("RP_ISSUER", op.issuer())
    .env("RP_CLIENT_ID", "rp-demo")
    .env("RP_CLIENT_SECRET", "rp-demo-secret")
    .env("RP_SCOPE", "openid offline_access")
    .env("RP_PROFILE", "envy");
    let v = output_json(cmd).await;
    assert_eq!(v["issuer"], op.issuer(), "{v}");
    assert_eq!(v["profile"], "envy", "{v}");
    let shown = run_json(dir.path(), &["profiles", "show", "envy"]).await;
    assert_eq!(shown["refresh_token"], true, "RP_SCOPE was used: {shown}");

    // --scope beats RP_SCOPE.
    let mut cmd = rp(dir.path());
    cmd.args([
        "login",
        "--json",
        "--username",
        "alice",
        "--password",
        "wonderland",
    ])
    .args(["--scope", "openid"])
    .env("RP_SCOPE", "openid offline_access")
    .env("RP_PROFILE", "envy");
    output_json(cmd).await;
    let shown = run_json(dir.path(), &["profiles", "show", "envy"]).await;
    assert_eq!(shown["refresh_token"], false, "{shown}");

    // RP_PROFILE selects the profile for the lifecycle commands too.
    let mut cmd = rp(dir.path());
    cmd.args(["token", "--id-token"]).env("RP_PROFILE", "envy");
    let id = String::from_utf8(output_ok(cmd).await.stdout).unwrap();
    assert!(id.starts_with("eyJ"), "{id}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_login_replacing_another_clients_profile_says_so_and_revokes_it() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let mut first = rp_login(dir.path(), op.issuer(), ("rp-demo", "rp-demo-secret"));
    first
        .args(["--username", "alice", "--password", "wonderland"])
        .args(["--profile", "p", "--scope", "openid offline_access"]);
    output_ok(first).await;
    let mut cmd = rp(dir.path());
    cmd.args(["token", "--profile", "p", "--refresh-token"]);
    let old_rt = String::from_utf8(output_ok(cmd).await.stdout).unwrap();
    let now = || rp_provider::op::now();
    assert!(op.op().store.token(old_rt.trim(), now()).is_some());

    let mut second = rp(dir.path());
    second
        .args(["login", "--issuer", op.issuer(), "--client-id", "rp-public"])
        .args([
            "--username",
            "alice",
            "--password",
            "wonderland",
            "--profile",
            "p",
        ]);
    let out = output_ok(second).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("held a login of client rp-demo") && stderr.contains("revoked"),
        "{stderr}"
    );
    assert!(
        op.op().store.token(old_rt.trim(), now()).is_none(),
        "the replaced refresh token still works"
    );
    let list = run_json(dir.path(), &["profiles"]).await;
    assert_eq!(list["profiles"][0]["client_id"], "rp-public", "{list}");
}

#[tokio::test(flavor = "multi_thread")]
async fn stale_lock_files_are_cleaned_up_but_never_one_in_use() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let mut login = rp_login(dir.path(), op.issuer(), ("rp-demo", "rp-demo-secret"));
    login
        .args(["--username", "alice", "--password", "wonderland"])
        .args(["--profile", "gone"]);
    output_ok(login).await;
    let profiles = dir.path().join("profiles");
    let locks = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(&profiles)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "lock"))
            .collect()
    };
    assert_eq!(locks().len(), 1, "the login took the profile's lock");
    run_json(dir.path(), &["profiles", "rm", "gone"]).await;
    assert!(locks().is_empty(), "rm left its lock file");

    // Orphans (a crash, an older version): one free, one held by another process.
    let free = profiles.join("free-0000000000000000.lock");
    let held = profiles.join("held-0000000000000000.lock");
    std::fs::write(&free, b"").unwrap();
    std::fs::write(&held, b"").unwrap();
    let holder = std::fs::OpenOptions::new().write(true).open(&held).unwrap();
    holder.lock().unwrap();
    run_json(dir.path(), &["profiles"]).await;
    assert!(!free.exists(), "a stale lock file was kept");
    assert!(held.exists(), "a lock file in use was deleted");
    drop(holder);
    run_json(dir.path(), &["profiles"]).await;
    assert!(!held.exists());
}
