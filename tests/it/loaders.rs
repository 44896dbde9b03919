//! No panic on any malformed file: property tests over the TOML and csv loaders.

use std::path::Path;

use proptest::prelude::*;

const GOOD_TOML: &str = "[[control]]\nid = \"ENC-01\"\ntitle = \"Encryption at rest\"\nanswer = \"yes\"\n\
statement = \"\"\"\nWe encrypt data at rest.\n\"\"\"\nreviewed = 2026-06-01\nquestions = [\"Is data encrypted?\", { q = \"Is data plain?\", answer = \"no\" }]\n";
const GOOD_CSV: &str = "control,soc2,iso27001,cuec\nENC-01,CC6.1;CC6.7,A.8.24,CUEC-01\n";
const GOOD_CUEC: &str = "id,area,responsibility\nCUEC-01,Data,\"Classify data, then upload it.\"\n";

fn write_record(dir: &Path, toml: &str, csv: &str, cuec: &str) {
    std::fs::create_dir_all(dir.join("knowledge")).unwrap();
    std::fs::create_dir_all(dir.join("mappings")).unwrap();
    std::fs::write(dir.join("knowledge/k.toml"), toml).unwrap();
    std::fs::write(dir.join("mappings/controls.csv"), csv).unwrap();
    std::fs::write(dir.join("mappings/cuec.csv"), cuec).unwrap();
}

/// Loads and checks; any outcome but a panic is fine.
fn load_and_check(toml: &str, csv: &str, cuec: &str) {
    let dir = tempfile::tempdir().unwrap();
    write_record(dir.path(), toml, csv, cuec);
    if let Ok(loaded) = onrecord::record::load(dir.path(), &Default::default()) {
        let options = onrecord::check::CheckOptions {
            today: onrecord::record::Date(20_000),
            max_age_days: 365,
        };
        let report = onrecord::check::check(&loaded, &options);
        assert!(report.diagnostics.iter().all(|d| !d.path.is_empty()));
        let _ = onrecord::gaps::gaps(&loaded.record, None);
    }
}

/// A valid text with one byte range replaced: near-valid input finds more paths than noise.
fn mutate(base: &str, at: usize, len: usize, with: &str) -> String {
    let bytes = base.as_bytes();
    let at = at % (bytes.len() + 1);
    let end = (at + len).min(bytes.len());
    let mut out = bytes[..at].to_vec();
    out.extend_from_slice(with.as_bytes());
    out.extend_from_slice(&bytes[end..]);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn the_good_record_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    write_record(dir.path(), GOOD_TOML, GOOD_CSV, GOOD_CUEC);
    let loaded = onrecord::record::load(dir.path(), &Default::default()).unwrap();
    assert_eq!(loaded.diagnostics, vec![]);
    assert_eq!(
        loaded.record.controls[0].questions[1].answer,
        Some(onrecord::record::Answer::No)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn mutated_toml_never_panics(at in 0usize..400, len in 0usize..8, with in "[\\[\\]=\"a-z0-9 \n.,{}#-]{0,8}") {
        load_and_check(&mutate(GOOD_TOML, at, len, &with), GOOD_CSV, GOOD_CUEC);
    }

    #[test]
    fn mutated_csv_never_panics(at in 0usize..80, len in 0usize..6, with in "[,;\"\na-zA-Z0-9.\\-]{0,8}", cuec_at in 0usize..80) {
        load_and_check(GOOD_TOML, &mutate(GOOD_CSV, at, len, &with), &mutate(GOOD_CUEC, cuec_at, len, &with));
    }

    #[test]
    fn arbitrary_text_never_panics(toml in "\\PC{0,200}", csv in "\\PC{0,120}") {
        load_and_check(&toml, &csv, &csv);
    }
}
