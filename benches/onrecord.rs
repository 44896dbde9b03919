//! Speed and memory targets, measured: `cargo bench` (release). Prints one line per target
//! with the median of several runs; exits 1 when a target is missed, so a regression is visible.
//!
//! The large record is the example record copied over and over with renamed ids, so its
//! text and mappings are realistic, not random.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use onrecord::check::{self, CheckOptions};
use onrecord::index::SearchIndex;
use onrecord::limits::Limits;
use onrecord::record::{self, Date};
use onrecord::text::Analyzer;

const CONTROLS: usize = 2_000;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let made = write_large_record(Path::new(env!("CARGO_MANIFEST_DIR")), dir.path(), CONTROLS);
    let mut missed = 0;
    missed += report(
        &format!("check, {made} controls"),
        Duration::from_millis(200),
        || {
            let loaded = record::load(dir.path(), &Limits::default()).expect("load");
            let options = CheckOptions {
                today: Date::parse("2026-11-23").unwrap(),
                max_age_days: 365,
            };
            let report = check::check(&loaded, &options);
            assert!(
                report
                    .diagnostics
                    .iter()
                    .all(|d| d.severity != onrecord::diag::Severity::Error)
            );
        },
    );
    missed += report(
        &format!("index build, {made} controls"),
        Duration::from_millis(1000),
        || {
            let loaded = record::load(dir.path(), &Limits::default()).expect("load");
            let analyzer = Analyzer::new(&[]);
            SearchIndex::build_in_memory(&loaded.record, &analyzer, &[]).expect("index");
        },
    );
    // The engine's targets are measured on the example record itself (130 controls), each
    // run its own process as a user runs it: the sentence-embedding model loads once per
    // process and embeds each distinct question once, so in-process repeats would measure
    // a warm memo, not the work.
    let example = dir.path().join("example");
    copy_record(Path::new(env!("CARGO_MANIFEST_DIR")), &example);
    let onrecord = |args: &[&str]| {
        let status = Command::new(env!("CARGO_BIN_EXE_onrecord"))
            .args(args)
            .arg("--record")
            .arg(&example)
            .arg("--quiet")
            .stdout(std::process::Stdio::null())
            .status()
            .expect("run onrecord");
        assert!(status.success(), "onrecord {args:?} failed");
    };
    missed += report_runs(
        "onrecord index from nothing, example record (every control text embedded)",
        Duration::from_secs(10),
        3,
        || {
            let _ = std::fs::remove_dir_all(example.join(".onrecord"));
            onrecord(&["index"]);
        },
    );
    let mut edits = 0;
    missed += report_runs(
        "onrecord index after a record change, example record (changed texts embedded)",
        Duration::from_secs(10),
        3,
        || {
            // One control's statement changes: the index is rebuilt, and only that
            // control's text is embedded again.
            edits += 1;
            let file = example.join("knowledge/zz-bench.toml");
            let control = format!(
                "[[control]]\nid = \"BENCH-01\"\ntitle = \"Bench control\"\nanswer = \"yes\"\nstatement = \"A statement changed for run {edits}.\"\nreviewed = 2026-11-01\n"
            );
            std::fs::write(file, control).expect("edit");
            onrecord(&["index"]);
        },
    );
    let questions = questions(2_000);
    let mut next = 0;
    missed += report(
        "onrecord ask, own process, warm index",
        Duration::from_millis(150),
        || {
            onrecord(&["ask", &questions[next % questions.len()]]);
            next += 1;
        },
    );
    let workbook = dir.path().join("questionnaire.xlsx");
    write_questionnaire(&workbook, &questions);
    let output = dir.path().join("questionnaire.answered.xlsx");
    let fill = |input: &Path| {
        let input = input.to_str().expect("path");
        let output = output.to_str().expect("path");
        onrecord(&["fill", input, "-o", output, "--force"]);
    };
    missed += report_runs(
        &format!(
            "onrecord fill of a {}-question xlsx, distinct questions, own process",
            questions.len()
        ),
        Duration::from_secs(25),
        3,
        || fill(&workbook),
    );
    missed += peak_rss("onrecord fill of a 2,000-question xlsx", PEAK_RSS_MB);
    let hecvat = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/hecvat/HECVAT414.xlsx");
    if hecvat.is_file() {
        missed += report_runs(
            "onrecord fill of HECVAT 4.1.4, own process",
            Duration::from_secs(3),
            3,
            || fill(&hecvat),
        );
        missed += peak_rss("onrecord fill of HECVAT 4.1.4", PEAK_RSS_MB);
    } else {
        println!("onrecord fill of HECVAT 4.1.4: not measured (no ../shared/data)");
    }
    let files: Vec<_> = questions
        .chunks(400)
        .enumerate()
        .map(|(i, chunk)| {
            let path = dir.path().join(format!("reference-{i}.xlsx"));
            write_questionnaire(&path, chunk);
            path
        })
        .collect();
    missed += report_runs(
        "onrecord coverage of 5 xlsx of 400 distinct questions, own process",
        Duration::from_secs(25),
        1,
        || {
            let mut args = vec!["coverage".to_string()];
            args.extend(files.iter().map(|f| f.display().to_string()));
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            onrecord(&args);
        },
    );
    std::process::exit(i32::from(missed > 0));
}

/// Peak resident memory allowed to `onrecord fill` (issue 16: a HECVAT fill, model in).
const PEAK_RSS_MB: f64 = 400.0;

/// The peak resident memory of the child processes run so far (the fills just measured are
/// the largest), against `limit`; returns 1 if over.
fn peak_rss(what: &str, limit: f64) -> usize {
    let Some(peak) = children_peak_rss_mb() else {
        println!("{what}, peak memory: not measured on this platform");
        return 0;
    };
    let ok = peak < limit;
    println!(
        "{what}, peak memory of the runs so far: {peak:.1} MB (target < {limit} MB) {}",
        if ok { "ok" } else { "MISSED" }
    );
    usize::from(!ok)
}

/// Copies the record files of `source` (knowledge, mappings, thesaurus) into `dest`.
fn copy_record(source: &Path, dest: &Path) {
    fn copy_tree(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("mkdir");
        for entry in std::fs::read_dir(from).expect("read") {
            let path = entry.expect("entry").path();
            let target = to.join(path.file_name().expect("name"));
            if path.is_dir() {
                copy_tree(&path, &target);
            } else {
                std::fs::copy(&path, target).expect("copy");
            }
        }
    }
    for dir in ["knowledge", "mappings"] {
        copy_tree(&source.join(dir), &dest.join(dir));
    }
    let thesaurus = source.join("thesaurus.txt");
    if thesaurus.is_file() {
        std::fs::copy(thesaurus, dest.join("thesaurus.txt")).expect("copy");
    }
}

/// The largest peak resident set of the child processes waited for so far, in MB:
/// `getrusage(RUSAGE_CHILDREN).ru_maxrss`, exact where polling `/proc` could miss a peak just
/// before exit. Declared here rather than adding the libc crate for one call.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn children_peak_rss_mb() -> Option<f64> {
    /// `struct rusage` on 64-bit Linux (glibc and musl): two `timeval`s of two 64-bit fields,
    /// then 14 `long`s, the first of which is `ru_maxrss` in kilobytes.
    #[repr(C)]
    struct Rusage {
        times: [i64; 4],
        maxrss: i64,
        rest: [i64; 13],
    }
    unsafe extern "C" {
        fn getrusage(who: i32, usage: *mut Rusage) -> i32;
    }
    const RUSAGE_CHILDREN: i32 = -1;
    let mut usage = Rusage {
        times: [0; 4],
        maxrss: 0,
        rest: [0; 13],
    };
    // SAFETY: `usage` is a writable value with the size and layout of `struct rusage` here.
    let rc = unsafe { getrusage(RUSAGE_CHILDREN, &mut usage) };
    (rc == 0).then(|| usage.maxrss as f64 / 1024.0)
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
fn children_peak_rss_mb() -> Option<f64> {
    None
}

fn write_questionnaire(path: &Path, questions: &[String]) {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (col, head) in ["ID", "Question", "Answer", "Comments"].iter().enumerate() {
        sheet.write_string(0, col as u16, *head).unwrap();
    }
    for (i, q) in questions.iter().enumerate() {
        sheet
            .write_string(i as u32 + 1, 0, format!("Q-{i}"))
            .unwrap();
        sheet
            .write_string(i as u32 + 1, 1, format!("{q}?").replace("??", "?"))
            .unwrap();
    }
    workbook.save(path).unwrap();
}

/// `n` distinct questions: the eval set's questions, repeated with a varying tag inside the
/// question, so that every one is read and embedded on its own.
fn questions(n: usize) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/eval/questions.csv");
    let mut reader = csv::Reader::from_path(path).expect("questions.csv");
    let base: Vec<String> = reader
        .records()
        .map(|r| r.expect("row")[4].to_string())
        .collect();
    (0..n)
        .map(|i| {
            let q = base[i % base.len()].trim_end_matches('?');
            format!("{q} (set {})?", i / base.len())
        })
        .collect()
}

/// Runs `f` 11 times and prints the median against the target; returns 1 if missed.
fn report(name: &str, target: Duration, f: impl FnMut()) -> usize {
    report_runs(name, target, 11, f)
}

/// Runs `f` `runs` times and prints the median against the target; returns 1 if missed.
fn report_runs(name: &str, target: Duration, runs: usize, mut f: impl FnMut()) -> usize {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    let ok = median < target;
    println!(
        "{name}: {:.1} ms (target < {} ms) {}",
        median.as_secs_f64() * 1e3,
        target.as_millis(),
        if ok { "ok" } else { "MISSED" }
    );
    usize::from(!ok)
}

/// Copies `source`'s record into `dest` until it holds at least `wanted` controls; ids get a
/// `-N` suffix per copy. Returns the number of controls written.
fn write_large_record(source: &Path, dest: &Path, wanted: usize) -> usize {
    let loaded = record::load(source, &Limits::default()).expect("example record");
    let per_copy = loaded.record.controls.len();
    let copies = wanted.div_ceil(per_copy);
    std::fs::create_dir_all(dest.join("knowledge")).unwrap();
    std::fs::create_dir_all(dest.join("mappings")).unwrap();
    std::fs::copy(
        source.join("mappings/cuec.csv"),
        dest.join("mappings/cuec.csv"),
    )
    .unwrap();
    let matrix = std::fs::read_to_string(source.join("mappings/controls.csv")).unwrap();
    let (header, rows) = matrix.split_once('\n').unwrap();
    let mut out_matrix = format!("{header}\n");
    for copy in 0..copies {
        for (rel, text) in &loaded.record.files {
            if let Some(name) = rel.strip_prefix("knowledge/") {
                let renamed = rename_ids(text, &loaded.record, copy);
                let file = dest
                    .join("knowledge")
                    .join(format!("{copy}-{}", name.replace('/', "-")));
                std::fs::write(file, renamed).unwrap();
            }
        }
        for row in rows.lines().filter(|r| !r.trim().is_empty()) {
            let (id, rest) = row.split_once(',').unwrap();
            out_matrix.push_str(&format!("{id}-{copy},{rest}\n"));
        }
    }
    std::fs::write(dest.join("mappings/controls.csv"), out_matrix).unwrap();
    copies * per_copy
}

fn rename_ids(text: &str, record: &onrecord::record::Record, copy: usize) -> String {
    let mut out = text.to_string();
    for control in &record.controls {
        out = out.replace(
            &format!("id = \"{}\"", control.id),
            &format!("id = \"{}-{copy}\"", control.id),
        );
    }
    // Copies repeat their questions; make them distinct so `check` stays warning-free.
    out.replace("?\"", &format!(" (copy {copy})?\""))
}
