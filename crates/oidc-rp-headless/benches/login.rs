//! A complete headless login in-process against the bundled provider over loopback: the
//! authorization URL, the provider's login form (fetched, parsed and filled), the redirects,
//! the code exchange with client_secret_basic and PKCE, and the full ID token validation.
//!
//! - `warm`: the RelyingParty (discovery and JWKS cached) and its connection pool are reused,
//!   as in a long-running service; each login has a fresh cookie jar.
//! - `cold`: everything a process does for its first login: a new HTTP client (root store
//!   and TLS configuration), discovery, the JWKS fetch, new connections, then the login. Each
//!   iteration gets a provider of its own (started outside the timing), so no process-wide
//!   cache (discovery, JWKS) can help.
//!
//! The provider runs in the same process (on the same two-worker runtime), so these times
//! include its side too. Run: `cargo bench -p oidc-rp-headless --bench login`
#![allow(clippy::unwrap_used, missing_debug_implementations)]

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use oidc_rp::{AuthorizationRequest, ClientConfig, HttpClient, RelyingParty, Secret};
use oidc_rp_headless::{Browser, Credentials};
use std::hint::black_box;

const REDIRECT: &str = "http://127.0.0.1:9/callback";

async fn login(rp: &RelyingParty, http: &HttpClient, creds: &Credentials) -> String {
    let browser = Browser::new(http).unwrap();
    let (url, txn) = rp
        .authorization_url(
            &AuthorizationRequest::with_scopes(["openid", "profile", "email"]),
            REDIRECT,
        )
        .unwrap();
    let login = oidc_rp_headless::complete(rp, &browser, &url, &txn, Some(creds))
        .await
        .unwrap();
    login.id_token.subject
}

fn client() -> ClientConfig {
    ClientConfig::confidential("rp-demo", "rp-demo-secret")
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let op = runtime
        .block_on(rp_provider::start(rp_provider::ProviderConfig::default()))
        .unwrap();
    let issuer = op.issuer().to_string();
    let creds = Credentials {
        username: "alice".into(),
        password: Secret::new("wonderland"),
    };
    let http = HttpClient::default();
    let rp = runtime
        .block_on(RelyingParty::discover(&http, &issuer, client()))
        .unwrap();

    let mut group = c.benchmark_group("login");
    group.bench_function("warm", |b| {
        b.iter(|| black_box(runtime.block_on(login(&rp, &http, &creds))))
    });
    group.bench_function("cold", |b| {
        b.iter_batched(
            || {
                runtime
                    .block_on(rp_provider::start(rp_provider::ProviderConfig::default()))
                    .unwrap()
            },
            |fresh| {
                runtime.block_on(async {
                    let http = HttpClient::default();
                    let rp = RelyingParty::discover(&http, fresh.issuer(), client())
                        .await
                        .unwrap();
                    black_box(login(&rp, &http, &creds).await)
                });
                fresh
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
    drop(op);
}

criterion_group!(benches, bench);
criterion_main!(benches);
