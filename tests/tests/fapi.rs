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

fn fapi_key() -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/client-keys/rp-fapi.pem")
        .display()
        .to_string()
}

/// `rp login --fapi2`: PAR, DPoP, private_key_jwt (the assertion's aud the issuer), `iss`
/// required, ES256 ID tokens; then userinfo and a refresh under the same constraints.
#[tokio::test(flavor = "multi_thread")]
async fn a_fapi2_login_and_what_follows_it() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path();
    let key = fapi_key();
    let mut cmd = rp(c);
    cmd.args(["login", "--issuer", op.issuer(), "--client-id", "rp-fapi"])
        .args(["--client-key", &key, "--fapi2", "--profile", "fapi"])
        .args([
            "--scope",
            "openid email offline_access",
            "--prompt",
            "consent",
        ])
        .args(["--username", "alice", "--password", "wonderland", "--json"]);
    let v = output_json(cmd).await;
    all_checks_passed(&v);
    assert_eq!(v["token_response"]["token_type"], "DPoP");
    let iss = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "iss_parameter")
        .unwrap();
    assert_eq!(iss["passed"], true);
    let u = run_json(c, &["userinfo", "--profile", "fapi"]).await;
    assert_eq!(u["userinfo"]["email"], "alice@wonderland.example");
    let r = run_json(c, &["refresh", "--profile", "fapi"]).await;
    all_checks_passed(&r);
    assert_eq!(r["token_response"]["token_type"], "DPoP");
}

#[tokio::test(flavor = "multi_thread")]
async fn fapi2_names_what_the_client_or_the_provider_lacks() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    // The client: no private key.
    let mut cmd = rp(dir.path());
    cmd.args([
        "login",
        "--issuer",
        op.issuer(),
        "--client-id",
        "rp-fapi",
        "--fapi2",
    ]);
    let out = output(cmd).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("FAPI 2.0") && stderr.contains("private key"),
        "{stderr}"
    );
    // The provider: no PAR, no DPoP, no iss parameter.
    let bare = StaticServer::start(vec![(
        "/.well-known/openid-configuration",
        (
            200,
            "application/json",
            r#"{"issuer":"{base}","authorization_endpoint":"{base}/a","token_endpoint":"{base}/t",
            "jwks_uri":"{base}/jwks","response_types_supported":["code"],
            "subject_types_supported":["public"],"id_token_signing_alg_values_supported":["ES256"],
            "token_endpoint_auth_methods_supported":["private_key_jwt"]}"#
                .into(),
        ),
    )])
    .await;
    let mut cmd = rp(dir.path());
    cmd.args(["login", "--issuer", &bare.base, "--client-id", "c"])
        .args(["--client-key", &fapi_key(), "--fapi2"]);
    let out = output(cmd).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(10), "{stderr}");
    for missing in ["pushed_authorization_request_endpoint", "DPoP", "RFC 9207"] {
        assert!(stderr.contains(missing), "{missing} not named: {stderr}");
    }
}

/// `rp login --jarm`: the signed authorization response, in the query and in a form post,
/// checked (the report says so) before its code is used; with FAPI 2.0 too.
#[tokio::test(flavor = "multi_thread")]
async fn jarm_responses_are_checked_before_use() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    for extra in [&["--jarm"][..], &["--jarm", "--form-post"][..]] {
        let mut cmd = rp_login(dir.path(), op.issuer(), ("rp-demo", "rp-demo-secret"));
        cmd.args([
            "--username",
            "alice",
            "--password",
            "wonderland",
            "--json",
            "--no-cache",
        ])
        .args(extra);
        let v = output_json(cmd).await;
        all_checks_passed(&v);
        assert!(
            v["checks"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["id"] == "response_jwt"),
            "{v}"
        );
    }
    let mut cmd = rp(dir.path());
    cmd.args(["login", "--issuer", op.issuer(), "--client-id", "rp-fapi"])
        .args([
            "--client-key",
            &fapi_key(),
            "--fapi2",
            "--jarm",
            "--no-cache",
        ])
        .args(["--username", "alice", "--password", "wonderland", "--json"]);
    all_checks_passed(&output_json(cmd).await);
}

/// `rp call`: an API called with the profile's token, here the provider's userinfo standing in
/// for a resource server: Bearer for a plain login, DPoP proofs (and the nonce retry) for a
/// DPoP-bound one; a refusal exits 4 with the status.
#[tokio::test(flavor = "multi_thread")]
async fn rp_call_presents_the_token_as_the_api_needs() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path();
    let api = format!("{}/userinfo", op.issuer());
    for (profile, extra) in [("plain", &[][..]), ("bound", &["--dpop"][..])] {
        let mut cmd = rp_login(c, op.issuer(), ("rp-demo", "rp-demo-secret"));
        cmd.args([
            "--username",
            "alice",
            "--password",
            "wonderland",
            "--profile",
            profile,
        ])
        .args(extra);
        output_ok(cmd).await;
        let v = run_json(c, &["call", &api, "--profile", profile]).await;
        assert_eq!(v["status"], 200, "{v}");
        assert_eq!(v["body"]["sub"], "248289761001", "{v}");
    }
    let (code, stderr) = run_failing(
        c,
        &[
            "call",
            &format!("{}/introspect", op.issuer()),
            "--profile",
            "plain",
            "--method",
            "POST",
        ],
    )
    .await;
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("answered HTTP 4"), "{stderr}");
}

/// `--client-key` takes a private JWK as well as a PEM.
#[tokio::test(flavor = "multi_thread")]
async fn the_client_key_may_be_a_jwk() {
    use base64::Engine;
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let pem = std::fs::read_to_string(fapi_key()).unwrap();
    let der = base64::engine::general_purpose::STANDARD
        .decode(
            pem.lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<String>(),
        )
        .unwrap();
    // PKCS#8 P-256: the private key is the 32-byte OCTET STRING (04 20 ...), the public
    // point the 65 bytes after the BIT STRING header (03 42 00 04 ...).
    let d_at = der.windows(2).position(|w| w == [0x04, 0x20]).unwrap() + 2;
    let p_at = der
        .windows(4)
        .position(|w| w == [0x03, 0x42, 0x00, 0x04])
        .unwrap()
        + 4;
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let jwk = serde_json::json!({
        "kty": "EC", "crv": "P-256",
        "x": b64(&der[p_at..p_at + 32]), "y": b64(&der[p_at + 32..p_at + 64]),
        "d": b64(&der[d_at..d_at + 32]),
    });
    let file = dir.path().join("rp-fapi.jwk.json");
    std::fs::write(&file, jwk.to_string()).unwrap();
    let mut cmd = rp(dir.path());
    cmd.args(["login", "--issuer", op.issuer(), "--client-id", "rp-fapi"])
        .args([
            "--client-key",
            file.to_str().unwrap(),
            "--fapi2",
            "--no-cache",
        ])
        .args(["--username", "alice", "--password", "wonderland", "--json"]);
    all_checks_passed(&output_json(cmd).await);
}

/// `rp login --client-cert` with `self_signed_tls_client_auth` against the bundled provider
/// over HTTPS: the certificate authenticates the client, the profile remembers it, and the
/// certificate-bound token works for `rp userinfo` because the certificate comes along.
#[tokio::test(flavor = "multi_thread")]
async fn mutual_tls_from_the_command_line() {
    use base64::Engine;
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["rp-cli-test".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let mut fixtures = rp_provider::Fixtures::embedded();
    fixtures.clients.push(
        serde_json::from_value(serde_json::json!({
            "client_id": "mtls",
            "redirect_uris": ["http://127.0.0.1/callback"],
            "token_endpoint_auth_method": "self_signed_tls_client_auth",
            "grant_types": ["authorization_code"],
            "application_type": "native",
            "jwks": {"keys": [{"kty": "EC", "x5c": [
                base64::engine::general_purpose::STANDARD.encode(cert.der())
            ]}]},
        }))
        .unwrap(),
    );
    let op = rp_provider::start(rp_provider::ProviderConfig {
        tls: true,
        fixtures,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("client.pem");
    std::fs::write(&pem, format!("{}{}", cert.pem(), key.serialize_pem())).unwrap();
    let ca = op.ca_file().unwrap().to_str().unwrap().to_string();
    let mut cmd = rp(dir.path());
    cmd.args([
        "login",
        "--issuer",
        op.issuer(),
        "--ca-file",
        &ca,
        "--client-id",
        "mtls",
    ])
    .args(["--token-auth-method", "self_signed_tls_client_auth"])
    .args(["--client-cert", pem.to_str().unwrap(), "--profile", "m"])
    .args(["--username", "alice", "--password", "wonderland", "--json"]);
    all_checks_passed(&output_json(cmd).await);
    let u = run_json(dir.path(), &["userinfo", "--profile", "m"]).await;
    assert_eq!(u["userinfo"]["sub"], "248289761001");
}

/// `rp login --request-object value|reference` (RFC 9101): the request travels signed with
/// the client's key, in `request` or at a `request_uri` rp serves once on its listener;
/// the provider verifies it (a key that is not the client's is refused) before the login.
#[tokio::test(flavor = "multi_thread")]
async fn signed_request_objects_by_value_and_by_reference() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let key = fapi_key();
    for how in ["value", "reference"] {
        let mut cmd = rp(dir.path());
        cmd.args(["login", "--issuer", op.issuer(), "--client-id", "rp-jar"])
            .args(["--client-key", &key, "--request-object", how])
            .args(["--username", "alice", "--password", "wonderland", "--json"]);
        let out = output_ok(cmd).await;
        all_checks_passed(&json(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            stderr.contains("serving the signed request object once"),
            how == "reference",
            "{stderr}"
        );
    }
    // Signed with a key the client did not register: the provider refuses the object.
    let wrong = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/keys/es256.pem")
        .display()
        .to_string();
    for how in ["value", "reference"] {
        let mut cmd = rp(dir.path());
        cmd.args(["login", "--issuer", op.issuer(), "--client-id", "rp-jar"])
            .args(["--client-key", &wrong, "--request-object", how])
            .args(["--username", "alice", "--password", "wonderland"]);
        let out = output(cmd).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{stderr}");
        assert!(
            stderr.contains("does not verify with the client's registered keys"),
            "{how}: the provider should refuse the object: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn request_object_usage_errors_are_named() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    // No key to sign with.
    let (code, stderr) = run_failing(
        dir.path(),
        &[
            "login",
            "--issuer",
            op.issuer(),
            "--client-id",
            "rp-demo",
            "--client-secret",
            "rp-demo-secret",
            "--request-object",
            "value",
        ],
    )
    .await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--client-key"), "{stderr}");
    // A pushed request is already by reference.
    let key = fapi_key();
    let (code, stderr) = run_failing(
        dir.path(),
        &[
            "login",
            "--issuer",
            op.issuer(),
            "--client-id",
            "rp-jar",
            "--client-key",
            &key,
            "--par",
            "--request-object",
            "reference",
        ],
    )
    .await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--request-object value"), "{stderr}");
}

/// `--dpop-key`: the caller's own DPoP key (here the fixture P-256 key), kept with the
/// profile: the token's binding is its thumbprint, and refresh presents proofs of it.
#[tokio::test(flavor = "multi_thread")]
async fn a_given_dpop_key_binds_the_tokens() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path();
    let key = fapi_key();
    let mut cmd = rp(c);
    cmd.args(["login", "--issuer", op.issuer(), "--client-id", "rp-public"])
        .args(["--dpop-key", &key, "--profile", "own", "--par"])
        .args(["--scope", "openid offline_access", "--prompt", "consent"])
        .args(["--username", "alice", "--password", "wonderland", "--json"]);
    let out = output_ok(cmd).await;
    let v = json(&out);
    all_checks_passed(&v);
    assert_eq!(v["token_response"]["token_type"], "DPoP");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("the given ES256 DPoP key"), "{stderr}");
    let r = run_json(c, &["refresh", "--profile", "own"]).await;
    assert_eq!(r["token_response"]["token_type"], "DPoP");
    // Not a key at all: a usage error naming the flag.
    let (code, stderr) = run_failing(
        c,
        &[
            "login",
            "--issuer",
            op.issuer(),
            "--client-id",
            "rp-public",
            "--dpop-key",
            "/dev/null",
        ],
    )
    .await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--dpop-key"), "{stderr}");
}

/// The bundled provider's request object rules (RFC 9101, OIDC Core §6.2), each refusal
/// shown with its reason: no request_uri over 512 characters, none outside https (or http
/// on loopback), none the client did not register when it registered some, and no
/// `request_uri` inside a request object.
#[tokio::test(flavor = "multi_thread")]
async fn the_provider_refuses_request_objects_it_must() {
    let op = provider().await;
    let http = reqwest::Client::new();
    let authorize = |pairs: Vec<(&str, String)>| {
        let mut url = url::Url::parse(&format!("{}/authorize", op.issuer())).unwrap();
        url.query_pairs_mut().extend_pairs(pairs);
        let http = http.clone();
        async move { http.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let base = |client: &str| {
        vec![
            ("client_id", client.to_string()),
            ("response_type", "code".to_string()),
            ("scope", "openid".to_string()),
        ]
    };
    let mut long = base("rp-jar");
    long.push((
        "request_uri",
        format!("http://127.0.0.1:9999/{}", "a".repeat(520)),
    ));
    assert!(authorize(long).await.contains("512 characters"));
    let mut remote = base("rp-jar");
    remote.push(("request_uri", "http://op.example/r".into()));
    assert!(authorize(remote).await.contains("must be https"));

    let key = oidc_rp::ClientKey::from_pem(&std::fs::read_to_string(fapi_key()).unwrap()).unwrap();
    let nested = key
        .sign(
            "oauth-authz-req+jwt",
            &serde_json::json!({
                "client_id": "rp-jar",
                "response_type": "code",
                "scope": "openid",
                "redirect_uri": "http://127.0.0.1/callback",
                "request_uri": "http://127.0.0.1:9999/x",
            }),
        )
        .unwrap();
    let mut by_value = base("rp-jar");
    by_value.push(("request", nested));
    assert!(
        authorize(by_value)
            .await
            .contains("cannot carry request or request_uri")
    );

    // A client that registered its request_uris uses one of them.
    let registered: serde_json::Value = http
        .post(format!("{}/register", op.issuer()))
        .header("content-type", "application/json")
        .body(
            serde_json::json!({
                "redirect_uris": ["http://127.0.0.1/callback"],
                "token_endpoint_auth_method": "private_key_jwt",
                "jwks": {"keys": [key.public_jwk()]},
                "request_uris": ["http://127.0.0.1:9999/mine"],
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    let id = registered["client_id"].as_str().unwrap();
    let mut other = base(id);
    other.push(("request_uri", "http://127.0.0.1:9999/other".into()));
    assert!(authorize(other).await.contains("registered request_uris"));
}

/// PKI mutual TLS at the bundled provider (RFC 8705 §2.1): a certificate from its CA with
/// the registered subject authenticates the client, and binds its tokens; one with another
/// subject, or from no trusted CA, is refused with the reason.
#[tokio::test(flavor = "multi_thread")]
async fn tls_client_auth_with_the_providers_ca() {
    let mut fixtures = rp_provider::Fixtures::embedded();
    fixtures.clients.push(
        serde_json::from_value(serde_json::json!({
            "client_id": "pki",
            "redirect_uris": ["http://127.0.0.1/callback"],
            "token_endpoint_auth_method": "tls_client_auth",
            "tls_client_auth_subject_dn": "CN=rp-pki-client",
            "grant_types": ["authorization_code"],
            "application_type": "native",
        }))
        .unwrap(),
    );
    let op = rp_provider::start(rp_provider::ProviderConfig {
        tls: true,
        fixtures,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let write = |name: &str, pem: String| {
        let path = d.join(name);
        std::fs::write(&path, pem).unwrap();
        path.to_str().unwrap().to_string()
    };
    let good = write(
        "good.pem",
        op.client_certificate("rp-pki-client").unwrap().unwrap(),
    );
    let other = write(
        "other.pem",
        op.client_certificate("someone-else").unwrap().unwrap(),
    );
    let key = rcgen::KeyPair::generate().unwrap();
    let untrusted = rcgen::CertificateParams::new(vec!["rp-pki-client".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let untrusted = write(
        "untrusted.pem",
        format!("{}{}", untrusted.pem(), key.serialize_pem()),
    );
    let ca = op.ca_file().unwrap().to_str().unwrap().to_string();
    let login = |cert: &str, profile: &str| {
        let mut cmd = rp(d);
        cmd.args(["login", "--issuer", op.issuer(), "--ca-file", &ca])
            .args([
                "--client-id",
                "pki",
                "--token-auth-method",
                "tls_client_auth",
            ])
            .args(["--client-cert", cert, "--profile", profile])
            .args(["--username", "alice", "--password", "wonderland", "--json"]);
        cmd
    };
    let v = output_json(login(&good, "pki")).await;
    all_checks_passed(&v);
    let u = run_json(d, &["userinfo", "--profile", "pki"]).await;
    assert_eq!(u["userinfo"]["sub"], "248289761001");
    for (cert, why) in [
        (
            &other,
            "does not match the registered tls_client_auth_subject_dn",
        ),
        (&untrusted, "not from a trusted CA"),
    ] {
        let out = output(login(cert, "refused")).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{stderr}");
        assert!(
            stderr.contains("invalid_client") && stderr.contains(why),
            "{why}: {stderr}"
        );
    }
}
