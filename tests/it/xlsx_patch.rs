//! Behaviour of `patch` and `inspect` on tiny hand-made workbooks.

use std::path::{Path, PathBuf};

use crate::xlsx_common::*;
use calamine::{Data, Reader, Xlsx, open_workbook};
use onrecord::limits::Limits;
use onrecord::workbook::xlsx::{CellEdit, CellRange, ListValidation, inspect};

fn edit(sheet: &str, row: u32, col: u32, text: &str) -> CellEdit {
    CellEdit {
        sheet: sheet.into(),
        row,
        col,
        text: text.into(),
    }
}

fn value(path: &Path, sheet: &str, row: u32, col: u32) -> Option<Data> {
    let mut wb: Xlsx<_> = open_workbook(path).expect("calamine opens the output");
    let range = wb.worksheet_range(sheet).expect("calamine reads the sheet");
    range.get_value((row, col)).cloned()
}

fn text(path: &Path, sheet: &str, row: u32, col: u32) -> String {
    match value(path, sheet, row, col) {
        Some(Data::String(s)) => s,
        other => panic!(
            "expected a string at {sheet}!{}, got {other:?}",
            a1(row, col)
        ),
    }
}

/// Patches `input` into `out.xlsx` in the same temp dir, checking the input is unchanged.
fn run(input: &Path, edits: &[CellEdit]) -> (PathBuf, onrecord::workbook::xlsx::PatchSummary) {
    let out = input.with_file_name("out.xlsx");
    let before = file_hash(input);
    let summary = patch(input, &out, edits, &Limits::default()).expect("patch succeeds");
    assert_eq!(before, file_hash(input), "input changed");
    (out, summary)
}

fn one_sheet(dir: &Path, body: &str, shared: Option<&[&str]>) -> PathBuf {
    let path = dir.join("in.xlsx");
    let sheets = [SheetDef {
        name: "Q",
        state: None,
        xml: worksheet(body),
    }];
    build_xlsx(
        &path,
        &sheets,
        "",
        shared,
        &[
            ("xl/media/image1.png", b"\x89PNG fake"),
            ("xl/vbaProject.bin", b"vba"),
        ],
    );
    path
}

const S1: &str = "xl/worksheets/sheet1.xml";

fn sheet_xml(path: &Path) -> String {
    String::from_utf8(read_part(path, S1)).unwrap()
}

#[test]
fn replaces_existing_cell_keeping_r_and_s() {
    let dir = tempfile::tempdir().unwrap();
    let body = "<cols><col min=\"3\" max=\"3\" width=\"40\" customWidth=\"1\"/></cols>\
        <sheetData><row r=\"1\" spans=\"1:3\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"C1\" s=\"7\" t=\"s\"><v>1</v></c></row>\
        <row r=\"2\"><c r=\"A2\"><v>42</v></c></row></sheetData><mergeCells count=\"1\"><mergeCell ref=\"D1:E1\"/></mergeCells>";
    let input = one_sheet(dir.path(), body, Some(&["Question", "old answer"]));
    let (out, summary) = run(
        &input,
        &[
            edit("Q", 0, 2, "Yes & <no> \"quoted\" 'it'"),
            edit("Q", 1, 0, "=1+1"),
        ],
    );
    assert_eq!(summary.cells_written, 2);
    assert!(summary.skipped_formula_cells.is_empty());
    let changed = assert_only_parts_changed(&input, &out, &[S1.into()]);
    let (before, after) = &changed[S1];
    assert_sheet_preserved(before, after, &["C1".into(), "A2".into()]);
    let xml = sheet_xml(&out);
    assert!(xml.contains("<c r=\"C1\" s=\"7\" t=\"inlineStr\"><is><t xml:space=\"preserve\">Yes &amp; &lt;no&gt; &quot;quoted&quot; &apos;it&apos;</t></is></c>"), "{xml}");
    assert!(
        !xml.contains("<f>"),
        "text must never become a formula: {xml}"
    );
    assert_eq!(text(&out, "Q", 0, 2), "Yes & <no> \"quoted\" 'it'");
    assert_eq!(text(&out, "Q", 1, 0), "=1+1");
    assert_eq!(text(&out, "Q", 0, 0), "Question");
}

#[test]
fn inserts_cells_with_row_or_column_style() {
    let dir = tempfile::tempdir().unwrap();
    let body = "<cols><col min=\"2\" max=\"4\" width=\"9\" style=\"5\"/></cols><sheetData>\
        <row r=\"1\"><c r=\"B1\"><v>1</v></c><c r=\"E1\"><v>2</v></c></row>\
        <row r=\"2\" s=\"9\" customFormat=\"1\"><c r=\"E2\"><v>3</v></c></row>\
        <row r=\"3\" s=\"9\"><c r=\"E3\"><v>3</v></c></row></sheetData>";
    let input = one_sheet(dir.path(), body, None);
    let edits = [
        edit("Q", 0, 0, "a1"), // before the first cell, no column style
        edit("Q", 0, 2, "c1"), // between cells, column style 5
        edit("Q", 0, 6, "g1"), // after the last cell
        edit("Q", 1, 1, "b2"), // row with customFormat: row style wins
        edit("Q", 2, 1, "b3"), // row style without customFormat: column style
    ];
    let (out, summary) = run(&input, &edits);
    assert_eq!(summary.cells_written, 5);
    let xml = sheet_xml(&out);
    let expected_row1 = "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">a1</t></is></c><c r=\"B1\"><v>1</v></c>\
        <c r=\"C1\" s=\"5\" t=\"inlineStr\"><is><t xml:space=\"preserve\">c1</t></is></c><c r=\"E1\"><v>2</v></c>\
        <c r=\"G1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">g1</t></is></c></row>";
    assert!(xml.contains(expected_row1), "{xml}");
    assert!(
        xml.contains("<c r=\"B2\" s=\"9\" t=\"inlineStr\">"),
        "{xml}"
    );
    assert!(
        xml.contains("<c r=\"B3\" s=\"5\" t=\"inlineStr\">"),
        "{xml}"
    );
    let changed = assert_only_parts_changed(&input, &out, &[S1.into()]);
    let (before, after) = &changed[S1];
    assert_sheet_preserved(
        before,
        after,
        &["A1", "C1", "G1", "B2", "B3"].map(String::from),
    );
    for e in &edits {
        assert_eq!(text(&out, "Q", e.row, e.col), e.text);
    }
}

#[test]
fn inserts_rows_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let body = "<sheetData>\n  <row r=\"3\"><c r=\"A3\"><v>3</v></c></row>\n  <row r=\"6\"><c r=\"A6\"><v>6</v></c></row>\n</sheetData>";
    let input = one_sheet(dir.path(), body, None);
    let edits = [
        edit("Q", 0, 1, "r1"),
        edit("Q", 3, 1, "r4"),
        edit("Q", 4, 1, "r5"),
        edit("Q", 9, 1, "r10"),
    ];
    let (out, summary) = run(&input, &edits);
    assert_eq!(summary.cells_written, 4);
    let xml = sheet_xml(&out);
    assert!(
        xml.contains("<row r=\"1\"><c r=\"B1\" t=\"inlineStr\">"),
        "{xml}"
    );
    assert!(!xml.contains("spans"), "new rows get no spans: {xml}");
    let changed = assert_only_parts_changed(&input, &out, &[S1.into()]);
    let (before, after) = &changed[S1];
    assert_sheet_preserved(before, after, &["B1", "B4", "B5", "B10"].map(String::from));
    for e in &edits {
        assert_eq!(text(&out, "Q", e.row, e.col), e.text);
    }
    assert_eq!(value(&out, "Q", 5, 0), Some(Data::Float(6.0)));
}

#[test]
fn fills_self_closing_sheet_data_and_rows() {
    let dir = tempfile::tempdir().unwrap();
    let input = one_sheet(
        dir.path(),
        "<dimension ref=\"A1\"/><sheetData/><pageMargins left=\"0.7\" right=\"0.7\" top=\"0.75\" bottom=\"0.75\" header=\"0.3\" footer=\"0.3\"/>",
        None,
    );
    let (out, _) = run(&input, &[edit("Q", 4, 2, "hello")]);
    let xml = sheet_xml(&out);
    assert!(xml.contains("<dimension ref=\"A1\"/><sheetData><row r=\"5\"><c r=\"C5\" t=\"inlineStr\"><is><t xml:space=\"preserve\">hello</t></is></c></row></sheetData><pageMargins"), "{xml}");
    assert_eq!(text(&out, "Q", 4, 2), "hello");

    let dir = tempfile::tempdir().unwrap();
    let input = one_sheet(
        dir.path(),
        "<sheetData><row r=\"2\" ht=\"30\" customHeight=\"1\" /></sheetData>",
        None,
    );
    let (out, _) = run(&input, &[edit("Q", 1, 0, "x")]);
    let xml = sheet_xml(&out);
    assert!(xml.contains("<row r=\"2\" ht=\"30\" customHeight=\"1\"><c r=\"A2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">x</t></is></c></row>"), "{xml}");
    assert_eq!(text(&out, "Q", 1, 0), "x");
}

#[test]
fn positional_rows_and_cells_without_r() {
    let dir = tempfile::tempdir().unwrap();
    // Rows 1, 2 and cells A, B, C: no `r` anywhere.
    let body = "<sheetData><row><c><v>1</v></c><c><v>2</v></c><c><v>3</v></c></row>\
        <row><c><v>4</v></c><c t=\"inlineStr\"><is><t>five</t></is></c></row></sheetData>";
    let input = one_sheet(dir.path(), body, None);
    let edits = [
        edit("Q", 0, 1, "B1 new"),
        edit("Q", 1, 0, "A2 new"),
        edit("Q", 3, 0, "A4 new"),
    ];
    let (out, summary) = run(&input, &edits);
    assert_eq!(summary.cells_written, 3);
    for e in &edits {
        assert_eq!(text(&out, "Q", e.row, e.col), e.text);
    }
    assert_eq!(value(&out, "Q", 0, 0), Some(Data::Float(1.0)));
    assert_eq!(value(&out, "Q", 0, 2), Some(Data::Float(3.0)));
    assert_eq!(text(&out, "Q", 1, 1), "five");
    let changed = assert_only_parts_changed(&input, &out, &[S1.into()]);
    let (before, after) = &changed[S1];
    assert_sheet_preserved(before, after, &["B1", "A2", "A4"].map(String::from));

    // Positional rows and cells after new ones keep their positions.
    let dir = tempfile::tempdir().unwrap();
    let body = "<sheetData><row r=\"3\"><c r=\"C3\"><v>1</v></c><c><v>2</v></c></row><row><c r=\"B4\"><v>3</v></c></row></sheetData>";
    let input = one_sheet(dir.path(), body, None);
    let (out, _) = run(&input, &[edit("Q", 2, 0, "A3"), edit("Q", 0, 0, "A1")]);
    assert_eq!(value(&out, "Q", 2, 3), Some(Data::Float(2.0)));
    assert_eq!(value(&out, "Q", 3, 1), Some(Data::Float(3.0)));
    assert_eq!(text(&out, "Q", 2, 0), "A3");
    let dir2 = tempfile::tempdir().unwrap();
    let body = "<sheetData><row><c r=\"B1\"><v>1</v></c><c><v>2</v></c></row><row><c><v>3</v></c></row></sheetData>";
    let input = one_sheet(dir2.path(), body, None);
    let (out, _) = run(&input, &[edit("Q", 0, 0, "A1")]);
    assert_eq!(value(&out, "Q", 0, 2), Some(Data::Float(2.0)));
    assert_eq!(value(&out, "Q", 1, 0), Some(Data::Float(3.0)));
    let _ = dir;
}

#[test]
fn keeps_namespace_prefixes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.xlsx");
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><x:worksheet xmlns:x=\"{MAIN_NS}\"><x:sheetData>\
         <x:row r=\"1\"><x:c r=\"A1\" t=\"inlineStr\"><x:is><x:t>Q1</x:t></x:is></x:c><x:c r=\"B1\" s=\"2\"><x:v>0</x:v></x:c></x:row>\
         </x:sheetData></x:worksheet>"
    );
    build_xlsx(
        &path,
        &[SheetDef {
            name: "Q",
            state: None,
            xml,
        }],
        "",
        None,
        &[],
    );
    let (out, summary) = run(
        &path,
        &[
            edit("Q", 0, 1, "yes"),
            edit("Q", 0, 2, "why"),
            edit("Q", 2, 0, "row3"),
        ],
    );
    assert_eq!(summary.cells_written, 3);
    let xml = sheet_xml(&out);
    assert!(xml.contains("<x:c r=\"B1\" s=\"2\" t=\"inlineStr\"><x:is><x:t xml:space=\"preserve\">yes</x:t></x:is></x:c>"), "{xml}");
    assert!(xml.contains("<x:c r=\"C1\" t=\"inlineStr\">"), "{xml}");
    assert!(
        xml.contains("<x:row r=\"3\"><x:c r=\"A3\" t=\"inlineStr\">"),
        "{xml}"
    );
    assert!(!xml.contains("<c ") && !xml.contains("<row"), "{xml}");
    let changed = assert_only_parts_changed(&path, &out, &[S1.into()]);
    let (before, after) = &changed[S1];
    assert_sheet_preserved(before, after, &["B1", "C1", "A3"].map(String::from));
}

#[test]
fn never_overwrites_formulas() {
    let dir = tempfile::tempdir().unwrap();
    let body = "<sheetData><row r=\"1\"><c r=\"A1\"><f>1+1</f><v>2</v></c><c r=\"B1\"><f t=\"shared\" ref=\"B1:B2\" si=\"0\">A1</f><v>2</v></c>\
        <c r=\"C1\"><f t=\"array\" ref=\"C1:D2\">A1:B2</f><v>2</v></c><c r=\"D1\"><v>2</v></c></row>\
        <row r=\"2\"><c r=\"B2\"><f t=\"shared\" si=\"0\"/><v>2</v></c><c r=\"C2\"><v>2</v></c></row></sheetData>";
    let input = one_sheet(dir.path(), body, None);
    let edits = [
        edit("Q", 0, 0, "x"),
        edit("Q", 0, 1, "x"),
        edit("Q", 1, 1, "x"),
        edit("Q", 0, 3, "x"),
        edit("Q", 1, 3, "x"),
        edit("Q", 0, 4, "E1"),
    ];
    let out = dir.path().join("out.xlsx");
    let before = file_hash(&input);
    let summary = patch(&input, &out, &edits, &Limits::default()).unwrap();
    assert_eq!(before, file_hash(&input));
    assert_eq!(summary.cells_written, 1);
    let skipped: Vec<(u32, u32)> = summary
        .skipped_formula_cells
        .iter()
        .map(|(s, r, c)| {
            assert_eq!(s, "Q");
            (*r, *c)
        })
        .collect();
    assert_eq!(skipped, vec![(0, 0), (0, 1), (0, 3), (1, 1), (1, 3)]);
    let changed = assert_only_parts_changed(&input, &out, &[S1.into()]);
    let (before, after) = &changed[S1];
    assert_sheet_preserved(before, after, &["E1".into()]);

    // Only formula cells: the sheet is copied raw too.
    let out2 = dir.path().join("out2.xlsx");
    let summary = patch(&input, &out2, &[edit("Q", 0, 0, "x")], &Limits::default()).unwrap();
    assert_eq!(summary.cells_written, 0);
    assert_only_parts_changed(&input, &out2, &[]);
}

#[test]
fn cleans_text() {
    let dir = tempfile::tempdir().unwrap();
    let input = one_sheet(dir.path(), "<sheetData/>", None);
    let (out, _) = run(
        &input,
        &[
            edit("Q", 0, 0, "a\u{0}b\u{1b}c\u{FFFF}d"),
            edit("Q", 1, 0, "line1\r\nline2\ttab"),
            edit("Q", 2, 0, "keep _x000D_ literally"),
            edit("Q", 3, 0, "  spaced  "),
            edit("Q", 4, 0, "+cmd|' /C calc'!A0"),
            edit("Q", 5, 0, "@SUM(A1)"),
            edit("Q", 6, 0, "-2+3"),
            edit("Q", 7, 0, "ünïcødé ✓ 𝄞"),
        ],
    );
    assert_eq!(text(&out, "Q", 0, 0), "abcd");
    assert_eq!(text(&out, "Q", 1, 0), "line1\nline2\ttab");
    assert_eq!(text(&out, "Q", 2, 0), "keep _x000D_ literally");
    assert_eq!(text(&out, "Q", 3, 0), "  spaced  ");
    assert_eq!(text(&out, "Q", 4, 0), "+cmd|' /C calc'!A0");
    assert_eq!(text(&out, "Q", 5, 0), "@SUM(A1)");
    assert_eq!(text(&out, "Q", 6, 0), "-2+3");
    assert_eq!(text(&out, "Q", 7, 0), "ünïcødé ✓ 𝄞");
    assert!(!sheet_xml(&out).contains("<f"));
}

#[test]
fn last_edit_of_a_cell_wins_and_sheet_names_match_case_insensitively() {
    let dir = tempfile::tempdir().unwrap();
    let input = one_sheet(dir.path(), "<sheetData/>", None);
    let (out, summary) = run(
        &input,
        &[edit("Q", 0, 0, "first"), edit("q", 0, 0, "second")],
    );
    assert_eq!(summary.cells_written, 1);
    assert_eq!(text(&out, "Q", 0, 0), "second");
}

fn validation(ranges: &[(u32, u32, u32, u32)], choices: &[&str]) -> ListValidation {
    ListValidation {
        ranges: ranges
            .iter()
            .map(|&(a, b, c, d)| CellRange {
                first_row: a,
                first_col: b,
                last_row: c,
                last_col: d,
            })
            .collect(),
        choices: choices.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn inspects_sheets_and_list_validations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.xlsx");
    let questions = worksheet(
        "<sheetData><row r=\"1\"><c r=\"H1\" t=\"s\"><v>0</v></c></row><row r=\"2\"><c r=\"H2\" t=\"inlineStr\"><is><t>Partial</t></is></c></row>\
         <row r=\"3\"><c r=\"H3\"><v>3</v></c></row></sheetData>\
         <dataValidations count=\"7\">\
         <dataValidation type=\"list\" allowBlank=\"1\" sqref=\"C5:C300 E5\"><formula1>\"Yes,No,N/A\"</formula1></dataValidation>\
         <dataValidation type=\"list\" sqref=\"D5:D10\"><formula1>$H$1:$H$5</formula1></dataValidation>\
         <dataValidation type=\"list\" sqref=\"F5\"><formula1>'My Lists'!$A$1:$A$3</formula1></dataValidation>\
         <dataValidation type=\"list\" sqref=\"G5\"><formula1>YesNo</formula1></dataValidation>\
         <dataValidation type=\"list\" sqref=\"I5\"><formula1>INDIRECT(A1)</formula1></dataValidation>\
         <dataValidation type=\"whole\" sqref=\"J5\"><formula1>1</formula1></dataValidation>\
         <dataValidation type=\"list\" sqref=\"K5\"><formula1>Local</formula1></dataValidation>\
         </dataValidations>\
         <extLst><ext uri=\"{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}\" xmlns:x14=\"http://schemas.microsoft.com/office/spreadsheetml/2009/9/main\">\
         <x14:dataValidations count=\"1\" xmlns:xm=\"http://schemas.microsoft.com/office/excel/2006/main\">\
         <x14:dataValidation type=\"list\" allowBlank=\"1\"><x14:formula1>\n<xm:f>Lists2!$A$1:$A$3</xm:f>\n</x14:formula1><xm:sqref>L5:L300</xm:sqref></x14:dataValidation>\
         </x14:dataValidations></ext></extLst>",
    );
    let lists = worksheet(
        "<sheetData><row r=\"1\"><c r=\"A1\" t=\"s\"><v>1</v></c></row><row r=\"2\"><c r=\"A2\" t=\"s\"><v>2</v></c></row>\
         <row r=\"3\"><c r=\"A3\" t=\"s\"><v>3</v></c></row></sheetData>",
    );
    let lists2 = worksheet(
        "<sheetData><row r=\"1\"><c r=\"A1\" t=\"str\"><f>\"Low\"</f><v>Low</v></c><c r=\"B1\"><v>9</v></c></row>\
         <row r=\"2\"><c r=\"A2\"/></row><row r=\"3\"><c r=\"A3\" t=\"b\"><v>1</v></c></row></sheetData>",
    );
    let sheets = [
        SheetDef {
            name: "Questions",
            state: None,
            xml: questions,
        },
        SheetDef {
            name: "My Lists",
            state: Some("hidden"),
            xml: lists,
        },
        SheetDef {
            name: "Lists2",
            state: Some("veryHidden"),
            xml: lists2,
        },
    ];
    let names = "<definedName name=\"yesno\">'My Lists'!$A$1:$A$2</definedName>\
        <definedName name=\"Local\" localSheetId=\"0\">Lists2!$A$1</definedName>\
        <definedName name=\"Local\">'My Lists'!$A$3</definedName>";
    build_xlsx(
        &path,
        &sheets,
        names,
        Some(&["Compliant", "Yes", "No", "Maybe &amp; more"]),
        &[],
    );
    let before = file_hash(&path);
    let info = inspect(&path, &Limits::default()).unwrap();
    assert_eq!(before, file_hash(&path));
    let summary: Vec<(&str, &str, bool)> = info
        .iter()
        .map(|s| (s.name.as_str(), s.part.as_str(), s.hidden))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("Questions", "xl/worksheets/sheet1.xml", false),
            ("My Lists", "xl/worksheets/sheet2.xml", true),
            ("Lists2", "xl/worksheets/sheet3.xml", true),
        ]
    );
    assert_eq!(
        info[0].validations,
        vec![
            validation(&[(4, 2, 299, 2), (4, 4, 4, 4)], &["Yes", "No", "N/A"]),
            validation(&[(4, 3, 9, 3)], &["Compliant", "Partial", "3"]),
            validation(&[(4, 5, 4, 5)], &["Yes", "No", "Maybe & more"]),
            validation(&[(4, 6, 4, 6)], &["Yes", "No"]),
            validation(&[(4, 10, 4, 10)], &["Low"]),
            validation(&[(4, 11, 299, 11)], &["Low", "TRUE"]),
        ]
    );
    assert!(info[1].validations.is_empty());
}

#[test]
fn errors_name_the_file_and_part() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.xlsx");

    let not_zip = dir.path().join("notzip.xlsx");
    std::fs::write(&not_zip, b"hello, I am a csv").unwrap();
    let msg = format!("{:#}", inspect(&not_zip, &Limits::default()).unwrap_err());
    assert!(
        msg.contains("notzip.xlsx") && msg.contains("not an xlsx"),
        "{msg}"
    );

    let cfb = dir.path().join("locked.xlsx");
    let mut bytes = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    bytes.resize(4096, 0);
    std::fs::write(&cfb, &bytes).unwrap();
    let msg = format!(
        "{:#}",
        patch(&cfb, &out, &[edit("Q", 0, 0, "x")], &Limits::default()).unwrap_err()
    );
    assert!(
        msg.contains("locked.xlsx") && msg.contains("password"),
        "{msg}"
    );

    let no_wb = dir.path().join("nowb.xlsx");
    write_zip(&no_wb, &[("hello.txt".into(), b"hi".to_vec())]);
    let msg = format!("{:#}", inspect(&no_wb, &Limits::default()).unwrap_err());
    assert!(
        msg.contains("nowb.xlsx") && msg.contains("xl/workbook.xml"),
        "{msg}"
    );

    let bad = dir.path().join("bad.xlsx");
    let sheets = [
        SheetDef {
            name: "Good",
            state: None,
            xml: worksheet("<sheetData/>"),
        },
        SheetDef {
            name: "Bad",
            state: None,
            xml: worksheet("<sheetData><row r=\"1\"><c r=\"A1\"><v>1</v></row></sheetData>"),
        },
    ];
    build_xlsx(&bad, &sheets, "", None, &[]);
    let bad_hash = file_hash(&bad);
    let msg = format!("{:#}", inspect(&bad, &Limits::default()).unwrap_err());
    assert!(
        msg.contains("bad.xlsx")
            && msg.contains("sheet part `xl/worksheets/sheet2.xml` is not well-formed XML at byte"),
        "{msg}"
    );
    let msg = format!(
        "{:#}",
        patch(&bad, &out, &[edit("Bad", 0, 0, "x")], &Limits::default()).unwrap_err()
    );
    assert!(
        msg.contains("sheet part `xl/worksheets/sheet2.xml` is not well-formed XML at byte"),
        "{msg}"
    );
    // The broken sheet is not needed for an edit on the good one.
    patch(&bad, &out, &[edit("Good", 0, 0, "x")], &Limits::default()).unwrap();
    std::fs::remove_file(&out).unwrap();

    let msg = format!(
        "{:#}",
        patch(&bad, &out, &[edit("Nope", 0, 0, "x")], &Limits::default()).unwrap_err()
    );
    assert!(
        msg.contains("bad.xlsx")
            && msg.contains("no sheet named `Nope`")
            && msg.contains("Good, Bad"),
        "{msg}"
    );

    let msg = format!(
        "{:#}",
        patch(
            &bad,
            &out,
            &[edit("Good", 2_000_000, 0, "x")],
            &Limits::default()
        )
        .unwrap_err()
    );
    assert!(msg.contains("outside Excel's grid"), "{msg}");

    let msg = format!(
        "{:#}",
        patch(
            &bad,
            &out,
            &[edit("Good", 0, 0, &"x".repeat(40_000))],
            &Limits::default()
        )
        .unwrap_err()
    );
    assert!(msg.contains("Good!A1") && msg.contains("32767"), "{msg}");

    let msg = format!(
        "{:#}",
        patch(&bad, &bad, &[edit("Good", 0, 0, "x")], &Limits::default()).unwrap_err()
    );
    assert!(msg.contains("never writes a file it reads"), "{msg}");

    let chart = dir.path().join("chart.xlsx");
    let sheets = [SheetDef {
        name: "Chart",
        state: None,
        xml: format!("<chartsheet xmlns=\"{MAIN_NS}\"><drawing/></chartsheet>"),
    }];
    build_xlsx(&chart, &sheets, "", None, &[]);
    let chart_hash = file_hash(&chart);
    assert_eq!(
        inspect(&chart, &Limits::default()).unwrap()[0].validations,
        vec![]
    );
    let msg = format!(
        "{:#}",
        patch(
            &chart,
            &out,
            &[edit("Chart", 0, 0, "x")],
            &Limits::default()
        )
        .unwrap_err()
    );
    assert!(msg.contains("chartsheet"), "{msg}");

    assert!(!out.exists());
    assert_eq!(bad_hash, file_hash(&bad), "input changed");
    assert_eq!(chart_hash, file_hash(&chart), "input changed");
    assert_eq!(
        dir_listing(dir.path()),
        vec![
            "bad.xlsx",
            "chart.xlsx",
            "locked.xlsx",
            "notzip.xlsx",
            "nowb.xlsx"
        ]
    );
}

#[test]
fn failed_patch_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let input = one_sheet(dir.path(), "<sheetData/>", None);
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("answered.xlsx");
    let before = file_hash(&input);
    let err = patch(
        &input,
        &out,
        &[edit("Q", 0, 0, "fine"), edit("Missing", 0, 0, "x")],
        &Limits::default(),
    )
    .unwrap_err();
    assert!(format!("{err:#}").contains("Missing"));
    assert_eq!(before, file_hash(&input));
    assert!(
        dir_listing(&out_dir).is_empty(),
        "left behind: {:?}",
        dir_listing(&out_dir)
    );

    // An existing output is replaced only by a complete new file.
    std::fs::write(&out, b"previous").unwrap();
    patch(
        &input,
        &out,
        &[edit("Missing", 0, 0, "x")],
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(std::fs::read(&out).unwrap(), b"previous");
    patch(&input, &out, &[edit("Q", 0, 0, "fine")], &Limits::default()).unwrap();
    assert_eq!(text(&out, "Q", 0, 0), "fine");
    assert_eq!(dir_listing(&out_dir), vec!["answered.xlsx"]);
    assert_eq!(before, file_hash(&input));
}

#[test]
fn out_of_order_rows_get_no_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let body = "<sheetData><row r=\"5\"><c r=\"B5\"><v>5</v></c><c r=\"A5\"><v>1</v></c></row><row r=\"2\"><c r=\"A2\"><v>2</v></c></row></sheetData>";
    let input = one_sheet(dir.path(), body, None);
    let (out, summary) = run(
        &input,
        &[
            edit("Q", 1, 1, "B2"),
            edit("Q", 0, 0, "A1"),
            edit("Q", 4, 0, "A5"),
        ],
    );
    assert_eq!(summary.cells_written, 3);
    let xml = sheet_xml(&out);
    assert_eq!(xml.matches("<row r=\"2\"").count(), 1, "{xml}");
    assert_eq!(xml.matches("r=\"A5\"").count(), 1, "{xml}");
    assert_eq!(text(&out, "Q", 1, 1), "B2");
    assert_eq!(text(&out, "Q", 0, 0), "A1");
    assert_eq!(text(&out, "Q", 4, 0), "A5");
}

#[test]
fn byte_order_mark_and_crlf_keep_offsets_right() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.xlsx");
    let xml = format!(
        "\u{FEFF}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<worksheet xmlns=\"{MAIN_NS}\">\r\n<sheetData>\r\n\
         <row r=\"1\">\r\n<c r=\"A1\" t=\"inlineStr\"><is><t>é &amp; ü</t></is></c>\r\n<c r=\"C1\"><v>1</v></c>\r\n</row>\r\n</sheetData>\r\n</worksheet>\r\n"
    );
    build_xlsx(
        &path,
        &[SheetDef {
            name: "Q",
            state: None,
            xml,
        }],
        "",
        None,
        &[],
    );
    let (out, _) = run(
        &path,
        &[
            edit("Q", 0, 1, "mid"),
            edit("Q", 0, 2, "over"),
            edit("Q", 1, 0, "new"),
        ],
    );
    let changed = assert_only_parts_changed(&path, &out, &[S1.into()]);
    let (before, after) = &changed[S1];
    assert!(after.starts_with("\u{FEFF}<?xml".as_bytes()));
    assert_sheet_preserved(before, after, &["B1", "C1", "A2"].map(String::from));
    assert_eq!(text(&out, "Q", 0, 0), "é & ü");
    assert_eq!(text(&out, "Q", 0, 1), "mid");
    assert_eq!(text(&out, "Q", 0, 2), "over");
    assert_eq!(text(&out, "Q", 1, 0), "new");
}
