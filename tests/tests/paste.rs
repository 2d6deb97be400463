//! `rp login --paste`: the authorization URL is printed, a browser elsewhere logs in, and the
//! URL it ends on is pasted back; its state is checked like any callback.
#![allow(clippy::unwrap_used)]

use rp_tests::*;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

/// Run `rp login --paste`, log in as alice with a headless browser from the printed URL, and
/// paste back the redirect URL after `tamper` changes it.
async fn paste_login(tamper: fn(url::Url) -> url::Url) -> (i32, String, String) {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = rp_login(dir.path(), op.issuer(), ("rp-demo", "rp-demo-secret"));
    cmd.args(["--paste", "--no-userinfo"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let url = tokio::task::spawn_blocking(move || {
        // Bounded: rp prints the URL after discovery, within a few lines.
        for _ in 0..20 {
            let mut line = String::new();
            if stderr.read_line(&mut line).unwrap() == 0 {
                break;
            }
            seen.push_str(&line);
            if line.starts_with("http") && line.contains("code_challenge=") {
                return (url::Url::parse(line.trim()).unwrap(), stderr, seen);
            }
        }
        panic!("no authorization URL printed: {seen}");
    })
    .await
    .unwrap();
    let (url, mut stderr, mut seen) = url;
    let redirect = query_param(&url, "redirect_uri");
    let browser = oidc_rp_headless::Browser::new(&oidc_rp::HttpClient::default()).unwrap();
    let arrival = oidc_rp_headless::walk(
        &browser,
        &url,
        &redirect,
        Some(&oidc_rp_headless::Credentials {
            username: "alice".into(),
            password: oidc_rp::Secret::new("wonderland"),
        }),
    )
    .await
    .unwrap();
    let pasted = tamper(arrival.url);
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{pasted}").unwrap();
    drop(stdin);
    let out = tokio::task::spawn_blocking(move || {
        let out = child.wait_with_output().unwrap();
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
        seen.push_str(&rest);
        (out, seen)
    })
    .await
    .unwrap();
    let (out, stderr) = out;
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pasted_redirect_url_completes_the_login() {
    let (code, stdout, stderr) = paste_login(|u| u).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("every check passed"), "{stdout}");
    assert!(stderr.contains("paste the whole URL"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pasted_url_with_another_state_is_refused() {
    let (code, _, stderr) = paste_login(|mut u| {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "state" {
                    "forged".into()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
        u
    })
    .await;
    assert_eq!(code, 5, "{stderr}");
    assert!(stderr.contains("state"), "{stderr}");
}
