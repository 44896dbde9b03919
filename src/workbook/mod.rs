//! Writing filled questionnaires: the customer's own xlsx/xlsm patched in place ([`xlsx`]),
//! a new xlsx for formats that cannot be patched (xls, xlsb, ods), and csv/tsv.
//!
//! Every writer writes a temporary file beside the output and renames it into place, so a
//! failure never leaves a half-written output, and none of them ever opens the input for
//! writing.

pub mod xlsx;
