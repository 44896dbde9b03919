//! The README's table of limits names every limit the CLI accepts, and no other.

use onrecord::limits::Limits;

use crate::repo;

#[test]
fn the_readme_documents_every_limit() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let table: Vec<&str> = readme
        .split("### Limits")
        .nth(1)
        .expect("a Limits section")
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .collect();
    let names: Vec<&str> = Limits::NAMES.iter().map(|(n, _)| *n).collect();
    assert_eq!(table, names, "README table rows, in Limits::NAMES order");
}
