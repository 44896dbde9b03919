//! Layout detection on small grids written as readable tables.

use onrecord::questionnaire::{Grid, ListValidation, Overrides, col_index, col_letters, detect};

fn grid(name: &str, rows: &[&[&str]]) -> Grid {
    Grid {
        delimiter: None,
        formulas_without_text: 0,
        name: name.to_string(),
        hidden: false,
        rows: rows
            .iter()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect(),
        merged: Vec::new(),
    }
}

fn yes_no(first_row: u32, last_row: u32, col: u32) -> ListValidation {
    ListValidation {
        first_row,
        first_col: col,
        last_row,
        last_col: col,
        choices: vec!["Yes".into(), "No".into(), "NA".into()],
    }
}

fn texts(layout: &onrecord::questionnaire::Layout) -> Vec<&str> {
    layout.questions.iter().map(|q| q.text.as_str()).collect()
}

#[test]
fn caiq_like_sheet_finds_id_question_answer_and_notes() {
    let g = grid(
        "CAIQv4",
        &[
            &["Question ID", "Question", "CSP CAIQ Answer", "Notes"],
            &[
                "A&A-01.1",
                "Are audit and assurance policies established and maintained?",
                "Yes",
                "Annual review.",
            ],
            &[
                "A&A-01.2",
                "Are audit policies reviewed at least annually?",
                "",
                "",
            ],
            &[
                "A&A-02.1",
                "Are independent audits conducted at least annually?",
                "No",
                "",
            ],
            &[
                "AIS-01.1",
                "Are application security policies documented?",
                "",
                "",
            ],
        ],
    );
    let layout = detect(&g, &[yes_no(1, 500, 2)], &Overrides::default()).expect("a questionnaire");
    assert_eq!(layout.header_row, Some(0));
    assert_eq!(layout.id_col, Some(0));
    assert_eq!(layout.question_col, 1);
    assert_eq!(layout.answer_col, Some(2));
    assert_eq!(layout.comment_col, Some(3));
    assert_eq!(layout.answer_choices, ["Yes", "No", "NA"]);
    assert_eq!(layout.questions.len(), 4);
    let first = &layout.questions[0];
    assert_eq!((first.row, first.id.as_deref()), (1, Some("A&A-01.1")));
    assert_eq!(
        (first.answer.as_str(), first.comment.as_str()),
        ("Yes", "Annual review.")
    );
    assert_eq!(layout.questions[1].answer, "");
}

#[test]
fn caiq_v4_headers_pick_the_implementation_description_as_comment() {
    let g = grid(
        "CAIQv4.0.3",
        &[
            &["Consensus Assessments Initiative Questionnaire v4.0.3"],
            &[],
            &[
                "Question ID",
                "Question",
                "CSP CAIQ Answer",
                "SSRM Control Ownership",
                "CSP Implementation Description (Optional/Recommended)",
                "CSC Responsibilities (Optional/Recommended)",
            ],
            &[
                "A&A-01.1",
                "Are audit and assurance policies established?",
                "",
                "",
                "",
                "",
            ],
            &[
                "A&A-01.2",
                "Are audit and assurance policies reviewed annually?",
                "",
                "",
                "",
                "",
            ],
            &[
                "A&A-02.1",
                "Are independent audit and assurance assessments conducted?",
                "",
                "",
                "",
                "",
            ],
        ],
    );
    let layout = detect(&g, &[], &Overrides::default()).expect("a questionnaire");
    assert_eq!(layout.header_row, Some(2));
    assert_eq!(
        (
            layout.id_col,
            layout.question_col,
            layout.answer_col,
            layout.comment_col
        ),
        (Some(0), 1, Some(2), Some(4))
    );
    assert_eq!(layout.questions.len(), 3);
}

#[test]
fn header_below_a_title_block_with_section_rows() {
    let g = grid(
        "Security",
        &[
            &["Acme Corp — Vendor Security Assessment"],
            &["Version 2.1", "", "Confidential"],
            &[],
            &["Instructions: answer every question in column C and explain in column D."],
            &["Vendor name:", "", ""],
            &[],
            &["#", "Security Question", "Response", "Comments"],
            &["1.0", "Governance"],
            &["1.1", "Do you have an information security policy?", "", ""],
            &[
                "1.2",
                "Describe how the policy is reviewed and approved.",
                "",
                "",
            ],
            &["2.0", "Access Control", "", ""],
            &[
                "2.1",
                "Is multi-factor authentication enforced for administrators?",
                "",
                "",
            ],
            &[
                "2.2",
                "Provide your password policy.",
                "Yes",
                "See attached",
            ],
            &["", "Note: Please return the completed file to procurement."],
        ],
    );
    let layout = detect(&g, &[], &Overrides::default()).expect("a questionnaire");
    assert_eq!(layout.header_row, Some(6));
    assert_eq!(
        (
            layout.id_col,
            layout.question_col,
            layout.answer_col,
            layout.comment_col
        ),
        (Some(0), 1, Some(2), Some(3))
    );
    assert_eq!(
        texts(&layout),
        [
            "Do you have an information security policy?",
            "Describe how the policy is reviewed and approved.",
            "Is multi-factor authentication enforced for administrators?",
            "Provide your password policy.",
        ]
    );
    assert_eq!(layout.questions[0].row, 8);
    assert!(layout.answer_choices.is_empty());
}

#[test]
fn merged_section_rows_and_requirement_statements() {
    let mut g = grid(
        "Requirements",
        &[
            &["Ref", "Requirement", "Compliance (Yes/No)", "Explanation"],
            &["", "Data Protection", "", ""],
            &[
                "DP-1",
                "The supplier shall encrypt customer data at rest.",
                "",
                "",
            ],
            &[
                "DP-2",
                "The supplier must encrypt data in transit with TLS 1.2 or later.",
                "",
                "",
            ],
            &["", "Business Continuity", "", ""],
            &[
                "BC-1",
                "The supplier shall test its recovery plan every year.",
                "",
                "",
            ],
        ],
    );
    // Section titles merged across the whole table.
    g.merged = vec![(1, 1, 1, 3), (4, 1, 4, 3)];
    let layout = detect(&g, &[], &Overrides::default()).expect("a questionnaire");
    assert_eq!(
        (layout.question_col, layout.answer_col, layout.comment_col),
        (1, Some(2), Some(3))
    );
    let ids: Vec<_> = layout.questions.iter().map(|q| q.id.as_deref()).collect();
    assert_eq!(ids, [Some("DP-1"), Some("DP-2"), Some("BC-1")]);
}

#[test]
fn question_column_found_from_content_without_headers() {
    let g = grid(
        "Sheet1",
        &[
            &["1", "Do you encrypt customer data at rest?", ""],
            &["2", "Do you run annual penetration tests?", ""],
            &["3", "Explain your incident response process.", ""],
            &["4", "Are backups tested quarterly?", "Yes"],
            &["5", "Is access reviewed every quarter?", "No"],
        ],
    );
    let layout = detect(&g, &[], &Overrides::default()).expect("a questionnaire");
    assert_eq!(layout.header_row, None);
    assert_eq!(
        (layout.id_col, layout.question_col, layout.answer_col),
        (Some(0), 1, Some(2))
    );
    assert_eq!(layout.questions.len(), 5);
}

#[test]
fn sheets_without_a_questionnaire_give_none() {
    let sales = grid(
        "Sales",
        &[
            &["Region", "Quarter", "Revenue", "Units"],
            &["EMEA", "Q1", "120000", "340"],
            &["APAC", "Q1", "98000", "211"],
            &["AMER", "Q1", "240000", "640"],
        ],
    );
    assert_eq!(detect(&sales, &[], &Overrides::default()), None);
    let readme = grid(
        "Instructions",
        &[
            &["How to complete this questionnaire"],
            &["Answer each question on the Security tab."],
            &["Return the file to your account manager."],
        ],
    );
    assert_eq!(detect(&readme, &[], &Overrides::default()), None);
    assert_eq!(
        detect(&grid("Empty", &[]), &[], &Overrides::default()),
        None
    );
}

#[test]
fn hidden_and_reviewer_sheets_need_to_be_named() {
    let rows: &[&[&str]] = &[
        &["ID", "Question", "Answer"],
        &["Q1", "Do you encrypt data at rest?", ""],
        &["Q2", "Do you encrypt data in transit?", ""],
    ];
    let mut hidden = grid("Backend", rows);
    hidden.hidden = true;
    assert_eq!(detect(&hidden, &[], &Overrides::default()), None);
    let named = Overrides {
        sheets: vec!["backend".into()],
        ..Overrides::default()
    };
    assert_eq!(
        detect(&hidden, &[], &named).map(|l| l.questions.len()),
        Some(2)
    );

    let analyst = grid("Analyst Evaluation", rows);
    assert_eq!(detect(&analyst, &[], &Overrides::default()), None);

    // Naming sheets also excludes the others.
    let other = grid("Security", rows);
    assert_eq!(detect(&other, &[], &named), None);
}

#[test]
fn several_question_sheets_each_get_a_layout() {
    let a = grid(
        "Org",
        &[
            &["Question", "Answer"],
            &["Do you have a CISO?", ""],
            &["Do you train staff yearly?", ""],
        ],
    );
    let b = grid(
        "Product",
        &[&["Question", "Answer"], &["Do you support SSO?", ""]],
    );
    let layouts: Vec<_> = [a, b]
        .iter()
        .filter_map(|g| detect(g, &[], &Overrides::default()))
        .map(|l| (l.sheet, l.questions.len()))
        .collect();
    assert_eq!(
        layouts,
        [("Org".to_string(), 2), ("Product".to_string(), 1)]
    );
}

#[test]
fn overrides_win_over_detection() {
    let g = grid(
        "Sheet1",
        &[
            &["Title row"],
            &["Item", "Topic", "Reply", "Why", "Extra"],
            &["a", "Do you log admin access?", "", "", ""],
            &["b", "Do you rotate keys?", "", "", ""],
        ],
    );
    let overrides = Overrides {
        sheets: Vec::new(),
        question_col: col_index("B"),
        answer_col: col_index("E"),
        comment_col: col_index("D"),
        header_row: Some(1),
    };
    let layout = detect(&g, &[], &overrides).expect("a layout");
    assert_eq!(layout.header_row, Some(1));
    assert_eq!(
        (layout.question_col, layout.answer_col, layout.comment_col),
        (1, Some(4), Some(3))
    );
    assert_eq!(
        texts(&layout),
        ["Do you log admin access?", "Do you rotate keys?"]
    );
}

#[test]
fn answer_column_from_a_dropdown_alone() {
    let g = grid(
        "Q",
        &[
            &["Control", "", ""],
            &["Do you scan for vulnerabilities weekly?", "", ""],
            &["Do you patch critical issues in 7 days?", "", ""],
            &["Do you have a bug bounty?", "", ""],
        ],
    );
    let layout = detect(&g, &[yes_no(1, 3, 2)], &Overrides::default()).expect("a layout");
    assert_eq!((layout.question_col, layout.answer_col), (0, Some(2)));
    assert_eq!(layout.answer_choices, ["Yes", "No", "NA"]);
}

#[test]
fn column_letters_round_trip() {
    assert_eq!(col_index("A"), Some(0));
    assert_eq!(col_index("z"), Some(25));
    assert_eq!(col_index("AA"), Some(26));
    assert_eq!(col_index("XFD"), Some(16_383));
    assert_eq!(col_index("XFE"), None);
    assert_eq!(col_index(""), None);
    assert_eq!(col_index("A1"), None);
    for i in [0, 25, 26, 51, 52, 701, 702, 16_383] {
        assert_eq!(col_index(&col_letters(i)), Some(i), "{i}");
    }
    assert_eq!(col_letters(27), "AB");
}
