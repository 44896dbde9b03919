//! `onrecord fill` on csv/tsv: the customer's file comes back in its own encoding, BOM and line
//! endings, with nothing that reads as a formula; and files whose content is not what their
//! name says are refused with what to do (issue 15, cases 7, 8, 15, 18, 19).

use std::path::{Path, PathBuf};

use crate::layouts::{CAIQ_LIKE, build};
use crate::{Run, onrecord, repo, shared_data};

fn fill(input: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["fill", input.to_str().unwrap()];
    args.extend_from_slice(extra);
    onrecord(&repo(), &args)
}

fn answered(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap()
}

fn every_lf_follows_cr(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .enumerate()
        .all(|(i, &b)| b != b'\n' || (i > 0 && bytes[i - 1] == b'\r'))
}

/// Exit 2 and stderr holding the file name and every one of `parts`.
fn refused(run: &Run, name: &str, parts: &[&str]) {
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains(name), "{}", run.stderr);
    for part in parts {
        assert!(run.stderr.contains(part), "{part:?} not in {}", run.stderr);
    }
}

#[test]
fn a_cp1252_csv_stays_cp1252_with_crlf() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("q.csv");
    let original = b"id,question\r\nQ1,Do you encrypt customer data at rest? (caf\xe9)\r\nQ2,Do you hold FedRAMP High authorization?\r\n";
    std::fs::write(&input, original).unwrap();
    let run = fill(&input, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = answered(dir.path(), "q.answered.csv");
    assert!(out.starts_with(b"id,question,Answer,Explanation\r\nQ1,Do you encrypt customer data at rest? (caf\xe9),Yes,"));
    assert!(std::str::from_utf8(&out).is_err(), "written as UTF-8");
    assert!(every_lf_follows_cr(&out));
    assert!(out.ends_with(b"Q2,Do you hold FedRAMP High authorization?,,Not on the record.\r\n"));
    assert!(out.windows(7).any(|w| w == b"[ENC-01"));
    assert_eq!(std::fs::read(&input).unwrap(), original, "input changed");
}

#[test]
fn a_utf16le_tsv_with_bom_stays_utf16le() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("q.tsv");
    let utf16 = |text: &str| -> Vec<u8> {
        let mut out = vec![0xFF, 0xFE];
        text.encode_utf16()
            .for_each(|u| out.extend_from_slice(&u.to_le_bytes()));
        out
    };
    std::fs::write(
        &input,
        utf16("Réf.\tquestion\r\nQ1\tDo you encrypt customer data at rest?\r\n"),
    )
    .unwrap();
    let run = fill(&input, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = answered(dir.path(), "q.answered.tsv");
    assert!(out.starts_with(&utf16(
        "Réf.\tquestion\tAnswer\tExplanation\r\nQ1\tDo you encrypt customer data at rest?\tYes\t",
    )));
    assert_eq!(out.len() % 2, 0);
    let units: Vec<u16> = out[2..]
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]))
        .collect();
    let text = String::from_utf16(&units).expect("UTF-16LE");
    assert!(
        text.contains("\tYes\t") && text.contains("[ENC-01"),
        "{text}"
    );
    assert!(text.ends_with("\r\n") && !text.contains('\0'));
}

#[test]
fn a_utf8_bom_crlf_csv_keeps_both_and_defuses_the_customers_formula() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("q.csv");
    std::fs::write(
        &input,
        "\u{feff}=HYPERLINK(\"http://x.test\";\"Security review\"),\r\nid,question\r\nQ1,Do you encrypt customer data at rest?\r\n",
    )
    .unwrap();
    let run = fill(&input, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = answered(dir.path(), "q.answered.csv");
    let text = String::from_utf8(out.clone()).expect("UTF-8");
    assert!(
        text.starts_with("\u{feff}'=HYPERLINK(\"http://x.test\";\"Security review\"),\r\nid,question,Answer,Explanation\r\nQ1,Do you encrypt customer data at rest?,Yes,"),
        "{text}"
    );
    assert!(every_lf_follows_cr(&out));
}

fn ole(stream: &str) -> Vec<u8> {
    let mut bytes = vec![0u8; 512];
    bytes[..8].copy_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    let mut entry = vec![0u8; 128];
    let name: Vec<u8> = stream.encode_utf16().flat_map(u16::to_le_bytes).collect();
    entry[..name.len()].copy_from_slice(&name);
    entry[64..66].copy_from_slice(&(name.len() as u16 + 2).to_le_bytes());
    entry[66] = 2;
    bytes.extend(entry);
    bytes
}

fn ods() -> Vec<u8> {
    let mime = b"application/vnd.oasis.opendocument.spreadsheet";
    let mut bytes = b"PK\x03\x04\x14\x00\x00\x00\x00\x00".to_vec();
    bytes.extend([0u8; 8]); // time, date, crc
    bytes.extend((mime.len() as u32).to_le_bytes());
    bytes.extend((mime.len() as u32).to_le_bytes());
    bytes.extend(8u16.to_le_bytes());
    bytes.extend(0u16.to_le_bytes());
    bytes.extend(b"mimetype");
    bytes.extend(mime);
    bytes.extend(b"PK\x03\x04 rest of the package");
    bytes
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn workbooks_named_csv_are_refused_saying_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("real.xlsx");
    build(&xlsx, CAIQ_LIKE);
    let named_csv = write(dir.path(), "x.csv", &std::fs::read(&xlsx).unwrap());
    refused(
        &fill(&named_csv, &[]),
        "x.csv",
        &["is an xlsx workbook (zip package), not csv text; rename it to .xlsx"],
    );
    assert!(!dir.path().join("x.answered.csv").exists());
    let xls = write(dir.path(), "y.csv", &ole("Workbook"));
    refused(
        &fill(&xls, &[]),
        "y.csv",
        &["is a legacy Excel .xls workbook, not csv text; rename it to .xls"],
    );
    let ods = write(dir.path(), "z.tsv", &ods());
    refused(
        &fill(&ods, &[]),
        "z.tsv",
        &["is an OpenDocument spreadsheet (zip package), not tsv text; rename it to .ods"],
    );
}

#[test]
fn misnamed_workbooks_get_the_right_name_suggested() {
    let dir = tempfile::tempdir().unwrap();
    let xls = write(dir.path(), "legacy.xlsx", &ole("Book"));
    refused(
        &fill(&xls, &[]),
        "legacy.xlsx",
        &["is a legacy .xls workbook named .xlsx; rename it to .xls"],
    );
    let encrypted = write(dir.path(), "locked.xlsx", &ole("EncryptedPackage"));
    refused(
        &fill(&encrypted, &[]),
        "locked.xlsx",
        &["encrypted (password-protected)"],
    );
    let ods = write(dir.path(), "open.xlsx", &ods());
    refused(
        &fill(&ods, &[]),
        "open.xlsx",
        &["is an OpenDocument spreadsheet named .xlsx; rename it to .ods"],
    );
    // Real files, when the shared corpus is there; `WORKBOOK` spelled in capitals too.
    let corpus = shared_data().join("xlsx-corpus/calamine");
    for (name, message) in [
        (
            "capitalized_wbook_stream.xls",
            "legacy .xls workbook named .xlsx",
        ),
        ("issue343.xls", "legacy .xls workbook named .xlsx"),
        ("issue127.ods", "OpenDocument spreadsheet named .xlsx"),
        ("pass_protected.xlsx", "encrypted (password-protected)"),
    ] {
        let Ok(bytes) = std::fs::read(corpus.join(name)) else {
            continue;
        };
        let renamed = write(dir.path(), "renamed.xlsx", &bytes);
        refused(&fill(&renamed, &[]), "renamed.xlsx", &[message]);
    }
}

#[cfg(unix)]
#[test]
fn a_fifo_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.csv");
    crate::mkfifo(&fifo);
    refused(&fill(&fifo, &[]), "pipe.csv", &["is not a regular file"]);
}

#[test]
fn the_output_name_must_say_what_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("q.xlsx");
    build(&xlsx, CAIQ_LIKE);
    let out = dir.path().join("out.csv");
    refused(
        &fill(&xlsx, &["-o", out.to_str().unwrap()]),
        "out.csv",
        &["onrecord writes an xlsx workbook for this questionnaire; name the output .xlsx"],
    );
    assert!(!out.exists());
    let csv = write(
        dir.path(),
        "q.csv",
        b"id,question\nQ1,Do you encrypt customer data at rest?\n",
    );
    let out = dir.path().join("out.xlsx");
    refused(
        &fill(&csv, &["-o", out.to_str().unwrap()]),
        "out.xlsx",
        &["writes csv text for this questionnaire; name the output .csv"],
    );
    let out = dir.path().join("OUT.CSV");
    let run = fill(&csv, &["-o", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}
