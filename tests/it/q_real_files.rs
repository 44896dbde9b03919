//! Real questionnaires and a corpus of odd workbooks from /work/shared/data, read at test time
//! only (their text is not copied into the project). Each test skips, with a note, when the data
//! folder is absent.

use std::panic::catch_unwind;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use onrecord::limits::Limits;
use onrecord::questionnaire::{Layout, Overrides, col_letters, detect, read};

fn data_path(rel: &str) -> Option<PathBuf> {
    crate::shared(rel)
}

fn letter(col: Option<u32>) -> String {
    col.map_or_else(|| "-".to_string(), col_letters)
}

fn describe(l: &Layout) -> String {
    format!(
        "{:18} header={:>4} id={} question={} answer={} comment={} questions={}",
        l.sheet,
        l.header_row.map_or("-".into(), |h| (h + 1).to_string()),
        letter(l.id_col),
        col_letters(l.question_col),
        letter(l.answer_col),
        letter(l.comment_col),
        l.questions.len()
    )
}

#[test]
fn hecvat_respondent_tabs_are_found_and_helper_sheets_are_not() {
    let Some(path) = data_path("hecvat/HECVAT414.xlsx") else {
        return;
    };
    let grids = read(&path, &Limits::default()).expect("HECVAT reads");
    let respondent = [
        "START HERE",
        "Organization",
        "Product",
        "Infrastructure",
        "IT Accessibility",
        "Case-Specific",
        "AI",
        "Privacy",
    ];
    let mut total = 0;
    for grid in &grids {
        let layout = detect(grid, &[], &Overrides::default());
        match &layout {
            Some(l) => println!("{}", describe(l)),
            None => println!("{:18} none (hidden={})", grid.name, grid.hidden),
        }
        if !respondent.contains(&grid.name.as_str()) {
            assert!(layout.is_none(), "helper sheet `{}` detected", grid.name);
            continue;
        }
        let l = layout.unwrap_or_else(|| panic!("respondent tab `{}` not detected", grid.name));
        // Every respondent tab: ids in A, questions in B, "Answer" in C, "Additional
        // Information" in D.
        assert_eq!(
            (l.id_col, l.question_col, l.answer_col, l.comment_col),
            (Some(0), 1, Some(2), Some(3)),
            "{}",
            grid.name
        );
        assert!(
            l.questions.iter().all(|q| q.id.is_some()),
            "{}: a question without id",
            grid.name
        );
        assert!(
            l.questions
                .iter()
                .all(|q| !q.text.contains("Copyright") && !q.text.starts_with('#')),
            "{}: boilerplate taken for a question",
            grid.name
        );
        total += l.questions.len();
    }
    println!("HECVAT respondent questions: {total}");
    assert!(total >= 250, "only {total} questions");
}

#[test]
fn question_lists_in_csv_have_their_question_column_found() {
    // (file, expected question column, expected id column)
    let cases = [
        ("caiq-v4/questions.csv", 4, 0, 261),
        ("caiq-v4/questions_v4.1.0.csv", 4, 0, 283),
        ("vsaq/questions.csv", 3, 1, 240),
        ("hecvat/questions.csv", 3, 0, 332),
        ("cisa-scrm/questions.csv", 2, 0, 250),
    ];
    for (rel, question_col, id_col, at_least) in cases {
        let Some(path) = data_path(rel) else { continue };
        let grids = read(&path, &Limits::default()).expect("csv reads");
        let l = detect(&grids[0], &[], &Overrides::default()).expect("a questionnaire");
        println!("{rel}: {}", describe(&l));
        assert_eq!(
            (l.question_col, l.id_col),
            (question_col, Some(id_col)),
            "{rel}"
        );
        assert_eq!(l.header_row, Some(0), "{rel}");
        assert!(
            l.questions.len() >= at_least,
            "{rel}: {}",
            l.questions.len()
        );
    }
}

/// Every corpus workbook reads or fails with the file named, never panics, and detection never
/// panics on what was read. Adversarial files must not take long.
#[test]
fn corpus_workbooks_read_or_fail_cleanly() {
    let mut files = Vec::new();
    for dir in ["xlsx-corpus/calamine", "xlsx-corpus/umya"] {
        let Some(dir) = data_path(dir) else { return };
        let entries = std::fs::read_dir(&dir).expect("corpus dir");
        files.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()));
    }
    files.sort();
    let (mut ok, mut errors, mut layouts, mut questions) = (0, 0, 0, 0);
    let mut slow = Vec::new();
    for path in &files {
        let start = Instant::now();
        let result = catch_unwind(|| read(path, &Limits::default()))
            .unwrap_or_else(|_| panic!("read panicked on {}", path.display()));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match result {
            Ok(grids) => {
                ok += 1;
                for grid in &grids {
                    let layout = catch_unwind(|| detect(grid, &[], &Overrides::default()))
                        .unwrap_or_else(|_| panic!("detect panicked on {name} / {}", grid.name));
                    if let Some(l) = layout {
                        layouts += 1;
                        questions += l.questions.len();
                    }
                }
            }
            Err(e) => {
                errors += 1;
                let msg = e.to_string();
                println!("error: {msg}");
                assert!(
                    msg.contains(&format!("could not read `{}`", path.display())),
                    "{msg}"
                );
            }
        }
        let took = start.elapsed();
        if took > Duration::from_millis(500) {
            slow.push(format!("{name} {:.1}s", took.as_secs_f64()));
        }
        // Generous for a debug build on a shared 2-core machine; catches a hang or a blow-up.
        assert!(took < Duration::from_secs(60), "{name} took {took:?}");
    }
    println!(
        "corpus: {} files, {ok} read, {errors} clean errors, {layouts} sheets with questions \
         ({questions} rows); slow (>0.5 s): {slow:?}",
        files.len()
    );
    assert!(ok > 150, "only {ok} files read");
}

/// Values, visibility and merges come through the same in every format.
#[test]
fn formats_agree_on_values_visibility_and_merges() {
    for ext in ["xlsx", "xls", "xlsb", "ods"] {
        let Some(path) = data_path(&format!("xlsx-corpus/calamine/date.{ext}")) else {
            return;
        };
        let grids = read(&path, &Limits::default()).expect("date file reads");
        assert_eq!(grids[0].cell(0, 0), "2021-01-01", "{ext}");
        assert_eq!(
            grids[0].cell(0, 1),
            "15",
            "{ext}: a whole number without .0"
        );

        let Some(path) = data_path(&format!("xlsx-corpus/calamine/any_sheets.{ext}")) else {
            return;
        };
        let visibility: Vec<_> = read(&path, &Limits::default())
            .expect("any_sheets reads")
            .iter()
            .map(|g| (g.name.clone(), g.hidden))
            .collect();
        let expected = [("Visible", false), ("Hidden", true), ("VeryHidden", true)];
        let expected: Vec<_> = expected.iter().map(|(n, h)| (n.to_string(), *h)).collect();
        // Excel chart sheets hold no cells and are left out; ods has no chart sheets, its
        // "Chart" is a plain sheet.
        let plain_chart = ext == "ods";
        assert_eq!(visibility[..3], expected[..], "{ext}");
        assert_eq!(
            visibility.len(),
            if plain_chart { 4 } else { 3 },
            "{ext}: {visibility:?}"
        );
    }
    for ext in ["xlsx", "xls"] {
        let Some(path) = data_path(&format!("xlsx-corpus/calamine/merged_range.{ext}")) else {
            return;
        };
        let grids = read(&path, &Limits::default()).expect("merged_range reads");
        assert!(
            grids[0].merged.contains(&(0, 2, 1, 3)),
            "{ext}: {:?}",
            grids[0].merged
        );
    }
}
