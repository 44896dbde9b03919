//! The integration tests: one crate, a module per feature, each test one chained call.
//!
//! Expected outputs live beside their fixtures; run with `ONRECORD_BLESS=1` to rewrite them,
//! then review the diff like code.

mod ask;
mod bombs;
mod check;
mod corpus;
mod coverage;
mod embed;
mod errors;
mod eval;
mod eval_command;
#[path = "../evalset/mod.rs"]
mod evalset;
mod example;
mod fill;
mod fill_csv;
mod fill_interop;
mod forms;
mod fuzz_regressions;
mod gaps;
mod honesty;
mod hostile;
mod layouts;
mod learn;
mod limits_doc;
mod loaders;
mod publish;
mod q_detect;
mod q_no_panic;
mod q_read;
mod q_real_files;
mod real_answers;
#[allow(dead_code)]
mod xlsx_common;
mod xlsx_corpus;
mod xlsx_patch;

use std::path::{Path, PathBuf};
use std::process::Command;

pub use evalset::{copy_dir, repo};

/// The fixed "today" of every test, so staleness never depends on the clock.
pub const TODAY: &str = "2026-11-23";

/// A question the example record answers unread: the sanity check of the index tests (a
/// rebuilt, damaged or in-memory index still answers it).
pub const ANSWERED: &str = "Is MFA enforced for all staff accounts?";

/// `../shared/data` beside the checkout: real questionnaires and workbooks, read in place.
/// Tests that need it call [`shared`], which skips them on a developer's machine without it
/// and fails them in CI.
pub fn shared_data() -> PathBuf {
    repo().join("../shared/data")
}

/// Whether this run is CI's (`CI=true`), where nothing a test needs may be missing.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// `../shared/data/REL` when it is there. Absent: in CI the test fails (a skipped test would
/// hide a lost check); elsewhere it notes the skip and the test returns.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let path = shared_data().join(rel);
    if path.exists() {
        return Some(path);
    }
    missing(&format!("{} is absent", path.display()))
}

/// A tool a test needs (LibreOffice, openpyxl) is missing: fails in CI, skips elsewhere.
pub fn missing<T>(what: &str) -> Option<T> {
    assert!(
        !in_ci(),
        "{what}; CI installs it (.ci/run), so this is a failure"
    );
    println!("{what}; skipped");
    None
}

/// The one index directory (`.onrecord/index-FINGERPRINT`) of a record that was indexed.
pub fn index_dir(record: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(record.join(".onrecord"))
        .expect("an indexed record has .onrecord/")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("index-"))
        })
        .collect();
    assert_eq!(dirs.len(), 1, "one index directory: {dirs:?}");
    dirs[0].clone()
}

/// Makes a FIFO at `path` (with the system's `mkfifo`), for tests of files that would block.
pub fn mkfifo(path: &Path) {
    let made = Command::new("mkfifo").arg(path).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo {}", path.display());
}

/// What a user sees from one run of the binary.
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

impl Run {
    /// stdout, then stderr when there is any, then the exit code: what a user sees.
    pub fn seen(&self) -> String {
        let stderr = if self.stderr.is_empty() {
            String::new()
        } else {
            format!("--- stderr\n{}", self.stderr)
        };
        format!("{}{stderr}exit: {}\n", self.stdout, self.code)
    }
}

/// Runs `onrecord ARGS` in `dir` (the record), with the fixed date.
pub fn onrecord(dir: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_onrecord"))
        .args(args)
        .current_dir(dir)
        .env("ONRECORD_TODAY", TODAY)
        .env_remove("ONRECORD_RECORD")
        .output()
        .expect("run onrecord");
    Run {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        code: output.status.code().unwrap_or(-1),
    }
}

/// Runs `onrecord fill INPUT --report REPORT ARGS...` in `dir`, which must succeed, and
/// returns the report.
pub fn fill_report(dir: &Path, input: &Path, report: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec![
        "fill",
        input.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let run = onrecord(dir, &all);
    assert_eq!(run.code, 0, "{}", run.seen());
    serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap()
}

/// Compares `actual` with the file at `expected`, or writes it when blessing.
pub fn assert_snapshot(expected: &Path, actual: &str) {
    if std::env::var_os("ONRECORD_BLESS").is_some() {
        std::fs::write(expected, actual).expect("write snapshot");
        return;
    }
    let want = std::fs::read_to_string(expected).unwrap_or_else(|_| {
        panic!(
            "missing snapshot {}; run with ONRECORD_BLESS=1",
            expected.display()
        )
    });
    assert_eq!(
        want,
        actual,
        "output differs from {} (ONRECORD_BLESS=1 to update)",
        expected.display()
    );
}

/// A scratch record of one knowledge file (`controls`, TOML) and `mappings/controls.csv`.
pub fn record_with(controls: &str, mappings: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("knowledge")).unwrap();
    std::fs::create_dir_all(dir.path().join("mappings")).unwrap();
    std::fs::write(dir.path().join("knowledge/controls.toml"), controls).unwrap();
    std::fs::write(dir.path().join("mappings/controls.csv"), mappings).unwrap();
    dir
}

/// A scratch copy of the example record, so tests may write its index or edit it.
pub fn copy_example() -> tempfile::TempDir {
    let dir = copy_example_cold();
    copy_dir(
        &warm_example().path().join(".onrecord"),
        &dir.path().join(".onrecord"),
    );
    dir
}

/// The example record copied with no `.onrecord/`: its first answering run builds the index
/// and embeds every control's texts.
pub fn copy_example_cold() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for sub in ["knowledge", "mappings"] {
        copy_dir(&repo().join(sub), &dir.path().join(sub));
    }
    for file in ["thesaurus.txt", "profile.toml"] {
        std::fs::copy(repo().join(file), dir.path().join(file)).unwrap();
    }
    dir
}

/// A copy of the example record indexed once per test run, whose `.onrecord/` every
/// [`copy_example`] starts with: the index fingerprints the record's files, not where they
/// are, so the copies answer at once instead of each embedding the record again.
fn warm_example() -> &'static tempfile::TempDir {
    static WARM: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    WARM.get_or_init(|| {
        let dir = copy_example_cold();
        onrecord::engine::Engine::open(dir.path()).expect("the example record opens");
        dir
    })
}

/// The eval record copied to `to`, with the knowledge files of `fixtures/eval/VARIANT/` in place
/// of its own when a variant is named.
pub fn copy_eval_record(to: &Path, variant: Option<&str>) {
    let eval = repo().join("fixtures/eval");
    copy_dir(&eval.join("record"), to);
    if let Some(variant) = variant {
        let knowledge = to.join("knowledge");
        std::fs::remove_dir_all(&knowledge).unwrap();
        copy_dir(&eval.join(variant).join("knowledge"), &knowledge);
    }
}

/// Asserts every line of `stdout` is a GitHub Actions workflow command:
/// `::error file=F,line=N,title=T::message` (or `warning`, `notice`; properties optional), with
/// `%`, CR and LF escaped in the message and also `:` and `,` in property values.
pub fn assert_annotations(stdout: &str) {
    assert!(!stdout.is_empty(), "no annotations");
    for line in stdout.lines() {
        let rest = line.strip_prefix("::").unwrap_or_else(|| panic!("{line}"));
        let (command, message) = rest.split_once("::").unwrap_or_else(|| panic!("{line}"));
        let (level, props) = command.split_once(' ').unwrap_or((command, ""));
        assert!(
            ["error", "warning", "notice"].contains(&level),
            "level in {line}"
        );
        for prop in props.split(',').filter(|p| !p.is_empty()) {
            let (key, value) = prop.split_once('=').unwrap_or_else(|| panic!("{line}"));
            assert!(
                ["file", "line", "title", "col", "endLine", "endColumn"].contains(&key),
                "property `{key}` in {line}"
            );
            assert!(!value.contains(':'), "unescaped `:` in {line}");
            assert_escaped(value, line);
            if key == "line" {
                assert!(value.parse::<u32>().is_ok_and(|n| n > 0), "{line}");
            }
        }
        assert_escaped(message, line);
    }
}

fn assert_escaped(text: &str, line: &str) {
    assert!(!text.contains('\r'), "raw CR in {line}");
    for (i, _) in text.match_indices('%') {
        let code = text.get(i + 1..i + 3).unwrap_or("");
        assert!(
            ["25", "0D", "0A", "3A", "2C"].contains(&code),
            "unescaped `%` in {line}"
        );
    }
}

/// The first-column names (`` | `name` | ``) of the README's tables under the heading that
/// starts with `heading`, up to the next heading: what a doc test compares with the code.
pub fn readme_table_names(heading: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let section = readme
        .split(&format!("\n{heading}"))
        .nth(1)
        .unwrap_or_else(|| panic!("README has no {heading:?} section"));
    section
        .split("\n#")
        .next()
        .unwrap_or("")
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect()
}
