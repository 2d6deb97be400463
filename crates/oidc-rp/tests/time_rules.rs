//! The time rules of ID tokens and logout tokens, through the one checked path
//! (`oidc_rp::time`): out-of-range NumericDates are refused with their own message (they used
//! to overflow, and in release builds to wrap into an acceptance), `nbf` is enforced
//! (RFC 7519 §4.1.5), the clock leeway is visible in the report and settable, and the logout
//! token replay window has no off-by-one.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use oidc_rp::id_token::{self, IdTokenRules, NonceCheck};
use oidc_rp::jwt::KeySource;
use oidc_rp::keys::{JwksCache, JwksPolicy};
use oidc_rp::logout::{LogoutTokenRules, ReplayCache, validate_logout_token};
use oidc_rp::{Alg, CheckId, Error, HttpClient, Secret};
use serde_json::{Value, json};
use std::time::Duration;

const NOW: i64 = 1_700_000_000;
const SECRET: &str = "client-secret-for-hs256-tests-0123456789";
const HS256: &[Alg] = &[Alg::HS256];

/// The reproducers of the fuzzing report are HMAC tokens: only the client secret is needed.
fn hs256(claims: &Value) -> String {
    sign_hs256(SECRET.as_bytes(), &json!({"alg": "HS256"}), claims)
}

fn base() -> Value {
    json!({"iss": ISSUER, "sub": "u", "aud": CLIENT, "exp": NOW + 300, "iat": NOW})
}

fn set(mut v: Value, name: &str, value: Value) -> Value {
    v[name] = value;
    v
}

async fn validate_at(
    claims: &Value,
    max_age: Option<u64>,
    leeway: u64,
) -> Result<oidc_rp::VerifiedIdToken, Error> {
    // No key is ever fetched for HS256 tokens; the JWKS URL is never contacted.
    let cache = JwksCache::new(
        url::Url::parse("http://127.0.0.1:9/jwks").unwrap(),
        JwksPolicy::default(),
    );
    let http = HttpClient::default();
    let secret = Secret::new(SECRET);
    let rules = IdTokenRules {
        client_secret: Some(&secret),
        now: Some(NOW),
        max_age,
        leeway: Duration::from_secs(leeway),
        ..IdTokenRules::new(ISSUER, CLIENT, HS256, NonceCheck::NotExpected)
    };
    id_token::validate(
        &hs256(claims),
        &rules,
        KeySource {
            jwks: &cache,
            http: &http,
        },
        "ID token",
    )
    .await
}

fn refused_on(result: Result<oidc_rp::VerifiedIdToken, Error>, check: CheckId) -> String {
    match result {
        Err(Error::Validation(v)) => {
            assert_eq!(v.check, check, "{}", v.detail);
            v.detail
        }
        Err(e) => panic!("not a validation error: {e}"),
        Ok(t) => panic!("accepted: {:?}", t.report),
    }
}

#[tokio::test]
async fn out_of_range_times_are_refused_not_wrapped() {
    // Issue reproducer: iat = i64::MIN (a panic with overflow checks, wrapped otherwise).
    let d = refused_on(
        validate_at(&set(base(), "iat", json!(i64::MIN)), None, 60).await,
        CheckId::IssuedAt,
    );
    assert!(d.contains("out of range"), "{d}");
    for (claim, check) in [
        ("iat", CheckId::IssuedAt),
        ("exp", CheckId::Expiry),
        ("nbf", CheckId::NotBefore),
    ] {
        for value in [
            json!(i64::MIN),
            json!(i64::MAX),
            json!(u64::MAX),
            json!(-9.2e28),
            json!(9.2e28),
            json!(-1),
        ] {
            let d = refused_on(
                validate_at(&set(base(), claim, value.clone()), None, 60).await,
                check,
            );
            assert!(d.contains("out of range"), "{claim}={value}: {d}");
        }
    }
}

#[tokio::test]
async fn auth_time_far_in_the_past_never_passes_max_age() {
    // Issue reproducer: with auth_time = i64::MIN the age wrapped negative and any max_age
    // passed (OIDC Core §3.1.3.7 rule 13 bypassed).
    for value in [json!(i64::MIN), json!(-9.2e28), json!(i64::MAX)] {
        let claims = set(base(), "auth_time", value.clone());
        let d = refused_on(validate_at(&claims, Some(1), 60).await, CheckId::AuthTime);
        assert!(d.contains("out of range"), "{value}: {d}");
        // Even without max_age the value is refused: it is not a time.
        refused_on(validate_at(&claims, None, 60).await, CheckId::AuthTime);
    }
    // A genuine old auth_time fails max_age, with the leeway named.
    let old = set(base(), "auth_time", json!(NOW - 3600));
    let d = refused_on(validate_at(&old, Some(60), 60).await, CheckId::AuthTime);
    assert!(
        d.contains("more than max_age 60 s + 60 s clock leeway"),
        "{d}"
    );
}

#[tokio::test]
async fn nbf_in_the_future_is_refused() {
    // RFC 7519 §4.1.5, with the same leeway as iat.
    let d = refused_on(
        validate_at(&set(base(), "nbf", json!(NOW + 3600)), None, 60).await,
        CheckId::NotBefore,
    );
    assert!(
        d.contains("3600 s") && d.contains("60 s clock leeway"),
        "{d}"
    );
    let inside = validate_at(&set(base(), "nbf", json!(NOW + 30)), None, 60)
        .await
        .unwrap();
    assert!(inside.report.get(CheckId::NotBefore).unwrap().passed);
    let absent = validate_at(&base(), None, 60).await.unwrap();
    assert_eq!(
        absent.report.get(CheckId::NotBefore).unwrap().detail,
        "absent (optional)"
    );
    assert_eq!(
        absent.report.get(CheckId::NotBefore).unwrap().spec,
        "RFC 7519 §4.1.5"
    );
}

#[tokio::test]
async fn the_leeway_is_visible_and_settable() {
    // "authenticated 2 s ago, within max_age 1 s" passed silently on a 60 s leeway: the
    // report now says so, and a zero leeway refuses it.
    let claims = set(base(), "auth_time", json!(NOW - 2));
    let ok = validate_at(&claims, Some(1), 60).await.unwrap();
    let detail = &ok.report.get(CheckId::AuthTime).unwrap().detail;
    assert_eq!(
        detail,
        "authenticated 2 s ago, within max_age 1 s + 60 s clock leeway"
    );
    for id in [CheckId::Expiry, CheckId::IssuedAt] {
        let d = &ok.report.get(id).unwrap().detail;
        assert!(d.contains("60 s clock leeway"), "{id:?}: {d}");
    }
    let d = refused_on(validate_at(&claims, Some(1), 0).await, CheckId::AuthTime);
    assert!(d.contains("max_age 1 s + 0 s clock leeway"), "{d}");
    // The leeway applies to exp too: 30 s past exp passes at 60 s, fails at 10 s.
    let late = set(base(), "exp", json!(NOW - 30));
    validate_at(&late, None, 60).await.unwrap();
    refused_on(validate_at(&late, None, 10).await, CheckId::Expiry);
}

#[tokio::test]
async fn iss_of_the_wrong_type_is_named() {
    let d = refused_on(
        validate_at(&set(base(), "iss", json!([ISSUER])), None, 60).await,
        CheckId::Issuer,
    );
    assert!(d.contains("not a string"), "{d}");
}

fn logout_claims(jti: &str) -> Value {
    json!({
        "iss": ISSUER, "aud": CLIENT, "iat": NOW, "jti": jti,
        "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
        "sid": "sid-1",
    })
}

async fn logout_at(
    claims: &Value,
    now: i64,
    replay: &ReplayCache,
) -> Result<oidc_rp::LogoutToken, Error> {
    let cache = JwksCache::new(
        url::Url::parse("http://127.0.0.1:9/jwks").unwrap(),
        JwksPolicy::default(),
    );
    let http = HttpClient::default();
    let secret = Secret::new(SECRET);
    let rules = LogoutTokenRules {
        client_secret: Some(&secret),
        now: Some(now),
        ..LogoutTokenRules::new(ISSUER, CLIENT, HS256)
    };
    validate_logout_token(
        &hs256(claims),
        &rules,
        KeySource {
            jwks: &cache,
            http: &http,
        },
        replay,
    )
    .await
}

#[tokio::test]
async fn logout_token_times_are_checked_not_wrapped() {
    let replay = ReplayCache::default();
    // iat = i64::MIN and no exp was accepted as fresh, with a replay deadline in the past.
    let e = logout_at(
        &set(logout_claims("a"), "iat", json!(i64::MIN)),
        NOW,
        &replay,
    )
    .await
    .unwrap_err();
    assert_eq!(e.check(), Some(CheckId::IssuedAt), "{e}");
    assert!(e.to_string().contains("out of range"), "{e}");
    // exp = i64::MAX was refused as "expired": it is out of range, and said so.
    let e = logout_at(
        &set(logout_claims("b"), "exp", json!(i64::MAX)),
        NOW,
        &replay,
    )
    .await
    .unwrap_err();
    assert_eq!(e.check(), Some(CheckId::Expiry), "{e}");
    assert!(e.to_string().contains("out of range"), "{e}");
    // exp = i64::MIN overflowed `now - exp`.
    let e = logout_at(
        &set(logout_claims("c"), "exp", json!(i64::MIN)),
        NOW,
        &replay,
    )
    .await
    .unwrap_err();
    assert_eq!(e.check(), Some(CheckId::Expiry), "{e}");
    assert!(replay.is_empty(), "nothing refused was remembered");
}

#[tokio::test]
async fn a_logout_token_at_the_edge_of_its_window_is_not_accepted_twice() {
    // iat = now - 660 is the last second the default window (600 s + 60 s) accepts; the
    // replay deadline used to equal now, and the same token passed twice in that second.
    let replay = ReplayCache::default();
    let edge = set(logout_claims("edge"), "iat", json!(NOW - 660));
    logout_at(&edge, NOW, &replay).await.unwrap();
    let e = logout_at(&edge, NOW, &replay).await.unwrap_err();
    assert_eq!(e.check(), Some(CheckId::Replay), "{e}");
    // One second later the token is too old anyway.
    let e = logout_at(&edge, NOW + 1, &replay).await.unwrap_err();
    assert_eq!(e.check(), Some(CheckId::IssuedAt), "{e}");
    // With an exp beyond the age window, it stays remembered until exp + leeway.
    let replay = ReplayCache::default();
    let long = set(logout_claims("long"), "exp", json!(NOW + 3600));
    logout_at(&long, NOW, &replay).await.unwrap();
    let e = logout_at(&long, NOW + 650, &replay).await.unwrap_err();
    assert_eq!(e.check(), Some(CheckId::Replay), "{e}");
}

/// Any JSON number, of any type and size, as a time claim: never a panic, and never an
/// acceptance that breaks the rule it went through.
mod any_number {
    use super::*;
    use proptest::prelude::*;

    fn number() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("JSON has no NaN or infinities", |f| f.is_finite())
                .prop_map(Value::from),
            (NOW - 10_000..NOW + 10_000).prop_map(Value::from),
            Just(Value::from(i64::MIN)),
            Just(Value::from(i64::MAX)),
            Just(Value::from(u64::MAX)),
            Just(Value::from(-9.2e28)),
        ]
    }

    fn as_time(v: &Value) -> Option<i64> {
        v.as_i64()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

        #[test]
        fn a_time_rule_never_panics_or_passes_wrongly(
            claim in prop::sample::select(vec!["exp", "iat", "nbf", "auth_time"]),
            value in number(),
            max_age in prop::option::of(0u64..100_000),
            leeway in prop::sample::select(vec![0u64, 60, 3600]),
        ) {
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let claims = set(base(), claim, value.clone());
            let result = runtime.block_on(validate_at(&claims, max_age, leeway));
            if let Ok(token) = result {
                let t = as_time(&value).filter(|t| (0..=oidc_rp::time::MAX_NUMERIC_DATE).contains(t));
                // Accepted: the value was an in-range time, and the rule held for it.
                let t = t.or_else(|| value.as_f64().map(|f| f.trunc() as i64)).unwrap();
                prop_assert!((0..=oidc_rp::time::MAX_NUMERIC_DATE).contains(&t), "{claim}={value}");
                let leeway = leeway as i64;
                match claim {
                    "exp" => prop_assert!(NOW < t + leeway),
                    "iat" | "nbf" => prop_assert!(t <= NOW + leeway),
                    _ => if let Some(m) = max_age {
                        prop_assert!(NOW - t <= m as i64 + leeway);
                    },
                }
                prop_assert!(token.report.all_passed());
            }
        }

        #[test]
        fn a_logout_token_time_never_panics_or_passes_wrongly(
            claim in prop::sample::select(vec!["iat", "exp"]),
            value in number(),
        ) {
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let claims = set(logout_claims("p"), claim, value.clone());
            let replay = ReplayCache::default();
            if runtime.block_on(logout_at(&claims, NOW, &replay)).is_ok() {
                let t = value.as_i64().or_else(|| value.as_f64().map(|f| f.trunc() as i64)).unwrap();
                prop_assert!((0..=oidc_rp::time::MAX_NUMERIC_DATE).contains(&t), "{claim}={value}");
                match claim {
                    "iat" => prop_assert!(t <= NOW + 60 && NOW - t <= 660),
                    _ => prop_assert!(NOW < t + 60),
                }
                // And it is remembered: a second use is a replay.
                prop_assert!(runtime.block_on(logout_at(&claims, NOW, &replay)).is_err());
            }
        }
    }
}
