//! Reading delimited files and refusing what cannot be read, with the file named.

use std::path::{Path, PathBuf};

use onrecord::limits::Limits;
use onrecord::questionnaire::{Overrides, detect, read};

/// A scratch file unique to this test process; removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> TempFile {
        let dir = std::env::temp_dir().join(format!("qread-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("temp file");
        TempFile(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn plain_csv_is_one_grid_named_after_the_file() {
    let file = TempFile::new(
        "vendor-review.csv",
        b"ID,Question,Answer,Comments\n\
          1,Do you encrypt data at rest?,Yes,AES-256\n\
          2,\"Do you support SSO, SAML or OIDC?\",,\n\
          3,Describe your backup schedule.,,\n",
    );
    let grids = read(file.path(), &Limits::default()).expect("readable");
    assert_eq!(grids.len(), 1);
    let g = &grids[0];
    assert_eq!((g.name.as_str(), g.hidden), ("vendor-review", false));
    assert_eq!(g.rows[2][1], "Do you support SSO, SAML or OIDC?");
    let layout = detect(g, &[], &Overrides::default()).expect("a questionnaire");
    assert_eq!(
        (layout.question_col, layout.answer_col, layout.comment_col),
        (1, Some(2), Some(3))
    );
    assert_eq!(layout.questions.len(), 3);
    assert_eq!(layout.questions[0].comment, "AES-256");
}

#[test]
fn semicolon_csv_with_bom_and_tsv() {
    let semi = TempFile::new(
        "semi.csv",
        "\u{feff}Frage;Antwort\nVerschlüsseln Sie Daten, auch Backups?;Ja\n".as_bytes(),
    );
    let grids = read(semi.path(), &Limits::default()).expect("readable");
    assert_eq!(grids[0].rows[0], ["Frage", "Antwort"]);
    assert_eq!(
        grids[0].rows[1][0],
        "Verschlüsseln Sie Daten, auch Backups?"
    );

    let tsv = TempFile::new(
        "q.tsv",
        b"Question\tAnswer\nDo you log access, reads too?\tYes\n",
    );
    let grids = read(tsv.path(), &Limits::default()).expect("readable");
    assert_eq!(grids[0].rows[1], ["Do you log access, reads too?", "Yes"]);
}

#[test]
fn windows_1252_and_utf16_text_decode() {
    // Excel on Windows: cp1252 "CSV" and UTF-16 "Unicode text".
    let cp1252 = TempFile::new("legacy.csv", b"Question\n\x93Quoted\x94 caf\xe9 \x80?\n");
    assert_eq!(
        read(cp1252.path(), &Limits::default()).expect("readable")[0].rows[1][0],
        "“Quoted” café €?"
    );

    let mut utf16 = vec![0xFF, 0xFE];
    for unit in "Question\tAnswer\nÉtes-vous certifié?\tOui\n".encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    let file = TempFile::new("unicode.txt", &utf16);
    let grids = read(file.path(), &Limits::default()).expect("readable");
    assert_eq!(grids[0].rows[1], ["Étes-vous certifié?", "Oui"]);
}

#[test]
fn errors_name_the_file_and_say_why() {
    let missing = Path::new("/nonexistent/questionnaire.xlsx");
    let err = read(missing, &Limits::default())
        .expect_err("missing file")
        .to_string();
    assert!(
        err.starts_with("could not read `/nonexistent/questionnaire.xlsx`: "),
        "{err}"
    );

    let empty = TempFile::new("empty.xlsx", b"");
    let err = read(empty.path(), &Limits::default())
        .expect_err("empty")
        .to_string();
    assert!(err.contains("empty.xlsx") && err.contains("empty"), "{err}");

    let fake = TempFile::new("fake.xlsx", b"<html><body>not a workbook</body></html>");
    let err = read(fake.path(), &Limits::default())
        .expect_err("not a workbook")
        .to_string();
    assert!(
        err.contains("fake.xlsx") && err.contains("not a .xlsx workbook"),
        "{err}"
    );

    let pdf = TempFile::new("q.pdf", b"%PDF-1.7");
    let err = read(pdf.path(), &Limits::default())
        .expect_err("unsupported")
        .to_string();
    assert!(
        err.contains("q.pdf") && err.contains("unsupported file type"),
        "{err}"
    );

    let broken_zip = TempFile::new("broken.xlsx", b"PK\x03\x04garbage");
    let err = read(broken_zip.path(), &Limits::default())
        .expect_err("broken zip")
        .to_string();
    assert!(err.contains("broken.xlsx"), "{err}");

    // An OLE2 file is an encrypted package only when it holds an `EncryptedPackage` stream.
    let mut locked = vec![0u8; 640];
    locked[..8].copy_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    let name: Vec<u8> = "EncryptedPackage"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    locked[512..512 + name.len()].copy_from_slice(&name);
    locked[576] = name.len() as u8 + 2;
    locked[578] = 2;
    let ole_xlsx = TempFile::new("locked.xlsx", &locked);
    let err = read(ole_xlsx.path(), &Limits::default())
        .expect_err("encrypted")
        .to_string();
    assert!(
        err.contains("locked.xlsx") && err.contains("password"),
        "{err}"
    );
    let truncated = TempFile::new(
        "truncated.xlsx",
        &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0],
    );
    let err = read(truncated.path(), &Limits::default())
        .expect_err("no workbook")
        .to_string();
    assert!(
        err.contains("truncated.xlsx") && err.contains("holding no workbook"),
        "{err}"
    );
}

/// Issue 15, case 14: LibreOffice converting an xlsx to xls stores a number, not the text, as
/// the result of formulas like `VLOOKUP(...)&""`; the question texts are not in the file, and
/// the error says so and what to do.
#[test]
fn xls_formulas_without_stored_text_are_named_in_the_error() {
    let path = crate::repo().join("fixtures/questionnaires/lookup-libreoffice.xls");
    let grids = read(&path, &Limits::default()).expect("readable");
    let questions = grids.iter().find(|g| g.name == "Questions").unwrap();
    assert_eq!(questions.formulas_without_text, 6);
    assert_eq!(questions.cell(1, 0), "Q-01");
    let err = onrecord::fill::Input::open(&path, &Overrides::default(), &Limits::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("6 formula cells make text but the file stores no text")
            && err.contains("Recalculate Hard"),
        "{err}"
    );
}
