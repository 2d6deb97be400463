//! One test per ID token rule: each crafts a token breaking exactly that rule and checks that
//! validation fails on that check (and only a correct token passes).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use oidc_rp::id_token::{self, IdTokenRules, NonceCheck};
use oidc_rp::jwt::KeySource;
use oidc_rp::keys::{JwksCache, JwksPolicy};
use oidc_rp::{Alg, CheckId, Error, HttpClient, Secret};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const NONCE: &str = "n-0S6_WzA2Mj";
const DEFAULT_ALGS: &[Alg] = &[Alg::RS256, Alg::ES256, Alg::EdDSA];

struct Env {
    server: JwksServer,
    cache: Arc<JwksCache>,
    http: HttpClient,
}

async fn env(keys: &[&TestKey]) -> Env {
    let server = JwksServer::start(keys.iter().map(|k| k.jwk.clone()).collect()).await;
    let cache = Arc::new(JwksCache::new(server.url.clone(), JwksPolicy::default()));
    Env {
        server,
        cache,
        http: HttpClient::default(),
    }
}

impl Env {
    async fn check(
        &self,
        token: &str,
        rules: &IdTokenRules<'_>,
    ) -> Result<oidc_rp::VerifiedIdToken, Error> {
        id_token::validate(
            token,
            rules,
            KeySource {
                jwks: &self.cache,
                http: &self.http,
            },
            "ID token",
        )
        .await
    }
}

fn rules() -> IdTokenRules<'static> {
    IdTokenRules::new(ISSUER, CLIENT, DEFAULT_ALGS, NonceCheck::Equals(NONCE))
}

fn failed_check(result: Result<oidc_rp::VerifiedIdToken, Error>) -> CheckId {
    match result {
        Err(e) => e
            .check()
            .unwrap_or_else(|| panic!("not a validation error: {e}")),
        Ok(_) => panic!("the token was accepted"),
    }
}

fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}

fn without(mut claims: Value, name: &str) -> Value {
    claims.as_object_mut().unwrap().remove(name);
    claims
}

#[tokio::test]
async fn valid_tokens_pass_every_check_for_each_algorithm() {
    let keys = [
        TestKey::rsa(Some("r1")),
        TestKey::ec(Some("e1")),
        TestKey::ed(Some("d1")),
    ];
    let env = env(&keys.iter().collect::<Vec<_>>()).await;
    for key in &keys {
        let token = key.sign(&claims(NONCE));
        let verified = env.check(&token, &rules()).await.unwrap();
        assert_eq!(verified.subject, "user-1");
        assert!(verified.report.all_passed());
        for id in [
            CheckId::Signature,
            CheckId::Issuer,
            CheckId::Audience,
            CheckId::Expiry,
            CheckId::Nonce,
        ] {
            assert!(verified.report.get(id).unwrap().passed, "{id:?}");
        }
    }
    assert_eq!(env.server.hits(), 1, "the JWKS is fetched once and cached");
}

#[tokio::test]
async fn bad_signature_is_rejected() {
    let key = TestKey::rsa(Some("r1"));
    let env = env(&[&key]).await;
    let token = key.sign(&claims(NONCE));
    let (head, sig) = token.rsplit_once('.').unwrap();
    let mut sig =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, sig).unwrap();
    sig[10] ^= 0x5A;
    let forged = format!("{head}.{}", b64(&sig));
    assert_eq!(
        failed_check(env.check(&forged, &rules()).await),
        CheckId::Signature
    );

    // Claims changed after signing.
    let parts: Vec<&str> = token.split('.').collect();
    let evil = b64(with(claims(NONCE), "sub", json!("admin"))
        .to_string()
        .as_bytes());
    let tampered = format!("{}.{evil}.{}", parts[0], parts[2]);
    assert_eq!(
        failed_check(env.check(&tampered, &rules()).await),
        CheckId::Signature
    );
}

#[tokio::test]
async fn alg_none_is_rejected_unless_registered() {
    let key = TestKey::rsa(Some("r1"));
    let env = env(&[&key]).await;
    let header = b64(br#"{"alg":"none"}"#);
    let token = format!("{header}.{}.", b64(claims(NONCE).to_string().as_bytes()));
    assert_eq!(
        failed_check(env.check(&token, &rules()).await),
        CheckId::Algorithm
    );
    let err = env.check(&token, &rules()).await.unwrap_err().to_string();
    assert!(err.contains("none"), "{err}");

    // Only an explicit registration of `none` lets it through (OIDF test idtoken-sig-none).
    let registered = IdTokenRules::new(ISSUER, CLIENT, &[Alg::None], NonceCheck::Equals(NONCE));
    env.check(&token, &registered).await.unwrap();
    // ... and then a signature on it is still refused.
    let signed_none = format!(
        "{header}.{}.c2ln",
        b64(claims(NONCE).to_string().as_bytes())
    );
    assert_eq!(
        failed_check(env.check(&signed_none, &registered).await),
        CheckId::Signature
    );
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_rejected() {
    let key = TestKey::rsa(Some("r1"));
    let env = env(&[&key]).await;
    let header = json!({"alg": "HS256", "kid": "r1"});
    for secret in [
        key.jwk.to_string(),
        key.jwk["n"].as_str().unwrap().to_string(),
    ] {
        let token = sign_hs256(secret.as_bytes(), &header, &claims(NONCE));
        // Not in the allow-list of an asymmetric provider:
        assert_eq!(
            failed_check(env.check(&token, &rules()).await),
            CheckId::Algorithm
        );
        // Allowed for a confidential client, HS256 is keyed with the client secret only:
        let client_secret = Secret::new("the-real-client-secret");
        let algs = [Alg::RS256, Alg::HS256];
        let confidential = IdTokenRules {
            client_secret: Some(&client_secret),
            ..IdTokenRules::new(ISSUER, CLIENT, &algs, NonceCheck::Equals(NONCE))
        };
        assert_eq!(
            failed_check(env.check(&token, &confidential).await),
            CheckId::Signature
        );
        let genuine = sign_hs256(
            b"the-real-client-secret",
            &json!({"alg": "HS256"}),
            &claims(NONCE),
        );
        env.check(&genuine, &confidential).await.unwrap();
    }
}

#[tokio::test]
async fn claim_rules() {
    let key = TestKey::ec(Some("e1"));
    let env = env(&[&key]).await;
    let t = now();
    let cases: Vec<(&str, Value, CheckId)> = vec![
        (
            "wrong iss",
            with(claims(NONCE), "iss", json!("https://op.example/")),
            CheckId::Issuer,
        ),
        (
            "missing iss",
            without(claims(NONCE), "iss"),
            CheckId::Issuer,
        ),
        (
            "missing sub",
            without(claims(NONCE), "sub"),
            CheckId::Subject,
        ),
        (
            "wrong aud",
            with(claims(NONCE), "aud", json!("client-2")),
            CheckId::Audience,
        ),
        (
            "missing aud",
            without(claims(NONCE), "aud"),
            CheckId::Audience,
        ),
        (
            "untrusted extra aud, no azp",
            with(claims(NONCE), "aud", json!([CLIENT, "evil"])),
            CheckId::Audience,
        ),
        (
            "untrusted extra aud with azp",
            with(
                with(claims(NONCE), "aud", json!([CLIENT, "evil"])),
                "azp",
                json!(CLIENT),
            ),
            CheckId::Audience,
        ),
        (
            "wrong azp",
            with(claims(NONCE), "azp", json!("client-2")),
            CheckId::Azp,
        ),
        (
            "expired",
            with(claims(NONCE), "exp", json!(t - 61)),
            CheckId::Expiry,
        ),
        (
            "missing exp",
            without(claims(NONCE), "exp"),
            CheckId::Expiry,
        ),
        (
            "iat in the future",
            with(claims(NONCE), "iat", json!(t + 120)),
            CheckId::IssuedAt,
        ),
        (
            "missing iat",
            without(claims(NONCE), "iat"),
            CheckId::IssuedAt,
        ),
        (
            "string iat",
            with(claims(NONCE), "iat", json!("now")),
            CheckId::IssuedAt,
        ),
        (
            "missing nonce",
            without(claims(NONCE), "nonce"),
            CheckId::Nonce,
        ),
        (
            "wrong nonce",
            with(claims(NONCE), "nonce", json!("n-other")),
            CheckId::Nonce,
        ),
    ];
    for (name, c, expected) in cases {
        let token = key.sign(&c);
        assert_eq!(
            failed_check(env.check(&token, &rules()).await),
            expected,
            "{name}"
        );
    }
    // Inside the leeway: accepted.
    env.check(
        &key.sign(&with(claims(NONCE), "exp", json!(t - 30))),
        &rules(),
    )
    .await
    .unwrap();
    env.check(
        &key.sign(&with(claims(NONCE), "iat", json!(t + 30))),
        &rules(),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn several_audiences_need_azp_and_trust() {
    let key = TestKey::ec(Some("e1"));
    let env = env(&[&key]).await;
    let trusted = vec!["api".to_string()];
    let r = IdTokenRules {
        trusted_audiences: &trusted,
        ..rules()
    };
    let two = with(claims(NONCE), "aud", json!([CLIENT, "api"]));
    assert_eq!(
        failed_check(env.check(&key.sign(&two), &r).await),
        CheckId::Azp
    );
    env.check(&key.sign(&with(two, "azp", json!(CLIENT))), &r)
        .await
        .unwrap();
}

#[tokio::test]
async fn at_hash_must_match_the_access_token() {
    let key = TestKey::rsa(Some("r1"));
    let env = env(&[&key]).await;
    let access_token = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
    let r = IdTokenRules {
        access_token: Some(access_token),
        ..rules()
    };
    let good = with(claims(NONCE), "at_hash", json!("77QmUPtjPfzWtF2AnpK9RQ"));
    env.check(&key.sign(&good), &r).await.unwrap();
    let bad = with(claims(NONCE), "at_hash", json!("77QmUPtjPfzWtF2AnpK9RR"));
    assert_eq!(
        failed_check(env.check(&key.sign(&bad), &r).await),
        CheckId::AtHash
    );
    // Absent at_hash is allowed for tokens from the token endpoint (§3.1.3.8 "MAY").
    let absent = env.check(&key.sign(&claims(NONCE)), &r).await.unwrap();
    assert!(
        absent
            .report
            .get(CheckId::AtHash)
            .unwrap()
            .detail
            .contains("absent")
    );
}

#[tokio::test]
async fn max_age_and_acr() {
    let key = TestKey::ed(Some("d1"));
    let env = env(&[&key]).await;
    let acr = vec!["urn:mace:incommon:iap:silver".to_string()];
    let r = IdTokenRules {
        max_age: Some(60),
        acr_values: &acr,
        ..rules()
    };
    let t = now();
    let good = with(claims(NONCE), "acr", json!(acr[0]));
    env.check(&key.sign(&good), &r).await.unwrap();
    let old = with(good.clone(), "auth_time", json!(t - 600));
    assert_eq!(
        failed_check(env.check(&key.sign(&old), &r).await),
        CheckId::AuthTime
    );
    let missing = without(good.clone(), "auth_time");
    assert_eq!(
        failed_check(env.check(&key.sign(&missing), &r).await),
        CheckId::AuthTime
    );
    let weak = with(good, "acr", json!("0"));
    assert_eq!(
        failed_check(env.check(&key.sign(&weak), &r).await),
        CheckId::Acr
    );
}

#[tokio::test]
async fn unknown_kid_refetches_the_jwks_once() {
    let old = TestKey::ec(Some("old"));
    let new = TestKey::ec(Some("new"));
    let env = env(&[&old]).await;
    env.check(&old.sign(&claims(NONCE)), &rules())
        .await
        .unwrap();
    assert_eq!(env.server.hits(), 1);

    // The provider rotated: the token's kid is not cached; one refetch finds it.
    env.server.set_keys(vec![old.jwk.clone(), new.jwk.clone()]);
    env.check(&new.sign(&claims(NONCE)), &rules())
        .await
        .unwrap();
    assert_eq!(env.server.hits(), 2);

    // A kid the provider never had: exactly one more fetch, then a Key failure.
    let stranger = TestKey::ec(Some("stranger"));
    let err = env.check(&stranger.sign(&claims(NONCE)), &rules()).await;
    assert_eq!(failed_check(err), CheckId::Key);
    assert_eq!(env.server.hits(), 3);
}

#[tokio::test]
async fn concurrent_unknown_kids_share_one_fetch() {
    let old = TestKey::ec(Some("old"));
    let new = TestKey::ec(Some("new"));
    let env = Arc::new(env(&[&old]).await);
    env.check(&old.sign(&claims(NONCE)), &rules())
        .await
        .unwrap();
    env.server.set_keys(vec![new.jwk.clone()]);
    let token = new.sign(&claims(NONCE));
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (env, token) = (env.clone(), token.clone());
            tokio::spawn(async move { env.check(&token, &rules()).await.map(|_| ()) })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(
        env.server.hits(),
        2,
        "single flight: one refetch for 16 validations"
    );
}

#[tokio::test]
async fn refetching_is_rate_limited() {
    let key = TestKey::ec(Some("k"));
    let server = JwksServer::start(vec![key.jwk.clone()]).await;
    let cache = JwksCache::new(
        server.url.clone(),
        JwksPolicy {
            refetch_burst: 1,
            refetch_interval: Duration::from_secs(3600),
            ..Default::default()
        },
    );
    let http = HttpClient::default();
    let ks = KeySource {
        jwks: &cache,
        http: &http,
    };
    for i in 0..5 {
        let stranger = TestKey::ec(Some(&format!("s{i}")));
        let r = id_token::validate(&stranger.sign(&claims(NONCE)), &rules(), ks, "ID token").await;
        assert_eq!(failed_check(r), CheckId::Key);
    }
    assert_eq!(
        server.hits(),
        2,
        "one initial fetch and one refetch, then the bucket is empty"
    );
}

#[tokio::test]
async fn kid_absent_uses_the_single_fitting_key() {
    let rsa = TestKey::rsa(None);
    let ec = TestKey::ec(None);
    let env = env(&[&rsa, &ec]).await;
    env.check(&rsa.sign(&claims(NONCE)), &rules())
        .await
        .unwrap();
    env.check(&ec.sign(&claims(NONCE)), &rules()).await.unwrap();

    // Two keys of one type and no kid: ambiguous, refused (OIDF allows rejection).
    let ec2 = TestKey::ec(None);
    let ambiguous = self::env(&[&ec, &ec2]).await;
    assert_eq!(
        failed_check(ambiguous.check(&ec.sign(&claims(NONCE)), &rules()).await),
        CheckId::Key
    );
}

#[tokio::test]
async fn malformed_and_foreign_tokens() {
    let key = TestKey::rsa(Some("r1"));
    let env = env(&[&key]).await;
    for bad in ["", "abc", "a.b", "a.b.c.d.e", "e30.e30.e30", "!!.e30.sig"] {
        assert_eq!(
            failed_check(env.check(bad, &rules()).await),
            CheckId::Format,
            "{bad}"
        );
    }
    let mut h = key.header();
    h["typ"] = json!("logout+jwt");
    let logout = key.sign_with_header(&h, &claims(NONCE));
    assert_eq!(
        failed_check(env.check(&logout, &rules()).await),
        CheckId::TokenType
    );
    let mut h = key.header();
    h["alg"] = json!("RS512");
    let other_alg = key.sign_with_header(&h, &claims(NONCE));
    assert_eq!(
        failed_check(env.check(&other_alg, &rules()).await),
        CheckId::Algorithm
    );
    // A claim given twice: two readers could see two values; refused.
    let t = now();
    let twice = format!(
        r#"{{"iss":"{ISSUER}","sub":"user-1","aud":"{CLIENT}","exp":{},"iat":{t},"nonce":"{NONCE}","iss":"https://evil.example"}}"#,
        t + 300
    );
    let dup = key.sign_payload(&key.header(), &twice);
    assert_eq!(
        failed_check(env.check(&dup, &rules()).await),
        CheckId::Format
    );
    // Claims that are not an object.
    let array = key.sign(&json!([1, 2]));
    assert_eq!(
        failed_check(env.check(&array, &rules()).await),
        CheckId::Format
    );
}

#[tokio::test]
async fn refresh_rules_do_not_require_a_nonce() {
    let key = TestKey::ec(Some("e1"));
    let env = env(&[&key]).await;
    let r = IdTokenRules::new(ISSUER, CLIENT, DEFAULT_ALGS, NonceCheck::NotExpected);
    env.check(&key.sign(&without(claims(NONCE), "nonce")), &r)
        .await
        .unwrap();
}

#[tokio::test]
async fn failures_carry_the_report_so_far() {
    let key = TestKey::ec(Some("e1"));
    let env = env(&[&key]).await;
    let err = env
        .check(
            &key.sign(&with(claims(NONCE), "nonce", json!("x"))),
            &rules(),
        )
        .await
        .unwrap_err();
    let Error::Validation(v) = err else { panic!() };
    let last = v.report.checks().last().unwrap();
    assert_eq!(last.id, CheckId::Nonce);
    assert!(!last.passed);
    assert!(v.report.get(CheckId::Signature).unwrap().passed);
    assert!(!v.to_string().contains(NONCE), "the nonce is not echoed");
}

#[tokio::test]
async fn a_named_key_that_cannot_verify_says_why() {
    // A JWK with `use: enc` under the token's kid, and an RSA key under 2048 bits: both were
    // reported as "no key with kid …"; the message now names the actual problem.
    let key = TestKey::rsa(Some("r1"));
    let mut enc = key.jwk.clone();
    enc["use"] = json!("enc");
    let env = env(&[]).await;
    env.server.set_keys(vec![enc]);
    let err = env
        .check(&key.sign(&claims(NONCE)), &rules())
        .await
        .unwrap_err();
    assert_eq!(err.check(), Some(CheckId::Key));
    assert!(err.to_string().contains("use is `enc`"), "{err}");

    let short = json!({"kty": "RSA", "kid": "r1", "n": b64(&[0xC5u8; 128]), "e": "AQAB"});
    let env = self::env(&[]).await;
    env.server.set_keys(vec![short]);
    let err = env
        .check(&key.sign(&claims(NONCE)), &rules())
        .await
        .unwrap_err();
    assert_eq!(err.check(), Some(CheckId::Key));
    assert!(err.to_string().contains("1024 bits is too short"), "{err}");
}
