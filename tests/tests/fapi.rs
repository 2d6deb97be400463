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
