//! Detection never panics, whatever the grid, merges, validations and overrides hold.

use onrecord::questionnaire::{Grid, ListValidation, Overrides, detect};

/// A small deterministic generator (no dev-dependency needed).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    fn edge(&mut self) -> u32 {
        [0, 1, 2, 5, 39, 40, 41, u32::MAX - 1, u32::MAX][self.below(9) as usize]
    }
}

const CELLS: &[&str] = &[
    "",
    "",
    "",
    "Question",
    "Answer",
    "Comments",
    "ID",
    "#",
    "No.",
    "Yes",
    "No",
    "N/A",
    "1.0",
    "1.1",
    "GNRL-01",
    "Do you encrypt data at rest?",
    "Describe your backup process.",
    "Section A",
    "Guidance",
    "Analyst Notes",
    "Compliant Response",
    "Importance Override",
    "Score",
    "TRUE",
    "#REF!",
    "Note: read this",
    "The vendor shall patch monthly.",
    "?",
    "Response/Comments",
    "   ",
    "\u{feff}",
    "ÄÖÜ ß 日本語 ?",
    "Compliance (Yes/No)",
    "Requirement",
    "Control",
];

#[test]
fn random_grids_never_panic() {
    let mut rng = Lcg(0x5eed);
    for round in 0..3000 {
        let rows = rng.below(30) as usize;
        let grid = Grid {
            delimiter: None,
            formulas_without_text: 0,
            name: rng
                .pick(&["Sheet1", "Analyst Evaluation", "Q", ""])
                .to_string(),
            hidden: rng.below(5) == 0,
            rows: (0..rows)
                .map(|_| {
                    (0..rng.below(8))
                        .map(|_| rng.pick(CELLS).to_string())
                        .collect()
                })
                .collect(),
            merged: (0..rng.below(4))
                .map(|_| {
                    (
                        rng.edge().min(rng.below(40) as u32),
                        rng.below(8) as u32,
                        rng.edge(),
                        rng.edge(),
                    )
                })
                .collect(),
        };
        let validations: Vec<ListValidation> = (0..rng.below(3))
            .map(|_| ListValidation {
                first_row: rng.edge(),
                first_col: rng.below(8) as u32,
                last_row: rng.edge(),
                last_col: rng.edge(),
                choices: vec![rng.pick(CELLS).to_string()],
            })
            .collect();
        let overrides = if round % 4 == 0 {
            Overrides {
                sheets: vec![grid.name.clone()],
                question_col: Some(rng.edge()),
                answer_col: Some(rng.edge()),
                comment_col: Some(rng.edge()),
                header_row: Some(rng.edge()),
            }
        } else {
            Overrides::default()
        };
        if let Some(layout) = detect(&grid, &validations, &overrides) {
            assert!(
                layout.questions.iter().all(|q| !q.text.is_empty()),
                "round {round}"
            );
        }
    }
}
