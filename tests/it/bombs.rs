//! Hostile packages (issue 15): each bomb is built here, streaming, into a temp dir, and
//! `fill`, `fill --dry-run` and `coverage` must refuse it with exit code 2 and a message that
//! names the limit, within 10 s and under 1 GB peak memory (measured by GNU time).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::xlsx_common::{MAIN_NS, REL_NS};

const MAX_WALL: Duration = Duration::from_secs(10);
const MAX_PEAK_KB: u64 = 1 << 20;

/// One part of a bomb: its name and a writer of its (possibly huge) content.
type Part<'a> = (&'a str, &'a dyn Fn(&mut dyn Write) -> std::io::Result<()>);

/// Writes a zip of `parts`, each deflated (fastest level) as it is written.
fn build(path: &Path, parts: &[Part<'_>]) {
    let file = BufWriter::new(File::create(path).unwrap());
    let mut zip = ZipWriter::new(file);
    for (name, write) in parts {
        let options = if *name == "mimetype" {
            SimpleFileOptions::default().compression_method(CompressionMethod::Stored)
        } else {
            SimpleFileOptions::default()
                .compression_method(CompressionMethod::Deflated)
                .compression_level(Some(1))
                .large_file(true)
        };
        zip.start_file(*name, options).unwrap();
        let mut out = BufWriter::with_capacity(1 << 20, &mut zip);
        write(&mut out).unwrap();
        out.flush().unwrap();
    }
    zip.finish().unwrap().flush().unwrap();
}

fn text(s: &'static str) -> impl Fn(&mut dyn Write) -> std::io::Result<()> {
    move |out: &mut dyn Write| out.write_all(s.as_bytes())
}

/// `count` copies of `item` between `head` and `tail`.
fn repeated(
    head: String,
    item: &'static [u8],
    count: u64,
    tail: &'static str,
) -> impl Fn(&mut dyn Write) -> std::io::Result<()> {
    move |out: &mut dyn Write| {
        out.write_all(head.as_bytes())?;
        let block = item.repeat((64 << 10) / item.len().max(1));
        let per_block = (block.len() / item.len()) as u64;
        let mut left = count;
        while left >= per_block {
            out.write_all(&block)?;
            left -= per_block;
        }
        for _ in 0..left {
            out.write_all(item)?;
        }
        out.write_all(tail.as_bytes())
    }
}

/// A minimal xlsx: one sheet (`sheet`), plus `extra` parts (shared strings, styles).
fn xlsx(path: &Path, sheet: &dyn Fn(&mut dyn Write) -> std::io::Result<()>, extra: &[Part<'_>]) {
    let types = text(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
         <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
         <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
         <Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>\
         <Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>\
         <Override PartName=\"/xl/sharedStrings.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml\"/>\
         <Override PartName=\"/xl/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml\"/></Types>",
    );
    let rels = text(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>",
    );
    let workbook = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><workbook xmlns=\"{MAIN_NS}\" xmlns:r=\"{REL_NS}\"><sheets><sheet name=\"Q\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"
    );
    let workbook = move |out: &mut dyn Write| out.write_all(workbook.as_bytes());
    let workbook_rels = text(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
         <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/>\
         <Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings\" Target=\"sharedStrings.xml\"/>\
         <Relationship Id=\"rId3\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" Target=\"styles.xml\"/></Relationships>",
    );
    let mut parts: Vec<Part<'_>> = vec![
        ("[Content_Types].xml", &types),
        ("_rels/.rels", &rels),
        ("xl/workbook.xml", &workbook),
        ("xl/_rels/workbook.xml.rels", &workbook_rels),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    parts.extend_from_slice(extra);
    build(path, &parts);
}

/// A sheet whose first cell shows shared string 0.
fn sheet_of_string_0() -> impl Fn(&mut dyn Write) -> std::io::Result<()> {
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet xmlns=\"{MAIN_NS}\"><sheetData>\
         <row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c></row></sheetData></worksheet>"
    );
    move |out: &mut dyn Write| out.write_all(xml.as_bytes())
}

fn sst_head(attrs: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><sst xmlns=\"{MAIN_NS}\"{attrs}>")
}

/// Runs `onrecord ARGS FILE` under GNU time, in an empty record directory.
fn refuses(file: &Path, limit: &str) {
    let record = tempfile::tempdir().unwrap();
    let file = file.to_str().unwrap();
    for args in [
        &["fill", file][..],
        &["fill", "--dry-run", file],
        &["coverage", file],
    ] {
        let peak_file = record.path().join("peak");
        let timed = Path::new("/usr/bin/time").exists();
        let mut command = if timed {
            let mut c = Command::new("/usr/bin/time");
            c.args(["-f", "%M", "-o"])
                .arg(&peak_file)
                .arg(env!("CARGO_BIN_EXE_onrecord"));
            c
        } else {
            Command::new(env!("CARGO_BIN_EXE_onrecord"))
        };
        let start = Instant::now();
        let output = command
            .args(args)
            .current_dir(record.path())
            .env("ONRECORD_TODAY", crate::TODAY)
            .output()
            .expect("run onrecord");
        let wall = start.elapsed();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let peak_kb: Option<u64> = timed.then(|| {
            let text = std::fs::read_to_string(&peak_file).unwrap();
            text.lines().last().unwrap_or("").trim().parse().unwrap()
        });
        eprintln!(
            "bomb {} {args:?}: {wall:.2?}, peak {} MB",
            limit,
            peak_kb.map_or("?".into(), |kb| (kb / 1024).to_string())
        );
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("exceeds the limit {limit} ("))
                && stderr.contains(&format!("--limit {limit}=N")),
            "{args:?}: {stderr}"
        );
        assert!(wall < MAX_WALL, "{args:?} took {wall:?}");
        if let Some(kb) = peak_kb {
            assert!(kb < MAX_PEAK_KB, "{args:?} peaked at {kb} KB");
        }
    }
}

fn bomb_path(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

#[test]
fn a_declared_unique_count_of_4294967295_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = bomb_path(&dir, "unique-count.xlsx");
    let sst = repeated(
        sst_head(" count=\"4294967295\" uniqueCount=\"4294967295\""),
        b"<si><t>question</t></si>",
        1,
        "</sst>",
    );
    xlsx(
        &path,
        &sheet_of_string_0(),
        &[("xl/sharedStrings.xml", &sst)],
    );
    assert!(std::fs::metadata(&path).unwrap().len() < 4096);
    refuses(&path, "shared_strings");
}

#[test]
fn one_shared_string_of_1_gb_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = bomb_path(&dir, "one-gb-string.xlsx");
    let sst = repeated(
        format!("{}<si><t>", sst_head("")),
        b"aaaaaaaaaaaaaaaa",
        (1 << 30) / 16,
        "</t></si></sst>",
    );
    xlsx(
        &path,
        &sheet_of_string_0(),
        &[("xl/sharedStrings.xml", &sst)],
    );
    refuses(&path, "cell_chars");
}

#[test]
fn sixty_million_tiny_shared_strings_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = bomb_path(&dir, "tiny-strings.xlsx");
    // No count attributes: the entries themselves are counted.
    let sst = repeated(sst_head(""), b"<si><t>a</t></si>", 60_000_000, "</sst>");
    xlsx(
        &path,
        &sheet_of_string_0(),
        &[("xl/sharedStrings.xml", &sst)],
    );
    refuses(&path, "shared_strings");
}

#[test]
fn a_sheet_of_1048576_rows_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = bomb_path(&dir, "million-rows.xlsx");
    let head = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet xmlns=\"{MAIN_NS}\"><sheetData>"
    );
    // Rows without `r`: their number is their count.
    let sheet = repeated(
        head,
        b"<row><c t=\"inlineStr\"><is><t>Do you encrypt data at rest?</t></is></c></row>",
        1_048_576,
        "</sheetData></worksheet>",
    );
    xlsx(&path, &sheet, &[]);
    refuses(&path, "rows");
}

#[test]
fn a_styles_part_of_1_gb_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = bomb_path(&dir, "huge-styles.xlsx");
    let styles = repeated(
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><styleSheet xmlns=\"{MAIN_NS}\"><cellXfs>"
        ),
        b"<xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/>",
        (1 << 30) / 52,
        "</cellXfs></styleSheet>",
    );
    xlsx(&path, &sheet_of_string_0(), &[("xl/styles.xml", &styles)]);
    refuses(&path, "part_bytes");
}

/// An ods whose one table has the rows given.
fn ods(path: &Path, rows: &'static str) {
    let content = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><office:document-content \
         xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" \
         xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" \
         xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" office:version=\"1.2\">\
         <office:body><office:spreadsheet><table:table table:name=\"Q\">{rows}</table:table>\
         </office:spreadsheet></office:body></office:document-content>"
    );
    let content = move |out: &mut dyn Write| out.write_all(content.as_bytes());
    let manifest = text(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><manifest:manifest xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0\">\
         <manifest:file-entry manifest:full-path=\"/\" manifest:media-type=\"application/vnd.oasis.opendocument.spreadsheet\"/>\
         <manifest:file-entry manifest:full-path=\"content.xml\" manifest:media-type=\"text/xml\"/></manifest:manifest>",
    );
    let mimetype = text("application/vnd.oasis.opendocument.spreadsheet");
    build(
        path,
        &[
            ("mimetype", &mimetype),
            ("META-INF/manifest.xml", &manifest),
            ("content.xml", &content),
        ],
    );
}

#[test]
fn an_ods_row_repeated_a_million_times_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = bomb_path(&dir, "repeated-rows.ods");
    ods(
        &path,
        "<table:table-row table:number-rows-repeated=\"1000000\"><table:table-cell \
         office:value-type=\"string\"><text:p>Do you encrypt data at rest?</text:p>\
         </table:table-cell></table:table-row>",
    );
    refuses(&path, "rows");
}

#[test]
fn an_ods_cell_repeated_across_every_column_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = bomb_path(&dir, "repeated-columns.ods");
    ods(
        &path,
        "<table:table-row table:number-rows-repeated=\"1000\"><table:table-cell \
         table:number-columns-repeated=\"16384\" office:value-type=\"float\" \
         office:value=\"1\"/></table:table-row>",
    );
    refuses(&path, "cells");
}

#[test]
fn one_long_shared_string_shown_in_every_row_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = bomb_path(&dir, "shown-everywhere.xlsx");
    let sst = repeated(
        format!("{}<si><t>", sst_head(" count=\"1\" uniqueCount=\"1\"")),
        b"Do you encrypt? ",
        2_000,
        "</t></si></sst>",
    );
    let head = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet xmlns=\"{MAIN_NS}\"><sheetData>"
    );
    // 32,000 characters a cell, 100,000 cells: 3.2 GB of text from a few hundred KB.
    let sheet = repeated(
        head,
        b"<row><c t=\"s\"><v>0</v></c></row>",
        100_000,
        "</sheetData></worksheet>",
    );
    xlsx(&path, &sheet, &[("xl/sharedStrings.xml", &sst)]);
    refuses(&path, "text_bytes");
}

/// The LibreOffice-made fixture with its records patched in place: `patch` gets each record's
/// type and body and may rewrite the body.
fn patched_xls(path: &Path, patch: impl Fn(u16, &mut [u8])) {
    let mut bytes =
        std::fs::read(crate::repo().join("fixtures/questionnaires/lookup-libreoffice.xls"))
            .unwrap();
    // The workbook stream lies whole after the header here; records are found by their
    // headers (type, length) at the offsets a record walk from the first BOF gives.
    let start = bytes
        .windows(4)
        .position(|w| w == [0x09, 0x08, 0x10, 0x00])
        .unwrap();
    let mut at = start;
    while at + 4 <= bytes.len() {
        let typ = u16::from_le_bytes([bytes[at], bytes[at + 1]]);
        let len = u16::from_le_bytes([bytes[at + 2], bytes[at + 3]]) as usize;
        if at + 4 + len > bytes.len() {
            break;
        }
        patch(typ, &mut bytes[at + 4..at + 4 + len]);
        at += 4 + len;
        if typ == 0x000A && bytes.get(at..at + 2) != Some(&[0x09, 0x08]) {
            break;
        }
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn an_xls_declaring_4294967295_rows_is_refused_not_aborted() {
    let dir = tempfile::tempdir().unwrap();
    let path = bomb_path(&dir, "dimensions.xls");
    patched_xls(&path, |typ, body| {
        if typ == 0x0200 && body.len() == 14 {
            body[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
            body[10..12].copy_from_slice(&u16::MAX.to_le_bytes());
        }
    });
    let run = crate::onrecord(dir.path(), &["fill", "--dry-run", path.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("DIMENSIONS record"), "{}", run.stderr);
}

#[test]
fn an_xls_with_cells_at_both_ends_of_the_grid_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = bomb_path(&dir, "span.xls");
    let moved = std::cell::Cell::new(false);
    patched_xls(&path, |typ, body| {
        // One shared-string cell moved to row 65536, column 65536: calamine would fill the
        // rectangle from A1, 4 billion cells.
        if typ == 0x00FD && !moved.get() {
            body[0..4].copy_from_slice(&[0xFF; 4]);
            moved.set(true);
        }
    });
    assert!(moved.get());
    refuses(&path, "cells");
}

#[test]
fn a_package_of_20000_parts_is_refused_before_they_are_indexed() {
    let dir = tempfile::tempdir().unwrap();
    let path = bomb_path(&dir, "many-parts.xlsx");
    let empty = text("");
    let names: Vec<String> = (0..20_000).map(|i| format!("xl/media/p{i}.bin")).collect();
    let extra: Vec<Part<'_>> = names.iter().map(|n| (n.as_str(), &empty as _)).collect();
    xlsx(&path, &sheet_of_string_0(), &extra);
    refuses(&path, "parts");
}
