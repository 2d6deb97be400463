//! Property: what our keys sign, the library verifies, for every algorithm (RS256, ES256,
//! EdDSA, HS256), whatever the claims; and one changed byte anywhere in the token is refused.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use oidc_rp::jwt::{KeySource, SignaturePolicy, TypRule, verify_signature};
use oidc_rp::keys::{JwksCache, JwksPolicy, KeySet};
use oidc_rp::{Alg, HttpClient, HttpConfig, Secret};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const SECRET: &str = "a-client-secret-long-enough-for-hs256-0123456789";

struct Setup {
    keys: Vec<TestKey>,
    jwks: JwksCache,
    http: HttpClient,
}

fn setup() -> Setup {
    let keys = vec![
        TestKey::rsa(Some("r")),
        TestKey::ec(Some("e")),
        TestKey::ed(Some("d")),
    ];
    let set = json!({"keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()});
    let jwks = JwksCache::new(
        url::Url::parse("https://op.example/jwks").unwrap(),
        JwksPolicy::default(),
    );
    jwks.preload(KeySet::from_json(set.to_string().as_bytes()).unwrap());
    Setup {
        keys,
        jwks,
        http: HttpClient::new(HttpConfig::default()),
    }
}

fn claims_strategy() -> impl Strategy<Value = Value> {
    proptest::collection::btree_map("[a-z_]{1,12}", any::<String>(), 0..8).prop_map(|m| {
        Value::Object(
            m.into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect::<Map<_, _>>(),
        )
    })
}

fn verify(s: &Setup, token: &str) -> Option<Value> {
    let secret = Secret::new(SECRET);
    let policy = SignaturePolicy {
        allowed_algs: &[Alg::RS256, Alg::ES256, Alg::EdDSA, Alg::HS256],
        client_secret: Some(&secret),
        typ: TypRule::Any,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(verify_signature(
            token,
            &policy,
            KeySource {
                jwks: &s.jwks,
                http: &s.http,
            },
        ))
        .ok()
        .map(|(_, payload, _)| serde_json::from_slice(&payload).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn signed_then_verified_for_every_algorithm(claims in claims_strategy(), flip in any::<prop::sample::Index>()) {
        let s = setup();
        let mut tokens: Vec<String> = s.keys.iter().map(|k| k.sign(&claims)).collect();
        tokens.push(sign_hs256(SECRET.as_bytes(), &json!({"alg": "HS256"}), &claims));
        for token in tokens {
            prop_assert_eq!(verify(&s, &token), Some(claims.clone()));
            // One byte changed (a base64url character swapped for another): refused.
            let mut bytes = token.clone().into_bytes();
            let i = flip.index(bytes.len());
            if bytes[i] == b'.' {
                continue;
            }
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(bytes).unwrap();
            if tampered != token {
                prop_assert_eq!(verify(&s, &tampered), None, "accepted a changed token");
            }
        }
    }
}
