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
    assert!(replayed >= 7, "the seeds are there ({replayed})");
}
