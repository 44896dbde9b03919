//! onrecord answers security questionnaires from a company's own record.
//!
//! Data flows one way through these modules:
//!
//! - [`record`]: load `knowledge/` and `mappings/` into plain types, with diagnostics.
//! - [`catalog`]: the SOC 2 and ISO 27001 catalogs built into the binary.
//! - [`check`]: record-quality warnings on top of what loading found.
//! - [`gaps`]: which framework entries no control covers.
//!
//! Invariants: the library never prints (the binary renders); loading never stops at the
//! first bad line; output order never depends on hash iteration.

#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod answer;
pub mod catalog;
pub mod check;
pub mod diag;
pub mod gaps;
pub mod index;
pub mod matcher;
pub mod record;
pub mod text;
