//! The guard in front of every zip package (xlsx, xlsm, xlsb, ods) that onrecord opens.
//!
//! calamine and the patcher trust what a package says about itself: calamine reserves the
//! shared-string table from its declared `uniqueCount`, parts are inflated whole, a sheet of a
//! million rows is read to the end, and an ods row repeated a million times is expanded. A
//! 2 KB file can so ask for 100 GB. [`check_package`] reads the package first, streaming: every
//! part is inflated in chunks through a counting reader (declared sizes are not trusted), and
//! the parts that decide what the readers allocate (the xlsx shared strings, worksheets, the
//! ods `content.xml`) are walked with quick-xml's streaming reader and their counts checked
//! against [`Limits`] as they are read. Memory stays the size of the buffers: one text run
//! (bytes between two `<`) in those parts is bounded too, so quick-xml never buffers more.
//!
//! Invariants: the guard only refuses a package past a limit; a package it cannot read
//! (not a zip, a corrupt entry, malformed XML) passes, so that the reader after it reports the
//! problem in its own words. Parts are classified by their root element, not their names,
//! since a package's relationships may name any part.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use anyhow::anyhow;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use zip::ZipArchive;

use crate::limits::{Exceeded, Limits};

/// Excel's grid, which calamine caps ods expansions to.
const MAX_ROWS: u64 = 1_048_576;
const MAX_COLS: u64 = 16_384;
/// Slack over `cell_chars` (as UTF-8, 4 bytes a character) for the markup in one text run.
const RUN_SLACK: u64 = 1 << 20;

/// Refuses `path` when it, or one of its parts, is past a limit. "could not read `path`: part
/// `xl/sharedStrings.xml` declares 4294967295 strings, which exceeds the limit shared_strings
/// (1000000); if the file is genuine, raise it with --limit shared_strings=N".
///
/// A package is walked once per process: reading, inspecting and patching one questionnaire
/// each ask, and the same file (same size and modification time) under the same limits
/// passed already.
pub fn check_package(path: &Path, limits: &Limits) -> anyhow::Result<()> {
    let stamp = std::fs::metadata(path).ok().map(|meta| Stamp {
        path: std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
        len: meta.len(),
        modified: meta.modified().ok(),
        limits: *limits,
    });
    let seen = |stamp: &Stamp| CHECKED.lock().is_ok_and(|list| list.contains(stamp));
    if stamp.as_ref().is_some_and(seen) {
        return Ok(());
    }
    check(path, limits)
        .map_err(|reason| anyhow!("could not read `{}`: {reason}", path.display()))?;
    if let (Some(stamp), Ok(mut list)) = (stamp, CHECKED.lock()) {
        list.push(stamp);
    }
    Ok(())
}

/// A package that passed, as it was when it passed.
#[derive(PartialEq)]
struct Stamp {
    path: std::path::PathBuf,
    len: u64,
    modified: Option<std::time::SystemTime>,
    limits: Limits,
}

static CHECKED: std::sync::Mutex<Vec<Stamp>> = std::sync::Mutex::new(Vec::new());

fn check(path: &Path, limits: &Limits) -> Result<(), String> {
    let size = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    limits
        .check("input_bytes", size)
        .map_err(|e| format!("the file is {size} bytes, which {e}"))?;
    let mut file = File::open(path).map_err(|e| e.to_string())?;
    // The zip crate indexes every entry when it opens a package: count them first.
    if let Some(parts) = declared_parts(&mut file, size) {
        limits
            .check("parts", parts)
            .map_err(|e| format!("the package declares {parts} parts, which {e}"))?;
    }
    let Ok(mut archive) = ZipArchive::new(BufReader::new(file)) else {
        return Ok(());
    };
    let mut totals = Totals::default();
    for index in 0..archive.len() {
        let name = match archive.name_for_index(index) {
            Some(Ok(name)) => name.into_owned(),
            _ => format!("#{index}"),
        };
        let Ok(entry) = archive.by_index(index) else {
            continue;
        };
        let lower = name.to_ascii_lowercase();
        let sheet_name = lower.ends_with(".xml") && lower.contains("sheet");
        check_part(entry, sheet_name, limits, &mut totals)
            .map_err(|why| format!("part `{name}` {why}"))?;
    }
    Ok(())
}

/// The number of entries the package's end-of-central-directory record (or its zip64 record)
/// declares; `None` when there is none to read, and the zip crate says why.
fn declared_parts(file: &mut File, size: u64) -> Option<u64> {
    use std::io::{Seek, SeekFrom};
    // The record is 22 bytes plus a comment of at most 65535, at the end of the file.
    let tail_len = size.min(22 + 65_535);
    file.seek(SeekFrom::Start(size - tail_len)).ok()?;
    let mut tail = vec![0; tail_len as usize];
    file.read_exact(&mut tail).ok()?;
    let at = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| tail[i..i + 4] == *b"PK\x05\x06")?;
    let u16_at = |i: usize| u16::from_le_bytes([tail[i], tail[i + 1]]);
    let entries = u16_at(at + 10);
    if entries != u16::MAX {
        return Some(u64::from(entries));
    }
    // zip64: a 20-byte locator before the record points to the zip64 record.
    let locator = tail.get(at.checked_sub(20)?..at)?;
    if locator[..4] != *b"PK\x06\x07" {
        return Some(u64::from(entries));
    }
    let offset = u64::from_le_bytes(locator[8..16].try_into().ok()?);
    file.seek(SeekFrom::Start(offset)).ok()?;
    let mut record = [0u8; 40];
    file.read_exact(&mut record).ok()?;
    if record[..4] != *b"PK\x06\x06" {
        return None;
    }
    Some(u64::from_le_bytes(record[32..40].try_into().ok()?))
}

/// What the limits on a whole questionnaire count across its parts.
#[derive(Default)]
struct Totals {
    /// Cells an ods reader materialises (rows and columns repeats expanded).
    cells: u64,
    /// Bytes of cell text those cells hold.
    text_bytes: u64,
}

/// Inflates one part to its end, walking it when it is XML, or named like a sheet's XML
/// (`sheet_name`: calamine's lenient parser reads a worksheet that starts with junk, or with
/// no `<worksheet>` root, too); `Err` is the reason, without the part's name.
fn check_part(
    entry: impl Read,
    sheet_name: bool,
    limits: &Limits,
    totals: &mut Totals,
) -> Result<(), String> {
    let counter = Counter {
        inner: entry,
        read: 0,
        limit: limits.part_bytes,
        run: 0,
        run_limit: None,
        breach: None,
    };
    let mut input = BufReader::with_capacity(64 << 10, counter);
    let walked = match looks_like_xml(&mut input) {
        Ok(xml) if xml || sheet_name => walk(&mut input, sheet_name, limits, totals),
        _ => Ok(()),
    };
    // The rest is inflated and counted, whatever the walk found or where it stopped.
    if walked.is_ok() {
        let _ = io::copy(&mut input, &mut io::sink());
    }
    match input.get_ref().breach.clone() {
        Some(breach) => Err(breach),
        None => walked,
    }
}

/// Whether the part starts (after a byte order mark and blanks) with markup.
fn looks_like_xml(input: &mut impl BufRead) -> io::Result<bool> {
    let head = input.fill_buf()?;
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    Ok(head
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'<'))
}

/// Counts the inflated bytes of a part and, once a run limit is set, the bytes since the last
/// `<`, failing (and staying failed) past the limits; `breach` says which. The run counted
/// from where the limit is set is at most a buffer ahead of the parser: still a bound.
struct Counter<R> {
    inner: R,
    read: u64,
    limit: u64,
    run: u64,
    run_limit: Option<(u64, Exceeded)>,
    breach: Option<String>,
}

impl<R: Read> Read for Counter<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.breach.is_some() {
            return Err(io::Error::other("limit exceeded"));
        }
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.limit {
            let exceeded = Exceeded {
                name: "part_bytes",
                limit: self.limit,
            };
            self.breach = Some(format!(
                "inflates to more than {} bytes, which {exceeded}",
                self.limit
            ));
            return Err(io::Error::other("limit exceeded"));
        }
        if let Some((bytes, exceeded)) = &self.run_limit {
            // `contains` is memchr, fast even in debug builds; a chunk with a `<` resets the
            // run, which undercounts it by at most one chunk (the buffer's 64 KiB).
            self.run = if buf[..n].contains(&b'<') {
                0
            } else {
                self.run + n as u64
            };
            if self.run > *bytes {
                self.breach = Some(format!(
                    "holds a text run of more than {bytes} bytes, which {exceeded}"
                ));
                return Err(io::Error::other("limit exceeded"));
            }
        }
        Ok(n)
    }
}

/// What a part is, from its root element.
enum Kind {
    SharedStrings,
    Worksheet,
    OdsContent,
    /// Any other XML part: walked as a worksheet, without the run limit.
    Other,
}

/// Walks an XML part; a part of another kind, or one quick-xml cannot parse, is left to the
/// caller to drain (`Ok`).
fn walk<R: Read>(
    input: &mut BufReader<Counter<R>>,
    sheet_name: bool,
    limits: &Limits,
    totals: &mut Totals,
) -> Result<(), String> {
    let mut reader = Reader::from_reader(input);
    let mut buf = Vec::with_capacity(1024);
    // The root says the kind. A part named like a sheet with another root is walked as a
    // worksheet all the same (calamine finds a sheet's elements wherever they stand), without
    // the run limit, which only the three kinds' text can be held to; any other part is only
    // inflated and counted.
    let (kind, first) = loop {
        buf.clear();
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e)) => {
                let kind = match e.local_name().as_ref() {
                    "sst" => Kind::SharedStrings,
                    "worksheet" => Kind::Worksheet,
                    "document-content" => Kind::OdsContent,
                    _ if sheet_name => break (Kind::Other, Some(Event::Empty(e.into_owned()))),
                    _ => return Ok(()),
                };
                if let Kind::SharedStrings = kind {
                    for name in ["count", "uniqueCount"] {
                        if let Some(n) = number_attr(&e, name) {
                            limits
                                .check("shared_strings", n)
                                .map_err(|e| format!("declares {n} strings, which {e}"))?;
                        }
                    }
                }
                break (kind, None);
            }
            Ok(Event::Eof) | Err(_) => return Ok(()),
            Ok(_) => {}
        }
    };
    if !matches!(kind, Kind::Other) {
        let run_bytes = limits
            .cell_chars
            .saturating_mul(4)
            .saturating_add(RUN_SLACK);
        let cell_chars = Exceeded {
            name: "cell_chars",
            limit: limits.cell_chars,
        };
        reader.get_mut().get_mut().run_limit = Some((run_bytes, cell_chars));
    }
    let mut walker: Box<dyn Walker> = match kind {
        Kind::SharedStrings => Box::new(SharedStrings::new(limits)),
        Kind::Worksheet | Kind::Other => Box::new(Worksheet::new(limits)),
        Kind::OdsContent => Box::new(OdsContent::new(limits, totals)),
    };
    if let Some(first) = first {
        walker.visit(&first)?;
    }
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf) {
            Ok(Event::Eof) | Err(_) => break,
            Ok(event) => walker.visit(&event)?,
        }
    }
    walker.finish(totals)
}

/// The checks of one kind of part, fed every event after the root element.
trait Walker {
    fn visit(&mut self, event: &Event<'_>) -> Result<(), String>;
    fn finish(&mut self, _totals: &mut Totals) -> Result<(), String> {
        Ok(())
    }
}

/// Characters of a text-like event, an entity reference as one.
fn chars_of(event: &Event<'_>) -> u64 {
    match event {
        Event::Text(t) => t.chars().count() as u64,
        Event::CData(t) => t.chars().count() as u64,
        Event::GeneralRef(_) => 1,
        _ => 0,
    }
}

fn bytes_of(event: &Event<'_>) -> u64 {
    match event {
        Event::Text(t) => t.len() as u64,
        Event::CData(t) => t.len() as u64,
        Event::GeneralRef(r) => r.len() as u64 + 2,
        _ => 0,
    }
}

/// A whole-number attribute (any prefix), saturating; `None` when absent or not a number.
fn number_attr(e: &BytesStart<'_>, local: &str) -> Option<u64> {
    let attr = e
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == local)?;
    let digits = attr.value.trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.parse::<u64>().unwrap_or(u64::MAX))
}

fn cell_too_long(chars: u64, limits: &Limits) -> Result<(), String> {
    limits.check("cell_chars", chars).map_err(|e| {
        format!(
            "holds a cell text of more than {} characters, which {e}",
            limits.cell_chars
        )
    })
}

/// `xl/sharedStrings.xml`: entries, their text, all of it.
struct SharedStrings {
    limits: Limits,
    entries: u64,
    in_text: bool,
    text: u64,
    total: u64,
}

impl SharedStrings {
    fn new(limits: &Limits) -> Self {
        SharedStrings {
            limits: *limits,
            entries: 0,
            in_text: false,
            text: 0,
            total: 0,
        }
    }
}

impl Walker for SharedStrings {
    fn visit(&mut self, event: &Event<'_>) -> Result<(), String> {
        match event {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "si" => {
                self.entries += 1;
                self.text = 0;
                let limit = self.limits.shared_strings;
                self.limits
                    .check("shared_strings", self.entries)
                    .map_err(|e| format!("holds more than {limit} strings, which {e}"))?;
            }
            Event::Start(e) if e.local_name().as_ref() == "t" => self.in_text = true,
            Event::End(e) if e.local_name().as_ref() == "t" => self.in_text = false,
            _ if self.in_text => {
                self.text += chars_of(event);
                self.total += bytes_of(event);
                cell_too_long(self.text, &self.limits)?;
                let limit = self.limits.shared_string_bytes;
                self.limits
                    .check("shared_string_bytes", self.total)
                    .map_err(|e| format!("holds more than {limit} bytes of text, which {e}"))?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// A worksheet: the rows holding values, and each value's length.
struct Worksheet {
    limits: Limits,
    /// 1-based number of the current `<row>`.
    row: u64,
    /// Inside `<v>` or `<is>`: the characters so far.
    value: Option<u64>,
    depth_in_value: u32,
}

impl Worksheet {
    fn new(limits: &Limits) -> Self {
        Worksheet {
            limits: *limits,
            row: 0,
            value: None,
            depth_in_value: 0,
        }
    }
}

impl Walker for Worksheet {
    fn visit(&mut self, event: &Event<'_>) -> Result<(), String> {
        match event {
            Event::Start(e) | Event::Empty(e) if self.value.is_none() => {
                match e.local_name().as_ref() {
                    "row" => self.row = number_attr(e, "r").unwrap_or(self.row + 1),
                    "c" => {
                        if let Some(r) = attr_text(e, "r") {
                            let (row, _) = parse_cell_ref(&r).ok_or_else(|| bad_ref("cell", &r))?;
                            self.row = row;
                        }
                    }
                    // calamine trusts every `ref` (the dimension, merges, hyperlinks, shared
                    // formulas): a reversed or out-of-grid range, or a reference past
                    // XFD1048576, overflows its arithmetic (found by fuzz/).
                    "dimension" | "mergeCell" | "hyperlink" | "f" | "table"
                        if attr_text(e, "ref").is_some() =>
                    {
                        let area = attr_text(e, "ref").unwrap_or_default();
                        let (first, last) = area.split_once(':').unwrap_or((&area, &area));
                        match (parse_cell_ref(first), parse_cell_ref(last)) {
                            (Some((r0, c0)), Some((r1, c1))) if r0 <= r1 && c0 <= c1 => {}
                            _ => return Err(bad_ref("range", &area)),
                        }
                    }
                    "v" | "is" => {
                        let row = self.row;
                        self.limits
                            .check("rows", row)
                            .map_err(|e| format!("has a value in row {row}, which {e}"))?;
                        if matches!(event, Event::Start(_)) {
                            self.value = Some(0);
                            self.depth_in_value = 1;
                        }
                    }
                    _ => {}
                }
            }
            Event::Start(_) => self.depth_in_value += 1,
            Event::End(_) if self.value.is_some() => {
                self.depth_in_value -= 1;
                if self.depth_in_value == 0 {
                    self.value = None;
                }
            }
            _ => {
                if let Some(chars) = &mut self.value {
                    *chars += chars_of(event);
                    cell_too_long(*chars, &self.limits)?;
                }
            }
        }
        Ok(())
    }
}

/// The text of attribute `local` (any prefix), unescaped as far as a reference needs.
fn attr_text(e: &BytesStart<'_>, local: &str) -> Option<String> {
    let attr = e
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == local)?;
    Some(attr.value.to_string())
}

/// The 1-based (row, column) of an A1 reference (`$` allowed) inside Excel's grid
/// (XFD1048576), or None.
fn parse_cell_ref(text: &str) -> Option<(u64, u64)> {
    let text = text.trim().replace('$', "");
    let split = text.find(|c: char| !c.is_ascii_alphabetic())?;
    let (letters, digits) = text.split_at(split);
    if letters.is_empty() || letters.len() > 3 || digits.is_empty() || digits.len() > 7 {
        return None;
    }
    let col = letters.bytes().fold(0u64, |n, b| {
        n * 26 + u64::from(b.to_ascii_uppercase() - b'A' + 1)
    });
    let row: u64 = digits.parse().ok().filter(|d: &u64| *d >= 1)?;
    (col <= 16_384 && row <= 1_048_576).then_some((row, col))
}

fn bad_ref(what: &str, text: &str) -> String {
    let shown: String = text.chars().take(40).collect();
    format!(
        "has a {what} reference `{shown}` that is not a cell of a spreadsheet (A1 to \
         XFD1048576); the file is damaged: open it in Excel or LibreOffice and save it again"
    )
}

/// An ods `content.xml`: what calamine materialises. It keeps, per `<table:table-row>`, the
/// cells up to the last filled one with column repeats expanded, then expands the rows between
/// the first and last filled ones (repeats included) to a full rectangle, for every table at
/// once.
struct OdsContent {
    limits: Limits,
    /// 0-based index of the next row of the current table, repeats counted.
    row: u64,
    first_filled: Option<u64>,
    /// The row after the last filled one.
    filled_end: u64,
    width: u64,
    /// Cells of the finished tables.
    done_cells: u64,
    /// Cells kept per row element so far, across tables.
    kept: u64,
    row_open: Option<Row>,
    cell_open: Option<Cell>,
    text_bytes: u64,
}

struct Row {
    repeats: u64,
    col: u64,
    width: u64,
    text_bytes: u64,
}

struct Cell {
    repeats: u64,
    filled: bool,
    text_bytes: u64,
}

impl OdsContent {
    fn new(limits: &Limits, totals: &Totals) -> Self {
        OdsContent {
            limits: *limits,
            row: 0,
            first_filled: None,
            filled_end: 0,
            width: 0,
            done_cells: totals.cells,
            kept: 0,
            row_open: None,
            cell_open: None,
            text_bytes: totals.text_bytes,
        }
    }

    fn area(&self) -> u64 {
        let rows = self.filled_end - self.first_filled.unwrap_or(self.filled_end);
        rows.saturating_mul(self.width)
    }

    fn end_table(&mut self) {
        self.done_cells = self.done_cells.saturating_add(self.area());
        self.row = 0;
        self.first_filled = None;
        self.filled_end = 0;
        self.width = 0;
    }

    fn open_cell(&mut self, e: &BytesStart<'_>) {
        let repeats = number_attr(e, "number-columns-repeated").unwrap_or(1);
        let filled = e
            .attributes()
            .flatten()
            .any(|a| matches!(a.key.local_name().as_ref(), "value-type" | "formula"));
        let text_bytes = e
            .attributes()
            .flatten()
            .filter(|a| a.key.local_name().as_ref() == "string-value")
            .map(|a| a.value.len() as u64)
            .sum();
        self.cell_open = Some(Cell {
            repeats,
            filled,
            text_bytes,
        });
    }

    fn close_cell(&mut self) {
        let (Some(cell), Some(row)) = (self.cell_open.take(), self.row_open.as_mut()) else {
            return;
        };
        row.col = row.col.saturating_add(cell.repeats).min(MAX_COLS);
        if cell.filled {
            row.width = row.col;
            row.text_bytes = row
                .text_bytes
                .saturating_add(cell.text_bytes.saturating_mul(cell.repeats.min(MAX_COLS)));
        }
    }

    fn close_row(&mut self) -> Result<(), String> {
        let Some(row) = self.row_open.take() else {
            return Ok(());
        };
        let start = self.row;
        self.row = self.row.saturating_add(row.repeats).min(MAX_ROWS);
        if row.width == 0 {
            return Ok(());
        }
        self.first_filled.get_or_insert(start);
        self.filled_end = self.row;
        self.width = self.width.max(row.width);
        self.kept = self.kept.saturating_add(row.width);
        self.text_bytes = self
            .text_bytes
            .saturating_add(row.text_bytes.saturating_mul(row.repeats));
        let rows = self.filled_end;
        self.limits
            .check("rows", rows)
            .map_err(|e| format!("has a value in row {rows} (repeats counted), which {e}"))?;
        let cells = self.done_cells.saturating_add(self.area()).max(self.kept);
        let limit = self.limits.cells;
        self.limits.check("cells", cells).map_err(|e| {
            format!("expands (repeats counted) to more than {limit} cells, which {e}")
        })?;
        let (bytes, limit) = (self.text_bytes, self.limits.text_bytes);
        self.limits.check("text_bytes", bytes).map_err(|e| {
            format!("expands (repeats counted) to more than {limit} bytes of text, which {e}")
        })
    }
}

impl Walker for OdsContent {
    fn visit(&mut self, event: &Event<'_>) -> Result<(), String> {
        match event {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "table" if matches!(event, Event::Start(_)) => self.end_table(),
                "table-row" => {
                    self.close_row()?;
                    self.row_open = Some(Row {
                        repeats: number_attr(e, "number-rows-repeated").unwrap_or(1),
                        col: 0,
                        width: 0,
                        text_bytes: 0,
                    });
                    if matches!(event, Event::Empty(_)) {
                        self.close_row()?;
                    }
                }
                "table-cell" | "covered-table-cell" => {
                    self.close_cell();
                    self.open_cell(e);
                    if matches!(event, Event::Empty(_)) {
                        self.close_cell();
                    }
                }
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                "table-cell" | "covered-table-cell" => self.close_cell(),
                "table-row" => {
                    self.close_cell();
                    self.close_row()?;
                }
                _ => {}
            },
            _ => {
                if let Some(cell) = &mut self.cell_open {
                    cell.text_bytes = cell.text_bytes.saturating_add(bytes_of(event));
                    let chars = cell.text_bytes;
                    // Bytes bound characters from above; the exact count is the reader's.
                    if chars > self.limits.cell_chars.saturating_mul(4) {
                        cell_too_long(chars, &self.limits)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn finish(&mut self, totals: &mut Totals) -> Result<(), String> {
        self.close_row()?;
        self.end_table();
        totals.cells = self.done_cells;
        totals.text_bytes = self.text_bytes;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_references_inside_the_grid_only() {
        assert_eq!(parse_cell_ref("A1"), Some((1, 1)));
        assert_eq!(parse_cell_ref("$b$12"), Some((12, 2)));
        assert_eq!(parse_cell_ref("XFD1048576"), Some((1_048_576, 16_384)));
        for bad in [
            "XFE1",
            "A1048577",
            "A0",
            "Awwwwwwww",
            "1A",
            "",
            "AAAA1",
            "A",
        ] {
            assert_eq!(parse_cell_ref(bad), None, "{bad}");
        }
    }
}
