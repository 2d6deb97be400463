//! Property: for every JWS algorithm the library verifies (RFC 7518 §3.1, RFC 8037 §3.1), a
//! token signed with it verifies, whatever the claims, and one changed byte anywhere in the
//! token is refused. Our own signers take part where they exist: the client's keys
//! ([`ClientKey`], RS256 and ES256, for private_key_jwt and request objects) and the HMAC key
//! of the client secret (HS256, HS384, HS512); the algorithms rp only ever verifies (RS384 to
//! PS512, ES384, EdDSA) are signed here with ring directly.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use oidc_rp::jwt::{KeySource, SignaturePolicy, TypRule, verify_signature};
use oidc_rp::keys::{JwksCache, JwksPolicy, KeySet};
use oidc_rp::{Alg, ClientKey, HttpClient, HttpConfig, Secret};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const SECRET: &str = "a-client-secret-long-enough-for-hs256-0123456789";

/// Every algorithm but `none`, which no signature policy allows: taken from the library's
/// list, so that an algorithm added there fails this test until it is signed here too.
fn signed_algs() -> Vec<Alg> {
    Alg::ALL.into_iter().filter(|a| *a != Alg::None).collect()
}

struct Setup {
    rsa: TestKey,
    p384: TestKey,
    ed: TestKey,
    ours: Vec<ClientKey>,
    algs: Vec<Alg>,
    jwks: JwksCache,
    http: HttpClient,
    runtime: tokio::runtime::Runtime,
}

fn setup() -> Setup {
    let ours = vec![
        ClientKey::from_pem(include_str!("../../../fixtures/keys/rs256.pem")).unwrap(),
        ClientKey::from_pem(include_str!("../../../fixtures/keys/es256.pem")).unwrap(),
    ];
    let (rsa, p384, ed) = (
        TestKey::rsa(Some("r")),
        TestKey::ec384(Some("e3")),
        TestKey::ed(Some("d")),
    );
    let mut keys: Vec<Value> = ours.iter().map(|k| k.public_jwk().clone()).collect();
    keys.extend([rsa.jwk.clone(), p384.jwk.clone(), ed.jwk.clone()]);
    let set = json!({ "keys": keys });
    let jwks = JwksCache::new(
        url::Url::parse("https://op.example/jwks").unwrap(),
        JwksPolicy::default(),
    );
    jwks.preload(KeySet::from_json(set.to_string().as_bytes()).unwrap());
    Setup {
        rsa,
        p384,
        ed,
        ours,
        algs: signed_algs(),
        jwks,
        http: HttpClient::new(HttpConfig::default()),
        runtime: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
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
        allowed_algs: &s.algs,
        client_secret: Some(&secret),
        typ: TypRule::Any,
    };
    s.runtime
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
        let mut tokens: Vec<String> = s.ours.iter().map(|k| k.sign("JWT", &claims).unwrap()).collect();
        for alg in [Alg::RS384, Alg::RS512, Alg::PS256, Alg::PS384, Alg::PS512] {
            tokens.push(s.rsa.sign_as(alg.name(), &claims));
        }
        tokens.push(s.p384.sign(&claims));
        tokens.push(s.ed.sign(&claims));
        for alg in [Alg::HS256, Alg::HS384, Alg::HS512] {
            let key = rp_jose::HmacKey::new(alg, SECRET.as_bytes()).unwrap();
            tokens.push(rp_jose::encode(&key, Some("JWT"), &claims).unwrap());
        }
        // Every algorithm, each once.
        let mut algs: Vec<String> = tokens
            .iter()
            .map(|t| rp_jose::Compact::parse(t).unwrap().header.alg)
            .collect();
        algs.sort_unstable();
        let mut all: Vec<String> = s.algs.iter().map(|a| a.name().to_string()).collect();
        all.sort_unstable();
        prop_assert_eq!(algs, all);
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
