//! One DPoP proof (RFC 9449 §4): what every request of a sender-constrained client costs.
//! `cargo bench -p oidc-rp --bench dpop`.

use criterion::{Criterion, criterion_group, criterion_main};
use oidc_rp::dpop::DpopKey;
use std::hint::black_box;

fn proofs(c: &mut Criterion) {
    let mut group = c.benchmark_group("dpop proof");
    for (name, key) in [
        ("ES256", DpopKey::generate_es256().expect("key")),
        ("EdDSA", DpopKey::generate_eddsa().expect("key")),
    ] {
        group.bench_function(format!("{name}, with ath and nonce"), |b| {
            b.iter(|| {
                key.proof(
                    "GET",
                    black_box("https://rs.example.com/accounts?x=1"),
                    Some(black_box("an-access-token-of-forty-three-characters-xx")),
                    Some("nonce-0123456789"),
                )
                .expect("proof")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, proofs);
criterion_main!(benches);
