//! ID token validation (signature and every claim check, keys cached) beside the raw signature
//! verification of the same token with the same backend (`ring`).
//!
//! Run: `cargo bench -p oidc-rp --bench id_token`
#![allow(clippy::unwrap_used, missing_debug_implementations)]

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use criterion::{Criterion, criterion_group, criterion_main};
use oidc_rp::id_token::{self, IdTokenRules, NonceCheck};
use oidc_rp::jwt::KeySource;
use oidc_rp::keys::{JwksCache, JwksPolicy, KeySet};
use oidc_rp::{Alg, HttpClient};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use serde_json::{Value, json};
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

const ISSUER: &str = "https://op.example.com";
const CLIENT: &str = "rp-demo";
const NONCE: &str = "l8SvGoDrlL_ST7L14jIW3V4C0AwBx3FR-ktkxaTlF0c";

fn b64(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

/// The validation future never waits when the keys are cached: poll it once.
fn ready<F: Future>(f: F) -> F::Output {
    match pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("validation waited although the keys are cached"),
    }
}

type RawVerify = Box<dyn Fn(&[u8], &[u8]) -> bool>;

struct Case {
    alg: Alg,
    token: String,
    jwk: Value,
    raw: RawVerify,
}

fn claims() -> Value {
    let t = oidc_rp::time::unix_now();
    json!({"iss": ISSUER, "sub": "248289761001", "aud": CLIENT, "exp": t + 3600, "iat": t,
           "auth_time": t, "nonce": NONCE, "at_hash": "RgEutqOX_lGy3BMHHanNUw",
           "sid": "blNIyhq1SlMTVOUFv9dNTg", "amr": ["pwd"]})
}

fn sign(alg: &str, kid: &str, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let input = format!(
        "{}.{}",
        b64(json!({"alg": alg, "kid": kid, "typ": "JWT"})
            .to_string()
            .as_bytes()),
        b64(claims().to_string().as_bytes())
    );
    let sig = sign(input.as_bytes());
    format!("{input}.{}", b64(&sig))
}

fn cases() -> Vec<Case> {
    let rng = SystemRandom::new();
    let pem = include_str!("../../../fixtures/keys/rs256.pem");
    let der = STANDARD
        .decode(
            pem.lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<String>(),
        )
        .unwrap();
    let rsa = RsaKeyPair::from_pkcs8(&der).unwrap();
    let parts: ring::rsa::PublicKeyComponents<Vec<u8>> = rsa.public().into();
    let rs_token = sign("RS256", "r", |m| {
        let mut s = vec![0; rsa.public().modulus_len()];
        rsa.sign(&signature::RSA_PKCS1_SHA256, &rng, m, &mut s)
            .unwrap();
        s
    });
    let (n, e) = (parts.n.clone(), parts.e.clone());

    let p8 =
        EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let ec = EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        p8.as_ref(),
        &rng,
    )
    .unwrap();
    let point = ec.public_key().as_ref().to_vec();
    let es_token = sign("ES256", "e", |m| {
        ec.sign(&rng, m).unwrap().as_ref().to_vec()
    });

    let p8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let ed = Ed25519KeyPair::from_pkcs8(p8.as_ref()).unwrap();
    let ed_pub = ed.public_key().as_ref().to_vec();
    let ed_token = sign("EdDSA", "d", |m| ed.sign(m).as_ref().to_vec());

    let ec_point = point.clone();
    let ed_key = ed_pub.clone();
    vec![
        Case {
            alg: Alg::RS256,
            token: rs_token,
            jwk: json!({"kty": "RSA", "kid": "r", "n": b64(&parts.n), "e": b64(&parts.e)}),
            raw: Box::new(move |m, s| {
                signature::RsaPublicKeyComponents { n: &n, e: &e }
                    .verify(&signature::RSA_PKCS1_2048_8192_SHA256, m, s)
                    .is_ok()
            }),
        },
        Case {
            alg: Alg::ES256,
            token: es_token,
            jwk: json!({"kty": "EC", "crv": "P-256", "kid": "e", "x": b64(&point[1..33]), "y": b64(&point[33..65])}),
            raw: Box::new(move |m, s| {
                signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &ec_point)
                    .verify(m, s)
                    .is_ok()
            }),
        },
        Case {
            alg: Alg::EdDSA,
            token: ed_token,
            jwk: json!({"kty": "OKP", "crv": "Ed25519", "kid": "d", "x": b64(&ed_pub)}),
            raw: Box::new(move |m, s| {
                signature::UnparsedPublicKey::new(&signature::ED25519, &ed_key)
                    .verify(m, s)
                    .is_ok()
            }),
        },
    ]
}

fn bench(c: &mut Criterion) {
    let cases = cases();
    let jwks = json!({"keys": cases.iter().map(|c| c.jwk.clone()).collect::<Vec<_>>()});
    let cache = JwksCache::new(
        url::Url::parse("https://op.example.com/jwks").unwrap(),
        JwksPolicy::default(),
    );
    cache.preload(KeySet::from_json(jwks.to_string().as_bytes()).unwrap());
    let http = HttpClient::default();
    let algs = [Alg::RS256, Alg::ES256, Alg::EdDSA];
    for case in &cases {
        let (input, sig) = case.token.rsplit_once('.').unwrap();
        let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
        assert!((case.raw)(input.as_bytes(), &sig));
        let rules = IdTokenRules::new(ISSUER, CLIENT, &algs, NonceCheck::Equals(NONCE));
        let keys = KeySource {
            jwks: &cache,
            http: &http,
        };
        let verified = ready(id_token::validate(&case.token, &rules, keys, "ID token")).unwrap();
        assert!(verified.report.all_passed());

        let mut group = c.benchmark_group(case.alg.name());
        group.bench_function("raw signature verify (ring)", |b| {
            b.iter(|| assert!((case.raw)(black_box(input.as_bytes()), black_box(&sig))))
        });
        group.bench_function("full ID token validation", |b| {
            b.iter(|| {
                ready(id_token::validate(
                    black_box(&case.token),
                    &rules,
                    keys,
                    "ID token",
                ))
                .unwrap()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
