//! Helpers shared by the integration tests: building tiny xlsx packages from XML strings,
//! reading zip entries raw and decompressed, and an independent map of a sheet's cells.

use std::collections::BTreeMap;
use std::collections::hash_map::DefaultHasher;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::path::Path;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

pub const MAIN_NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
pub const REL_NS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

/// One sheet of a hand-made workbook.
pub struct SheetDef<'a> {
    pub name: &'a str,
    pub state: Option<&'a str>,
    /// The whole worksheet part.
    pub xml: String,
}

/// A worksheet part in the default namespace around `body` (which holds `<sheetData>` etc.).
pub fn worksheet(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
         <worksheet xmlns=\"{MAIN_NS}\" xmlns:r=\"{REL_NS}\">{body}</worksheet>"
    )
}

/// Writes a minimal but complete xlsx: content types, package rels, workbook, its rels,
/// the sheets, optional shared strings, plus `extra` parts copied verbatim.
pub fn build_xlsx(
    path: &Path,
    sheets: &[SheetDef<'_>],
    defined_names: &str,
    shared_strings: Option<&[&str]>,
    extra: &[(&str, &[u8])],
) {
    let mut sheet_entries = String::new();
    let mut rels = String::new();
    let mut overrides = String::new();
    for (i, s) in sheets.iter().enumerate() {
        let n = i + 1;
        let state = s
            .state
            .map(|st| format!(" state=\"{st}\""))
            .unwrap_or_default();
        sheet_entries.push_str(&format!(
            "<sheet name=\"{}\" sheetId=\"{n}\"{state} r:id=\"rId{n}\"/>",
            s.name
        ));
        rels.push_str(&format!(
            "<Relationship Id=\"rId{n}\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet{n}.xml\"/>"
        ));
        overrides.push_str(&format!(
            "<Override PartName=\"/xl/worksheets/sheet{n}.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
        ));
    }
    if shared_strings.is_some() {
        rels.push_str("<Relationship Id=\"rIdSst\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings\" Target=\"sharedStrings.xml\"/>");
        overrides.push_str("<Override PartName=\"/xl/sharedStrings.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml\"/>");
    }
    let names = if defined_names.is_empty() {
        String::new()
    } else {
        format!("<definedNames>{defined_names}</definedNames>")
    };
    let content_types = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
         <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
         <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
         <Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>\
         {overrides}</Types>"
    );
    let package_rels = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>";
    let workbook = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><workbook xmlns=\"{MAIN_NS}\" xmlns:r=\"{REL_NS}\"><sheets>{sheet_entries}</sheets>{names}</workbook>"
    );
    let workbook_rels = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">{rels}</Relationships>"
    );
    let mut parts: Vec<(String, Vec<u8>)> = vec![
        ("[Content_Types].xml".into(), content_types.into_bytes()),
        ("_rels/.rels".into(), package_rels.as_bytes().to_vec()),
        ("xl/workbook.xml".into(), workbook.into_bytes()),
        (
            "xl/_rels/workbook.xml.rels".into(),
            workbook_rels.into_bytes(),
        ),
    ];
    for (i, s) in sheets.iter().enumerate() {
        parts.push((
            format!("xl/worksheets/sheet{}.xml", i + 1),
            s.xml.clone().into_bytes(),
        ));
    }
    if let Some(strings) = shared_strings {
        let items: String = strings
            .iter()
            .map(|s| format!("<si><t>{s}</t></si>"))
            .collect();
        let sst = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><sst xmlns=\"{MAIN_NS}\" count=\"{0}\" uniqueCount=\"{0}\">{items}</sst>",
            strings.len()
        );
        parts.push(("xl/sharedStrings.xml".into(), sst.into_bytes()));
    }
    for (name, bytes) in extra {
        parts.push(((*name).to_owned(), bytes.to_vec()));
    }
    write_zip(path, &parts);
}

/// Writes `parts` deflated, except names ending in `.bin` or `.png`, which are stored (so tests
/// see both compression methods copied).
pub fn write_zip(path: &Path, parts: &[(String, Vec<u8>)]) {
    let mut zip = ZipWriter::new(File::create(path).unwrap());
    for (name, bytes) in parts {
        let method = if name.ends_with(".bin") || name.ends_with(".png") {
            CompressionMethod::Stored
        } else {
            CompressionMethod::Deflated
        };
        zip.start_file(
            name.as_str(),
            SimpleFileOptions::default().compression_method(method),
        )
        .unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
}

/// One zip entry as stored and as decompressed.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub method: CompressionMethod,
    pub crc: u32,
    pub raw: Vec<u8>,
    pub data: Option<Vec<u8>>,
}

/// All entries in order. `data` is `None` where decompression is unsupported or fails.
pub fn read_entries(path: &Path) -> Vec<Entry> {
    let mut zip = ZipArchive::new(File::open(path).unwrap()).unwrap();
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let (name, method, crc, raw) = {
            let mut f = zip.by_index_raw(i).unwrap();
            let mut raw = Vec::new();
            f.read_to_end(&mut raw).unwrap();
            (
                f.name().unwrap().into_owned(),
                f.compression(),
                f.crc32(),
                raw,
            )
        };
        let data = zip.by_index(i).ok().and_then(|mut f| {
            let mut data = Vec::new();
            f.read_to_end(&mut data).ok().map(|_| data)
        });
        out.push(Entry {
            name,
            method,
            crc,
            raw,
            data,
        });
    }
    out
}

pub fn read_part(path: &Path, name: &str) -> Vec<u8> {
    read_entries(path)
        .into_iter()
        .find(|e| e.name == name)
        .and_then(|e| e.data)
        .unwrap_or_else(|| panic!("no part {name}"))
}

pub fn file_hash(path: &Path) -> u64 {
    let bytes = std::fs::read(path).unwrap();
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// Files in `dir` (names only), sorted.
pub fn dir_listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A cell as the independent test parser sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellXml {
    /// Start tag name and attributes except `r`, then the rest of the element verbatim.
    pub xml: String,
    pub has_formula: bool,
}

/// What the test parser learns from a worksheet part.
#[derive(Debug, Default)]
pub struct SheetCells {
    /// "C5" → cell, positions computed like Excel (missing `r` = next row / next column).
    pub cells: BTreeMap<String, CellXml>,
    /// (row, col) 0-based in document order.
    pub order: Vec<(u32, u32)>,
    /// Byte offsets of `<sheetData` and the end of `</sheetData>` (or `<sheetData/>`).
    pub sheet_data: Option<(usize, usize)>,
}

pub fn col_name(col: u32) -> String {
    let mut n = col + 1;
    let mut s = Vec::new();
    while n > 0 {
        s.push(b'A' + ((n - 1) % 26) as u8);
        n = (n - 1) / 26;
    }
    s.reverse();
    String::from_utf8(s).unwrap()
}

pub fn a1(row: u32, col: u32) -> String {
    format!("{}{}", col_name(col), row + 1)
}

fn parse_col(r: &str) -> u32 {
    let letters: String = r.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    letters.bytes().fold(0u32, |acc, b| {
        acc * 26 + u32::from(b.to_ascii_uppercase() - b'A' + 1)
    }) - 1
}

fn attr_of(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .filter_map(Result::ok)
        .find(|a| a.key.as_ref() == name)
        .map(|a| a.value.into_owned())
}

fn normalized_start(e: &BytesStart<'_>) -> String {
    let mut s = format!("<{}", e.name().as_ref());
    for a in e.attributes().filter_map(Result::ok) {
        if a.key.as_ref() != "r" {
            s.push_str(&format!(" {}=\"{}\"", a.key.as_ref(), a.value));
        }
    }
    s
}

/// Parses a worksheet's cells independently of the code under test.
pub fn sheet_cells(xml: &[u8]) -> Result<SheetCells, String> {
    // quick-xml counts offsets after a byte order mark.
    let bom = if xml.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let mut reader = Reader::from_reader(&xml[bom..]);
    let mut out = SheetCells::default();
    let mut depth = 0usize;
    let mut data_depth = None;
    let (mut next_row, mut row, mut next_col) = (0u32, 0u32, 0u32);
    let mut open: Option<(String, usize, String, bool)> = None; // ref, start, head, formula
    loop {
        let start = bom + reader.buffer_position() as usize;
        let ev = reader.read_event().map_err(|e| e.to_string())?;
        let end = bom + reader.buffer_position() as usize;
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let local = e.local_name().as_ref().to_owned();
                if local == "sheetData" && depth == 1 {
                    data_depth = Some(depth);
                    if empty {
                        out.sheet_data = Some((start, end));
                    } else {
                        out.sheet_data = Some((start, 0));
                    }
                } else if local == "row" && data_depth == Some(depth - 1) {
                    row = attr_of(e, "r")
                        .map(|r| r.parse::<u32>().unwrap() - 1)
                        .unwrap_or(next_row);
                    next_row = row + 1;
                    next_col = 0;
                } else if local == "c" && data_depth.is_some_and(|d| d + 2 == depth) {
                    let col = attr_of(e, "r").map(|r| parse_col(&r)).unwrap_or(next_col);
                    next_col = col + 1;
                    out.order.push((row, col));
                    let head = normalized_start(e);
                    if empty {
                        out.cells.insert(
                            a1(row, col),
                            CellXml {
                                xml: format!("{head}/>"),
                                has_formula: false,
                            },
                        );
                    } else {
                        open = Some((a1(row, col), end, head, false));
                    }
                } else if local == "f"
                    && let Some(o) = open.as_mut()
                {
                    o.3 = true;
                }
                if !empty {
                    depth += 1;
                }
            }
            Event::End(ref e) => {
                depth -= 1;
                let local = e.local_name().as_ref().to_owned();
                if local == "c" && open.is_some() {
                    let (r, body_start, head, formula) = open.take().expect("checked");
                    let body = String::from_utf8_lossy(&xml[body_start..end]);
                    out.cells.insert(
                        r,
                        CellXml {
                            xml: format!("{head}>{body}"),
                            has_formula: formula,
                        },
                    );
                } else if local == "sheetData" && data_depth == Some(depth) {
                    if let Some(sd) = out.sheet_data.as_mut() {
                        sd.1 = end;
                    }
                    data_depth = None;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// Checks that every entry of `output` except `patched` is byte-identical (raw and
/// decompressed, same method and order) to `input`'s, and returns the patched parts' bytes
/// (input, output) keyed by name.
pub fn assert_only_parts_changed(
    input: &Path,
    output: &Path,
    patched: &[String],
) -> BTreeMap<String, (Vec<u8>, Vec<u8>)> {
    let a = read_entries(input);
    let b = read_entries(output);
    assert_eq!(
        a.iter().map(|e| &e.name).collect::<Vec<_>>(),
        b.iter().map(|e| &e.name).collect::<Vec<_>>(),
        "entry order changed"
    );
    let mut changed = BTreeMap::new();
    for (x, y) in a.into_iter().zip(b) {
        if patched.contains(&x.name) {
            changed.insert(x.name.clone(), (x.data.unwrap(), y.data.unwrap()));
        } else {
            assert_eq!(
                x.method, y.method,
                "compression method of {} changed",
                x.name
            );
            assert_eq!(x.crc, y.crc, "crc of {} changed", x.name);
            assert!(x.raw == y.raw, "raw bytes of {} changed", x.name);
            assert!(x.data == y.data, "bytes of {} changed", x.name);
        }
    }
    changed
}

/// Checks the patched sheet: bytes outside `<sheetData>` identical, every cell identical except
/// at `edited` refs, document order still sorted where it was sorted.
pub fn assert_sheet_preserved(before: &[u8], after: &[u8], edited: &[String]) {
    let a = sheet_cells(before).expect("original sheet parses");
    let b = sheet_cells(after).expect("patched sheet parses");
    let (a0, a1) = a.sheet_data.expect("sheetData");
    let (b0, b1) = b.sheet_data.expect("sheetData");
    assert_eq!(
        &before[..a0],
        &after[..b0],
        "bytes before <sheetData> changed"
    );
    assert_eq!(
        &before[a1..],
        &after[b1..],
        "bytes after </sheetData> changed"
    );
    for (r, cell) in &a.cells {
        if !edited.contains(r) {
            assert_eq!(Some(cell), b.cells.get(r), "cell {r} changed");
        }
    }
    for r in b.cells.keys() {
        assert!(
            a.cells.contains_key(r) || edited.contains(r),
            "unexpected new cell {r}"
        );
    }
    let sorted = |o: &[(u32, u32)]| o.windows(2).all(|w| w[0] < w[1]);
    if sorted(&a.order) {
        assert!(sorted(&b.order), "cells out of order after patch");
    }
}

/// `xlsx::patch` written to `output` the way `fill` writes it, through `outputs`; the output
/// may exist (tests rewrite theirs).
pub fn patch(
    input: &Path,
    output: &Path,
    edits: &[onrecord::workbook::xlsx::CellEdit],
    limits: &onrecord::limits::Limits,
) -> anyhow::Result<onrecord::workbook::xlsx::PatchSummary> {
    use onrecord::outputs::{Outputs, Replace};
    let patched = onrecord::workbook::xlsx::patch(input, edits, limits)?;
    let mut outputs = Outputs::new(&[input], Replace::Force);
    outputs.claim(output, "the patched workbook")?;
    outputs.set(output, patched.bytes)?;
    outputs.commit()?;
    Ok(patched.summary)
}
