//! Questionnaire workbooks in the layouts customers send, built from readable tables, and the
//! one `check` that fills such a workbook and compares every cell of the output with the input.
//!
//! A table is text, one line a row, cells separated by ` | `:
//!
//! - `## 2. Data protection`: a section banner, merged across the table's columns;
//! - `=> Yes IAM-02` as the last cell of a row: what filling must write at that position (the
//!   answer cell) and after it (the explanation, which must cite `[IAM-02`); `=> -` for a
//!   question not on the record (empty answer, `Not on the record.`). It is not written into
//!   the input;
//! - any other line is written as it stands (a title, an instruction, a header, a blank row).
//!
//! The question text is our own, written against the example record (Payvane).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use calamine::{Data, Reader, open_workbook_auto};
use onrecord::limits::Limits;
use onrecord::workbook::xlsx::inspect;
use rust_xlsxwriter::{DataValidation, Format, Workbook};

use crate::{onrecord, repo};

/// One tab of a workbook.
pub struct Tab {
    pub name: &'static str,
    pub hidden: bool,
    /// The answer column's dropdown, applied from the first expectation row down 40 rows.
    pub dropdown: Dropdown,
    pub table: &'static str,
}

impl Tab {
    pub const fn shown(name: &'static str, dropdown: Dropdown, table: &'static str) -> Tab {
        Tab {
            name,
            hidden: false,
            dropdown,
            table,
        }
    }

    /// A hidden tab without a dropdown, such as the one holding a dropdown's choices.
    pub const fn hidden(name: &'static str, table: &'static str) -> Tab {
        Tab {
            name,
            hidden: true,
            dropdown: Dropdown::None,
            table,
        }
    }
}

pub enum Dropdown {
    None,
    /// `=Lists!$A$1:$A$3`: the choices sit on another (usually hidden) tab.
    Formula(&'static str),
    /// The choices typed into the validation itself.
    Inline(&'static [&'static str]),
}

/// What one question row must receive.
#[derive(Debug)]
pub struct Expect {
    pub sheet: &'static str,
    /// 0-based.
    pub row: u32,
    pub answer_col: u16,
    /// The answer cell's text; empty for not on the record.
    pub answer: &'static str,
    /// The control the explanation must cite; `None` for not on the record.
    pub cites: Option<&'static str>,
}

/// A SIG-like workbook: an instructions tab, three question tabs with a Yes/No/N/A dropdown
/// (two fed from the hidden `Lists` tab, one typed inline), the header under a title block.
pub const SIG_LIKE: &[Tab] = &[
    Tab::shown(
        "Instructions",
        Dropdown::None,
        "
Standardized Information Gathering: Lite
Respond to every question on each tab; choose Yes, No or N/A from the dropdown.
Use Additional Information to explain a No or an N/A.
Do not rename, add or delete tabs.",
    ),
    Tab::shown(
        "Access Control",
        Dropdown::Formula("=Lists!$A$1:$A$3"),
        "
Access Control
Answer each question; use Additional Information for context.

Ques Num | Question/Request | Response | Additional Information
H.1 | Must employees use multi-factor authentication to sign in to company systems? | => Yes IAM-02
H.2 | Can a customer restrict logins to a list of allowed IP addresses? | => No IAM-13
H.3 | Are user access rights reviewed every quarter? | => Yes IAM-04
H.4 | Are palm vein scanners used at every office entrance? | => -",
    ),
    Tab::shown(
        "Business Resiliency",
        Dropdown::Formula("=Lists!$A$1:$A$3"),
        "
Business Resiliency
Answer each question; use Additional Information for context.

Ques Num | Question/Request | Response | Additional Information
K.1 | Is there a documented business continuity plan? | => Yes BCM-01
K.2 | Is production operated active-active across multiple regions? | => No BCM-07
K.3 | Are backups encrypted? | => Yes BCM-04
K.4 | Is a diesel generator kept on site with a week of fuel? | => -",
    ),
    Tab::shown(
        "Privacy",
        Dropdown::Inline(&["Yes", "No", "N/A"]),
        "
Privacy
Answer each question; use Additional Information for context.

Ques Num | Question/Request | Response | Additional Information
P.1 | Do you sell customers' personal data to third parties? | => No PRV-09
P.2 | Do you sign a data processing agreement with each customer? | => Yes PRV-01
P.3 | Do you process protected health information under HIPAA? | => No PRV-11
P.4 | Are you certified under the APEC Cross-Border Privacy Rules? | => -",
    ),
    Tab::hidden(
        "Lists",
        "
Yes
No
N/A",
    ),
];

/// One question tab whose groups of questions sit under section banners merged across A:D.
pub const MERGED_SECTIONS: &[Tab] = &[Tab::shown(
    "Security Review",
    Dropdown::Inline(&["Yes", "No", "N/A"]),
    "
# | Question | Response | Comments
## 1. Access management
1.1 | Is a customer grant required before support staff can view that customer's documents? | => Yes IAM-11
1.2 | Do you run a paid bug bounty program? | => No ASR-04
## 2. Data protection
2.1 | Can customers bring their own encryption keys? | => No ENC-05
2.2 | Are supplier bank details encrypted at the application level? | => Yes ENC-06
2.3 | Is the service listed on the UK G-Cloud framework? | => -
## 3. Incident response
3.1 | Do you have an incident response plan that is tested? | => Yes LOG-06
3.2 | Do you operate an in-house security operations center staffed 24/7? | => No LOG-04",
)];

/// A CAIQ-like workbook: a title block, the header on row 6, a YES/NO/N/A dropdown fed from a
/// hidden sheet, a section row, one row already answered (left as it is).
pub const CAIQ_LIKE: &[Tab] = &[
    Tab::shown(
        "Questionnaire",
        Dropdown::Formula("=Lists!$A$1:$A$3"),
        "
Vendor Security Assessment
Answer every question; add notes where helpful.



Question ID | Question | Answer | Notes
1.0 | Identity and access
1.1 | Is multi-factor authentication enforced for all workforce accounts? | => YES IAM-
1.2 | Is any customer data stored unencrypted? | => NO ENC-01
1.3 | Do you hold FedRAMP High authorization? | => -
1.4 | Do you perform penetration tests? If so, how often? | YES",
    ),
    Tab::hidden(
        "Lists",
        "
YES
NO
N/A",
    ),
];

const EXPECT: &str = "=> ";
const SECTION: &str = "## ";

fn rows(tab: &Tab) -> impl Iterator<Item = (u32, &'static str)> {
    let table: &'static str = tab.table.strip_prefix('\n').unwrap_or(tab.table);
    table.lines().enumerate().map(|(i, line)| (i as u32, line))
}

fn width(tab: &Tab) -> u16 {
    rows(tab)
        .map(|(_, line)| line.split(" | ").filter(|c| !c.starts_with(EXPECT)).count())
        .max()
        .unwrap_or(1) as u16
}

/// What filling `tabs` must write, in sheet and row order.
pub fn expectations(tabs: &[Tab]) -> Vec<Expect> {
    let mut out = Vec::new();
    for tab in tabs {
        for (row, line) in rows(tab) {
            let cells: Vec<&'static str> = line.split(" | ").collect();
            let Some(want) = cells.last().and_then(|c| c.strip_prefix(EXPECT)) else {
                continue;
            };
            let (answer, cites) = match want.split_once(' ') {
                Some((answer, id)) => (answer, Some(id)),
                None if want == "-" => ("", None),
                None => panic!("{}: bad expectation `{want}`", tab.name),
            };
            out.push(Expect {
                sheet: tab.name,
                row,
                answer_col: (cells.len() - 1) as u16,
                answer,
                cites,
            });
        }
    }
    out
}

/// Writes `tabs` as an xlsx at `path`.
pub fn build(path: &Path, tabs: &[Tab]) {
    let mut workbook = Workbook::new();
    let banner = Format::new().set_bold();
    for tab in tabs {
        let sheet = workbook.add_worksheet().set_name(tab.name).unwrap();
        for (row, line) in rows(tab) {
            if let Some(title) = line.strip_prefix(SECTION) {
                sheet
                    .merge_range(row, 0, row, width(tab) - 1, title, &banner)
                    .unwrap();
                continue;
            }
            for (col, text) in line.split(" | ").enumerate() {
                if !text.is_empty() && !text.starts_with(EXPECT) {
                    sheet.write_string(row, col as u16, text).unwrap();
                }
            }
        }
        let first = expectations(std::slice::from_ref(tab)).into_iter().next();
        let dropdown = match &tab.dropdown {
            Dropdown::None => None,
            Dropdown::Formula(f) => Some(DataValidation::new().allow_list_formula((*f).into())),
            Dropdown::Inline(choices) => {
                Some(DataValidation::new().allow_list_strings(choices).unwrap())
            }
        };
        if let (Some(first), Some(dropdown)) = (first, dropdown) {
            let col = first.answer_col;
            sheet
                .add_data_validation(first.row, col, first.row + 40, col, &dropdown)
                .unwrap();
        }
        sheet.set_column_width(1, 60).unwrap();
        sheet.set_hidden(tab.hidden);
    }
    workbook.save(path).unwrap();
}

/// Every sheet's cells as text, `(sheet, row, col) → text`, empty cells left out.
pub fn cells(path: &Path) -> BTreeMap<(String, u32, u32), String> {
    let mut workbook = open_workbook_auto(path).unwrap();
    let mut out = BTreeMap::new();
    for name in workbook.sheet_names() {
        let range = workbook.worksheet_range(&name).unwrap();
        for (row, col, value) in range.used_cells() {
            if !matches!(value, Data::Empty) {
                let (start_row, start_col) = range.start().unwrap_or((0, 0));
                let at = (name.clone(), start_row + row as u32, start_col + col as u32);
                out.insert(at, value.to_string());
            }
        }
    }
    out
}

/// The text of one cell, empty when the cell is empty.
pub fn cell(path: &Path, sheet: &str, row: u32, col: u32) -> String {
    let mut workbook = open_workbook_auto(path).unwrap();
    let range = workbook.worksheet_range(sheet).unwrap();
    match range.get_value((row, col)) {
        Some(Data::Empty) | None => String::new(),
        Some(value) => value.to_string(),
    }
}

/// Merged ranges per sheet, as calamine reads them.
pub fn merges(path: &Path) -> Vec<(String, Vec<calamine::Dimensions>)> {
    let mut workbook = calamine::open_workbook::<calamine::Xlsx<_>, _>(path).unwrap();
    workbook
        .sheet_names()
        .into_iter()
        .map(|name| {
            let merged = workbook
                .merge_cells_by_sheet_name(&name)
                .unwrap_or_default();
            (name, merged)
        })
        .collect()
}

/// A workbook [`check`] filled, with what the run reported.
pub struct Checked {
    pub input: PathBuf,
    pub output: PathBuf,
    /// The `--report` JSON.
    pub report: serde_json::Value,
    pub stderr: String,
}

/// Builds `tabs`, fills the workbook with the example record, and checks the output cell by
/// cell: the expected answers and citations on question rows, every other cell (titles,
/// instructions, headers, section banners, hidden lists) as it was; sheets, visibility,
/// dropdowns and merges unchanged; all question rows found, nothing else. Files go in `dir`.
pub fn check(dir: &Path, name: &str, tabs: &[Tab]) -> Checked {
    let input = dir.join(format!("{name}.xlsx"));
    let output = dir.join(format!("{name}.answered.xlsx"));
    let report = dir.join(format!("{name}.json"));
    build(&input, tabs);
    let before = std::fs::read(&input).unwrap();
    let run = onrecord(
        &repo(),
        &[
            "fill",
            input.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{name}: {}", run.stderr);
    assert!(
        std::fs::read(&input).unwrap() == before,
        "{name}: the input changed"
    );

    let expect = expectations(tabs);
    let (old, mut new) = (cells(&input), cells(&output));
    let mut problems = Vec::new();
    for e in &expect {
        let at = |col: u16| (e.sheet.to_owned(), e.row, u32::from(col));
        let answer = new.remove(&at(e.answer_col)).unwrap_or_default();
        let explanation = new.remove(&at(e.answer_col + 1)).unwrap_or_default();
        let ok = answer == e.answer
            && match e.cites {
                Some(id) => explanation.contains(&format!("[{id}")),
                None => explanation == "Not on the record.",
            };
        if !ok {
            problems.push(format!(
                "{} row {}: want {:?} citing {:?}, got {answer:?} / {explanation:?}",
                e.sheet,
                e.row + 1,
                e.answer,
                e.cites
            ));
        }
    }
    assert!(problems.is_empty(), "{name}:\n{}", problems.join("\n"));
    assert_eq!(old, new, "{name}: cells other than the answers changed");

    assert_eq!(
        inspect(&output, &Limits::default()).unwrap(),
        inspect(&input, &Limits::default()).unwrap(),
        "{name}: sheets"
    );
    for (info, tab) in inspect(&output, &Limits::default())
        .unwrap()
        .iter()
        .zip(tabs)
    {
        assert_eq!((info.name.as_str(), info.hidden), (tab.name, tab.hidden));
        let dropdowns = !matches!(tab.dropdown, Dropdown::None);
        assert_eq!(
            !info.validations.is_empty(),
            dropdowns,
            "{name}: {}",
            tab.name
        );
    }
    assert_eq!(merges(&output), merges(&input), "{name}: merges");

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let questions = report["summary"]["questions"].as_u64().unwrap() as usize;
    assert_eq!(
        questions,
        expect.len(),
        "{name}: questions found: {}",
        run.stderr
    );
    Checked {
        input,
        output,
        report,
        stderr: run.stderr,
    }
}
