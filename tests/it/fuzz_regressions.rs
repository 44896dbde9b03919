//! Every input a fuzzer crashed on (`fuzz/regressions/TARGET/`), and every seed
//! (`fuzz/seeds/TARGET/`), replayed through the fuzzer's own harness: each must return, Ok or
//! Err, without panicking. The harness is `fuzz/src/lib.rs`, included by path, so these tests
//! run exactly what the fuzzer ran, on stable Rust and without libFuzzer.

use std::path::Path;

use crate::repo;

#[allow(dead_code)]
#[path = "../../fuzz/src/lib.rs"]
mod harness;

/// Runs `run` on every file kept for `target`, naming the file first so a panic points at it.
fn replay(target: &str, run: impl Fn(&[u8], &Path)) {
    let scratch = tempfile::tempdir().expect("temp dir");
    let mut files = Vec::new();
    for kind in ["seeds", "regressions"] {
        let dir = repo().join("fuzz").join(kind).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        files.extend(entries.map(|e| e.expect("list fuzz inputs").path()));
    }
    files.sort();
    assert!(!files.is_empty(), "no seeds for fuzz target `{target}`");
    for file in files {
        eprintln!("replaying {}", file.display());
        let data = std::fs::read(&file).expect("read fuzz input");
        run(&data, scratch.path());
    }
}

#[test]
fn record() {
    replay("record", harness::record);
}

#[test]
fn questionnaire_xlsx() {
    replay("questionnaire_xlsx", harness::questionnaire_xlsx);
}

#[test]
fn questionnaire_csv() {
    replay("questionnaire_csv", harness::questionnaire_csv);
}

#[test]
fn detect() {
    replay("detect", |data, _| harness::detect(data));
}

#[test]
fn xlsx_patch() {
    replay("xlsx_patch", harness::xlsx_patch);
}
