//! Back-Channel Logout 1.0 §2.6: one test case per rule, with crafted tokens.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use oidc_rp::jwt::KeySource;
use oidc_rp::keys::{JwksCache, JwksPolicy};
use oidc_rp::logout::{LogoutTokenRules, ReplayCache, validate_logout_token};
use oidc_rp::{Alg, CheckId, HttpClient};
use serde_json::{Value, json};

fn claims(jti: &str) -> Value {
    let t = now();
    json!({
        "iss": ISSUER, "aud": CLIENT, "iat": t, "exp": t + 120, "jti": jti,
        "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
        "sid": "sid-1", "sub": "user-1",
    })
}

#[tokio::test]
async fn each_rule_is_enforced() {
    let key = TestKey::rsa(Some("r1"));
    let server = JwksServer::start(vec![key.jwk.clone()]).await;
    let cache = JwksCache::new(server.url.clone(), JwksPolicy::default());
    let http = HttpClient::default();
    let keys = KeySource {
        jwks: &cache,
        http: &http,
    };
    let algs = [Alg::RS256, Alg::None];
    let rules = LogoutTokenRules::new(ISSUER, CLIENT, &algs);
    let replay = ReplayCache::default();
    let mut typed = key.header();
    typed["typ"] = json!("logout+jwt");

    let ok = key.sign_with_header(&typed, &claims("j0"));
    let lt = validate_logout_token(&ok, &rules, keys, &replay)
        .await
        .unwrap();
    assert_eq!(lt.sid.as_deref(), Some("sid-1"));
    assert!(lt.report.all_passed());

    let edit = |jti: &str, f: &dyn Fn(&mut Value)| {
        let mut c = claims(jti);
        f(&mut c);
        key.sign_with_header(&typed, &c)
    };
    let none = format!(
        "{}.{}.",
        b64(br#"{"alg":"none"}"#),
        b64(claims("j1").to_string().as_bytes())
    );
    let cases: Vec<(&str, String, CheckId)> = vec![
        (
            "alg none, even if the client registered none for ID tokens",
            none,
            CheckId::Algorithm,
        ),
        (
            "wrong iss",
            edit("j2", &|c| c["iss"] = json!("https://evil.example")),
            CheckId::Issuer,
        ),
        (
            "wrong aud",
            edit("j3", &|c| c["aud"] = json!("other")),
            CheckId::Audience,
        ),
        (
            "iat in the future",
            edit("j4", &|c| c["iat"] = json!(now() + 600)),
            CheckId::IssuedAt,
        ),
        (
            "expired",
            edit("j5", &|c| c["exp"] = json!(now() - 600)),
            CheckId::Expiry,
        ),
        (
            "no events",
            edit("j6", &|c| {
                c.as_object_mut().unwrap().remove("events");
            }),
            CheckId::Events,
        ),
        (
            "extra event",
            edit("j7", &|c| c["events"]["urn:other"] = json!({})),
            CheckId::Events,
        ),
        (
            "event value not an object",
            edit(
                "j8",
                &|c| {
                    c["events"] = json!({"http://schemas.openid.net/event/backchannel-logout": "x"})
                },
            ),
            CheckId::Events,
        ),
        (
            "no sid, no sub",
            edit("j9", &|c| {
                let o = c.as_object_mut().unwrap();
                o.remove("sid");
                o.remove("sub");
            }),
            CheckId::SidOrSub,
        ),
        (
            "nonce",
            edit("j10", &|c| c["nonce"] = json!("n")),
            CheckId::Nonce,
        ),
        (
            "no jti",
            edit("j11", &|c| {
                c.as_object_mut().unwrap().remove("jti");
            }),
            CheckId::Replay,
        ),
        ("replayed jti", ok.clone(), CheckId::Replay),
    ];
    for (name, token, expected) in cases {
        let err = validate_logout_token(&token, &rules, keys, &replay)
            .await
            .unwrap_err();
        assert_eq!(err.check(), Some(expected), "{name}: {err}");
    }
    // An ID token (typ JWT, nonce) never passes as a logout token.
    let id_token = key.sign(&json!({"iss": ISSUER, "aud": CLIENT, "iat": now(), "exp": now() + 60, "sub": "u", "nonce": "n"}));
    assert!(
        validate_logout_token(&id_token, &rules, keys, &replay)
            .await
            .is_err()
    );
}
