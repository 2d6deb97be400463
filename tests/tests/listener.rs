//! The loopback callback listener under hostile input: garbage bytes, oversized headers and
//! bodies, wrong paths and methods, and a crowd of concurrent forged callbacks. It must keep
//! answering and still complete the genuine login afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rp_tests::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn raw(addr: &str, bytes: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let _ = s.write_all(bytes).await;
    let _ = s.shutdown().await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), s.read_to_end(&mut out)).await;
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn listener_survives_hostile_input() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = rp_login(dir.path(), op.issuer(), ("rp-demo", "rp-demo-secret"));
    cmd.args(["--no-browser", "--timeout", "60", "--json"]);
    let mut rp = Watched::spawn(cmd);
    let url = url::Url::parse(&rp.line(|l| l.starts_with("http://")).await).unwrap();
    let redirect = query_param(&url, "redirect_uri");
    let redirect_url = url::Url::parse(&redirect).unwrap();
    let addr = format!("127.0.0.1:{}", redirect_url.port().unwrap());

    // Garbage, binary noise, a truncated request, an oversized header, a huge body.
    raw(&addr, b"\x00\x01\x02\xff\xfe garbage \r\n\r\n").await;
    raw(&addr, &(0..=255u8).cycle().take(20_000).collect::<Vec<_>>()).await;
    raw(&addr, b"GET /callback?code=x HTTP/1.1\r\nHost: 127").await;
    let big_header = format!(
        "GET /callback HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "A".repeat(1024 * 1024)
    );
    raw(&addr, big_header.as_bytes()).await;
    let big_body = format!(
        "POST /callback HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{}",
        200_000,
        "a".repeat(200_000)
    );
    let answer = raw(&addr, big_body.as_bytes()).await;
    assert!(
        String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 400"),
        "oversized form_post refused"
    );

    // Wrong paths and methods.
    let client = reqwest::Client::new();
    for path in [
        "/",
        "/favicon.ico",
        "/callback/",
        "/callbackx?state=a",
        "/../etc/passwd",
    ] {
        let r = client
            .get(format!("http://{addr}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    let r = client
        .delete(format!("http://{addr}/callback"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let r = client
        .post(format!("http://{addr}/callback"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // A crowd of concurrent forged callbacks.
    let forged: Vec<_> = (0..64)
        .map(|i| {
            let client = client.clone();
            let url = format!("{redirect}?code=c{i}&state=s{i}");
            tokio::spawn(async move { client.get(url).send().await.map(|r| r.status().as_u16()) })
        })
        .collect();
    for f in forged {
        assert_eq!(f.await.unwrap().unwrap(), 400);
    }

    // Idle connections that never send a byte (slowloris) stay open during the real login.
    let mut idle = Vec::new();
    for _ in 0..8 {
        idle.push(TcpStream::connect(&addr).await.unwrap());
    }

    // Still alive: the genuine login completes.
    let outcome = drive_as_alice(&url, &redirect).await;
    assert_eq!(outcome.status, 200);
    let (code, stdout, stderr) = rp.finish().await;
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    all_checks_passed(&v);

    drop(idle);
    // Single use: the listener is gone once the login completed.
    assert!(
        TcpStream::connect(&addr).await.is_err(),
        "the listener stopped"
    );
}

/// A flood of hostile connections: hundreds that never send a byte, oversized request lines,
/// endless headers, then the genuine callback, which completes. Memory and threads stay
/// bounded (a 400 MB request line used to grow rp by 400 MB; 1,000 idle connections made
/// 887 threads).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn listener_bounds_a_flood_and_still_completes_the_login() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = rp_login(dir.path(), op.issuer(), ("rp-demo", "rp-demo-secret"));
    cmd.args(["--no-browser", "--timeout", "120", "--json"]);
    let mut rp = Watched::spawn(cmd);
    let pid = rp.child.id();
    let url = url::Url::parse(&rp.line(|l| l.starts_with("http://")).await).unwrap();
    let redirect = query_param(&url, "redirect_uri");
    let addr = format!(
        "127.0.0.1:{}",
        url::Url::parse(&redirect).unwrap().port().unwrap()
    );

    // 300 idle connections (the listener serves 64 at once, evicting idle ones).
    let mut idle = Vec::new();
    for _ in 0..300 {
        if let Ok(s) = TcpStream::connect(&addr).await {
            idle.push(s);
        }
    }
    // 16 request lines of up to 32 MB each, and endless headers: cut off after 16 KiB.
    let floods: Vec<_> = (0..16)
        .map(|i| {
            let addr = addr.clone();
            tokio::spawn(async move {
                let Ok(mut s) = TcpStream::connect(&addr).await else {
                    return 0usize;
                };
                let mut sent = 0usize;
                let start: &[u8] = if i % 2 == 0 {
                    b"GET /callback?x="
                } else {
                    b"GET /callback HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                };
                if s.write_all(start).await.is_err() {
                    return sent;
                }
                let chunk = if i % 2 == 0 {
                    vec![b'A'; 64 * 1024]
                } else {
                    b"X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n".repeat(1000)
                };
                while sent < 32 * 1024 * 1024 {
                    match tokio::time::timeout(
                        std::time::Duration::from_secs(5),
                        s.write_all(&chunk),
                    )
                    .await
                    {
                        Ok(Ok(())) => sent += chunk.len(),
                        _ => break,
                    }
                }
                sent
            })
        })
        .collect();
    for f in floods {
        let sent = f.await.unwrap();
        assert!(
            sent < 32 * 1024 * 1024,
            "the listener kept reading an endless request head ({sent} bytes)"
        );
    }
    // A crowd of complete forged callbacks, refused one by one.
    let client = reqwest::Client::new();
    for i in 0..50 {
        let r = client
            .get(format!("{redirect}?code=c{i}&state=s{i}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
    }
    // A DNS-rebinding page would send another Host: refused.
    let rebind = raw(
        &addr,
        b"GET /callback?code=x&state=y HTTP/1.1\r\nHost: evil.example\r\n\r\n",
    )
    .await;
    assert!(
        String::from_utf8_lossy(&rebind).starts_with("HTTP/1.1 400"),
        "{}",
        String::from_utf8_lossy(&rebind)
    );

    // The genuine callback completes while the idle connections are still open.
    let outcome = drive_as_alice(&url, &redirect).await;
    assert_eq!(outcome.status, 200, "{}", outcome.body);
    let (_, peak_kib, threads) = proc_status(pid);
    eprintln!("rp under the flood: peak RSS {peak_kib} KiB, {threads} threads");
    let (code, stdout, stderr) = rp.finish().await;
    assert_eq!(code, 0, "{stderr}");
    all_checks_passed(&serde_json::from_str(&stdout).unwrap());
    assert!(
        peak_kib < 150 * 1024,
        "rp grew to {peak_kib} KiB under the flood"
    );
    assert!(threads < 40, "{threads} threads under the flood");
    drop(idle);
}
