//! csv/tsv text: which encoding, delimiter and line ending a file uses, its fields with where
//! each sits in the file ([`parse`]), and the same file written back with only some fields
//! changed ([`patch`]).
//!
//! A customer's csv goes back to the customer, so it must come back as they sent it: a UTF-8
//! BOM stays, cp1252 stays cp1252, UTF-16 stays UTF-16, CRLF stays CRLF, and a stray invalid
//! byte in one cell neither turns the rest of the file into mojibake nor disappears. So the
//! output is never re-serialised from decoded text: it is the input's bytes with the changed
//! fields spliced in, each encoded in the file's own encoding.
//!
//! Invariants:
//! - Never panics on any bytes.
//! - [`patch`] with no edits, on a file with no cell to defuse, returns the input unchanged;
//!   every byte outside a changed field is copied as it was.
//! - No cell written starts like a formula (SPEC §3): a cell starting with `=`, `+`, `-`, `@`,
//!   tab or CR gets a leading `'`, the customer's own cells too, unless it is a plain finite
//!   number.
//! - encoding_rs is used from this module only.

use std::collections::BTreeMap;
use std::ops::Range;

/// How a file's text is encoded; a BOM, when there is one, is kept on writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8 { bom: bool },
    Utf16Le { bom: bool },
    Utf16Be { bom: bool },
    Windows1252,
}

impl Encoding {
    fn bom_len(self) -> usize {
        match self {
            Encoding::Utf8 { bom: true } => 3,
            Encoding::Utf16Le { bom: true } | Encoding::Utf16Be { bom: true } => 2,
            _ => 0,
        }
    }

    /// Bytes per code unit: delimiters, quotes and line endings are one unit each.
    fn unit_width(self) -> usize {
        match self {
            Encoding::Utf16Le { .. } | Encoding::Utf16Be { .. } => 2,
            _ => 1,
        }
    }

    fn encode(self, text: &str, out: &mut Vec<u8>) {
        match self {
            Encoding::Utf8 { .. } => out.extend_from_slice(text.as_bytes()),
            Encoding::Utf16Le { .. } => text
                .encode_utf16()
                .for_each(|u| out.extend_from_slice(&u.to_le_bytes())),
            Encoding::Utf16Be { .. } => text
                .encode_utf16()
                .for_each(|u| out.extend_from_slice(&u.to_be_bytes())),
            Encoding::Windows1252 => {
                let mut buf = [0u8; 4];
                for ch in text.chars() {
                    let (bytes, _, unmappable) =
                        encoding_rs::WINDOWS_1252.encode(ch.encode_utf8(&mut buf));
                    // `?` as Excel writes it, not the HTML entity the WHATWG encoder gives.
                    if unmappable {
                        out.push(b'?');
                    } else {
                        out.extend_from_slice(&bytes);
                    }
                }
            }
        }
    }
}

/// One field as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The decoded text: quotes removed, doubled quotes undone.
    pub text: String,
    /// Byte range in the *original* bytes (BOM included in the count), surrounding quotes
    /// included; empty for an empty unquoted field.
    pub span: Range<usize>,
    /// Whether the field starts with a quote.
    pub quoted: bool,
}

/// A csv/tsv file read: how it is written, and its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delimited {
    pub encoding: Encoding,
    pub delimiter: u8,
    /// The first line ending seen ("\r\n", "\n" or "\r"), used for rows appended; "\r\n" when
    /// the file has none.
    pub line_ending: &'static str,
    /// Rows of fields; every row has at least one field (a blank line is one empty field), and
    /// a row's line ending starts where its last field ends.
    pub rows: Vec<Vec<Field>>,
    /// Whether the last row ends with a line ending (true for an empty file).
    pub ends_with_line_ending: bool,
}

/// Reads `bytes` as delimited text: `delimiter` as given, or sniffed (`,`, `;` or tab) when
/// None. Fails only on a delimiter that cannot separate fields.
pub fn parse(bytes: &[u8], delimiter: Option<u8>) -> Result<Delimited, String> {
    if let Some(d) = delimiter.filter(|d| matches!(d, b'"' | b'\r' | b'\n') || !d.is_ascii()) {
        return Err(format!(
            "`{}` cannot be a field delimiter; use `,`, `;` or tab",
            d.escape_ascii()
        ));
    }
    let encoding = detect_encoding(bytes);
    let body = &bytes[encoding.bom_len().min(bytes.len())..];
    match encoding {
        Encoding::Utf16Le { .. } | Encoding::Utf16Be { .. } => {
            let units: Vec<u16> = body
                .chunks_exact(2)
                .map(|p| {
                    let pair = [p[0], p[1]];
                    if matches!(encoding, Encoding::Utf16Le { .. }) {
                        u16::from_le_bytes(pair)
                    } else {
                        u16::from_be_bytes(pair)
                    }
                })
                .collect();
            Ok(build(encoding, &units, delimiter, |content| {
                char::decode_utf16(content.iter().copied())
                    .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                    .collect()
            }))
        }
        Encoding::Utf8 { .. } => Ok(build(encoding, body, delimiter, |content| {
            String::from_utf8_lossy(content).into_owned()
        })),
        Encoding::Windows1252 => Ok(build(encoding, body, delimiter, |content| {
            encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(content)
                .0
                .into_owned()
        })),
    }
}

/// A BOM; UTF-16 without one when NULs fill one half of each pair in the first KiB; UTF-8
/// when the file holds a valid multi-byte UTF-8 sequence or no byte above 0x7F (fields are
/// decoded one by one, so one bad byte spoils only its own field); else Windows-1252, which
/// is what Excel on Windows writes for "CSV".
fn detect_encoding(bytes: &[u8]) -> Encoding {
    match bytes {
        [0xEF, 0xBB, 0xBF, ..] => return Encoding::Utf8 { bom: true },
        [0xFF, 0xFE, ..] => return Encoding::Utf16Le { bom: true },
        [0xFE, 0xFF, ..] => return Encoding::Utf16Be { bom: true },
        _ => {}
    }
    let head = &bytes[..bytes.len().min(1024)];
    let pairs = head.len() / 2;
    if pairs > 0 {
        let nul_at = |parity: usize| {
            head.chunks_exact(2)
                .filter(|pair| pair[parity] == 0)
                .count()
        };
        let (even, odd) = (nul_at(0), nul_at(1));
        let mostly = |n: usize| n * 4 >= pairs * 3;
        let rarely = |n: usize| n * 16 <= pairs;
        if mostly(odd) && rarely(even) {
            return Encoding::Utf16Le { bom: false };
        }
        if mostly(even) && rarely(odd) {
            return Encoding::Utf16Be { bom: false };
        }
    }
    let multibyte = bytes.utf8_chunks().any(|chunk| !chunk.valid().is_ascii());
    if multibyte || bytes.is_ascii() {
        Encoding::Utf8 { bom: false }
    } else {
        Encoding::Windows1252
    }
}

const QUOTE: u32 = b'"' as u32;
const CR: u32 = b'\r' as u32;
const LF: u32 = b'\n' as u32;

/// Splits code units into fields (RFC 4180, leniently: a quote inside an unquoted field is
/// text, text after a closing quote belongs to the field, an unclosed quote runs to the end).
fn build<T: Copy + Into<u32>>(
    encoding: Encoding,
    units: &[T],
    delimiter: Option<u8>,
    decode: impl Fn(&[T]) -> String,
) -> Delimited {
    let delimiter = delimiter.unwrap_or_else(|| sniff_delimiter(units));
    let d = u32::from(delimiter);
    let offset = encoding.bom_len();
    let width = encoding.unit_width();
    let span = |start: usize, end: usize| (offset + start * width)..(offset + end * width);
    let at = |i: usize| -> u32 { units[i].into() };
    let n = units.len();
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut line_ending = None;
    let mut ends_with_line_ending = true;
    let mut i = 0;
    while i < n {
        let start = i;
        let mut content = Vec::new();
        let quoted = at(i) == QUOTE;
        if quoted {
            i += 1;
            while i < n {
                if at(i) == QUOTE {
                    if i + 1 < n && at(i + 1) == QUOTE {
                        content.push(units[i]);
                        i += 2;
                    } else {
                        i += 1;
                        break;
                    }
                } else {
                    content.push(units[i]);
                    i += 1;
                }
            }
        }
        while i < n && !matches!(at(i), CR | LF) && at(i) != d {
            content.push(units[i]);
            i += 1;
        }
        row.push(Field {
            text: decode(&content),
            span: span(start, i),
            quoted,
        });
        if i >= n {
            ends_with_line_ending = false;
            break;
        }
        if at(i) == d {
            i += 1;
            if i >= n {
                // A delimiter ends the file: the row's last field is empty.
                row.push(Field {
                    text: String::new(),
                    span: span(n, n),
                    quoted: false,
                });
                ends_with_line_ending = false;
            }
            continue;
        }
        let ending = if at(i) == CR && i + 1 < n && at(i + 1) == LF {
            "\r\n"
        } else if at(i) == CR {
            "\r"
        } else {
            "\n"
        };
        line_ending.get_or_insert(ending);
        i += if ending == "\r\n" { 2 } else { 1 };
        rows.push(std::mem::take(&mut row));
    }
    if !row.is_empty() {
        rows.push(row);
    }
    Delimited {
        encoding,
        delimiter,
        line_ending: line_ending.unwrap_or("\r\n"),
        rows,
        ends_with_line_ending,
    }
}

/// `;` (European Excel), tab or `,`: whichever occurs most outside quotes in the first lines.
fn sniff_delimiter<T: Copy + Into<u32>>(units: &[T]) -> u8 {
    let mut counts = [0usize; 3]; // , ; \t
    let mut in_quotes = false;
    let mut lines = 0;
    for &unit in units {
        let unit: u32 = unit.into();
        match u8::try_from(unit).unwrap_or(0) {
            b'"' => in_quotes = !in_quotes,
            b',' if !in_quotes => counts[0] += 1,
            b';' if !in_quotes => counts[1] += 1,
            b'\t' if !in_quotes => counts[2] += 1,
            b'\n' if !in_quotes => {
                lines += 1;
                if lines >= 20 {
                    break;
                }
            }
            _ => {}
        }
    }
    let delimiters = [b',', b';', b'\t'];
    let mut best = 0;
    for i in 1..3 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    delimiters[best]
}

/// Whether a spreadsheet could read `text` as a formula: it starts with `=`, `+`, `-`, `@`,
/// tab or CR and is not a plain finite number (`-5`, `+1.5`).
pub fn needs_defusing(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
        && !text.parse::<f64>().is_ok_and(f64::is_finite)
}

/// `bytes` (which `parsed` was read from) with `edits` (0-based row, column, text) written:
/// edited fields replaced, quoted when they hold the delimiter, a quote, CR or LF; fields
/// that [`needs_defusing`] given a leading `'`; edits past a row's last field appended to it
/// (empty fields between); edits past the last row appended as new rows with the file's line
/// ending. Everything else is copied byte for byte. Of two edits of one cell the last wins.
pub fn patch(bytes: &[u8], parsed: &Delimited, edits: &[(u32, u32, String)]) -> Vec<u8> {
    let encoding = parsed.encoding;
    let mut pending: BTreeMap<(u32, u32), &str> = edits
        .iter()
        .map(|(r, c, text)| ((*r, *c), text.as_str()))
        .collect();
    let field = |text: &str| {
        let mut out = Vec::new();
        encoding.encode(&field_text(text, parsed.delimiter), &mut out);
        out
    };
    let delimiter = {
        let mut out = Vec::new();
        encoding.encode(&char::from(parsed.delimiter).to_string(), &mut out);
        out
    };
    // (start, end, replacement): disjoint, pushed in file order.
    let mut splices: Vec<(usize, usize, Vec<u8>)> = Vec::new();
    for (r, row) in parsed.rows.iter().enumerate() {
        let r = u32::try_from(r).unwrap_or(u32::MAX);
        for (c, f) in row.iter().enumerate() {
            let c = u32::try_from(c).unwrap_or(u32::MAX);
            if let Some(text) = pending.remove(&(r, c)) {
                splices.push((f.span.start, f.span.end, field(text)));
            } else if needs_defusing(&f.text) {
                let at = f.span.start + if f.quoted { encoding.unit_width() } else { 0 };
                let mut quote = Vec::new();
                encoding.encode("'", &mut quote);
                splices.push((at, at, quote));
            }
        }
        let first_new = u32::try_from(row.len()).unwrap_or(u32::MAX);
        let tail: Vec<(u32, &str)> = pending
            .range((r, first_new)..=(r, u32::MAX))
            .map(|(&(_, c), &text)| (c, text))
            .collect();
        if let (Some(end), Some(&(last, _))) = (row.last().map(|f| f.span.end), tail.last()) {
            let mut out = Vec::new();
            let mut texts = tail.iter().peekable();
            for c in first_new..=last {
                out.extend_from_slice(&delimiter);
                if let Some((_, text)) = texts.next_if(|(col, _)| *col == c) {
                    out.extend(field(text));
                }
            }
            splices.push((end, end, out));
            for (c, _) in tail {
                pending.remove(&(r, c));
            }
        }
    }
    // What is left lies below the last row.
    if let Some(&(last_row, _)) = pending.keys().next_back() {
        let mut line_ending = Vec::new();
        encoding.encode(parsed.line_ending, &mut line_ending);
        let mut out = Vec::new();
        let first = u32::try_from(parsed.rows.len()).unwrap_or(u32::MAX);
        for r in first..=last_row {
            if !parsed.ends_with_line_ending {
                out.extend_from_slice(&line_ending);
            }
            let cells: Vec<(u32, &str)> = pending
                .range((r, 0)..=(r, u32::MAX))
                .map(|(&(_, c), &text)| (c, text))
                .collect();
            if let Some(&(last, _)) = cells.last() {
                let mut texts = cells.iter().peekable();
                for c in 0..=last {
                    if c > 0 {
                        out.extend_from_slice(&delimiter);
                    }
                    if let Some((_, text)) = texts.next_if(|(col, _)| *col == c) {
                        out.extend(field(text));
                    }
                }
            }
            if parsed.ends_with_line_ending {
                out.extend_from_slice(&line_ending);
            }
        }
        splices.push((bytes.len(), bytes.len(), out));
    }
    let mut out =
        Vec::with_capacity(bytes.len() + splices.iter().map(|s| s.2.len()).sum::<usize>());
    let mut pos = 0;
    for (start, end, replacement) in splices {
        let start = start.clamp(pos, bytes.len());
        out.extend_from_slice(&bytes[pos..start]);
        out.extend(replacement);
        pos = end.clamp(start, bytes.len());
    }
    out.extend_from_slice(&bytes[pos..]);
    out
}

/// A field as written: defused, then quoted when it must be.
fn field_text(text: &str, delimiter: u8) -> String {
    let text = if needs_defusing(text) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains(['"', '\r', '\n', char::from(delimiter)]) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(parsed: &Delimited) -> Vec<Vec<&str>> {
        parsed
            .rows
            .iter()
            .map(|row| row.iter().map(|f| f.text.as_str()).collect())
            .collect()
    }

    fn utf16(text: &str, le: bool, bom: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if bom {
            out.extend_from_slice(if le { &[0xFF, 0xFE] } else { &[0xFE, 0xFF] });
        }
        for u in text.encode_utf16() {
            out.extend_from_slice(&if le { u.to_le_bytes() } else { u.to_be_bytes() });
        }
        out
    }

    fn round_trip(bytes: &[u8]) -> Delimited {
        let parsed = parse(bytes, None).expect("parses");
        assert_eq!(patch(bytes, &parsed, &[]), bytes, "{parsed:?}");
        parsed
    }

    #[test]
    fn every_encoding_round_trips_byte_for_byte() {
        let text = "Frage;Antwort\r\nVerschlüsseln Sie?;Ja\r\n";
        let p = round_trip(text.as_bytes());
        assert_eq!(p.encoding, Encoding::Utf8 { bom: false });
        assert_eq!((p.delimiter, p.line_ending), (b';', "\r\n"));
        assert_eq!(texts(&p)[1], ["Verschlüsseln Sie?", "Ja"]);

        let bom = [b"\xEF\xBB\xBF".as_slice(), b"a,b\nc,d"].concat();
        let p = round_trip(&bom);
        assert_eq!(p.encoding, Encoding::Utf8 { bom: true });
        assert_eq!((p.line_ending, p.ends_with_line_ending), ("\n", false));
        assert_eq!(texts(&p), [["a", "b"], ["c", "d"]]);

        for (le, bom) in [(true, true), (false, true), (true, false), (false, false)] {
            let bytes = utf16("Question\tAnswer\r\nÊtes-vous certifié ?\tOui\r\n", le, bom);
            let p = round_trip(&bytes);
            let want = match (le, bom) {
                (true, _) => Encoding::Utf16Le { bom },
                (false, _) => Encoding::Utf16Be { bom },
            };
            assert_eq!(p.encoding, want);
            assert_eq!(texts(&p)[1], ["Êtes-vous certifié ?", "Oui"]);
        }

        let p = round_trip(b"Question\n\x93Quoted\x94 caf\xe9 \x80?\n");
        assert_eq!(p.encoding, Encoding::Windows1252);
        assert_eq!(texts(&p)[1], ["“Quoted” café €?"]);
    }

    #[test]
    fn one_invalid_byte_spoils_only_its_own_field() {
        let bytes = b"caf\xc3\xa9,bad \xff byte\r\nna\xc3\xafve,x\r\n";
        let p = round_trip(bytes);
        assert_eq!(p.encoding, Encoding::Utf8 { bom: false });
        assert_eq!(texts(&p), [["café", "bad \u{FFFD} byte"], ["naïve", "x"]]);
        // Editing another row keeps the invalid byte as it was.
        let out = patch(bytes, &p, &[(1, 1, "y".into())]);
        assert_eq!(out, b"caf\xc3\xa9,bad \xff byte\r\nna\xc3\xafve,y\r\n");
    }

    #[test]
    fn quoting_follows_rfc_4180() {
        let bytes = b"\"a,b\",\"say \"\"hi\"\"\",\"two\r\nlines\"\r\nx,,\r\n\r\nlast";
        let p = round_trip(bytes);
        assert_eq!(p.delimiter, b',');
        assert_eq!(
            texts(&p),
            [
                vec!["a,b", "say \"hi\"", "two\r\nlines"],
                vec!["x", "", ""],
                vec![""],
                vec!["last"]
            ]
        );
        let out = patch(
            bytes,
            &p,
            &[
                (0, 0, "plain".into()),
                (1, 1, "has, comma".into()),
                (1, 2, "q\"".into()),
            ],
        );
        assert_eq!(
            out,
            b"plain,\"say \"\"hi\"\"\",\"two\r\nlines\"\r\nx,\"has, comma\",\"q\"\"\"\r\n\r\nlast"
        );
    }

    #[test]
    fn edits_past_the_end_append_columns_and_rows() {
        let bytes = b"id,question\nQ1,Encrypted?\n";
        let p = parse(bytes, None).unwrap();
        let edits = [
            (0, 2, "Answer".to_string()),
            (0, 3, "Explanation".to_string()),
            (1, 3, "Not on the record.".to_string()),
            (3, 1, "new".to_string()),
        ];
        assert_eq!(
            patch(bytes, &p, &edits),
            b"id,question,Answer,Explanation\nQ1,Encrypted?,,Not on the record.\n\n,new\n"
        );
        // Without a final line ending, one is added before the new rows, none after.
        let bytes = b"a\r\nb";
        let p = parse(bytes, None).unwrap();
        assert_eq!(
            patch(bytes, &p, &[(2, 0, "c".into())]),
            b"a\r\nb\r\nc".as_slice()
        );
        // An empty file gets rows with the default CRLF.
        let p = parse(b"", None).unwrap();
        assert_eq!(patch(b"", &p, &[(0, 1, "x".into())]), b",x\r\n".as_slice());
    }

    #[test]
    fn cells_that_read_as_formulas_are_defused() {
        let bytes = b"=cmd|' /C calc'!A0,-5,+1.5,\"@SUM(A1)\",-,plain\n";
        let p = parse(bytes, None).unwrap();
        assert_eq!(
            patch(bytes, &p, &[(0, 5, "+call".into())]),
            b"'=cmd|' /C calc'!A0,-5,+1.5,\"'@SUM(A1)\",'-,'+call\n".as_slice()
        );
        assert!(needs_defusing("\tx") && needs_defusing("-inf") && !needs_defusing("-1e3"));
    }

    #[test]
    fn utf16_and_cp1252_edits_are_written_in_the_file_encoding() {
        let bytes = utf16("q\tanswer\r\nA?\t\r\n", true, true);
        let p = parse(&bytes, None).unwrap();
        let out = patch(&bytes, &p, &[(1, 1, "Oui, certifié".into())]);
        assert_eq!(out, utf16("q\tanswer\r\nA?\tOui, certifié\r\n", true, true));

        let bytes = b"caf\xe9,x\r\n";
        let p = parse(bytes, None).unwrap();
        let out = patch(bytes, &p, &[(0, 1, "“ok” · 🙂".into())]);
        assert_eq!(out, b"caf\xe9,\x93ok\x94 \xb7 ?\r\n");
    }

    #[test]
    fn delimiter_is_sniffed_outside_quotes() {
        let sniff = |text: &str| sniff_delimiter(text.as_bytes());
        assert_eq!(sniff("a;b;c\n1;2;3\n"), b';');
        assert_eq!(sniff("a,b\n\"x;y;z\",1\n"), b',');
        assert_eq!(sniff("a\tb\tc\n"), b'\t');
        assert_eq!(sniff("single column\n"), b',');
        assert!(parse(b"a", Some(b'"')).is_err());
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn csvish() -> impl Strategy<Value = Vec<u8>> {
            let pieces: Vec<u8> = vec![
                b'a', b'b', b' ', b',', b';', b'\t', b'"', b'\r', b'\n', 0x00, 0xE9, 0xC3, 0xA9,
                0xFF, 0xFE, 0xEF, 0xBB, 0xBF, b'=',
            ];
            prop::collection::vec(prop::sample::select(pieces), 0..300)
        }

        proptest! {
            #[test]
            fn parse_never_panics_and_patch_without_edits_is_identity(
                bytes in prop_oneof![csvish(), prop::collection::vec(any::<u8>(), 0..300)],
                delimiter in prop::option::of(prop::sample::select(vec![b',', b';', b'\t'])),
            ) {
                let parsed = parse(&bytes, delimiter).unwrap();
                let defusable = parsed.rows.iter().flatten().any(|f| needs_defusing(&f.text));
                if !defusable {
                    prop_assert_eq!(patch(&bytes, &parsed, &[]), bytes.clone());
                }
                // Whatever the input, an edit reads back as written.
                let out = patch(&bytes, &parsed, &[(0, 0, "x\"y".into())]);
                let again = parse(&out, Some(parsed.delimiter)).unwrap();
                if matches!(parsed.encoding, Encoding::Utf8 { .. }) && again.encoding == parsed.encoding {
                    prop_assert_eq!(again.rows[0][0].text.as_str(), "x\"y");
                }
            }
        }
    }
}
