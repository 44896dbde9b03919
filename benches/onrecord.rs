//! Speed and memory targets, measured: `cargo bench` (release). Prints one line per target
//! with the median of several runs; exits 1 when a target is missed, so a regression is visible.
//!
//! The large record is the example record copied over and over with renamed ids, so its
//! text and mappings are realistic, not random.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use onrecord::check::{self, CheckOptions};
use onrecord::engine::Engine;
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
            SearchIndex::build_in_memory(&loaded.record, &analyzer).expect("index");
        },
    );
    let engine = Engine::open(dir.path()).expect("engine");
    let questions = questions(2_000);
    let mut next = 0;
    missed += report(
        "ask, one question, warm index",
        Duration::from_millis(30),
        || {
            engine.ask(&questions[next % questions.len()]).expect("ask");
            next += 1;
        },
    );
    missed += report(
        &format!("{} questions in one process", questions.len()),
        Duration::from_millis(1000),
        || {
            for q in &questions {
                engine.ask(q).expect("ask");
            }
        },
    );
    let workbook = dir.path().join("questionnaire.xlsx");
    write_questionnaire(&workbook, &questions);
    let output = dir.path().join("questionnaire.answered.xlsx");
    missed += report(
        &format!("fill a {}-question xlsx, warm index", questions.len()),
        Duration::from_millis(1000),
        || {
            fill_xlsx(&engine, &workbook, &output);
        },
    );
    missed += fill_in_a_child(dir.path(), &workbook, questions.len());
    let many: Vec<String> = (0..5_000)
        .map(|i| questions[i % questions.len()].replace(')', &format!(" {i})")))
        .collect();
    let files: Vec<_> = many
        .chunks(500)
        .enumerate()
        .map(|(i, chunk)| {
            let path = dir.path().join(format!("reference-{i}.xlsx"));
            write_questionnaire(&path, chunk);
            path
        })
        .collect();
    missed += report(
        "coverage of 10 xlsx of 500 questions, engine opened",
        Duration::from_millis(2000),
        || {
            let result = coverage(dir.path(), &files);
            assert_eq!(result.total.questions, 5_000);
        },
    );
    std::process::exit(i32::from(missed > 0));
}

/// What `onrecord coverage` does, through the library: open the engine once, then read,
/// detect and answer every file (on all cores).
fn coverage(record: &Path, files: &[std::path::PathBuf]) -> onrecord::coverage::Coverage {
    let engine = Engine::open(record).expect("engine");
    let inputs = onrecord::coverage::open_all(files, &Default::default(), &Default::default())
        .expect("read");
    let reports = onrecord::coverage::answer_all(&engine, &inputs, || {}).expect("answer");
    onrecord::coverage::Coverage::new(reports)
}

/// What `onrecord fill` does for an xlsx, through the library: read, detect, answer, patch.
fn fill_xlsx(engine: &Engine, input: &Path, output: &Path) {
    let read =
        onrecord::fill::Input::open(input, &Default::default(), &Default::default()).expect("read");
    let plan =
        onrecord::fill::plan(engine, &read.grids, &read.layouts, false, || {}).expect("plan");
    assert_eq!(plan.rows.len(), 2_000);
    let patched =
        onrecord::workbook::xlsx::patch(input, &plan.edits, &Default::default()).expect("patch");
    std::fs::write(output, patched.bytes).expect("write");
}

/// Peak resident memory allowed to `onrecord fill` of the 2,000-question workbook.
const PEAK_RSS_MB: f64 = 300.0;

/// `onrecord fill` of the same workbook run as a user runs it, the release binary in its own
/// process (the index already on disk): its median wall time over 5 runs, and the peak
/// resident memory of those runs against [`PEAK_RSS_MB`]. Returns the number of targets missed.
fn fill_in_a_child(record: &Path, input: &Path, questions: usize) -> usize {
    let output = record.join("child.answered.xlsx");
    let mut times: Vec<Duration> = (0..5)
        .map(|_| {
            let start = Instant::now();
            let status = Command::new(env!("CARGO_BIN_EXE_onrecord"))
                .arg("fill")
                .arg(input)
                .arg("--record")
                .arg(record)
                .arg("-o")
                .arg(&output)
                .arg("--quiet")
                .status()
                .expect("run onrecord");
            assert!(status.success(), "onrecord fill failed");
            start.elapsed()
        })
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    let wall_ok = median < Duration::from_secs(1);
    println!(
        "onrecord fill of a {questions}-question xlsx, own process: {:.1} ms (target < 1000 ms) {}",
        median.as_secs_f64() * 1e3,
        if wall_ok { "ok" } else { "MISSED" }
    );
    let Some(peak) = children_peak_rss_mb() else {
        println!("peak memory of onrecord fill: not measured on this platform");
        return usize::from(!wall_ok);
    };
    let peak_ok = peak < PEAK_RSS_MB;
    println!(
        "onrecord fill of a {questions}-question xlsx, peak memory: {peak:.1} MB (target < {PEAK_RSS_MB} MB) {}",
        if peak_ok { "ok" } else { "MISSED" }
    );
    usize::from(!wall_ok) + usize::from(!peak_ok)
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

/// `n` questions: the eval set's questions, repeated with a varying suffix.
fn questions(n: usize) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/eval/questions.csv");
    let mut reader = csv::Reader::from_path(path).expect("questions.csv");
    let base: Vec<String> = reader
        .records()
        .map(|r| r.expect("row")[4].to_string())
        .collect();
    (0..n)
        .map(|i| format!("{} ({})", base[i % base.len()], i / base.len()))
        .collect()
}

/// Runs `f` 11 times and prints the median against the target; returns 1 if missed.
fn report(name: &str, target: Duration, mut f: impl FnMut()) -> usize {
    let mut times: Vec<Duration> = (0..11)
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
