//! The record: control statements (`knowledge/**/*.toml`), the control matrix
//! (`mappings/controls.csv`), CUEC rows (`mappings/cuec.csv`) and extra catalogs
//! (`mappings/frameworks/KEY.csv`), the questions people decided are not on the record
//! (`not-on-record.toml`, written by `learn`) and the company profile (`profile.toml`),
//! loaded into plain types.
//!
//! Loading never stops at the first bad line: every problem becomes a [`Diagnostic`] and the
//! valid parts are kept, so `check` reports everything in one run. Only an unreadable record
//! (no `knowledge/` directory, an I/O error) is an `Err`.
//!
//! Every record file is read through one function, [`Reader::read`], within [`Limits`]: it must
//! be a regular file (never a FIFO, which would block, nor a device, which never ends), of at
//! most `record_file_bytes`, and all files together at most `record_bytes`. A file that breaks
//! these, or is not UTF-8, is a diagnostic, not an `Err`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::catalog::{self, Catalog, Entry};
use crate::diag::{Diagnostic, Lines, Severity, Suggester, did_you_mean};
use crate::limits::Limits;

pub const KNOWLEDGE_DIR: &str = "knowledge";
pub const CONTROLS_CSV: &str = "mappings/controls.csv";
pub const CUEC_CSV: &str = "mappings/cuec.csv";
pub const FRAMEWORKS_DIR: &str = "mappings/frameworks";
/// A record's own thesaurus, at the record root.
pub const THESAURUS_TXT: &str = "thesaurus.txt";
/// The questions people decided the record does not answer, at the record root.
pub const NOT_ON_RECORD_TOML: &str = "not-on-record.toml";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Answer {
    #[serde(rename = "yes")]
    Yes,
    #[serde(rename = "no")]
    No,
    #[serde(rename = "partial")]
    Partial,
    #[serde(rename = "n/a")]
    NotApplicable,
}

impl Answer {
    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Yes => "yes",
            Answer::No => "no",
            Answer::Partial => "partial",
            Answer::NotApplicable => "n/a",
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = self.ymd();
        write!(f, "{year:04}-{month:02}-{day:02}")
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Owner {
    #[default]
    Company,
    Provider,
    Customer,
    Shared,
}

/// Who may read a control or field on a published trust page (`publish`): everyone
/// (`public`, the default), customers under NDA (`nda`), or only the company (`internal`,
/// never published). Ordered from the widest audience to the narrowest.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    #[default]
    Public,
    Nda,
    Internal,
}

pub const VISIBILITIES: [Visibility; 3] =
    [Visibility::Public, Visibility::Nda, Visibility::Internal];

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Nda => "nda",
            Visibility::Internal => "internal",
        }
    }

    /// The visibility named `word`, if any.
    pub fn parse(word: &str) -> Option<Visibility> {
        VISIBILITIES.into_iter().find(|v| v.as_str() == word)
    }
}

/// A calendar date as days since 1970-01-01, so ages are a subtraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub i64);

impl Date {
    pub fn from_ymd(year: i64, month: u32, day: u32) -> Option<Date> {
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return None;
        }
        // Days from civil (Howard Hinnant's algorithm).
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some(Date(era * 146_097 + doe - 719_468))
    }

    /// (year, month, day) of the date.
    pub fn ymd(self) -> (i64, u32, u32) {
        // Civil from days (Howard Hinnant's algorithm).
        let z = self.0 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        (year, month, day)
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<Date> {
        let mut parts = text.trim().splitn(3, '-');
        let year = parts.next()?.parse().ok()?;
        let month = parts.next()?.parse().ok()?;
        let day = parts.next()?.parse().ok()?;
        Date::from_ymd(year, month, day)
    }

    pub fn today() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Date((secs / 86_400) as i64)
    }
}

/// One way customers ask a control; `answer` is set when it asks the opposite of the title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phrasing {
    pub text: String,
    pub answer: Option<Answer>,
    /// Set when a person decided this question in a review (`learn`): it answers this very
    /// question (the same after [`question_key`]) and is no evidence for others.
    pub learned: Option<Date>,
    pub line: usize,
}

/// A question a person decided the record does not answer (`not-on-record.toml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownGap {
    pub text: String,
    /// The control the engine proposed for it, when it proposed one.
    pub mistaken_for: Option<String>,
    pub decided: Option<Date>,
    pub line: usize,
}

/// Words that change nothing a question asks.
const FILLER: &[&str] = &["please", "kindly", "currently", "the", "a", "an"];

/// What makes two questions the same question: compared without case, punctuation, spacing,
/// a leading number ("1.2", "3)") or filler words ("please", "the").
pub fn question_key(text: &str) -> String {
    let lowered: String = text
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    lowered
        .split_whitespace()
        .skip_while(|w| w.chars().all(|c| c.is_ascii_digit()))
        .filter(|w| !FILLER.contains(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where something was defined, for diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub path: String,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct Control {
    pub id: String,
    pub title: String,
    pub answer: Answer,
    pub statement: String,
    pub owner: Owner,
    pub providers: Vec<String>,
    pub area: Option<String>,
    pub evidence: Vec<String>,
    pub reviewed: Option<Date>,
    pub questions: Vec<Phrasing>,
    pub keywords: Vec<String>,
    /// Who may read it on a published page; `public` unless the control says otherwise.
    pub visibility: Visibility,
    pub source: Source,
    pub reviewed_line: Option<usize>,
}

/// A control's row in `controls.csv`: framework key → referenced ids, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    pub refs: BTreeMap<String, Vec<String>>,
    pub line: usize,
}

impl Mapping {
    pub fn get(&self, key: &str) -> &[String] {
        self.refs.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn is_empty(&self) -> bool {
        self.refs.values().all(Vec::is_empty)
    }
}

#[derive(Debug, Clone)]
pub struct Record {
    pub root: PathBuf,
    /// Sorted by knowledge file path, then position in the file.
    pub controls: Vec<Control>,
    /// Control id → its row in `controls.csv`.
    pub mappings: BTreeMap<String, Mapping>,
    /// `soc2`, `iso27001`, `cuec`, then the record's own catalogs by key.
    pub catalogs: Vec<Catalog>,
    /// Every CUEC id named in `controls.csv`, also on rows whose control failed to load.
    pub cuecs_mentioned: BTreeSet<String>,
    /// Raw text of every file read, for fingerprinting the index.
    pub files: Vec<(String, String)>,
    /// The text of `thesaurus.txt`, when the record has one (fingerprinted on its own).
    pub thesaurus: Option<String>,
    /// The questions of `not-on-record.toml`: not indexed, so deciding one never rebuilds
    /// the index.
    pub known_gaps: Vec<KnownGap>,
    /// `profile.toml`: the facts forms ask for (empty when the record has none).
    pub profile: crate::profile::Profile,
    /// `providers.toml`: providers and subprocessors (empty when the record has none).
    pub providers: Vec<crate::providers::Provider>,
}

impl Control {
    /// The phrasings that count as words of the control (BM25, the judge's phrasing signal):
    /// the authored ones. A learned phrasing answers the question it was learned from and no
    /// other: as words, and then by meaning with the fine-tuned model, it made unseen
    /// questions worse (docs/learn.md has the measurements).
    pub fn authored_questions(&self) -> impl Iterator<Item = &Phrasing> {
        self.questions.iter().filter(|q| q.learned.is_none())
    }
}

/// A question the record decides: a phrasing of a control (authored or learned), or a
/// question people decided is not on the record.
#[derive(Debug, Clone, Copy)]
pub enum Stated<'a> {
    Phrasing(&'a Control, &'a Phrasing),
    Gap(&'a KnownGap),
}

impl Stated<'_> {
    pub fn text(&self) -> &str {
        match self {
            Stated::Phrasing(_, p) => &p.text,
            Stated::Gap(g) => &g.text,
        }
    }

    /// `path:line` of the entry.
    pub fn place(&self) -> String {
        match self {
            Stated::Phrasing(c, p) => format!("{}:{}", c.source.path, p.line),
            Stated::Gap(g) => format!("{NOT_ON_RECORD_TOML}:{}", g.line),
        }
    }
}

impl Record {
    /// Every question the record decides, with its [`question_key`]: the controls'
    /// phrasings in record order, then the known gaps in file order.
    pub fn stated_questions(&self) -> impl Iterator<Item = (String, Stated<'_>)> {
        let phrasings = self
            .controls
            .iter()
            .flat_map(|c| c.questions.iter().map(move |p| Stated::Phrasing(c, p)));
        phrasings
            .chain(self.known_gaps.iter().map(Stated::Gap))
            .map(|stated| (question_key(stated.text()), stated))
    }

    pub fn control(&self, id: &str) -> Option<&Control> {
        self.controls.iter().find(|c| c.id == id)
    }

    pub fn catalog(&self, key: &str) -> Option<&Catalog> {
        self.catalogs.iter().find(|c| c.key == key)
    }

    pub fn mapping(&self, id: &str) -> Option<&Mapping> {
        self.mappings.get(id)
    }
}

/// A loaded record and every problem found while loading it.
pub struct Loaded {
    pub record: Record,
    pub diagnostics: Vec<Diagnostic>,
}

/// What to do when there is no record: shown with every "not a record" error.
pub const MAKE_ONE: &str =
    "pass --record DIR naming a record, or create a starter record with `onrecord init DIR`";

/// The record that holds `cwd`, found the way git finds a repository: the nearest of `cwd`
/// and the directories above it that has a `knowledge/` directory. Relative to `cwd` (`.`,
/// `..`, `../..`), so paths shown under it can be opened from where the command was run.
pub fn discover(cwd: &Path) -> Option<PathBuf> {
    cwd.ancestors()
        .position(|dir| dir.join(KNOWLEDGE_DIR).is_dir())
        .map(|up| match up {
            0 => PathBuf::from("."),
            _ => std::iter::repeat_n("..", up).collect(),
        })
}

/// [`load`], refusing a record with errors: answers and pages come only from a record that
/// passes `check`.
pub fn load_passing(root: &Path, limits: &Limits) -> Result<Loaded> {
    let loaded = load(root, limits)?;
    let errors = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == crate::diag::Severity::Error)
        .count();
    if errors > 0 {
        anyhow::bail!(
            "the record at `{}` has {errors} error(s); run `onrecord check` and fix them",
            root.display()
        );
    }
    Ok(loaded)
}

/// Loads the record at `root`, reading its files within `limits`. Problems in the files are
/// diagnostics; only an unreadable record is an error.
pub fn load(root: &Path, limits: &Limits) -> Result<Loaded> {
    let knowledge = root.join(KNOWLEDGE_DIR);
    if !knowledge.is_dir() {
        bail!(
            "`{}` is not a record: it has no `{KNOWLEDGE_DIR}/` directory; {MAKE_ONE}",
            root.display()
        );
    }
    let mut reader = Reader {
        root,
        limits,
        total: 0,
    };
    let mut diagnostics = Vec::new();
    let mut files = Vec::new();
    let mut controls = Vec::new();
    for path in toml_files(root, &knowledge, &mut diagnostics)? {
        let rel = relative(root, &path);
        if let Some(text) = reader.read(&rel, &mut diagnostics)? {
            controls.extend(parse_knowledge(&rel, &text, &mut diagnostics));
            files.push((rel, text));
        }
    }
    check_control_ids(&controls, &mut diagnostics);
    if controls.is_empty() && diagnostics.is_empty() {
        diagnostics.push(
            Diagnostic::error(KNOWLEDGE_DIR, 0, "no controls found").with_hint(Some(
                "add `[[control]]` tables to `knowledge/*.toml`".into(),
            )),
        );
    }

    let mut catalogs = vec![catalog::soc2(), catalog::iso27001()];
    catalogs.push(load_cuec(&mut reader, &mut files, &mut diagnostics)?);
    catalogs.extend(load_extra_catalogs(
        &mut reader,
        &mut files,
        &mut diagnostics,
    )?);

    let (mappings, cuecs_mentioned) = load_mappings(
        &mut reader,
        &controls,
        &catalogs,
        &mut files,
        &mut diagnostics,
    )?;
    // Not among `files`: the index fingerprints the thesaurus on its own.
    let thesaurus = match present(root, THESAURUS_TXT) {
        true => reader.read(THESAURUS_TXT, &mut diagnostics)?,
        false => None,
    };
    let known_gaps = match present(root, NOT_ON_RECORD_TOML) {
        true => match reader.read(NOT_ON_RECORD_TOML, &mut diagnostics)? {
            Some(text) => parse_known_gaps(&text, &mut diagnostics),
            None => Vec::new(),
        },
        false => Vec::new(),
    };
    let profile = match present(root, crate::profile::PROFILE_TOML) {
        true => match reader.read(crate::profile::PROFILE_TOML, &mut diagnostics)? {
            Some(text) => crate::profile::parse(&text, &mut diagnostics),
            None => Default::default(),
        },
        false => Default::default(),
    };
    // Not among `files` either: who operates what is for `publish`, not for answering.
    let providers = match present(root, crate::providers::PROVIDERS_TOML) {
        true => {
            let providers = match reader.read(crate::providers::PROVIDERS_TOML, &mut diagnostics)? {
                Some(text) => crate::providers::parse(&text, &mut diagnostics),
                None => Vec::new(),
            };
            // A file that did not parse lists nobody: its error is enough.
            if !providers.is_empty() {
                crate::providers::check_names(&controls, &providers, &mut diagnostics);
            }
            providers
        }
        false => Vec::new(),
    };
    Ok(Loaded {
        record: Record {
            root: root.to_path_buf(),
            controls,
            mappings,
            catalogs,
            cuecs_mentioned,
            files,
            thesaurus,
            known_gaps,
            profile,
            providers,
        },
        diagnostics,
    })
}

/// Reads record files within the limits, keeping the running total of their sizes.
struct Reader<'a> {
    root: &'a Path,
    limits: &'a Limits,
    total: u64,
}

impl Reader<'_> {
    /// The text of the record file at `rel` (relative to the root), or `None`, with a
    /// diagnostic, when it is not a regular file or is over a size limit. Text that is not
    /// UTF-8 is reported at its first bad byte and read on with that byte replaced, so the
    /// rest of the file is still checked. Only an I/O error is an `Err`.
    fn read(&mut self, rel: &str, diagnostics: &mut Vec<Diagnostic>) -> Result<Option<String>> {
        let path = self.root.join(rel);
        let context = || format!("could not read `{}`", path.display());
        // Looked at before opening (following links): opening a FIFO blocks until something
        // writes to it, and a device such as /dev/zero never ends.
        let metadata = match std::fs::metadata(&path) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound && path.is_symlink() => {
                diagnostics.push(
                    Diagnostic::error(rel, 0, "is a link to a file that does not exist")
                        .with_hint(Some("remove the link or point it at a regular file".into())),
                );
                return Ok(None);
            }
            found => found.with_context(context)?,
        };
        if !metadata.is_file() {
            diagnostics.push(not_regular(rel, &metadata));
            return Ok(None);
        }
        let limit = self.limits.record_file_bytes;
        if let Err(exceeded) = self.limits.check("record_file_bytes", metadata.len()) {
            diagnostics.push(too_big(rel, metadata.len(), &exceeded));
            return Ok(None);
        }
        let file = std::fs::File::open(&path).with_context(context)?;
        // Swapped for something else since it was looked at: read nothing from it.
        let opened = file.metadata().with_context(context)?;
        if !opened.is_file() {
            diagnostics.push(not_regular(rel, &opened));
            return Ok(None);
        }
        let mut bytes = Vec::new();
        file.take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .with_context(context)?;
        let size = bytes.len() as u64;
        if let Err(exceeded) = self.limits.check("record_file_bytes", size) {
            // It grew while being read: `size` is only how far the reading went.
            diagnostics.push(too_big(rel, size, &exceeded));
            return Ok(None);
        }
        let total = self.total.saturating_add(size);
        if let Err(exceeded) = self.limits.check("record_bytes", total) {
            diagnostics.push(
                Diagnostic::error(
                    rel,
                    0,
                    format!(
                        "brings the record's files to {total} bytes, over the limit {} ({}); the file was not read",
                        exceeded.name, exceeded.limit
                    ),
                )
                .with_hint(Some(format!(
                    "make the record smaller, or raise the limit with --limit {}=N",
                    exceeded.name
                ))),
            );
            return Ok(None);
        }
        self.total = total;
        Ok(Some(decode(rel, bytes, diagnostics)))
    }
}

fn not_regular(rel: &str, metadata: &std::fs::Metadata) -> Diagnostic {
    Diagnostic::error(
        rel,
        0,
        format!("is not a regular file ({})", file_kind(metadata)),
    )
    .with_hint(Some("remove it or replace it with a regular file".into()))
}

fn too_big(rel: &str, size: u64, exceeded: &crate::limits::Exceeded) -> Diagnostic {
    Diagnostic::error(
        rel,
        0,
        format!(
            "is {size} bytes, over the limit {} ({})",
            exceeded.name, exceeded.limit
        ),
    )
    .with_hint(Some(format!(
        "split the file, or raise the limit with --limit {}=N",
        exceeded.name
    )))
}

/// What a file that is not a regular file is, in words.
fn file_kind(metadata: &std::fs::Metadata) -> &'static str {
    let kind = metadata.file_type();
    if kind.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    "a device or other special file"
}

/// The bytes as text. Bytes that are not UTF-8 are reported once, at the first one, with its
/// 1-based line and column (in characters), and replaced by U+FFFD.
fn decode(rel: &str, bytes: Vec<u8>, diagnostics: &mut Vec<Diagnostic>) -> String {
    let bytes = match String::from_utf8(bytes) {
        Ok(text) => return text,
        Err(err) => err.into_bytes(),
    };
    let valid = match std::str::from_utf8(&bytes) {
        Ok(_) => bytes.len(),
        Err(err) => err.valid_up_to(),
    };
    let before = &bytes[..valid];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    let byte = bytes.get(valid).copied().unwrap_or_default();
    diagnostics.push(
        Diagnostic::error(
            rel,
            line,
            format!("not valid UTF-8 (byte 0x{byte:02X} at line {line}, column {column})"),
        )
        .with_hint(Some("save the file as UTF-8".into())),
    );
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Whether anything, even a broken one, is at `rel`: a link to nothing counts as absent.
fn present(root: &Path, rel: &str) -> bool {
    !matches!(
        std::fs::metadata(root.join(rel)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound
    )
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Every `*.toml` below `dir`, sorted, skipping hidden entries. A folder reached again through
/// a link (a link to a folder above it would otherwise be followed until the path is too long)
/// is read once, and the link reported.
fn toml_files(root: &Path, dir: &Path, diagnostics: &mut Vec<Diagnostic>) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut visited = BTreeSet::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let listing = || format!("could not list `{}`", dir.display());
        if !visited.insert(std::fs::canonicalize(&dir).with_context(listing)?) {
            diagnostics.push(
                Diagnostic::warning(
                    &relative(root, &dir),
                    0,
                    "links to a folder that is already read; its files are read once",
                )
                .with_hint(Some("remove the link".into())),
            );
            continue;
        }
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(&dir).with_context(listing)? {
            paths.push(entry.with_context(listing)?.path());
        }
        // Sorted, so which of two ways to one folder is read first never depends on the
        // order the filesystem lists them in.
        paths.sort();
        for path in paths {
            let hidden = path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if hidden {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "toml") {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

// ---------------------------------------------------------------------------------------------
// knowledge/*.toml

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGaps {
    #[serde(default)]
    question: Vec<Spanned<RawGap>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGap {
    q: String,
    mistaken_for: Option<String>,
    /// Any value, so that a bad date is one diagnostic, not the whole file unread.
    decided: Option<Spanned<toml::Value>>,
}

/// Parses `not-on-record.toml`: `[[question]]` tables of `q`, `mistaken_for`, `decided`.
fn parse_known_gaps(text: &str, diagnostics: &mut Vec<Diagnostic>) -> Vec<KnownGap> {
    let lines = Lines::new(text);
    let raw: RawGaps = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(err) => {
            let mut error = toml_error(NOT_ON_RECORD_TOML, &lines, 0, &err, "invalid file");
            error.hint = Some(
                "each entry is a [[question]] table of q = \"...\", mistaken_for = \"ID\", decided = YYYY-MM-DD"
                    .into(),
            );
            diagnostics.push(error);
            return Vec::new();
        }
    };
    raw.question
        .into_iter()
        .map(|entry| {
            let line = lines.line_of(entry.span().start);
            let entry = entry.into_inner();
            let decided = entry.decided.and_then(|d| {
                let at = lines.line_of(d.span().start);
                let date = match d.get_ref() {
                    toml::Value::Datetime(value) => toml_date(value),
                    _ => None,
                };
                if date.is_none() {
                    diagnostics.push(Diagnostic::error(
                        NOT_ON_RECORD_TOML,
                        at,
                        "`decided` must be a date like 2026-12-07",
                    ));
                }
                date
            });
            if entry.q.trim().is_empty() {
                diagnostics.push(Diagnostic::error(
                    NOT_ON_RECORD_TOML,
                    line,
                    "a known gap with an empty question",
                ));
            }
            KnownGap {
                text: entry.q.trim().to_string(),
                mistaken_for: entry.mistaken_for,
                decided,
                line,
            }
        })
        .collect()
}

fn toml_error(
    path: &str,
    lines: &Lines,
    offset: usize,
    err: &toml::de::Error,
    what: &str,
) -> Diagnostic {
    let line = err
        .span()
        .map(|s| lines.line_of(offset + s.start))
        .unwrap_or(0);
    let mut message = err.message().trim().replace('\n', " ");
    if message.contains("expected a question") {
        message = "a question must be a string or { q = \"...\", answer = \"...\" }".into();
    }
    let hint = if message.contains("expected one of `q`") || message.contains("missing field `q`") {
        Some(
            "a question table is { q = \"...\", answer = \"...\" }; `learn` adds `learned = DATE`"
                .into(),
        )
    } else if message.starts_with("unknown field") {
        Some("allowed keys: id, title, answer, statement, owner, provider, area, evidence, reviewed, questions, keywords".into())
    } else if message.contains("unknown variant") {
        Some(
            "answer is yes | no | partial | n/a; owner is company | provider | customer | shared"
                .into(),
        )
    } else if message.starts_with("a question must be") {
        Some("answer is yes | no | partial | n/a".into())
    } else {
        None
    };
    Diagnostic::error(path, line, format!("{what}: {message}")).with_hint(hint)
}

// Read as a spanned TOML tree and checked key by key, not through a serde struct: serde stops
// at a control's first bad field, and `check` reports every problem of every control.

/// The keys of a `[[control]]` table.
const CONTROL_KEYS: &[&str] = &[
    "id",
    "title",
    "answer",
    "statement",
    "owner",
    "provider",
    "area",
    "evidence",
    "reviewed",
    "questions",
    "keywords",
    "visibility",
];
const REQUIRED_KEYS: &[&str] = &["id", "title", "answer", "statement"];
/// The keys of a question table, `{ q, answer, learned }`.
const QUESTION_KEYS: &[&str] = &["q", "answer", "learned"];
const QUESTION_HINT: &str =
    "a question table is { q = \"...\", answer = \"...\" }; `learn` adds `learned = DATE`";
const ANSWERS: [Answer; 4] = [
    Answer::Yes,
    Answer::No,
    Answer::Partial,
    Answer::NotApplicable,
];
const OWNERS: [Owner; 4] = [
    Owner::Company,
    Owner::Provider,
    Owner::Customer,
    Owner::Shared,
];

impl Owner {
    pub fn as_str(self) -> &'static str {
        match self {
            Owner::Company => "company",
            Owner::Provider => "provider",
            Owner::Customer => "customer",
            Owner::Shared => "shared",
        }
    }
}

/// A TOML date as a [`Date`]; `None` for a time or a date with a time.
fn toml_date(value: &toml::value::Datetime) -> Option<Date> {
    match (value.date, value.time) {
        (Some(d), None) => Date::from_ymd(i64::from(d.year), u32::from(d.month), u32::from(d.day)),
        _ => None,
    }
}

/// The key of `keys` that `name` is likely a typo of.
fn closest_key(name: &str, keys: &[&'static str]) -> Option<&'static str> {
    let hint = did_you_mean(name, keys.iter().copied())?;
    keys.iter()
        .copied()
        .find(|k| hint == format!("did you mean `{k}`?"))
}

/// Parses one knowledge file. Every problem of every control is a diagnostic with its own
/// line; a control with an error is left out, the others are kept.
fn parse_knowledge(path: &str, text: &str, diagnostics: &mut Vec<Diagnostic>) -> Vec<Control> {
    let lines = Lines::new(text);
    let document = match DeTable::parse(text) {
        Ok(document) => document,
        Err(err) => {
            diagnostics.push(toml_error(path, &lines, 0, &err, "TOML syntax error"));
            return Vec::new();
        }
    };
    let mut file = KnowledgeFile {
        path,
        lines: &lines,
        diagnostics,
    };
    let mut controls = Vec::new();
    for (key, value) in document.get_ref().iter() {
        let name: &str = key.get_ref();
        let tables = match value.get_ref() {
            DeValue::Array(items) if items.iter().all(|i| i.get_ref().is_table()) => Some(items),
            _ => None,
        };
        if name == "control" {
            match tables {
                Some(tables) => controls.extend(tables.iter().filter_map(|t| file.control(t))),
                None => file.error(
                    key.span(),
                    "`control` must be `[[control]]` tables".into(),
                    Some("start each control with a `[[control]]` line".into()),
                ),
            }
            continue;
        }
        if value.get_ref().is_table() || tables.is_some() {
            let shown = match tables {
                Some(_) => format!("[[{name}]]"),
                None => format!("[{name}]"),
            };
            let hint = did_you_mean(name, ["control"])
                .map(|_| "did you mean `[[control]]`?".to_string())
                .unwrap_or_else(|| "each control is a `[[control]]` table".into());
            file.error(key.span(), format!("unknown table `{shown}`"), Some(hint));
            // Its tables are still checked, so fixing the name brings no new errors.
            for table in tables.into_iter().flat_map(|t| t.iter()) {
                file.control(table);
            }
        } else {
            file.error(
                key.span(),
                format!("key `{name}` is outside any `[[control]]` table"),
                Some("move it below a `[[control]]` line".into()),
            );
        }
    }
    controls
}

/// One knowledge file being checked: where its diagnostics go and how spans become lines.
struct KnowledgeFile<'a> {
    path: &'a str,
    lines: &'a Lines,
    diagnostics: &'a mut Vec<Diagnostic>,
}

impl KnowledgeFile<'_> {
    fn line(&self, span: std::ops::Range<usize>) -> usize {
        self.lines.line_of(span.start)
    }

    fn error(&mut self, span: std::ops::Range<usize>, message: String, hint: Option<String>) {
        let line = self.line(span);
        self.diagnostics
            .push(Diagnostic::error(self.path, line, message).with_hint(hint));
    }

    fn warning(&mut self, span: std::ops::Range<usize>, message: String, hint: Option<String>) {
        let line = self.line(span);
        self.diagnostics
            .push(Diagnostic::warning(self.path, line, message).with_hint(hint));
    }

    /// A `[[control]]` table as a [`Control`], or `None` when it has an error (each one
    /// reported). An empty statement or a `reviewed` date with a time is reported and kept.
    fn control(&mut self, table: &Spanned<DeValue>) -> Option<Control> {
        let DeValue::Table(fields) = table.get_ref() else {
            return None;
        };
        let id_text = fields
            .iter()
            .find(|(k, _)| k.get_ref() == "id")
            .and_then(|(_, v)| v.get_ref().as_str());
        let who = match id_text {
            Some(id) => format!("control `{id}`"),
            None => "a control".to_string(),
        };
        let mut ok = true;
        let mut id = None;
        let mut title = None;
        let mut answer = None;
        let mut statement = None;
        let mut owner = Owner::default();
        let mut providers = Vec::new();
        let mut area = None;
        let mut evidence = Vec::new();
        let mut reviewed = None;
        let mut reviewed_line = None;
        let mut questions = Vec::new();
        let mut keywords = Vec::new();
        let mut visibility = Visibility::default();
        // Keys a misspelt key was taken for: not reported missing as well.
        let mut meant = Vec::new();
        for (key, value) in fields.iter() {
            let name: &str = key.get_ref();
            let found = match name {
                "id" => self
                    .string(&who, name, value)
                    .map(|s| id = Some((s, self.line(value.span())))),
                "title" => self.string(&who, name, value).map(|s| title = Some(s)),
                "answer" => self
                    .word(&who, name, value, &ANSWERS, Answer::as_str)
                    .map(|a| answer = Some(a)),
                "statement" => self
                    .string(&who, name, value)
                    .map(|s| statement = Some((s, value.span()))),
                "owner" => self
                    .word(&who, name, value, &OWNERS, Owner::as_str)
                    .map(|o| owner = o),
                "provider" => match value.get_ref() {
                    DeValue::String(p) => {
                        providers = vec![p.to_string()];
                        Some(())
                    }
                    _ => self.strings(&who, name, value).map(|ps| providers = ps),
                },
                "area" => self.string(&who, name, value).map(|s| area = Some(s)),
                "evidence" => self.strings(&who, name, value).map(|s| evidence = s),
                "keywords" => self.strings(&who, name, value).map(|s| keywords = s),
                "visibility" => self
                    .word(&who, name, value, &VISIBILITIES, Visibility::as_str)
                    .map(|v| visibility = v),
                "reviewed" => {
                    reviewed_line = Some(self.line(value.span()));
                    self.date(&who, name, value, "2026-09-01")
                        .map(|d| reviewed = d)
                }
                "questions" => self.questions(&who, value).map(|q| questions = q),
                _ => {
                    let guess = closest_key(name, CONTROL_KEYS);
                    meant.extend(guess);
                    let hint = match guess {
                        Some(guess) => format!("did you mean `{guess}`?"),
                        None => format!("allowed keys: {}", CONTROL_KEYS.join(", ")),
                    };
                    self.error(
                        key.span(),
                        format!("unknown key `{name}` in {who}"),
                        Some(hint),
                    );
                    None
                }
            };
            ok &= found.is_some();
        }
        for required in REQUIRED_KEYS {
            if !fields.iter().any(|(k, _)| k.get_ref() == *required) && !meant.contains(required) {
                self.error(
                    table.span(),
                    format!("{who} is missing `{required}`"),
                    Some(format!("add `{required} = ...` to the table")),
                );
                ok = false;
            }
        }
        let statement = statement.map(|(text, span)| {
            let text = text.trim().to_string();
            if text.is_empty() {
                self.error(
                    span,
                    format!("{who} has an empty statement"),
                    Some("write what the company does, in one to three sentences".into()),
                );
            }
            text
        });
        let (Some((id, id_line)), Some(title), Some(answer), Some(statement), true) =
            (id, title, answer, statement, ok)
        else {
            return None;
        };
        Some(Control {
            id,
            title: title.trim().to_string(),
            answer,
            statement,
            owner,
            providers,
            area,
            evidence,
            reviewed,
            questions,
            keywords,
            visibility,
            source: Source {
                path: self.path.to_string(),
                line: id_line,
            },
            reviewed_line,
        })
    }

    fn wrong_type(&mut self, who: &str, key: &str, value: &Spanned<DeValue>, wanted: &str) {
        self.error(
            value.span(),
            format!(
                "`{key}` of {who} must be {wanted}, not a {}",
                value.get_ref().type_str()
            ),
            None,
        );
    }

    fn string(&mut self, who: &str, key: &str, value: &Spanned<DeValue>) -> Option<String> {
        match value.get_ref() {
            DeValue::String(text) => Some(text.to_string()),
            _ => {
                self.wrong_type(who, key, value, "a string");
                None
            }
        }
    }

    /// An array of strings, each bad element reported at its own line.
    fn strings(&mut self, who: &str, key: &str, value: &Spanned<DeValue>) -> Option<Vec<String>> {
        let DeValue::Array(items) = value.get_ref() else {
            self.wrong_type(who, key, value, "a list of strings");
            return None;
        };
        let mut strings = Some(Vec::new());
        for item in items.iter() {
            match (item.get_ref(), strings.as_mut()) {
                (DeValue::String(text), Some(strings)) => strings.push(text.to_string()),
                (DeValue::String(_), None) => {}
                _ => {
                    self.wrong_type(who, key, item, "a list of strings, and this entry is");
                    strings = None;
                }
            }
        }
        strings
    }

    /// One of `choices` by name. Another case is read with a warning (`answer = "Yes"`).
    fn word<T: Copy>(
        &mut self,
        who: &str,
        key: &str,
        value: &Spanned<DeValue>,
        choices: &[T],
        name: fn(T) -> &'static str,
    ) -> Option<T> {
        let text = self.string(who, key, value)?;
        if let Some(&exact) = choices.iter().find(|&&c| name(c) == text) {
            return Some(exact);
        }
        let names: Vec<&str> = choices.iter().map(|&c| name(c)).collect();
        match choices
            .iter()
            .find(|&&c| name(c).eq_ignore_ascii_case(text.trim()))
        {
            Some(&lenient) => {
                self.warning(
                    value.span(),
                    format!("`{key}` of {who} is `{text}`, read as `{}`", name(lenient)),
                    Some(format!("write it lowercase: {key} = \"{}\"", name(lenient))),
                );
                Some(lenient)
            }
            None => {
                self.error(
                    value.span(),
                    format!("unknown {key} `{text}` in {who}"),
                    Some(format!("{key} is {}", names.join(" | "))),
                );
                None
            }
        }
    }

    /// A TOML date (`reviewed`, `learned`): `Some(None)` for a date with a time (reported,
    /// the rest kept), `None` for a value that is no date at all.
    fn date(
        &mut self,
        who: &str,
        key: &str,
        value: &Spanned<DeValue>,
        example: &str,
    ) -> Option<Option<Date>> {
        match value.get_ref() {
            DeValue::Datetime(datetime) => {
                let date = toml_date(datetime);
                if date.is_none() {
                    self.error(
                        value.span(),
                        format!("`{key}` must be a date like {example}"),
                        None,
                    );
                }
                Some(date)
            }
            other => {
                let hint = match other.as_str().and_then(Date::parse) {
                    Some(date) => format!("remove the quotes: {key} = {date}"),
                    None => format!("write {key} = {example}, without quotes"),
                };
                self.error(
                    value.span(),
                    format!(
                        "`{key}` of {who} must be a date like {example}, not a {}",
                        other.type_str()
                    ),
                    Some(hint),
                );
                None
            }
        }
    }

    /// `questions = [...]`: each entry a string or `{ q, answer, learned }`.
    fn questions(&mut self, who: &str, value: &Spanned<DeValue>) -> Option<Vec<Phrasing>> {
        let DeValue::Array(items) = value.get_ref() else {
            self.wrong_type(who, "questions", value, "a list of questions");
            return None;
        };
        let mut phrasings = Some(Vec::new());
        for item in items.iter() {
            let phrasing = self.question(who, item);
            match (phrasing, phrasings.as_mut()) {
                (Some(p), Some(all)) => all.push(p),
                (None, _) => phrasings = None,
                (Some(_), None) => {}
            }
        }
        phrasings
    }

    fn question(&mut self, who: &str, item: &Spanned<DeValue>) -> Option<Phrasing> {
        let line = self.line(item.span());
        let fields = match item.get_ref() {
            DeValue::String(text) => {
                return Some(Phrasing {
                    text: text.to_string(),
                    answer: None,
                    learned: None,
                    line,
                });
            }
            DeValue::Table(fields) => fields,
            _ => {
                self.error(
                    item.span(),
                    "a question must be a string or { q = \"...\", answer = \"...\" }".into(),
                    Some(QUESTION_HINT.into()),
                );
                return None;
            }
        };
        let whose = format!("a question of {who}");
        let mut ok = true;
        let mut text = None;
        let mut answer = None;
        let mut learned = None;
        for (key, value) in fields.iter() {
            let name: &str = key.get_ref();
            let found = match name {
                "q" => self.string(&whose, name, value).map(|q| text = Some(q)),
                "answer" => self
                    .word(&whose, name, value, &ANSWERS, Answer::as_str)
                    .map(|a| answer = Some(a)),
                "learned" => self
                    .date(&whose, name, value, "2026-12-07")
                    .map(|d| learned = d),
                _ => {
                    let hint = match closest_key(name, QUESTION_KEYS) {
                        Some(guess) => format!("did you mean `{guess}`?"),
                        None => QUESTION_HINT.into(),
                    };
                    self.error(
                        key.span(),
                        format!("unknown key `{name}` in {whose}"),
                        Some(hint),
                    );
                    None
                }
            };
            ok &= found.is_some();
        }
        if text.is_none() && ok {
            self.error(
                item.span(),
                format!("{whose} has no `q`"),
                Some(QUESTION_HINT.into()),
            );
        }
        Some(Phrasing {
            text: text?,
            answer,
            learned,
            line,
        })
        .filter(|_| ok)
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn check_control_ids(controls: &[Control], diagnostics: &mut Vec<Diagnostic>) {
    let mut first: BTreeMap<&str, &Source> = BTreeMap::new();
    for control in controls {
        let at = &control.source;
        if !valid_id(&control.id) {
            diagnostics.push(
                Diagnostic::error(
                    &at.path,
                    at.line,
                    format!(
                        "control id `{}` has characters other than letters, digits, '-', '_', '.'",
                        control.id
                    ),
                )
                .with_hint(Some(format!("use `{}`", suggest_id(&control.id)))),
            );
        }
        match first.get(control.id.as_str()) {
            Some(prev) => {
                diagnostics.push(
                    Diagnostic::error(
                        &at.path,
                        at.line,
                        format!(
                            "duplicate control id `{}`, first defined at {}:{}",
                            control.id, prev.path, prev.line
                        ),
                    )
                    .with_hint(Some("give each control its own id".into())),
                );
                diagnostics.push(Diagnostic::error(
                    &prev.path,
                    prev.line,
                    format!(
                        "control id `{}` is defined again at {}:{}",
                        control.id, at.path, at.line
                    ),
                ));
            }
            None => {
                first.insert(&control.id, at);
            }
        }
    }
}

fn suggest_id(id: &str) -> String {
    id.trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// mappings/*.csv

/// A csv row: its 1-based line and trimmed fields.
type Row = (usize, Vec<String>);

/// Reads a csv file into rows, with no header handling.
fn csv_rows(path: &str, text: &str, diagnostics: &mut Vec<Diagnostic>) -> Vec<Row> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        match record {
            Ok(record) => {
                let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
                let fields: Vec<String> = record.iter().map(|f| f.trim().to_string()).collect();
                if fields.iter().any(|f| !f.is_empty()) {
                    rows.push((line, fields));
                }
            }
            Err(err) => {
                let line = err.position().map(|p| p.line() as usize).unwrap_or(0);
                diagnostics.push(Diagnostic::error(
                    path,
                    line,
                    format!("malformed csv: {err}"),
                ));
                break;
            }
        }
    }
    rows
}

/// Optional file: `None` when absent, or not read (then with a diagnostic).
fn read_optional(
    reader: &mut Reader,
    rel: &str,
    files: &mut Vec<(String, String)>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Option<String>> {
    if !present(reader.root, rel) {
        return Ok(None);
    }
    let Some(text) = reader.read(rel, diagnostics)? else {
        return Ok(None);
    };
    files.push((rel.to_string(), text.clone()));
    Ok(Some(text))
}

/// Splits off the header row, checking its first column is `expected`.
fn split_header(
    path: &str,
    mut rows: Vec<Row>,
    expected: &str,
    example: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<(Vec<String>, Vec<Row>)> {
    if rows.is_empty() {
        return None;
    }
    let (line, header) = rows.remove(0);
    if header.first().map(|h| h.to_lowercase()) != Some(expected.to_string()) {
        diagnostics.push(
            Diagnostic::error(path, line, format!("missing header row: the first line must name the columns, starting with `{expected}`"))
                .with_hint(Some(format!("add `{example}` as the first line"))),
        );
        return None;
    }
    let header = header.into_iter().map(|h| h.to_lowercase()).collect();
    Some((header, rows))
}

fn load_cuec(
    reader: &mut Reader,
    files: &mut Vec<(String, String)>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Catalog> {
    let mut cuec = Catalog {
        key: catalog::CUEC.into(),
        name: "CUEC".into(),
        entries: Vec::new(),
    };
    let Some(text) = read_optional(reader, CUEC_CSV, files, diagnostics)? else {
        return Ok(cuec);
    };
    let rows = csv_rows(CUEC_CSV, &text, diagnostics);
    let Some((header, rows)) =
        split_header(CUEC_CSV, rows, "id", "id,area,responsibility", diagnostics)
    else {
        return Ok(cuec);
    };
    let column = |name: &str| header.iter().position(|h| h == name);
    let (Some(area), Some(resp)) = (column("area"), column("responsibility")) else {
        diagnostics.push(Diagnostic::error(
            CUEC_CSV,
            1,
            "the header must be `id,area,responsibility`",
        ));
        return Ok(cuec);
    };
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (line, fields) in rows {
        if fields.len() != header.len() {
            diagnostics.push(column_count(CUEC_CSV, line, fields.len(), header.len()));
            continue;
        }
        let id = fields[0].clone();
        if let Some(prev) = seen.get(&id) {
            diagnostics.push(Diagnostic::error(
                CUEC_CSV,
                line,
                format!("duplicate CUEC id `{id}`, first defined on line {prev}"),
            ));
            continue;
        }
        if fields[resp].is_empty() {
            diagnostics.push(
                Diagnostic::error(
                    CUEC_CSV,
                    line,
                    format!("CUEC `{id}` has an empty responsibility"),
                )
                .with_hint(Some("say what the customer must do".into())),
            );
            continue;
        }
        seen.insert(id.clone(), line);
        cuec.entries.push(Entry {
            id,
            title: fields[resp].clone(),
            group: fields[area].clone(),
        });
    }
    Ok(cuec)
}

/// The record's own catalogs, `mappings/frameworks/KEY.csv`, sorted by key.
fn load_extra_catalogs(
    reader: &mut Reader,
    files: &mut Vec<(String, String)>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Vec<Catalog>> {
    let root = reader.root;
    let dir = root.join(FRAMEWORKS_DIR);
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("could not list `{}`", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    paths.sort();
    let mut catalogs = Vec::new();
    for path in paths {
        let rel = relative(root, &path);
        let key = path
            .file_stem()
            .map(|s| s.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let Some(text) = reader.read(&rel, diagnostics)? else {
            continue;
        };
        files.push((rel.clone(), text.clone()));
        if [catalog::SOC2, catalog::ISO27001, catalog::CUEC].contains(&key.as_str()) {
            diagnostics.push(
                Diagnostic::warning(
                    &rel,
                    0,
                    format!("`{key}` is built in; this catalog is ignored"),
                )
                .with_hint(Some(
                    "rename the file to add a framework of your own".into(),
                )),
            );
            continue;
        }
        match Catalog::from_csv(&key, &key.to_uppercase(), &text) {
            Ok(catalog) => catalogs.push(catalog),
            Err(err) => diagnostics.push(
                Diagnostic::error(&rel, 1, format!("unreadable catalog: {err}"))
                    .with_hint(Some("a catalog is a csv with columns `id,title`".into())),
            ),
        }
    }
    Ok(catalogs)
}

fn column_count(path: &str, line: usize, found: usize, expected: usize) -> Diagnostic {
    Diagnostic::error(
        path,
        line,
        format!("row has {found} fields, the header has {expected}"),
    )
    .with_hint(Some(
        "separate several references in one cell with `;`, not `,`".into(),
    ))
}

fn load_mappings(
    reader: &mut Reader,
    controls: &[Control],
    catalogs: &[Catalog],
    files: &mut Vec<(String, String)>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<(BTreeMap<String, Mapping>, BTreeSet<String>)> {
    let mut mappings = BTreeMap::new();
    let mut cuecs = BTreeSet::new();
    if !present(reader.root, CONTROLS_CSV) {
        diagnostics.push(
            Diagnostic::error(CONTROLS_CSV, 0, "the control matrix is missing").with_hint(Some(
                "create it with the header `control,soc2,iso27001,cuec`".into(),
            )),
        );
        return Ok((mappings, cuecs));
    }
    let Some(text) = read_optional(reader, CONTROLS_CSV, files, diagnostics)? else {
        return Ok((mappings, cuecs));
    };
    let rows = csv_rows(CONTROLS_CSV, &text, diagnostics);
    let Some((header, rows)) = split_header(
        CONTROLS_CSV,
        rows,
        "control",
        "control,soc2,iso27001,cuec",
        diagnostics,
    ) else {
        return Ok((mappings, cuecs));
    };
    let cuec_col = header.iter().position(|h| h == catalog::CUEC);
    // Column index → catalog and its ids (a set: a CUEC catalog may have as many rows as
    // there are controls); unknown columns are reported once and their cells skipped.
    let mut columns: Vec<Option<Column>> = vec![None];
    for key in &header[1..] {
        let found = catalogs.iter().find(|c| &c.key == key);
        if found.is_none() {
            diagnostics.push(Diagnostic::error(CONTROLS_CSV, 1, format!("unknown framework column `{key}`"))
                .with_hint(Some(format!("add a catalog `{FRAMEWORKS_DIR}/{key}.csv` with columns `id,title`, or remove the column"))));
        }
        columns.push(found.map(|catalog| Column {
            catalog,
            ids: catalog.entries.iter().map(|e| e.id.as_str()).collect(),
            suggester: Suggester::new(catalog.entries.iter().map(|e| e.id.as_str())),
        }));
    }
    let known: BTreeSet<&str> = controls.iter().map(|c| c.id.as_str()).collect();
    // A control may be missing only because its knowledge file failed to load.
    let broken_knowledge = diagnostics
        .iter()
        .any(|d| d.severity == Severity::Error && d.path.starts_with(KNOWLEDGE_DIR));
    let suggest_control = Suggester::new(known.iter().copied());
    let successors = catalog::iso2013_successors();
    for (line, fields) in rows {
        if fields.len() != header.len() {
            diagnostics.push(column_count(CONTROLS_CSV, line, fields.len(), header.len()));
            continue;
        }
        let id = &fields[0];
        if let Some(cell) = cuec_col.and_then(|i| fields.get(i)) {
            cuecs.extend(
                cell.split(';')
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(String::from),
            );
        }
        if !known.contains(id.as_str()) {
            let hint = suggest_control.suggest(id).or_else(|| {
                broken_knowledge.then(|| {
                    "it may be defined in a knowledge file that failed to load: fix that first"
                        .to_string()
                })
            });
            diagnostics.push(
                Diagnostic::error(
                    CONTROLS_CSV,
                    line,
                    format!("control `{id}` is not in knowledge/"),
                )
                .with_hint(hint),
            );
        }
        // The references of a row that is not kept (unknown control, duplicate) are still
        // checked, so fixing the row brings no new errors.
        let mut keep = known.contains(id.as_str());
        if let Some(prev) = mappings.get(id).filter(|_| keep) {
            let prev: &Mapping = prev;
            diagnostics.push(
                Diagnostic::error(
                    CONTROLS_CSV,
                    line,
                    format!(
                        "duplicate row for control `{id}`, first on line {}",
                        prev.line
                    ),
                )
                .with_hint(Some("merge the references into one row".into())),
            );
            keep = false;
        }
        let mut mapping = Mapping {
            refs: BTreeMap::new(),
            line,
        };
        for (cell, column) in fields.iter().zip(&columns).skip(1) {
            let Some(Column {
                catalog,
                ids,
                suggester,
            }) = column
            else {
                continue;
            };
            let refs: Vec<String> = cell
                .split(';')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(String::from)
                .collect();
            for reference in &refs {
                if !ids.contains(reference.as_str()) {
                    diagnostics.push(unknown_ref(
                        line,
                        catalog,
                        suggester,
                        reference,
                        &successors,
                    ));
                }
            }
            let valid = refs
                .into_iter()
                .filter(|r| ids.contains(r.as_str()))
                .collect();
            mapping.refs.insert(catalog.key.clone(), valid);
        }
        if keep {
            mappings.insert(id.clone(), mapping);
        }
    }
    Ok((mappings, cuecs))
}

/// A column of `controls.csv`: its catalog, the catalog's ids, and hints for wrong ones.
struct Column<'a> {
    catalog: &'a Catalog,
    ids: BTreeSet<&'a str>,
    suggester: Suggester<'a>,
}

fn unknown_ref(
    line: usize,
    catalog: &Catalog,
    suggester: &Suggester,
    reference: &str,
    successors: &BTreeMap<String, Vec<String>>,
) -> Diagnostic {
    let hint = match successors.get(reference) {
        Some(new) if catalog.key == catalog::ISO27001 => Some(format!(
            "`{reference}` is an ISO 27001:2013 id; its 2022 successor is `{}`",
            new.join("`, `")
        )),
        _ => suggester.suggest(reference),
    };
    let what = match catalog.key.as_str() {
        catalog::SOC2 => "SOC 2 criterion".to_string(),
        catalog::ISO27001 => "ISO 27001:2022 Annex A control".to_string(),
        catalog::CUEC => "CUEC id (not in mappings/cuec.csv)".to_string(),
        _ => format!(
            "{} id (not in {FRAMEWORKS_DIR}/{}.csv)",
            catalog.name, catalog.key
        ),
    };
    Diagnostic::error(CONTROLS_CSV, line, format!("unknown {what} `{reference}`")).with_hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_is_the_nearest_directory_with_knowledge_given_relative() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("knowledge/sub/deeper");
        std::fs::create_dir_all(&deep).unwrap();
        assert_eq!(discover(dir.path()), Some(PathBuf::from(".")));
        assert_eq!(
            discover(&dir.path().join("knowledge")),
            Some(PathBuf::from(".."))
        );
        assert_eq!(discover(&deep), Some(PathBuf::from("../../..")));
        // A nearer record wins over one further up.
        std::fs::create_dir_all(deep.join("knowledge")).unwrap();
        assert_eq!(discover(&deep), Some(PathBuf::from(".")));
    }

    #[test]
    fn text_that_is_not_utf8_is_placed_at_its_first_bad_byte_and_read_on() {
        let mut diagnostics = Vec::new();
        let text = decode(
            "k.toml",
            b"a = 1\n# \xc3\xa9t\xe9 \xff\nb = 2\n".to_vec(),
            &mut diagnostics,
        );
        assert_eq!(text, "a = 1\n# \u{e9}t\u{fffd} \u{fffd}\nb = 2\n");
        assert_eq!(diagnostics.len(), 1);
        let d = &diagnostics[0];
        assert_eq!((d.path.as_str(), d.line), ("k.toml", 2));
        // Column in characters: `#`, space, `é`, `t`, then the bad byte.
        assert_eq!(d.message, "not valid UTF-8 (byte 0xE9 at line 2, column 5)");
        assert_eq!(d.hint.as_deref(), Some("save the file as UTF-8"));

        let mut none = Vec::new();
        assert_eq!(decode("k.toml", b"ok\n".to_vec(), &mut none), "ok\n");
        assert!(none.is_empty());
    }

    #[test]
    fn every_bad_key_of_a_control_is_reported_and_a_good_control_kept() {
        let text = "[[control]]\nid = \"A-1\"\ntitle = \"T\"\nanswer = \"YES\"\n\
                    statement = \"S\"\nowner = \"Shared\"\nquestions = [\"q1\", \
                    { q = \"q2\", answer = \"N/A\", learned = 2026-11-20 }]\n\
                    [[control]]\nid = \"B-1\"\ntitle = 1\nanswer = \"maybe\"\n\
                    statment = \"S\"\nreviewed = \"2026-06-01\"\n";
        let mut diagnostics = Vec::new();
        let controls = parse_knowledge("k.toml", text, &mut diagnostics);
        crate::diag::sort(&mut diagnostics);
        assert_eq!(controls.len(), 1);
        let a = &controls[0];
        assert_eq!((a.answer, a.owner), (Answer::Yes, Owner::Shared));
        assert_eq!(a.questions.len(), 2);
        assert_eq!(a.questions[1].answer, Some(Answer::NotApplicable));
        assert_eq!(a.questions[1].learned, Date::from_ymd(2026, 11, 20));
        let shown: Vec<(usize, Severity)> =
            diagnostics.iter().map(|d| (d.line, d.severity)).collect();
        assert_eq!(
            shown,
            [
                (4, Severity::Warning),
                (6, Severity::Warning),
                (7, Severity::Warning),
                (10, Severity::Error),
                (11, Severity::Error),
                (12, Severity::Error),
                (13, Severity::Error),
            ]
        );
        assert_eq!(
            diagnostics[5].hint.as_deref(),
            Some("did you mean `statement`?")
        );
    }

    #[test]
    fn the_total_counts_every_file_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), "12345").unwrap();
        std::fs::write(dir.path().join("b"), "123456").unwrap();
        let limits = Limits {
            record_bytes: 10,
            ..Limits::default()
        };
        let mut reader = Reader {
            root: dir.path(),
            limits: &limits,
            total: 0,
        };
        let mut diagnostics = Vec::new();
        assert_eq!(
            reader.read("a", &mut diagnostics).unwrap().as_deref(),
            Some("12345")
        );
        assert_eq!(reader.read("b", &mut diagnostics).unwrap(), None);
        assert!(
            diagnostics[0]
                .message
                .contains("11 bytes, over the limit record_bytes (10)")
        );
        // What was not read is not counted: a smaller file still fits.
        assert_eq!(
            reader.read("a", &mut diagnostics).unwrap().as_deref(),
            Some("12345")
        );
        assert_eq!(reader.total, 10);
    }
}
