//! The README's table of limits names every limit the CLI accepts, and no other.

use onrecord::limits::Limits;

use crate::readme_table_names;

#[test]
fn the_readme_documents_every_limit() {
    let names: Vec<&str> = Limits::NAMES.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        readme_table_names("### Limits"),
        names,
        "README table rows, in Limits::NAMES order"
    );
}
