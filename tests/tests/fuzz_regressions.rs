//! The fuzz targets' regression inputs (`fuzz/regressions/<target>/`: the seeds taken from the
//! tests, and every input a fuzzer found a defect with), replayed on the stable toolchain
//! through the same entry points the targets call (`fuzz/entry.rs`). An input that panics
//! fails this test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../fuzz/entry.rs"]
mod fuzz_entry;

use fuzz_entry::entry;

#[test]
fn every_committed_fuzz_input_runs_clean() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions");
    let mut replayed = 0;
    for target in std::fs::read_dir(&root).unwrap() {
        let target = target.unwrap();
        let name = target.file_name().to_string_lossy().to_string();
        let run = entry::by_name(&name)
            .unwrap_or_else(|| panic!("fuzz/regressions/{name}: no such fuzz target"));
        for input in std::fs::read_dir(target.path()).unwrap() {
            let path = input.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{} panicked", path.display());
            replayed += 1;
        }
    }
    assert!(replayed >= 14, "the seeds are there ({replayed})");
}

/// The seeds of the response targets are valid documents (the fuzzer starts from the success
/// paths, not from the first parse error): a discovery document the library accepts, and a
/// signed userinfo response whose signature verifies.
#[tokio::test]
async fn the_seeds_start_on_the_success_paths() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions");
    let seed = std::fs::read(root.join("discovery/seed-0")).unwrap();
    oidc_rp::fuzzing::discovery_document(
        "application/json",
        &seed[1..],
        "https://op.example",
        false,
    )
    .expect("the discovery seed is a valid document");

    let jwks = oidc_rp::keys::JwksCache::new(
        url::Url::parse("https://op.example/jwks").unwrap(),
        oidc_rp::keys::JwksPolicy::default(),
    );
    jwks.preload(oidc_rp::keys::KeySet::from_json(br#"{"keys":[]}"#).unwrap());
    let http = oidc_rp::HttpClient::default();
    let secret = oidc_rp::Secret::new("fuzzing-client-secret-0123456789abcdef");
    let seed = std::fs::read(root.join("userinfo/seed-1")).unwrap();
    let info = oidc_rp::fuzzing::userinfo_response(
        "application/jwt",
        &seed[1..],
        "https://op.example",
        "client",
        Some("sub"),
        Some(oidc_rp::Alg::HS256),
        Some(&secret),
        oidc_rp::jwt::KeySource {
            jwks: &jwks,
            http: &http,
        },
    )
    .await
    .expect("the signed userinfo seed verifies");
    assert!(info.signed);
    let seed = std::fs::read(root.join("cache_file/seed-0")).unwrap();
    rp_cli::cache::parse_profile(&seed, "default").expect("the profile seed loads");
}
