//! `onrecord init`: the files of a starter record that passes `check`, to be edited into the
//! company's own: a profile, one knowledge file with one control, the mappings and a
//! thesaurus. This module gives their paths and text; `outputs` writes them.

use crate::record::Date;

/// The files of a starter record, as (path relative to the record root, text); `today` dates
/// the example control's review.
pub fn starter(today: Date) -> Vec<(&'static str, String)> {
    vec![
        (crate::profile::PROFILE_TOML, PROFILE.to_string()),
        (
            "knowledge/identity.toml",
            KNOWLEDGE.replace("REVIEWED", &today.to_string()),
        ),
        (crate::record::CONTROLS_CSV, CONTROLS.to_string()),
        (crate::record::CUEC_CSV, CUEC.to_string()),
        (crate::record::THESAURUS_TXT, THESAURUS.to_string()),
    ]
}

const PROFILE: &str = r#"# The facts forms ask for (README, "profile.toml"). Form fields such as "Solution Provider
# Name" or "Contact Email" are filled from here; a field whose key is absent stays empty.
# Every key is optional: uncomment and fill in the ones you have.

[company]
# name = "Example, Inc."
# website = "https://example.com"
# headquarters = "United States"
# locations = ["New York, United States"]

[product]
# name = "Example"
# description = "What the product does, in a sentence or two."

[contact]
# name = "Who answers questionnaires"
# title = "Head of Security"
# email = "security@example.com"
# phone = "+1 555 0100"

[security]
# email = "security@example.com"

[privacy]
# email = "privacy@example.com"

[data]
# locations = ["United States (AWS us-east-1)"]
# hosting = ["Amazon Web Services"]

[compliance]
# certifications = ["SOC 2 Type II"]
"#;

const KNOWLEDGE: &str = r#"# Control statements (README, "knowledge/*.toml"). One [[control]] per practice: what you
# do, in one to three sentences, and its answer. Record what you do not do as honestly
# (answer = "no"): it answers "no" with a citation instead of leaving a gap.

[[control]]
id = "IAM-01"
title = "Multi-factor authentication for staff"
answer = "yes"
statement = "Every employee and contractor signs in to company systems through our identity provider with multi-factor authentication; SMS codes are not accepted."
owner = "company"
area = "Identity and access"
evidence = ["Identity provider MFA policy"]
reviewed = REVIEWED
questions = [
  "Is multi-factor authentication required for all employees?",
  { q = "Can staff sign in with a password alone?", answer = "no" },
]
keywords = ["MFA", "2FA"]
"#;

const CONTROLS: &str = "control,soc2,iso27001,cuec\nIAM-01,CC6.1,A.8.5;A.5.17,\n";

const CUEC: &str = "id,area,responsibility\n";

const THESAURUS: &str = "# The record's own thesaurus lines (README, \"The thesaurus\"): `term | term` for words\n\
# that mean the same. The names the company goes by come from profile.toml when no line\n\
# here starts with `we |`.\n";
