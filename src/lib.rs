//! onrecord answers security questionnaires from a company's own record.
//!
//! Data flows one way through these modules:
//!
//! - [`record`]: load `knowledge/` and `mappings/` into plain types, with diagnostics.
//! - [`catalog`]: the SOC 2 and ISO 27001 catalogs built into the binary.
//! - [`profile`]: the company profile (`profile.toml`): the facts forms ask for.
//! - [`providers`]: the providers and subprocessors (`providers.toml`).
//! - [`check`]: record-quality warnings on top of what loading found.
//! - [`gaps`]: which framework entries no control covers.
//! - [`text`]: analysis shared by index and engine: stems, filler, thesaurus concepts.
//! - [`index`]: the tantivy index of the record, fingerprinted and rebuilt silently.
//! - [`engine`]: the [`engine::Engine`], in stages: read the question, retrieve candidates
//!   by BM25 and judge them by named signals, calibrate, decide by ordered honesty rules
//!   (each a typed [`engine::Reason`]), compose the cited answer.
//! - [`delimited`]: csv/tsv text: encoding, fields with their byte spans, patched write-back.
//! - [`questionnaire`]: read any spreadsheet or csv into grids; detect question layouts.
//! - [`fields`]: what each question's answer field takes (yes/no, a choice, free text, ...).
//! - [`fill`]: a questionnaire read and detected ([`fill::Input`]), answered; which cells to
//!   write for each question (writes no file).
//! - [`workbook`]: write: patch xlsx in place, new xlsx, csv, as bytes. Also the guards every
//!   zip package and xls passes, streaming, before calamine or the patcher opens it
//!   ([`workbook::guard`], [`workbook::biff`]), so memory is bounded by [`limits`].
//! - [`outputs`]: the one writer of every file: checked against the inputs and each other,
//!   temporary files created exclusively, renamed into place all together, swept when stale.
//! - [`limits`]: the bounds on what every reader accepts, overridable by name.
//! - [`report`]: the JSON report and the text that goes into cells.
//! - [`review`]: the review workbook `fill` writes for a person (rust_xlsxwriter), and its
//!   decisions read back.
//! - [`publish`]: the trust page (`onrecord publish`): the record as a static HTML page and
//!   JSON, filtered by visibility (minijinja, templates in `src/publish/`).
//! - [`init`]: the files of a starter record (`onrecord init`).
//! - [`learn`]: those decisions written into the record's files (toml_edit): learned
//!   phrasings and known gaps.
//! - [`coverage`]: CI gates over many questionnaires: totals, stale citations, regressions
//!   against a baseline.
//! - [`eval`]: onrecord's answers compared with a questionnaire people answered by hand.
//! - [`embed`]: sentence embeddings (all-MiniLM-L6-v2 fine-tuned on questionnaires, built
//!   in), by candle on the CPU.
//!
//! Invariants: the library never prints (the binary renders); loading never stops at the
//! first bad line; output order never depends on hash iteration; matching never touches the
//! filesystem (only `index` does); `coverage` and `eval` answer through `fill::Input`, the
//! same reading, detection and answering path as `fill`; tantivy is used from `index` only,
//! calamine from `questionnaire`, toml_edit from `learn`, minijinja from `publish`, encoding_rs from `delimited`, zip and quick-xml from `workbook`; no input file is ever opened for writing; no `yes` is answered
//! without a cited control whose answer is `yes`; a published page holds nothing whose
//! visibility is narrower than its audience.

#![warn(clippy::print_stdout, clippy::print_stderr)]
// Data from a file or the command line never meets an unwrap or expect: a bad input is an
// error that names it, never a panic. Tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod catalog;
pub mod check;
pub mod coverage;
pub mod delimited;
pub mod diag;
pub mod embed;
pub mod engine;
pub mod eval;
pub mod fields;
pub mod fill;
pub mod gaps;
pub mod index;
pub mod init;
pub mod learn;
pub mod limits;
pub mod outputs;
pub mod profile;
pub mod providers;
pub mod publish;
pub mod questionnaire;
pub mod record;
pub mod report;
pub mod review;
pub mod text;
pub mod workbook;
