//! The tantivy index of the record: one document per control, fields weighted at query time.
//!
//! Stored under `RECORD/.onrecord/index-FINGERPRINT/`, where the fingerprint covers the
//! record's files, the thesaurus and this engine's version. A missing, stale or corrupt index
//! (checksums are verified on open, so a damaged or deleted file is noticed) is rebuilt
//! silently; a read-only record gets an index in memory. The user never repairs it.
//!
//! Parallel runs right after a record change never see a half-built index: one run at a time
//! builds (under an exclusive lock on `.onrecord/lock`, opened without following symlinks),
//! into a temporary directory that is renamed into place once committed; a reader finds the
//! finished index or none. Nothing is written through a path an attacker could plant a
//! symlink at: the lock refuses symlinks, the temporary directory is created fresh.
//!
//! Text reaches tantivy already analyzed (see `text`), through tantivy's built-in `whitespace`
//! tokenizer, so indexing and querying can never disagree on a token.

use std::path::Path;

use anyhow::{Context, Result};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::{Index, IndexReader, ReloadPolicy, TantivyDocument, Term, doc};

use crate::outputs;
use crate::record::Record;
use crate::text::Analyzer;

/// Bump when the analysis or schema changes, so old indexes are rebuilt.
const ENGINE_VERSION: &str = "onrecord-index-26";
const STATE_DIR: &str = ".onrecord";
const INDEX_PREFIX: &str = "index-";
const LOCK_FILE: &str = "lock";
/// Indexes of other fingerprints are removed once they are this old: a run that loaded the
/// record just before it changed may still be opening one.
const OLD_INDEX_GRACE: std::time::Duration = std::time::Duration::from_secs(60);
const WRITER_BUDGET: usize = 30_000_000;

/// The fields of a control, with their weight in retrieval.
pub const FIELDS: [(&str, f32); 5] = [
    ("title", 3.0),
    ("questions", 3.0),
    ("keywords", 2.0),
    ("statement", 1.0),
    ("frameworks", 0.5),
];

/// Where the index came from, for `onrecord index` to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Reused,
    Built,
    InMemory,
}

pub struct SearchIndex {
    reader: IndexReader,
    id: Field,
    fields: Vec<(Field, f32)>,
    pub origin: Origin,
    /// The bytes of each [`Derived`] file, in the order asked for.
    pub derived: Vec<Vec<u8>>,
}

/// A file the engine derives from the record (control embeddings, say) that lives with the
/// index: built with it into the same directory, stamped by the same fingerprint, verified
/// on open by its own checksum, rebuilt with it when missing or damaged.
pub struct Derived<'a> {
    /// A plain file name inside the index directory.
    pub name: &'static str,
    /// Builds the file; given the same file of the record's previous index when there is
    /// one (checksum verified), so what did not change can be carried over.
    pub build: &'a BuildDerived<'a>,
    /// Whether a stored copy (checksum verified) is one this build can read: a file that is
    /// whole but not readable (a foreign layout) is rebuilt like a damaged one.
    pub valid: &'a dyn Fn(&[u8]) -> bool,
}

/// How a [`Derived`] file is built: from the previous index's copy of it, if any.
pub type BuildDerived<'a> = dyn Fn(Option<&[u8]>) -> Result<Vec<u8>> + 'a;

/// The file `name` of the most recently built other index in `state`, if it is whole.
fn previous_derived(state: &Path, keep: &Path, name: &str) -> Option<Vec<u8>> {
    let newest = std::fs::read_dir(state)
        .ok()?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(INDEX_PREFIX))
        .filter(|e| e.path() != keep)
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .max()?;
    let path = newest.1.join(name);
    // Only a regular file, never through a symlink someone planted.
    if !std::fs::symlink_metadata(&path).ok()?.is_file() {
        return None;
    }
    unsealed(std::fs::read(path).ok()?)
}

/// FNV-1a over `bytes`: the checksum a derived file ends with.
fn checksum(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// `bytes` with their checksum appended, as written.
fn sealed(mut bytes: Vec<u8>) -> Vec<u8> {
    let sum = checksum(&bytes);
    bytes.extend_from_slice(&sum.to_le_bytes());
    bytes
}

/// The bytes of a sealed file whose checksum holds.
fn unsealed(mut bytes: Vec<u8>) -> Option<Vec<u8>> {
    let at = bytes.len().checked_sub(8)?;
    let sum = u64::from_le_bytes(bytes[at..].try_into().ok()?);
    bytes.truncate(at);
    (checksum(&bytes) == sum).then_some(bytes)
}

/// The analyzed text of each field of a control, in `FIELDS` order.
pub fn control_fields(record: &Record, analyzer: &Analyzer, index: usize) -> [Vec<String>; 5] {
    let [title, questions, keywords, statement] = control_text(record, analyzer, index);
    [
        title,
        questions,
        keywords,
        statement,
        framework_text(record, analyzer, index),
    ]
}

/// The analyzed title, questions, keywords and statement of a control: its own words.
pub fn control_text(record: &Record, analyzer: &Analyzer, index: usize) -> [Vec<String>; 4] {
    let control = &record.controls[index];
    let questions: Vec<&str> = control
        .authored_questions()
        .map(|q| q.text.as_str())
        .collect();
    [
        analyzer.document_tokens(&control.title),
        analyzer.document_tokens(&questions.join(" . ")),
        analyzer.document_tokens(&control.keywords.join(" . ")),
        analyzer.document_tokens(&control.statement),
    ]
}

/// The analyzed titles of the framework entries a control is mapped to.
fn framework_text(record: &Record, analyzer: &Analyzer, index: usize) -> Vec<String> {
    let control = &record.controls[index];
    let mut titles = Vec::new();
    if let Some(mapping) = record.mapping(&control.id) {
        for catalog in &record.catalogs {
            for id in mapping.get(&catalog.key) {
                if let Some(entry) = catalog.get(id)
                    && catalog.key != crate::catalog::CUEC
                {
                    titles.push(entry.title.as_str());
                }
            }
        }
    }
    analyzer.document_tokens(&titles.join(" . "))
}

/// A stable 64-bit FNV-1a over the record's files, the engine version and `also` (what
/// else the derived files depend on: the embedding model's id, say).
pub fn fingerprint(record: &Record, thesaurus: &str, also: &[&str]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for &b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        hash ^= 0xff;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    };
    feed(ENGINE_VERSION.as_bytes());
    // The built-in word lists change what documents are indexed as, like the code does.
    for list in crate::text::BUILTIN_WORD_LISTS {
        feed(list.as_bytes());
    }
    feed(crate::text::FILLER.join("\n").as_bytes());
    feed(thesaurus.as_bytes());
    for &part in also {
        feed(part.as_bytes());
    }
    let mut files: Vec<&(String, String)> = record.files.iter().collect();
    files.sort();
    for (path, text) in files {
        feed(path.as_bytes());
        feed(text.as_bytes());
    }
    format!("{hash:016x}")
}

fn schema() -> (Schema, Field, Vec<(Field, f32)>) {
    let mut builder = Schema::builder();
    let id = builder.add_text_field("id", STRING | STORED);
    let indexing = TextFieldIndexing::default()
        .set_tokenizer("whitespace")
        .set_index_option(IndexRecordOption::WithFreqs);
    let options = TextOptions::default().set_indexing_options(indexing);
    let fields = FIELDS
        .iter()
        .map(|(name, weight)| (builder.add_text_field(name, options.clone()), *weight))
        .collect();
    (builder.build(), id, fields)
}

/// Removes the indexes of other fingerprints (once past their grace period) and the files of
/// the layout before this one (`.onrecord/index/`, `.onrecord/fingerprint`).
fn remove_old_indexes(state: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(state) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path == keep {
            continue;
        }
        let old_layout = name == "index" || name == "fingerprint";
        let other = name.starts_with(INDEX_PREFIX)
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > OLD_INDEX_GRACE);
        if old_layout || other {
            let _ = match entry.file_type() {
                Ok(t) if t.is_dir() => std::fs::remove_dir_all(&path),
                _ => std::fs::remove_file(&path),
            };
        }
    }
}

impl SearchIndex {
    /// Opens the record's index for this fingerprint if it is there and whole, else builds
    /// it; falls back to an index in memory when the record directory cannot be written.
    pub fn open_or_build(
        record: &Record,
        analyzer: &Analyzer,
        fingerprint: &str,
        derived: &[Derived],
    ) -> Result<SearchIndex> {
        let state = record.root.join(STATE_DIR);
        let dir = state.join(format!("{INDEX_PREFIX}{fingerprint}"));
        if let Ok(index) = Self::open_dir(&dir, derived) {
            return Ok(index);
        }
        match Self::build_locked(record, analyzer, &state, &dir, derived) {
            Ok(index) => Ok(index),
            Err(_) => Self::build_in_memory(record, analyzer, derived),
        }
    }

    /// Opens a finished index, verifying every file's checksum: a missing or damaged file
    /// makes it unusable (and so rebuilt), never an error of every later command.
    fn open_dir(dir: &Path, derived: &[Derived]) -> Result<SearchIndex> {
        let index = Index::open_in_dir(dir)?;
        let (expected, id, fields) = schema();
        // The schema is ours; a mismatch means an old or foreign index: rebuild it.
        if index.schema() != expected {
            anyhow::bail!("schema changed");
        }
        let damaged = index.validate_checksum()?;
        if !damaged.is_empty() {
            anyhow::bail!("damaged index files: {damaged:?}");
        }
        let mut files = Vec::new();
        for d in derived {
            let bytes = std::fs::read(dir.join(d.name))?;
            let Some(bytes) = unsealed(bytes).filter(|b| (d.valid)(b)) else {
                anyhow::bail!("damaged derived file {}", d.name);
            };
            files.push(bytes);
        }
        Self::from_index(index, id, fields, Origin::Reused, files)
    }

    /// Builds the index into `dir` under the state directory's lock; a run that waited for
    /// the lock uses what the run before it built.
    fn build_locked(
        record: &Record,
        analyzer: &Analyzer,
        state: &Path,
        dir: &Path,
        derived: &[Derived],
    ) -> Result<SearchIndex> {
        std::fs::create_dir_all(state)
            .with_context(|| format!("could not create `{}`", state.display()))?;
        let lock = outputs::open_lock_file(&state.join(LOCK_FILE))
            .with_context(|| format!("could not open the lock in `{}`", state.display()))?;
        lock.lock()
            .with_context(|| format!("could not lock `{}`", state.display()))?;
        if let Ok(index) = Self::open_dir(dir, derived) {
            return Ok(index);
        }
        outputs::sweep_stale(state);
        if std::fs::symlink_metadata(dir).is_ok() {
            // Damaged: moved aside first, so no reader opens it half-removed.
            let aside = outputs::temporary_name(dir);
            std::fs::rename(dir, &aside)
                .with_context(|| format!("could not move aside `{}`", dir.display()))?;
            let _ = std::fs::remove_dir_all(&aside);
        }
        let temp = outputs::temporary_name(dir);
        outputs::register(&temp);
        let built = (|| -> Result<()> {
            std::fs::create_dir(&temp)
                .with_context(|| format!("could not create `{}`", temp.display()))?;
            let (schema, id, fields) = schema();
            let index = Index::create_in_dir(&temp, schema)?;
            Self::fill(&index, record, analyzer, id, &fields)?;
            drop(index);
            for d in derived {
                let previous = previous_derived(state, dir, d.name);
                let path = temp.join(d.name);
                std::fs::write(&path, sealed((d.build)(previous.as_deref())?))
                    .with_context(|| format!("could not write `{}`", path.display()))?;
            }
            std::fs::rename(&temp, dir)
                .with_context(|| format!("could not move the new index to `{}`", dir.display()))
        })();
        if let Err(err) = built {
            let _ = std::fs::remove_dir_all(&temp);
            outputs::forget(&temp);
            return Err(err);
        }
        outputs::forget(&temp);
        remove_old_indexes(state, dir);
        let index = Self::open_dir(dir, derived)?;
        Ok(SearchIndex {
            origin: Origin::Built,
            ..index
        })
    }

    pub fn build_in_memory(
        record: &Record,
        analyzer: &Analyzer,
        derived: &[Derived],
    ) -> Result<SearchIndex> {
        let (schema, id, fields) = schema();
        let index = Index::create_in_ram(schema);
        Self::fill(&index, record, analyzer, id, &fields)?;
        let files = derived
            .iter()
            .map(|d| (d.build)(None))
            .collect::<Result<_>>()?;
        Self::from_index(index, id, fields, Origin::InMemory, files)
    }

    fn fill(
        index: &Index,
        record: &Record,
        analyzer: &Analyzer,
        id: Field,
        fields: &[(Field, f32)],
    ) -> Result<()> {
        let mut writer = index.writer_with_num_threads::<TantivyDocument>(1, WRITER_BUDGET)?;
        for (i, control) in record.controls.iter().enumerate() {
            let mut document = doc!(id => control.id.as_str());
            for ((field, _), tokens) in fields.iter().zip(control_fields(record, analyzer, i)) {
                document.add_text(*field, tokens.join(" "));
            }
            writer.add_document(document)?;
        }
        writer.commit()?;
        Ok(())
    }

    fn from_index(
        index: Index,
        id: Field,
        fields: Vec<(Field, f32)>,
        origin: Origin,
        derived: Vec<Vec<u8>>,
    ) -> Result<SearchIndex> {
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        reader.reload()?;
        Ok(SearchIndex {
            reader,
            id,
            fields,
            origin,
            derived,
        })
    }

    /// The ids of the best `limit` controls for these tokens by weighted BM25, best first.
    pub fn search(&self, tokens: &[String], limit: usize) -> Result<Vec<(String, f32)>> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for token in tokens {
            for (field, weight) in &self.fields {
                let term = TermQuery::new(
                    Term::from_field_text(*field, token),
                    IndexRecordOption::WithFreqs,
                );
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(term), *weight)),
                ));
            }
        }
        if clauses.is_empty() {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        let top = searcher.search(
            &BooleanQuery::new(clauses),
            &TopDocs::with_limit(limit).order_by_score(),
        )?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let document: TantivyDocument = searcher.doc(address)?;
            if let Some(id) = document.get_first(self.id).and_then(|v| v.as_str()) {
                hits.push((id.to_string(), score));
            }
        }
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_file_is_read_back_and_a_damaged_one_refused() {
        let bytes = b"control vectors".to_vec();
        let mut sealed = sealed(bytes.clone());
        assert_eq!(unsealed(sealed.clone()), Some(bytes));
        sealed[3] ^= 1;
        assert_eq!(unsealed(sealed), None);
        assert_eq!(unsealed(vec![1, 2, 3]), None);
    }
}
