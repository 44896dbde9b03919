//! Reading the structure of, and writing answers into, a customer's own xlsx/xlsm workbook.
//!
//! This module owns everything onrecord does *inside* an OOXML spreadsheet package:
//!
//! * [`inspect`] lists the sheets (workbook order, part, visibility) and their list-type data
//!   validations (dropdowns) with the choices resolved, so the filler can spell an answer the
//!   way the customer's dropdown spells it.
//! * [`patch`] writes text into chosen cells and nothing else.
//!
//! Invariants of [`patch`] (sales engineers hand the result back to the customer):
//!
//! * The input file is only read; the patched package is returned as bytes, which
//!   [`crate::outputs`] writes.
//! * Every zip entry except the worksheet parts that receive edits is copied raw: same compressed
//!   bytes, same compression method, same order. So styles, hidden sheets, defined names,
//!   pictures, conditional formats, calcChain etc. cannot change.
//! * Inside a patched worksheet the bytes outside the touched `<c>`/`<row>` elements are kept
//!   exactly: the sheet is scanned once with quick-xml to learn byte offsets, then edited by
//!   splicing bytes at those offsets (never by re-serialising events, which would re-quote,
//!   re-indent or re-escape the customer's XML).
//! * Text is always written as an inline string (`t="inlineStr"`), never as `<f>`, so text taken
//!   from a questionnaire cannot become a formula, and the shared-string table stays untouched.
//! * Cells holding a formula (or lying inside an array/data-table formula range) are never
//!   overwritten; they are reported in [`PatchSummary::skipped_formula_cells`].
//! * Errors name the file and the part; malformed input gives an `Err`, never a panic.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom, Write};
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use quick_xml::Reader;
use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use super::guard;
use crate::limits::{Exceeded, Limits};

// ------------------------------------------------------------------------------------------------
// Public API
// ------------------------------------------------------------------------------------------------

/// A list-type data validation (dropdown) on a sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListValidation {
    /// The cells the dropdown applies to (the `sqref`).
    pub ranges: Vec<CellRange>,
    /// The choices, in list order, empty ones left out.
    pub choices: Vec<String>,
}

/// A rectangle of cells; 0-based, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CellRange {
    pub first_row: u32,
    pub first_col: u32,
    pub last_row: u32,
    pub last_col: u32,
}

impl CellRange {
    /// Whether the 0-based cell (`row`, `col`) lies in this range.
    pub fn contains(&self, row: u32, col: u32) -> bool {
        (self.first_row..=self.last_row).contains(&row)
            && (self.first_col..=self.last_col).contains(&col)
    }
}

/// One sheet of a workbook as [`inspect`] sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetInfo {
    pub name: String,
    /// The package part holding the sheet, e.g. `xl/worksheets/sheet1.xml`.
    pub part: String,
    /// `state="hidden"` or `state="veryHidden"` in workbook.xml.
    pub hidden: bool,
    /// List validations whose choices could be resolved; others are left out.
    pub validations: Vec<ListValidation>,
}

/// Text to write into one cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellEdit {
    pub sheet: String,
    /// 0-based.
    pub row: u32,
    /// 0-based.
    pub col: u32,
    pub text: String,
}

/// What [`patch`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatchSummary {
    /// Cells whose text was written (each cell counted once).
    pub cells_written: usize,
    /// (sheet, row, col), 0-based, of edits not written because the cell holds a formula.
    pub skipped_formula_cells: Vec<(String, u32, u32)>,
}

/// A patched workbook: its bytes, for [`crate::outputs`] to write, and what was done.
#[derive(Debug)]
pub struct Patched {
    pub bytes: Vec<u8>,
    pub summary: PatchSummary,
}

/// Reads the workbook structure: sheet names in workbook order, their parts (via
/// `xl/_rels/workbook.xml.rels`), visibility (`state="hidden"`/`"veryHidden"`), and the list
/// validations of each sheet. A validation whose choices cannot be resolved is left out.
/// The package passes [`guard::check_package`] first.
pub fn inspect(path: &Path, limits: &Limits) -> Result<Vec<SheetInfo>> {
    let mut pkg = Package::open(path, limits)?;
    let workbook = read_workbook(&mut pkg)?;
    let mut scans = Vec::with_capacity(workbook.sheets.len());
    for sheet in &workbook.sheets {
        let xml = pkg.read_required(&sheet.part, &format!("sheet `{}`", sheet.name))?;
        scans
            .push(scan_sheet(&xml, true).map_err(|e| e.in_part(&pkg.label, "sheet", &sheet.part))?);
    }
    let shared = read_shared_strings(&mut pkg, &workbook)?;
    let resolver = ChoiceResolver {
        workbook: &workbook,
        scans: &scans,
        shared: &shared,
    };
    let infos = workbook
        .sheets
        .iter()
        .zip(&scans)
        .enumerate()
        .map(|(index, (sheet, scan))| SheetInfo {
            name: sheet.name.clone(),
            part: sheet.part.clone(),
            hidden: sheet.hidden,
            validations: resolver.list_validations(index, scan),
        })
        .collect();
    Ok(infos)
}

/// The bytes of `input` with the given cells set to text; `input` is only read. When several
/// edits name the same cell, the last one wins. The input passes [`guard::check_package`]
/// first.
pub fn patch(input: &Path, edits: &[CellEdit], limits: &Limits) -> Result<Patched> {
    let mut pkg = Package::open(input, limits)?;
    let workbook = read_workbook(&mut pkg)?;
    let grouped = group_edits(&pkg.label, &workbook, edits)?;

    let mut summary = PatchSummary::default();
    let mut replaced: HashMap<usize, Vec<u8>> = HashMap::new();
    for (sheet_index, rows) in &grouped {
        let sheet = &workbook.sheets[*sheet_index];
        let entry = pkg.index_of(&sheet.part).ok_or_else(|| {
            anyhow!(
                "{}: sheet `{}` points to part `{}`, which is missing from the package",
                pkg.label,
                sheet.name,
                sheet.part
            )
        })?;
        let xml = pkg.read_entry(entry, &sheet.part)?;
        if let Some(patched) = patch_sheet(&pkg.label, sheet, &xml, rows, &mut summary)? {
            replaced.insert(entry, patched);
        }
    }
    let bytes = write_package(&mut pkg, &replaced)?;
    Ok(Patched { bytes, summary })
}

// ------------------------------------------------------------------------------------------------
// Limits and small helpers
// ------------------------------------------------------------------------------------------------

/// Excel's grid: 1,048,576 rows by 16,384 columns (XFD).
const MAX_ROW: u32 = 1_048_575;
const MAX_COL: u32 = 16_383;
/// Excel refuses (asks to "repair") a cell holding more UTF-16 units than this.
const MAX_CELL_CHARS: usize = 32_767;
/// Magic number of an OLE2/CFB container: encrypted OOXML and legacy xls files.
const CFB_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// `C5` for (4, 2).
fn cell_ref(row: u32, col: u32) -> String {
    format!("{}{}", col_letters(col), u64::from(row) + 1)
}

fn col_letters(col: u32) -> String {
    let mut n = u64::from(col) + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.iter().rev().map(|&b| b as char).collect()
}

/// Parses `C5`, `$C$5`, `C`, `$C` or `5` into (row, col), each optional, 0-based.
fn parse_ref_part(s: &str) -> Option<(Option<u32>, Option<u32>)> {
    let s = s.trim();
    let bytes = s.as_bytes();
    let mut i = 0;
    if bytes.get(i) == Some(&b'$') {
        i += 1;
    }
    let letters_start = i;
    while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
        i += 1;
    }
    let letters = &s[letters_start..i];
    if bytes.get(i) == Some(&b'$') && !letters.is_empty() {
        i += 1;
    }
    let digits = &s[i..];
    if !digits.bytes().all(|b| b.is_ascii_digit()) || (letters.is_empty() && digits.is_empty()) {
        return None;
    }
    let col = if letters.is_empty() {
        None
    } else {
        if letters.len() > 3 {
            return None;
        }
        let n = letters.bytes().fold(0u32, |acc, b| {
            acc * 26 + u32::from(b.to_ascii_uppercase() - b'A' + 1)
        });
        Some(n - 1).filter(|&c| c <= MAX_COL)
    };
    if !letters.is_empty() && col.is_none() {
        return None;
    }
    let row = if digits.is_empty() {
        None
    } else {
        let n: u32 = digits.parse().ok()?;
        Some(n.checked_sub(1)?).filter(|&r| r <= MAX_ROW)
    };
    if !digits.is_empty() && row.is_none() {
        return None;
    }
    Some((row, col))
}

/// Parses one area: `A1`, `A1:B3`, `$A$1:$A$3`, `A:A` (whole columns), `1:3` (whole rows).
fn parse_area(s: &str) -> Option<CellRange> {
    let (a, b) = match s.split_once(':') {
        Some((a, b)) => (parse_ref_part(a)?, parse_ref_part(b)?),
        None => {
            let part = parse_ref_part(s)?;
            (part, part)
        }
    };
    let range = match (a, b) {
        ((Some(r1), Some(c1)), (Some(r2), Some(c2))) => (r1, c1, r2, c2),
        ((None, Some(c1)), (None, Some(c2))) => (0, c1, MAX_ROW, c2),
        ((Some(r1), None), (Some(r2), None)) => (r1, 0, r2, MAX_COL),
        _ => return None,
    };
    Some(CellRange {
        first_row: range.0.min(range.2),
        first_col: range.1.min(range.3),
        last_row: range.0.max(range.2),
        last_col: range.1.max(range.3),
    })
}

/// Parses an `sqref`: areas separated by spaces. `None` if any area is not understood.
fn parse_sqref(s: &str) -> Option<Vec<CellRange>> {
    let ranges: Option<Vec<CellRange>> = s.split_whitespace().map(parse_area).collect();
    ranges.filter(|r| !r.is_empty())
}

/// Decodes the `_xHHHH_` escapes Excel uses for characters XML cannot carry.
fn decode_ooxml_escapes(s: &str) -> Cow<'_, str> {
    if !s.contains("_x") {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find("_x") {
        out.push_str(&rest[..pos]);
        let candidate = &rest[pos..];
        let decoded = candidate
            .get(2..6)
            .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .filter(|_| candidate.as_bytes().get(6) == Some(&b'_'))
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
            .and_then(char::from_u32);
        match decoded {
            Some(ch) => {
                out.push(ch);
                rest = &candidate[7..];
            }
            None => {
                out.push_str("_x");
                rest = &candidate[2..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Whether `s` starts with an Excel `_xHHHH_` escape sequence.
fn starts_with_ooxml_escape(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 7
        && b.starts_with(b"_x")
        && b[2..6].iter().all(u8::is_ascii_hexdigit)
        && b[6] == b'_'
}

/// Makes arbitrary text safe as a cell's text: Excel line breaks are LF, characters XML 1.0
/// cannot carry are dropped, and a literal `_xHHHH_` is protected the way Excel does it
/// (`_x005F_` for its underscore) so Excel does not decode it into another character.
fn clean_cell_text(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(text.len());
    for (i, ch) in text.char_indices() {
        let allowed =
            matches!(ch, '\t' | '\n') || (ch >= ' ' && ch != '\u{FFFE}' && ch != '\u{FFFF}');
        if !allowed {
            continue;
        }
        if ch == '_' && starts_with_ooxml_escape(&text[i..]) {
            out.push_str("_x005F");
        }
        out.push(ch);
    }
    out
}

/// Escapes text for use in XML content or a double-quoted attribute value.
fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(ch),
        }
    }
    out
}

// ------------------------------------------------------------------------------------------------
// XML walking
// ------------------------------------------------------------------------------------------------

/// A well-formedness problem at a byte offset of one part.
#[derive(Debug)]
struct XmlError {
    at: u64,
    message: String,
}

impl XmlError {
    fn new(at: u64, message: impl Into<String>) -> Self {
        XmlError {
            at,
            message: message.into(),
        }
    }

    /// Names the file and the part, e.g. "`x.xlsx`: sheet part `xl/...` is not well-formed XML
    /// at byte 1234: ...".
    fn in_part(self, label: &str, kind: &str, part: &str) -> anyhow::Error {
        anyhow!(
            "{label}: {kind} part `{part}` is not well-formed XML at byte {}: {}; \
             the file is damaged: open and re-save it in Excel",
            self.at,
            self.message
        )
    }
}

/// Byte span of one event in the part.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
}

fn to_usize(pos: u64) -> usize {
    usize::try_from(pos).unwrap_or(usize::MAX)
}

/// The local names of the elements enclosing an event, outermost first. Kept in one buffer so
/// walking a sheet of a million cells does not allocate per element.
#[derive(Default)]
struct Ancestors {
    names: String,
    ends: Vec<usize>,
}

impl Ancestors {
    fn push(&mut self, local: &str) {
        self.names.push_str(local);
        self.ends.push(self.names.len());
    }

    fn pop(&mut self) {
        self.ends.pop();
        self.names.truncate(self.ends.last().copied().unwrap_or(0));
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    /// The `i`-th enclosing element, 0 being the root.
    fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.names.get(start..end)
    }

    /// The `n`-th enclosing element counting outwards, 0 being the parent.
    fn up(&self, n: usize) -> Option<&str> {
        self.len().checked_sub(n + 1).and_then(|i| self.get(i))
    }

    fn parent(&self) -> Option<&str> {
        self.up(0)
    }
}

/// Walks every event of `xml`, telling `visit` the event, the local names of the enclosing
/// elements (the element itself excluded) and the event's byte span. Checks that every element
/// is closed, which quick-xml leaves to the caller.
fn walk_xml(
    xml: &[u8],
    mut visit: impl FnMut(&Event<'_>, &Ancestors, Span) -> Result<(), XmlError>,
) -> Result<(), XmlError> {
    // quick-xml skips a byte order mark and counts offsets after it; we splice at offsets into
    // the whole part, so hand it the part without the mark and add the mark's length back.
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    let (skipped, body) = match xml.strip_prefix(BOM) {
        Some(body) => (BOM.len() as u64, body),
        None => (0, xml),
    };
    let mut reader = Reader::from_reader(body);
    let mut stack = Ancestors::default();
    loop {
        let start = skipped + reader.buffer_position();
        let event = reader.read_event().map_err(|e| {
            let at = skipped + reader.error_position();
            match e {
                quick_xml::Error::Encoding(_) => not_utf8(xml, at),
                e => XmlError::new(at, e.to_string()),
            }
        })?;
        let span = Span {
            start: to_usize(start),
            end: to_usize(skipped + reader.buffer_position()),
        };
        match &event {
            Event::Start(e) => {
                visit(&event, &stack, span)?;
                stack.push(e.local_name().as_ref());
            }
            Event::End(_) => {
                stack.pop();
                visit(&event, &stack, span)?;
            }
            Event::Eof => {
                if let Some(open) = stack.parent() {
                    return Err(XmlError::new(
                        start,
                        format!("the document ends inside `<{open}>`"),
                    ));
                }
                return Ok(());
            }
            _ => visit(&event, &stack, span)?,
        }
    }
}

/// Explains a decoding failure: Excel writes UTF-8, but some generators declare and write
/// another encoding, which this module (built without quick-xml's `encoding` feature) refuses.
fn not_utf8(xml: &[u8], at: u64) -> XmlError {
    let head = String::from_utf8_lossy(&xml[..xml.len().min(200)]);
    let declared = head
        .split_once("encoding=")
        .and_then(|(_, rest)| {
            let quote = rest.chars().next()?;
            rest[quote.len_utf8()..].split(quote).next()
        })
        .unwrap_or("unknown");
    XmlError::new(
        at,
        format!(
            "the text is not UTF-8 (the part declares encoding `{declared}`); only UTF-8, which \
             Excel writes, is supported"
        ),
    )
}

/// Appends the character data of a text-like event to `out`, resolving entity references.
fn append_text(event: &Event<'_>, out: &mut String, at: usize) -> Result<(), XmlError> {
    match event {
        Event::Text(t) => out.push_str(&t.xml10_content()),
        Event::CData(t) => out.push_str(&t.xml10_content()),
        Event::GeneralRef(r) => {
            let at = at as u64;
            match r.resolve_char_ref() {
                Ok(Some(ch)) => out.push(ch),
                Ok(None) => match resolve_predefined_entity(r) {
                    Some(s) => out.push_str(s),
                    None => {
                        return Err(XmlError::new(at, format!("unknown entity `&{};`", &**r)));
                    }
                },
                Err(e) => return Err(XmlError::new(at, e.to_string())),
            }
        }
        _ => {}
    }
    Ok(())
}

/// The value of the unprefixed attribute `name`, unescaped.
fn attr(e: &BytesStart<'_>, name: &str, at: usize) -> Result<Option<String>, XmlError> {
    find_attr(e, at, |key| {
        key.prefix().is_none() && key.local_name().as_ref() == name
    })
}

/// The value of a namespaced attribute with local name `name`, e.g. `r:id`.
fn prefixed_attr(e: &BytesStart<'_>, name: &str, at: usize) -> Result<Option<String>, XmlError> {
    find_attr(e, at, |key| {
        key.prefix().is_some() && key.local_name().as_ref() == name
    })
}

fn find_attr(
    e: &BytesStart<'_>,
    at: usize,
    wanted: impl Fn(&quick_xml::name::QName<'_>) -> bool,
) -> Result<Option<String>, XmlError> {
    for a in e.attributes() {
        let a = a.map_err(|err| XmlError::new(at as u64, err.to_string()))?;
        if wanted(&a.key) {
            let value = a
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|err| XmlError::new(at as u64, err.to_string()))?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

fn is_true(value: Option<&str>) -> bool {
    matches!(value, Some("1" | "true"))
}

/// The namespace prefix of an element name including the colon (`"x:"`), or `""`.
fn prefix_of(e: &BytesStart<'_>) -> String {
    e.name()
        .prefix()
        .map(|p| format!("{}:", p.as_ref()))
        .unwrap_or_default()
}

// ------------------------------------------------------------------------------------------------
// The zip package
// ------------------------------------------------------------------------------------------------

/// An opened xlsx/xlsm package. Part names are looked up case-insensitively, as OPC says.
struct Package {
    /// "`path`", used at the start of every error message.
    label: String,
    archive: ZipArchive<BufReader<File>>,
    index: HashMap<String, usize>,
    /// The most bytes one part may inflate to.
    part_bytes: u64,
}

impl Package {
    /// Opens the package after [`guard::check_package`] has read it (an OLE2 file, which the
    /// guard lets through, is refused here with its own reason).
    fn open(path: &Path, limits: &Limits) -> Result<Package> {
        let label = format!("`{}`", path.display());
        guard::check_package(path, limits)?;
        let mut file =
            File::open(path).with_context(|| format!("{label}: cannot open the file"))?;
        let mut magic = Vec::with_capacity(8);
        (&mut file)
            .take(8)
            .read_to_end(&mut magic)
            .with_context(|| format!("{label}: cannot read the file"))?;
        if magic == CFB_MAGIC {
            bail!(
                "{label}: is an OLE2 (CFB) container, not an xlsx zip package: either a \
                 password-protected (encrypted) workbook or a legacy .xls file; remove the \
                 password or save it as .xlsx in Excel"
            );
        }
        file.seek(SeekFrom::Start(0))
            .with_context(|| format!("{label}: cannot read the file"))?;
        let archive = ZipArchive::new(BufReader::new(file)).map_err(|e| {
            anyhow!("{label}: is not an xlsx/xlsm file (not a readable zip package: {e})")
        })?;
        let mut index = HashMap::new();
        for i in 0..archive.len() {
            if let Some(Ok(name)) = archive.name_for_index(i) {
                index.entry(normalize_part_name(&name)).or_insert(i);
            }
        }
        Ok(Package {
            label,
            archive,
            index,
            part_bytes: limits.part_bytes,
        })
    }

    fn index_of(&self, part: &str) -> Option<usize> {
        self.index.get(&normalize_part_name(part)).copied()
    }

    /// The decompressed bytes of entry `index` (named `part` in messages).
    fn read_entry(&mut self, index: usize, part: &str) -> Result<Vec<u8>> {
        let label = &self.label;
        let file = self
            .archive
            .by_index(index)
            .map_err(|e| anyhow!("{label}: cannot read part `{part}`: {e}"))?;
        // Counted while inflating: the declared size is not trusted, and neither allocates.
        let limit = self.part_bytes;
        let mut bytes = Vec::new();
        file.take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .with_context(|| format!("{label}: cannot read part `{part}` (corrupt zip entry)"))?;
        if bytes.len() as u64 > limit {
            let exceeded = Exceeded {
                name: "part_bytes",
                limit,
            };
            bail!("{label}: part `{part}` inflates to more than {limit} bytes, which {exceeded}");
        }
        Ok(bytes)
    }

    fn read(&mut self, part: &str) -> Result<Option<Vec<u8>>> {
        match self.index_of(part) {
            Some(i) => self.read_entry(i, part).map(Some),
            None => Ok(None),
        }
    }

    fn read_required(&mut self, part: &str, what: &str) -> Result<Vec<u8>> {
        self.read(part)?.ok_or_else(|| {
            anyhow!(
                "{}: {what} points to part `{part}`, which is missing from the package",
                self.label
            )
        })
    }
}

/// The lookup key of a part name: OPC names are case-insensitive, and some Windows generators
/// write zip entries with `\` separators (`xl\workbook.xml`), which Excel and calamine accept.
fn normalize_part_name(name: &str) -> String {
    name.replace('\\', "/")
        .trim_start_matches('/')
        .to_ascii_lowercase()
}

// ------------------------------------------------------------------------------------------------
// Workbook structure: sheets, relationships, defined names, shared strings
// ------------------------------------------------------------------------------------------------

struct WorkbookSheet {
    name: String,
    part: String,
    hidden: bool,
}

struct DefinedName {
    name: String,
    /// Index (workbook order) of the sheet the name is local to; `None` for a global name.
    local_sheet: Option<usize>,
    formula: String,
}

struct Workbook {
    sheets: Vec<WorkbookSheet>,
    defined_names: Vec<DefinedName>,
    shared_strings_part: Option<String>,
}

struct Relationship {
    id: String,
    kind: String,
    target: String,
    external: bool,
}

/// `xl/_rels/workbook.xml.rels` for `xl/workbook.xml`.
fn rels_part_for(part: &str) -> String {
    match part.rsplit_once('/') {
        Some((dir, file)) => format!("{dir}/_rels/{file}.rels"),
        None => format!("_rels/{part}.rels"),
    }
}

/// Resolves a relationship target against the directory of the part that owns it.
fn resolve_target(owner_part: &str, target: &str) -> String {
    let joined = match target.strip_prefix('/') {
        Some(absolute) => absolute.to_owned(),
        None => match owner_part.rsplit_once('/') {
            Some((dir, _)) => format!("{dir}/{target}"),
            None => target.to_owned(),
        },
    };
    let mut segments: Vec<&str> = Vec::new();
    for segment in joined.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    segments.join("/")
}

fn parse_rels(label: &str, part: &str, xml: &[u8]) -> Result<Vec<Relationship>> {
    let mut rels = Vec::new();
    walk_xml(xml, |event, _, span| {
        let (Event::Start(e) | Event::Empty(e)) = event else {
            return Ok(());
        };
        if e.local_name().as_ref() == "Relationship" {
            let get = |name| attr(e, name, span.start);
            rels.push(Relationship {
                id: get("Id")?.unwrap_or_default(),
                kind: get("Type")?.unwrap_or_default(),
                target: get("Target")?.unwrap_or_default(),
                external: get("TargetMode")?.is_some_and(|m| m.eq_ignore_ascii_case("External")),
            });
        }
        Ok(())
    })
    .map_err(|e| e.in_part(label, "relationships", part))?;
    Ok(rels)
}

/// The workbook part named by the package's `officeDocument` relationship.
fn workbook_part(pkg: &mut Package) -> Result<String> {
    const FALLBACK: &str = "xl/workbook.xml";
    let Some(xml) = pkg.read("_rels/.rels")? else {
        return Ok(FALLBACK.to_owned());
    };
    let rels = parse_rels(&pkg.label, "_rels/.rels", &xml)?;
    Ok(rels
        .iter()
        .find(|r| r.kind.ends_with("/officeDocument") && !r.external)
        .map(|r| resolve_target("", &r.target))
        .unwrap_or_else(|| FALLBACK.to_owned()))
}

/// A `<sheet>` of workbook.xml before its relationship is resolved.
struct RawSheet {
    name: String,
    rel_id: String,
    hidden: bool,
}

struct RawDefinedName {
    name: String,
    local_sheet: Option<usize>,
    formula: String,
}

fn parse_workbook_xml(xml: &[u8]) -> Result<(Vec<RawSheet>, Vec<RawDefinedName>), XmlError> {
    let mut sheets = Vec::new();
    let mut names = Vec::new();
    let mut current_name: Option<RawDefinedName> = None;
    walk_xml(xml, |event, parents, span| {
        let parent = parents.parent();
        match event {
            Event::Start(e) | Event::Empty(e) => match (e.local_name().as_ref(), parent) {
                ("sheet", Some("sheets")) => {
                    let state = attr(e, "state", span.start)?;
                    sheets.push(RawSheet {
                        name: attr(e, "name", span.start)?.unwrap_or_default(),
                        rel_id: prefixed_attr(e, "id", span.start)?.unwrap_or_default(),
                        hidden: matches!(state.as_deref(), Some("hidden" | "veryHidden")),
                    });
                }
                ("definedName", Some("definedNames")) => {
                    let name = RawDefinedName {
                        name: attr(e, "name", span.start)?.unwrap_or_default(),
                        local_sheet: attr(e, "localSheetId", span.start)?
                            .and_then(|v| v.trim().parse().ok()),
                        formula: String::new(),
                    };
                    if matches!(event, Event::Start(_)) {
                        current_name = Some(name);
                    }
                }
                _ => {}
            },
            Event::End(e) if e.local_name().as_ref() == "definedName" => {
                names.extend(current_name.take());
            }
            _ => {
                if let Some(name) = current_name.as_mut() {
                    append_text(event, &mut name.formula, span.start)?;
                }
            }
        }
        Ok(())
    })?;
    Ok((sheets, names))
}

fn read_workbook(pkg: &mut Package) -> Result<Workbook> {
    let part = workbook_part(pkg)?;
    let Some(xml) = pkg.read(&part)? else {
        bail!(
            "{}: has no workbook part `{part}`, so it is not an Excel workbook; \
             save it as .xlsx in Excel",
            pkg.label
        );
    };
    let (raw_sheets, raw_names) =
        parse_workbook_xml(&xml).map_err(|e| e.in_part(&pkg.label, "workbook", &part))?;
    let rels_part = rels_part_for(&part);
    let rels = match pkg.read(&rels_part)? {
        Some(xml) => parse_rels(&pkg.label, &rels_part, &xml)?,
        None => Vec::new(),
    };
    let mut sheets = Vec::with_capacity(raw_sheets.len());
    for raw in raw_sheets {
        let rel = rels
            .iter()
            .find(|r| r.id == raw.rel_id && !r.external)
            .ok_or_else(|| {
                anyhow!(
                    "{}: sheet `{}` has no relationship `{}` in `{rels_part}`; the file is \
                     damaged: open and re-save it in Excel",
                    pkg.label,
                    raw.name,
                    raw.rel_id
                )
            })?;
        sheets.push(WorkbookSheet {
            name: raw.name,
            part: resolve_target(&part, &rel.target),
            hidden: raw.hidden,
        });
    }
    let defined_names = raw_names
        .into_iter()
        .map(|n| DefinedName {
            name: n.name,
            local_sheet: n.local_sheet,
            formula: n.formula.trim().to_owned(),
        })
        .collect();
    let shared_strings_part = rels
        .iter()
        .find(|r| r.kind.ends_with("/sharedStrings") && !r.external)
        .map(|r| resolve_target(&part, &r.target));
    Ok(Workbook {
        sheets,
        defined_names,
        shared_strings_part,
    })
}

/// The shared-string table (rich text runs joined, phonetic runs left out).
fn read_shared_strings(pkg: &mut Package, workbook: &Workbook) -> Result<Vec<String>> {
    let part = workbook
        .shared_strings_part
        .clone()
        .unwrap_or_else(|| "xl/sharedStrings.xml".to_owned());
    let Some(xml) = pkg.read(&part)? else {
        return Ok(Vec::new());
    };
    let mut strings = Vec::new();
    let mut in_text = false;
    walk_xml(&xml, |event, parents, span| {
        let parent = parents.parent();
        match event {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "si" => strings.push(String::new()),
                "t" => {
                    let grandparent = parents.up(1);
                    let in_si =
                        parent == Some("si") || (parent == Some("r") && grandparent == Some("si"));
                    in_text = in_si && matches!(event, Event::Start(_));
                }
                _ => {}
            },
            Event::End(e) if e.local_name().as_ref() == "t" => in_text = false,
            _ => match strings.last_mut() {
                Some(s) if in_text => append_text(event, s, span.start)?,
                _ => {}
            },
        }
        Ok(())
    })
    .map_err(|e| e.in_part(&pkg.label, "shared strings", &part))?;
    Ok(strings)
}

/// The index of the sheet called `name`: the exact spelling first, then ignoring case, since
/// Excel sheet names are unique regardless of case.
fn find_sheet(sheets: &[WorkbookSheet], name: &str) -> Option<usize> {
    sheets.iter().position(|s| s.name == name).or_else(|| {
        let lower = name.to_lowercase();
        sheets.iter().position(|s| s.name.to_lowercase() == lower)
    })
}

// ------------------------------------------------------------------------------------------------
// Worksheet scanning
// ------------------------------------------------------------------------------------------------

/// A `<col min max style>` entry; `min`/`max` are 1-based as in the file.
struct ColStyle {
    min: u32,
    max: u32,
    style: String,
}

struct SheetDataScan {
    start: usize,
    end: usize,
    /// Offset of `</sheetData>`; `None` when written as `<sheetData/>`.
    close_start: Option<usize>,
    prefix: String,
}

struct RowScan {
    /// 0-based.
    index: u32,
    start: usize,
    end: usize,
    /// Offset of `</row>`; `None` when written as `<row .../>`.
    close_start: Option<usize>,
    prefix: String,
    /// The row's `s` when it has `customFormat="1"`: the style of new cells in this row.
    style: Option<String>,
    cells: Vec<CellScan>,
}

#[derive(Default)]
struct CellValue {
    /// The `t` attribute.
    kind: Option<String>,
    v: Option<String>,
    inline: Option<String>,
}

struct CellScan {
    /// 0-based.
    col: u32,
    start: usize,
    /// Offset just after the start tag.
    tag_end: usize,
    end: usize,
    has_formula: bool,
    value: CellValue,
}

struct RawValidation {
    kind: String,
    sqref: String,
    formula1: String,
}

#[derive(Default)]
struct SheetScan {
    root: String,
    cols: Vec<ColStyle>,
    data: Option<SheetDataScan>,
    rows: Vec<RowScan>,
    /// Ranges of array and data-table formulas: cells inside them must not be written.
    formula_ranges: Vec<CellRange>,
    validations: Vec<RawValidation>,
}

/// Which text the scanner is collecting.
#[derive(Clone, Copy, PartialEq)]
enum Capture {
    CellV,
    CellInline,
    Formula1,
    Sqref,
}

/// One pass over a worksheet part, recording what [`inspect`] and [`patch`] need.
#[derive(Default)]
struct Scanner {
    /// Collect cell values (for resolving dropdown choices); patching needs only positions.
    want_values: bool,
    scan: SheetScan,
    next_row: u32,
    next_col: u32,
    capture: Option<Capture>,
    validation: Option<RawValidation>,
}

fn scan_sheet(xml: &[u8], want_values: bool) -> Result<SheetScan, XmlError> {
    let mut scanner = Scanner {
        want_values,
        ..Scanner::default()
    };
    walk_xml(xml, |event, parents, span| {
        scanner.visit(event, parents, span)
    })?;
    Ok(scanner.scan)
}

impl Scanner {
    fn visit(
        &mut self,
        event: &Event<'_>,
        parents: &Ancestors,
        span: Span,
    ) -> Result<(), XmlError> {
        match event {
            Event::Start(e) => self.open(e, parents, span),
            Event::Empty(e) => {
                self.open(e, parents, span)?;
                self.close(e.local_name().as_ref(), parents, span, true);
                Ok(())
            }
            Event::End(e) => {
                self.close(e.local_name().as_ref(), parents, span, false);
                Ok(())
            }
            _ => self.text(event, span),
        }
    }

    fn open(
        &mut self,
        e: &BytesStart<'_>,
        parents: &Ancestors,
        span: Span,
    ) -> Result<(), XmlError> {
        let local = e.local_name();
        let local = local.as_ref();
        let parent = parents.parent();
        match (parents.len(), local, parent) {
            (0, root, _) => self.scan.root = root.to_owned(),
            (_, "col", Some("cols")) => self.open_col(e, span)?,
            (1, "sheetData", _) => {
                self.scan.data = Some(SheetDataScan {
                    start: span.start,
                    end: span.end,
                    close_start: None,
                    prefix: prefix_of(e),
                });
            }
            (2, "row", Some("sheetData")) => self.open_row(e, span)?,
            (3, "c", Some("row")) => self.open_cell(e, span)?,
            (4, "f", Some("c")) => self.open_formula(e, span)?,
            (4, "v", Some("c")) if self.want_values => self.capture = Some(Capture::CellV),
            (5, "t", Some("is")) | (6, "t", Some("r"))
                if self.want_values
                    && parents.get(3) == Some("c")
                    && parents.get(4) == Some("is") =>
            {
                self.capture = Some(Capture::CellInline);
            }
            (_, "dataValidation", Some("dataValidations")) => {
                self.validation = Some(RawValidation {
                    kind: attr(e, "type", span.start)?.unwrap_or_default(),
                    sqref: attr(e, "sqref", span.start)?.unwrap_or_default(),
                    formula1: String::new(),
                });
            }
            (_, "formula1", Some("dataValidation")) => self.capture = Some(Capture::Formula1),
            (_, "sqref", Some("dataValidation")) => self.capture = Some(Capture::Sqref),
            _ => {}
        }
        Ok(())
    }

    fn open_col(&mut self, e: &BytesStart<'_>, span: Span) -> Result<(), XmlError> {
        let number = |v: Option<String>| v.and_then(|v| v.trim().parse::<u32>().ok());
        let min = number(attr(e, "min", span.start)?);
        let max = number(attr(e, "max", span.start)?);
        if let (Some(min), Some(max), Some(style)) = (min, max, attr(e, "style", span.start)?) {
            self.scan.cols.push(ColStyle { min, max, style });
        }
        Ok(())
    }

    fn open_row(&mut self, e: &BytesStart<'_>, span: Span) -> Result<(), XmlError> {
        let r = attr(e, "r", span.start)?;
        let index = match &r {
            Some(r) => r
                .trim()
                .parse::<u32>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .filter(|&n| n <= MAX_ROW)
                .ok_or_else(|| {
                    XmlError::new(span.start as u64, format!("bad row number r=\"{r}\""))
                })?,
            None => self.next_row,
        };
        let custom = is_true(attr(e, "customFormat", span.start)?.as_deref());
        let style = if custom {
            attr(e, "s", span.start)?
        } else {
            None
        };
        self.next_row = index.saturating_add(1);
        self.next_col = 0;
        self.scan.rows.push(RowScan {
            index,
            start: span.start,
            end: span.end,
            close_start: None,
            prefix: prefix_of(e),
            style,
            cells: Vec::new(),
        });
        Ok(())
    }

    fn open_cell(&mut self, e: &BytesStart<'_>, span: Span) -> Result<(), XmlError> {
        let r = attr(e, "r", span.start)?;
        let col = match &r {
            Some(r) => parse_ref_part(r).and_then(|(_, col)| col).ok_or_else(|| {
                XmlError::new(span.start as u64, format!("bad cell reference r=\"{r}\""))
            })?,
            None => self.next_col,
        };
        self.next_col = col.saturating_add(1);
        let kind = attr(e, "t", span.start)?;
        if let Some(row) = self.scan.rows.last_mut() {
            row.cells.push(CellScan {
                col,
                start: span.start,
                tag_end: span.end,
                end: span.end,
                has_formula: false,
                value: CellValue {
                    kind,
                    ..CellValue::default()
                },
            });
        }
        Ok(())
    }

    fn open_formula(&mut self, e: &BytesStart<'_>, span: Span) -> Result<(), XmlError> {
        if let Some(cell) = self.current_cell() {
            cell.has_formula = true;
        }
        let kind = attr(e, "t", span.start)?;
        if matches!(kind.as_deref(), Some("array" | "dataTable")) {
            let range = attr(e, "ref", span.start)?;
            self.scan
                .formula_ranges
                .extend(range.as_deref().and_then(parse_area));
        }
        Ok(())
    }

    fn current_cell(&mut self) -> Option<&mut CellScan> {
        self.scan.rows.last_mut().and_then(|r| r.cells.last_mut())
    }

    fn close(&mut self, local: &str, parents: &Ancestors, span: Span, empty: bool) {
        match (parents.len(), local) {
            (1, "sheetData") => {
                if let Some(data) = self.scan.data.as_mut() {
                    data.end = span.end;
                    data.close_start = (!empty).then_some(span.start);
                }
            }
            (2, "row") => {
                if let Some(row) = self.scan.rows.last_mut() {
                    row.end = span.end;
                    row.close_start = (!empty).then_some(span.start);
                }
            }
            (3, "c") => {
                if let Some(cell) = self.current_cell() {
                    cell.end = span.end;
                }
            }
            (_, "v" | "t" | "formula1" | "sqref") => self.capture = None,
            (_, "dataValidation") => {
                if let Some(v) = self.validation.take() {
                    self.scan.validations.push(v);
                }
            }
            _ => {}
        }
    }

    fn text(&mut self, event: &Event<'_>, span: Span) -> Result<(), XmlError> {
        let target = match self.capture {
            Some(Capture::CellV) => self
                .current_cell()
                .map(|c| c.value.v.get_or_insert_default()),
            Some(Capture::CellInline) => self
                .current_cell()
                .map(|c| c.value.inline.get_or_insert_default()),
            Some(Capture::Formula1) => self.validation.as_mut().map(|v| &mut v.formula1),
            Some(Capture::Sqref) => self.validation.as_mut().map(|v| &mut v.sqref),
            None => None,
        };
        match target {
            Some(out) => append_text(event, out, span.start),
            None => Ok(()),
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Resolving list-validation choices
// ------------------------------------------------------------------------------------------------

struct ChoiceResolver<'a> {
    workbook: &'a Workbook,
    scans: &'a [SheetScan],
    shared: &'a [String],
}

/// How deep defined names may refer to other defined names before we give up.
const MAX_NAME_DEPTH: usize = 5;

impl ChoiceResolver<'_> {
    fn list_validations(&self, sheet: usize, scan: &SheetScan) -> Vec<ListValidation> {
        scan.validations
            .iter()
            .filter(|v| v.kind == "list")
            .filter_map(|v| {
                let ranges = parse_sqref(&v.sqref)?;
                let choices = self.resolve(&v.formula1, sheet, 0)?;
                (!choices.is_empty()).then_some(ListValidation { ranges, choices })
            })
            .collect()
    }

    /// The choices a `formula1` offers, seen from sheet `sheet`; `None` if not understood.
    fn resolve(&self, formula: &str, sheet: usize, depth: usize) -> Option<Vec<String>> {
        let formula = formula.trim();
        let formula = formula.strip_prefix('=').unwrap_or(formula).trim();
        if formula.starts_with('"') {
            return parse_inline_list(formula);
        }
        if let Some((sheet_name, range)) = split_sheet_ref(formula) {
            let target = match sheet_name {
                Some(name) => self.sheet_index(&name)?,
                None => sheet,
            };
            if let Some(area) = parse_area(range) {
                return Some(self.values_in(target, area));
            }
        }
        if depth < MAX_NAME_DEPTH && is_name(formula) {
            let name = self.defined_name(formula, sheet)?;
            return self.resolve(&name.formula, sheet, depth + 1);
        }
        None
    }

    fn sheet_index(&self, name: &str) -> Option<usize> {
        find_sheet(&self.workbook.sheets, name)
    }

    /// A name local to `sheet` wins over a global one, as in Excel. Names are case-insensitive.
    fn defined_name(&self, name: &str, sheet: usize) -> Option<&DefinedName> {
        let names = &self.workbook.defined_names;
        let matching = |n: &&DefinedName| n.name.eq_ignore_ascii_case(name);
        names
            .iter()
            .filter(matching)
            .find(|n| n.local_sheet == Some(sheet))
            .or_else(|| {
                names
                    .iter()
                    .filter(matching)
                    .find(|n| n.local_sheet.is_none())
            })
    }

    /// Non-empty cell values in `area` of sheet `sheet`, in row-major order.
    fn values_in(&self, sheet: usize, area: CellRange) -> Vec<String> {
        let Some(scan) = self.scans.get(sheet) else {
            return Vec::new();
        };
        scan.rows
            .iter()
            .filter(|r| (area.first_row..=area.last_row).contains(&r.index))
            .flat_map(|r| {
                r.cells
                    .iter()
                    .filter(move |c| area.contains(r.index, c.col))
            })
            .filter_map(|c| self.cell_text(&c.value))
            .collect()
    }

    fn cell_text(&self, value: &CellValue) -> Option<String> {
        let v = value.v.as_deref();
        let text: Cow<'_, str> = match value.kind.as_deref() {
            Some("s") => {
                let index: usize = v?.trim().parse().ok()?;
                Cow::Borrowed(self.shared.get(index)?.as_str())
            }
            Some("inlineStr") => Cow::Borrowed(value.inline.as_deref().or(v)?),
            Some("b") => Cow::Borrowed(if v?.trim() == "1" { "TRUE" } else { "FALSE" }),
            // An error value (#N/A, #REF!) is no choice anyone can pick.
            Some("e") => return None,
            _ => Cow::Borrowed(v?),
        };
        let text = decode_ooxml_escapes(&text).trim().to_owned();
        (!text.is_empty()).then_some(text)
    }
}

/// `"Yes,No,N/A"` → `[Yes, No, N/A]` (Excel doubles a quote inside the list).
fn parse_inline_list(formula: &str) -> Option<Vec<String>> {
    let inner = formula.strip_prefix('"')?.strip_suffix('"')?;
    let inner = inner.replace("\"\"", "\"");
    Some(
        inner
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

/// Splits `'My Sheet'!$A$1:$A$3` into (Some("My Sheet"), "$A$1:$A$3"), `A1:A3` into
/// (None, "A1:A3"). `None` for external references (`[1]Sheet!A1`) and malformed quoting.
fn split_sheet_ref(formula: &str) -> Option<(Option<String>, &str)> {
    if let Some(rest) = formula.strip_prefix('\'') {
        let mut name = String::new();
        let mut chars = rest.char_indices();
        while let Some((i, ch)) = chars.next() {
            if ch != '\'' {
                name.push(ch);
                continue;
            }
            if rest[i + 1..].starts_with('\'') {
                name.push('\'');
                chars.next();
                continue;
            }
            let range = rest[i + 1..].strip_prefix('!')?;
            return (!name.starts_with('[')).then_some((Some(name), range));
        }
        return None;
    }
    match formula.rsplit_once('!') {
        Some((sheet, range)) if !sheet.contains('[') => Some((Some(sheet.to_owned()), range)),
        Some(_) => None,
        None => Some((None, formula)),
    }
}

/// Whether `s` can be a defined name (letters, digits, `_`, `.`, `\`; not starting with a digit).
fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '\\')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '\\'))
}

// ------------------------------------------------------------------------------------------------
// Planning the edits
// ------------------------------------------------------------------------------------------------

/// Edits of one sheet: row → col → cleaned text.
type SheetEdits = BTreeMap<u32, BTreeMap<u32, String>>;

/// Groups edits by sheet index, checking sheet names, cell positions and text lengths before
/// anything is written.
fn group_edits(
    label: &str,
    workbook: &Workbook,
    edits: &[CellEdit],
) -> Result<BTreeMap<usize, SheetEdits>> {
    let mut grouped: BTreeMap<usize, SheetEdits> = BTreeMap::new();
    for edit in edits {
        let sheets = &workbook.sheets;
        let index = find_sheet(sheets, &edit.sheet).ok_or_else(|| {
            let names: Vec<&str> = sheets.iter().map(|s| s.name.as_str()).collect();
            anyhow!(
                "{label}: has no sheet named `{}` (its sheets: {}); pass one of those names",
                edit.sheet,
                names.join(", ")
            )
        })?;
        if edit.row > MAX_ROW || edit.col > MAX_COL {
            bail!(
                "{label}: cell (row {}, column {}) on sheet `{}` is outside Excel's grid \
                 (1,048,576 rows by 16,384 columns)",
                u64::from(edit.row) + 1,
                u64::from(edit.col) + 1,
                edit.sheet
            );
        }
        let text = clean_cell_text(&edit.text);
        let units = text.encode_utf16().count();
        if units > MAX_CELL_CHARS {
            bail!(
                "{label}: text for cell {}!{} is {units} characters long; Excel holds at most \
                 {MAX_CELL_CHARS} in a cell: shorten it",
                edit.sheet,
                cell_ref(edit.row, edit.col)
            );
        }
        grouped
            .entry(index)
            .or_default()
            .entry(edit.row)
            .or_default()
            .insert(edit.col, text);
    }
    Ok(grouped)
}

/// A replacement of `xml[start..end]` (an insertion when `start == end`).
struct Splice {
    start: usize,
    end: usize,
    text: String,
}

/// Builds the edited sheet XML; `None` when no cell ends up written (only formula cells).
fn patch_sheet(
    label: &str,
    sheet: &WorkbookSheet,
    xml: &[u8],
    edits: &SheetEdits,
    summary: &mut PatchSummary,
) -> Result<Option<Vec<u8>>> {
    let scan = scan_sheet(xml, false).map_err(|e| e.in_part(label, "sheet", &sheet.part))?;
    if scan.root != "worksheet" {
        bail!(
            "{label}: sheet `{}` is a {} (part `{}`), which has no cells to write",
            sheet.name,
            if scan.root.is_empty() {
                "part without content"
            } else {
                &scan.root
            },
            sheet.part
        );
    }
    let Some(data) = scan.data.as_ref() else {
        bail!(
            "{label}: sheet part `{}` has no <sheetData>; the file is damaged: open and re-save \
             it in Excel",
            sheet.part
        );
    };
    let mut planner = Planner {
        xml,
        scan: &scan,
        sheet: &sheet.name,
        splices: Vec::new(),
        written: 0,
        skipped: Vec::new(),
    };
    planner.plan(data, edits);
    summary.cells_written += planner.written;
    summary.skipped_formula_cells.append(&mut planner.skipped);
    if planner.written == 0 {
        return Ok(None);
    }
    let internal = |what: String| {
        anyhow!(
            "{label}: internal error while patching sheet part `{}`: {what}; please report this \
             with the file",
            sheet.part
        )
    };
    let patched = apply_splices(xml, planner.splices)
        .ok_or_else(|| internal("overlapping edits".to_owned()))?;
    // Belt and braces: never hand the customer a sheet Excel would have to "repair".
    walk_xml(&patched, |_, _, _| Ok(())).map_err(|e| {
        internal(format!(
            "result not well-formed at byte {}: {}",
            e.at, e.message
        ))
    })?;
    Ok(Some(patched))
}

/// Applies the splices; `None` if two of them overlap (a planning bug, reported as an error
/// rather than risking a corrupt sheet).
fn apply_splices(xml: &[u8], mut splices: Vec<Splice>) -> Option<Vec<u8>> {
    // An insertion (start == end) sorts before a replacement starting at the same offset; the
    // sort is stable, so insertions at one offset keep the (ascending) order they were planned in.
    splices.sort_by_key(|s| (s.start, s.end));
    let extra: usize = splices.iter().map(|s| s.text.len()).sum();
    let mut out = Vec::with_capacity(xml.len() + extra);
    let mut at = 0;
    for s in splices {
        out.extend_from_slice(xml.get(at..s.start)?);
        out.extend_from_slice(s.text.as_bytes());
        at = s.end;
    }
    out.extend_from_slice(xml.get(at..)?);
    Some(out)
}

struct Planner<'a> {
    xml: &'a [u8],
    scan: &'a SheetScan,
    sheet: &'a str,
    splices: Vec<Splice>,
    written: usize,
    skipped: Vec<(String, u32, u32)>,
}

impl Planner<'_> {
    fn insert(&mut self, at: usize, text: String) {
        self.splices.push(Splice {
            start: at,
            end: at,
            text,
        });
    }

    /// Existing rows are patched where they are; a new row goes before the first row (in
    /// document order) with a higher number, else at the end of `<sheetData>`. Looking rows up
    /// by number rather than walking in step keeps an out-of-order file from getting a
    /// duplicate row.
    fn plan(&mut self, data: &SheetDataScan, edits: &SheetEdits) {
        let scan = self.scan;
        let mut by_index: HashMap<u32, &RowScan> = HashMap::new();
        for row in &scan.rows {
            by_index.entry(row.index).or_insert(row);
        }
        let mut at_end = String::new();
        for (&r, cols) in edits {
            if let Some(row) = by_index.get(&r) {
                self.patch_row(row, cols);
                continue;
            }
            let xml = self.new_row(r, cols, &data.prefix);
            match scan.rows.iter().find(|row| row.index > r) {
                Some(next) => self.insert(next.start, xml),
                None => at_end.push_str(&xml),
            }
        }
        if at_end.is_empty() {
            return;
        }
        match data.close_start {
            Some(close) => self.insert(close, at_end),
            None => {
                let open = self.reopen(data.start, data.end);
                let close = format!("</{}sheetData>", data.prefix);
                self.splices.push(Splice {
                    start: data.start,
                    end: data.end,
                    text: format!("{open}{at_end}{close}"),
                });
            }
        }
    }

    /// The start tag of a self-closing element at `xml[start..end]`, without the `/`.
    fn reopen(&self, start: usize, end: usize) -> String {
        let tag = String::from_utf8_lossy(&self.xml[start..end]);
        let body = tag.trim_end_matches('>').trim_end_matches('/').trim_end();
        format!("{body}>")
    }

    /// Whether a cell is an array or data-table formula cell other than its anchor (which
    /// carries `<f>` itself): Excel forbids changing part of such a range.
    fn in_formula_range(&self, row: u32, col: u32) -> bool {
        self.scan
            .formula_ranges
            .iter()
            .any(|r| r.contains(row, col))
    }

    fn skip(&mut self, row: u32, col: u32) {
        self.skipped.push((self.sheet.to_owned(), row, col));
    }

    /// The style a new cell gets: the row's (when `customFormat`), else its column's.
    fn new_cell_style<'s>(&'s self, row_style: Option<&'s str>, col: u32) -> Option<&'s str> {
        row_style.or_else(|| {
            let col1 = u64::from(col) + 1;
            self.scan
                .cols
                .iter()
                .find(|c| (u64::from(c.min)..=u64::from(c.max)).contains(&col1))
                .map(|c| c.style.as_str())
        })
    }

    /// New `<c>` elements for the given cells, skipping array-formula ranges.
    fn new_cells(
        &mut self,
        row: u32,
        cells: &[(u32, &String)],
        row_style: Option<&str>,
        prefix: &str,
    ) -> String {
        let mut out = String::new();
        for &(col, text) in cells {
            if self.in_formula_range(row, col) {
                self.skip(row, col);
                continue;
            }
            let style = self
                .new_cell_style(row_style, col)
                .map(|s| format!(" s=\"{}\"", escape_xml(s)))
                .unwrap_or_default();
            out.push_str(&format!(
                "<{prefix}c r=\"{}\"{style} t=\"inlineStr\">{}</{prefix}c>",
                cell_ref(row, col),
                inline_string(text, prefix)
            ));
            self.written += 1;
        }
        out
    }

    fn new_row(&mut self, row: u32, cols: &BTreeMap<u32, String>, prefix: &str) -> String {
        let cells: Vec<(u32, &String)> = cols.iter().map(|(&c, t)| (c, t)).collect();
        let content = self.new_cells(row, &cells, None, prefix);
        if content.is_empty() {
            return String::new();
        }
        format!(
            "<{prefix}row r=\"{}\">{content}</{prefix}row>",
            u64::from(row) + 1
        )
    }

    /// Same placement rule as rows: existing cells are rewritten in place, a new cell goes
    /// before the first cell with a higher column, else at the end of the row. Cells without
    /// `r` count from the previous cell, so no new cell can land between two of them and shift
    /// their positions.
    fn patch_row(&mut self, row: &RowScan, cols: &BTreeMap<u32, String>) {
        let style = row.style.as_deref();
        let mut at_end: Vec<(u32, &String)> = Vec::new();
        for (&col, text) in cols {
            if let Some(cell) = row.cells.iter().find(|c| c.col == col) {
                self.rewrite_cell(row.index, cell, text);
                continue;
            }
            match row.cells.iter().find(|c| c.col > col) {
                Some(next) => {
                    let xml = self.new_cells(row.index, &[(col, text)], style, &row.prefix);
                    self.insert(next.start, xml);
                }
                None => at_end.push((col, text)),
            }
        }
        let new_cells = self.new_cells(row.index, &at_end, style, &row.prefix);
        if new_cells.is_empty() {
            return;
        }
        match row.close_start {
            Some(close) => self.insert(close, new_cells),
            None => {
                let open = self.reopen(row.start, row.end);
                let close = format!("</{}row>", row.prefix);
                self.splices.push(Splice {
                    start: row.start,
                    end: row.end,
                    text: format!("{open}{new_cells}{close}"),
                });
            }
        }
    }

    /// Replaces an existing cell's value by an inline string, keeping its attributes (`r`, `s`,
    /// ...) except those describing the old value (`t`, and `cm`/`vm` cell/value metadata).
    fn rewrite_cell(&mut self, row: u32, cell: &CellScan, text: &str) {
        if cell.has_formula || self.in_formula_range(row, cell.col) {
            self.skip(row, cell.col);
            return;
        }
        let tag = &self.xml[cell.start..cell.tag_end];
        let (prefix, attrs) = start_tag_parts(tag);
        let mut out = format!("<{prefix}c");
        if !attrs.iter().any(|(k, _)| k == "r") {
            out.push_str(&format!(" r=\"{}\"", cell_ref(row, cell.col)));
        }
        for (key, raw) in &attrs {
            if !matches!(key.as_str(), "t" | "cm" | "vm") {
                out.push_str(&format!(" {key}=\"{}\"", raw.replace('"', "&quot;")));
            }
        }
        out.push_str(&format!(
            " t=\"inlineStr\">{}</{prefix}c>",
            inline_string(text, &prefix)
        ));
        self.splices.push(Splice {
            start: cell.start,
            end: cell.end,
            text: out,
        });
        self.written += 1;
    }
}

/// The prefix (`"x:"` or `""`) and raw attributes (`key`, escaped value) of a start tag that
/// the scan already parsed successfully.
fn start_tag_parts(tag: &[u8]) -> (String, Vec<(String, String)>) {
    let mut reader = Reader::from_reader(tag);
    match reader.read_event() {
        Ok(Event::Start(e) | Event::Empty(e)) => {
            let attrs = e
                .attributes()
                .filter_map(Result::ok)
                .map(|a| (a.key.as_ref().to_owned(), a.value.into_owned()))
                .collect();
            (prefix_of(&e), attrs)
        }
        _ => (String::new(), Vec::new()),
    }
}

/// `<is><t xml:space="preserve">text</t></is>` with the cell's namespace prefix.
fn inline_string(text: &str, prefix: &str) -> String {
    format!(
        "<{prefix}is><{prefix}t xml:space=\"preserve\">{}</{prefix}t></{prefix}is>",
        escape_xml(text)
    )
}

// ------------------------------------------------------------------------------------------------
// Writing the package
// ------------------------------------------------------------------------------------------------

/// Copies every entry of `pkg` in order: raw (byte-identical) unless it is in `replaced`.
fn write_package(pkg: &mut Package, replaced: &HashMap<usize, Vec<u8>>) -> Result<Vec<u8>> {
    let label = pkg.label.clone();
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..pkg.archive.len() {
        let entry = pkg
            .archive
            .by_index_raw(i)
            .map_err(|e| anyhow!("{label}: cannot read zip entry #{i}: {e}"))?;
        let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        match replaced.get(&i) {
            Some(bytes) => {
                let method = match entry.compression() {
                    CompressionMethod::Stored => CompressionMethod::Stored,
                    _ => CompressionMethod::Deflated,
                };
                let options: SimpleFileOptions = entry
                    .options()
                    .compression_method(method)
                    .compression_level(None)
                    .large_file(bytes.len() as u64 >= u64::from(u32::MAX));
                drop(entry);
                writer
                    .start_file(name.as_str(), options)
                    .and_then(|()| writer.write_all(bytes).map_err(Into::into))
                    .map_err(|e| anyhow!("{label}: cannot write part `{name}`: {e}"))?;
            }
            None => writer
                .raw_copy_file(entry)
                .map_err(|e| anyhow!("{label}: cannot copy part `{name}`: {e}"))?,
        }
    }
    writer
        .set_raw_comment(pkg.archive.comment().into())
        .map_err(|e| anyhow!("{label}: cannot write the zip comment: {e}"))?;
    let bytes = writer
        .finish()
        .map_err(|e| anyhow!("{label}: cannot finish the output zip: {e}"))?
        .into_inner();
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_round_trip() {
        assert_eq!(cell_ref(0, 0), "A1");
        assert_eq!(cell_ref(4, 2), "C5");
        assert_eq!(cell_ref(0, 26), "AA1");
        assert_eq!(cell_ref(MAX_ROW, MAX_COL), "XFD1048576");
        assert_eq!(
            parse_ref_part("$XFD$1048576"),
            Some((Some(MAX_ROW), Some(MAX_COL)))
        );
        assert_eq!(parse_ref_part("XFE1"), None);
        assert_eq!(parse_ref_part("A0"), None);
        assert_eq!(parse_ref_part("A1048577"), None);
        assert_eq!(parse_ref_part("$"), None);
    }

    #[test]
    fn areas_and_sqrefs() {
        let r = |a, b, c, d| CellRange {
            first_row: a,
            first_col: b,
            last_row: c,
            last_col: d,
        };
        assert_eq!(
            parse_sqref("C5:C300 E5"),
            Some(vec![r(4, 2, 299, 2), r(4, 4, 4, 4)])
        );
        assert_eq!(parse_area("$A:$A"), Some(r(0, 0, MAX_ROW, 0)));
        assert_eq!(parse_area("2:3"), Some(r(1, 0, 2, MAX_COL)));
        assert_eq!(parse_area("B3:A1"), Some(r(0, 0, 2, 1)));
        assert_eq!(parse_area("A1:B"), None);
        assert_eq!(parse_sqref(""), None);
    }

    #[test]
    fn sheet_refs() {
        assert_eq!(
            split_sheet_ref("'It''s here'!$A$1:$A$3"),
            Some((Some("It's here".to_owned()), "$A$1:$A$3"))
        );
        assert_eq!(
            split_sheet_ref("Lists!A1:A3"),
            Some((Some("Lists".to_owned()), "A1:A3"))
        );
        assert_eq!(split_sheet_ref("$H$1:$H$3"), Some((None, "$H$1:$H$3")));
        assert_eq!(split_sheet_ref("[1]Lists!A1"), None);
        assert_eq!(split_sheet_ref("'unterminated"), None);
    }

    #[test]
    fn inline_lists() {
        assert_eq!(
            parse_inline_list("\"Yes, No ,N/A,,\"").unwrap(),
            vec!["Yes", "No", "N/A"]
        );
        assert_eq!(
            parse_inline_list("\"Say \"\"hi\"\"\"").unwrap(),
            vec!["Say \"hi\""]
        );
        assert_eq!(parse_inline_list("Yes,No"), None);
    }

    #[test]
    fn text_cleaning() {
        assert_eq!(clean_cell_text("a\u{1}b\r\nc\rd\te"), "ab\nc\nd\te");
        assert_eq!(clean_cell_text("x_x000D_y"), "x_x005F_x000D_y");
        assert_eq!(clean_cell_text("_x00_"), "_x00_");
        assert_eq!(
            decode_ooxml_escapes("a_x000D_b_x005F_x0041_"),
            "a\rb_x0041_"
        );
        assert_eq!(
            escape_xml("<a & \"b\" 'c'>"),
            "&lt;a &amp; &quot;b&quot; &apos;c&apos;&gt;"
        );
    }

    #[test]
    fn target_resolution() {
        assert_eq!(
            resolve_target("xl/workbook.xml", "worksheets/sheet1.xml"),
            "xl/worksheets/sheet1.xml"
        );
        assert_eq!(
            resolve_target("xl/workbook.xml", "/xl/worksheets/s.xml"),
            "xl/worksheets/s.xml"
        );
        assert_eq!(
            resolve_target("xl/workbook.xml", "../xl/./a.xml"),
            "xl/a.xml"
        );
        assert_eq!(
            rels_part_for("xl/workbook.xml"),
            "xl/_rels/workbook.xml.rels"
        );
    }
}
