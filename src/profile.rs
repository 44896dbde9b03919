//! The company profile (`profile.toml` at the record root): the facts forms ask for, such as
//! company and product names, website, headquarters, contacts, data locations and
//! certifications held. A form field ("Solution Provider Name", "Contact Email") is filled from
//! it, or left empty when it has no value, and never gets a control proposed.
//!
//! Every key is optional. A value is a string, or a list of strings (written joined with
//! `; `). Unknown tables and keys are warnings with a did-you-mean; a value of another type is
//! an error. Any table may also say who may read its values on a published trust page
//! (`visibility = "public" | "nda" | "internal"`, default `public`).

use std::collections::BTreeMap;

use toml::de::{DeTable, DeValue};

use crate::diag::{Diagnostic, Lines, Suggester};
use crate::record::{Visibility, question_key};

pub const PROFILE_TOML: &str = "profile.toml";

/// The keys a profile may hold, as `table.key`, with what each is.
pub const KEYS: [(&str, &str); 16] = [
    ("company.name", "the company's name"),
    ("company.website", "its website"),
    ("company.headquarters", "the country of its headquarters"),
    ("company.locations", "where its staff work"),
    (
        "product.name",
        "the product or service the questionnaire is about",
    ),
    ("product.description", "what it does, in a sentence or two"),
    ("contact.name", "who answers questionnaires"),
    ("contact.title", "their role"),
    ("contact.email", "their email"),
    ("contact.phone", "their phone number"),
    ("security.email", "where to report security issues"),
    ("privacy.email", "the privacy or data protection contact"),
    ("data.locations", "where customer data is stored"),
    ("data.hosting", "the hosting providers"),
    (
        "compliance.certifications",
        "certifications and attestations held",
    ),
    (
        "compliance.not_held",
        "certifications and attestations customers ask about that are not held",
    ),
];

/// The key any table may hold besides its values: who may read them on a published page.
pub const VISIBILITY_KEY: &str = "visibility";

/// A loaded profile: `table.key` → its text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    values: BTreeMap<String, String>,
    /// Table name → its `visibility`, when it has one.
    visibility: BTreeMap<String, Visibility>,
}

impl Profile {
    /// The value of `table.key`, when the profile has a non-empty one.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// The values of `table.key` when it is a list (or the one value).
    pub fn list(&self, key: &str) -> Vec<String> {
        self.get(key)
            .map(|v| {
                v.split("; ")
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Who may read `table.key` on a published page: its table's `visibility`, else public.
    pub fn visibility(&self, key: &str) -> Visibility {
        let table = key.split('.').next().unwrap_or(key);
        self.visibility.get(table).copied().unwrap_or_default()
    }

    /// The names the company and its product go by, as a thesaurus line gives them
    /// (`we | payvane`): lowercase, without a legal suffix such as `, Inc.`.
    pub fn names(&self) -> Vec<String> {
        let mut names = Vec::new();
        for key in ["company.name", "product.name"] {
            if let Some(name) = self.get(key) {
                let name = strip_legal_suffix(name).to_lowercase();
                let name: String = name
                    .chars()
                    .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-')
                    .collect();
                let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
                if !name.is_empty() && !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        names
    }
}

/// The record's own thesaurus text with a line of the company's names from the profile
/// (`we | payvane`), when the thesaurus has no such line of its own.
pub fn with_company_line(thesaurus: &str, profile: &Profile) -> String {
    let has_line = thesaurus.lines().any(|l| {
        l.split('|')
            .next()
            .is_some_and(|first| first.trim() == "we")
    });
    let names = profile.names();
    if has_line || names.is_empty() {
        return thesaurus.to_string();
    }
    let mut text = thesaurus.to_string();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!("we | {}\n", names.join(" | ")));
    text
}

fn strip_legal_suffix(name: &str) -> &str {
    const SUFFIXES: [&str; 12] = [
        ", inc.", ", inc", " inc.", " inc", ", llc", " llc", ", ltd.", " ltd.", " ltd", " gmbh",
        " s.a.", " b.v.",
    ];
    let lower = name.to_lowercase();
    for suffix in SUFFIXES {
        if lower.ends_with(suffix) {
            return name[..name.len() - suffix.len()].trim();
        }
    }
    name.trim()
}

/// Parses `profile.toml`, reporting every problem.
pub fn parse(text: &str, diagnostics: &mut Vec<Diagnostic>) -> Profile {
    let lines = Lines::new(text);
    let document = match DeTable::parse(text) {
        Ok(document) => document,
        Err(err) => {
            let line = err.span().map(|s| lines.line_of(s.start)).unwrap_or(0);
            diagnostics.push(
                Diagnostic::error(
                    PROFILE_TOML,
                    line,
                    format!("TOML syntax error: {}", err.message().trim()),
                )
                .with_hint(Some(
                    "tables such as [company] of keys such as name = \"...\"".into(),
                )),
            );
            return Profile::default();
        }
    };
    let tables: Vec<&str> = KEYS
        .iter()
        .filter_map(|(k, _)| k.split('.').next())
        .collect();
    let keys = Suggester::new(KEYS.iter().map(|(k, _)| *k));
    let table_names = Suggester::new(tables.iter().copied());
    let mut values = BTreeMap::new();
    let mut visibility = BTreeMap::new();
    for (name, value) in document.get_ref().iter() {
        let at = lines.line_of(name.span().start);
        let name: &str = name.get_ref();
        let DeValue::Table(inner) = value.get_ref() else {
            diagnostics.push(
                Diagnostic::error(
                    PROFILE_TOML,
                    at,
                    format!("`{name}` must be a table such as [{name}]"),
                )
                .with_hint(table_names.suggest(name)),
            );
            continue;
        };
        if !tables.contains(&name) {
            diagnostics.push(
                Diagnostic::warning(PROFILE_TOML, at, format!("unknown table [{name}]")).with_hint(
                    table_names
                        .suggest(name)
                        .or_else(|| Some(format!("tables: {}", dedup(&tables).join(", ")))),
                ),
            );
            continue;
        }
        for (key, value) in inner.iter() {
            let line = lines.line_of(key.span().start);
            let key: &str = key.get_ref();
            let full = format!("{name}.{key}");
            if key == VISIBILITY_KEY {
                let given = match value.get_ref() {
                    DeValue::String(s) => Visibility::parse(s),
                    _ => None,
                };
                match given {
                    Some(v) => {
                        visibility.insert(name.to_string(), v);
                    }
                    None => diagnostics.push(
                        Diagnostic::error(
                            PROFILE_TOML,
                            line,
                            format!("`{full}` must be \"public\", \"nda\" or \"internal\""),
                        )
                        .with_hint(Some(
                            "visibility = \"public\" | \"nda\" | \"internal\"".into(),
                        )),
                    ),
                }
                continue;
            }
            if !KEYS.iter().any(|(k, _)| *k == full) {
                diagnostics.push(
                    Diagnostic::warning(PROFILE_TOML, line, format!("unknown key `{full}`"))
                        .with_hint(keys.suggest(&full)),
                );
                continue;
            }
            let strings = |items: &[toml::Spanned<DeValue>]| -> Option<Vec<String>> {
                items
                    .iter()
                    .map(|i| match i.get_ref() {
                        DeValue::String(s) => Some(s.trim().to_string()),
                        _ => None,
                    })
                    .collect()
            };
            let text = match value.get_ref() {
                DeValue::String(s) => Some(s.trim().to_string()),
                DeValue::Array(items) => strings(items).map(|all| all.join("; ")),
                _ => None,
            };
            let Some(text) = text else {
                diagnostics.push(
                    Diagnostic::error(
                        PROFILE_TOML,
                        line,
                        format!("`{full}` must be a string or a list of strings"),
                    )
                    .with_hint(Some(format!("{key} = \"...\""))),
                );
                continue;
            };
            values.insert(full, text);
        }
    }
    Profile { values, visibility }
}

fn dedup<'a>(items: &[&'a str]) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for item in items {
        if !out.contains(item) {
            out.push(item);
        }
    }
    out
}

/// Words a form field's label holds (all of them) → the profile key it asks for. Read in
/// order: the more specific first.
const LABELS: &[(&[&str], &str)] = &[
    (&["contact", "email"], "contact.email"),
    (&["contact", "phone"], "contact.phone"),
    (&["contact", "title"], "contact.title"),
    (&["contact", "name"], "contact.name"),
    (&["security", "contact"], "security.email"),
    (&["privacy", "contact"], "privacy.email"),
    (&["data", "protection", "officer"], "privacy.email"),
    (&["headquarters"], "company.headquarters"),
    (&["work", "locations"], "company.locations"),
    (&["employee", "locations"], "company.locations"),
    (&["office", "locations"], "company.locations"),
    (&["data", "locations"], "data.locations"),
    (&["hosting", "locations"], "data.locations"),
    (&["hosting", "provider"], "data.hosting"),
    (&["certifications"], "compliance.certifications"),
    (&["website"], "company.website"),
    (&["url"], "company.website"),
    (&["description"], "product.description"),
    (&["provider", "name"], "company.name"),
    (&["company", "name"], "company.name"),
    (&["vendor", "name"], "company.name"),
    (&["supplier", "name"], "company.name"),
    (&["solution", "name"], "product.name"),
    (&["product", "name"], "product.name"),
    (&["application", "name"], "product.name"),
    (&["service", "name"], "product.name"),
];

/// Whether `text` is laid out as a form field: a few words, no question mark (`Solution
/// Provider Name`, `Contact Email`, `The name of the application:`).
fn is_form_field(text: &str) -> bool {
    let text = text.trim();
    !text.contains('?') && text.split_whitespace().count() <= 8 && !text.ends_with('.')
}

/// The profile key a form field asks for, when `text` is a form field the profile knows.
pub fn field_for(text: &str) -> Option<&'static str> {
    if !is_form_field(text) {
        return None;
    }
    let key = question_key(text);
    let words: Vec<&str> = key.split(' ').collect();
    LABELS
        .iter()
        .find(|(need, _)| need.iter().all(|w| words.contains(w)))
        .map(|(_, key)| *key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_are_told_from_questions() {
        let cases = [
            ("Solution Provider Name", Some("company.name")),
            ("Solution Name", Some("product.name")),
            ("Solution Description", Some("product.description")),
            ("Solution Provider Contact Name", Some("contact.name")),
            ("Solution Provider Contact Title", Some("contact.title")),
            ("Solution Provider Contact Email", Some("contact.email")),
            (
                "Solution Provider Contact Phone Number",
                Some("contact.phone"),
            ),
            (
                "Country of Company Headquarters",
                Some("company.headquarters"),
            ),
            ("Employee Work Locations (all)", Some("company.locations")),
            ("The name of the application:", Some("product.name")),
            ("A brief description:", Some("product.description")),
            ("Company website", Some("company.website")),
            ("Do you have a website?", None),
            ("DPO name", None),
            ("Is customer data encrypted at rest?", None),
            ("Encryption at rest", None),
            ("Describe your incident response process.", None),
        ];
        for (text, want) in cases {
            assert_eq!(field_for(text), want, "{text:?}");
        }
    }

    #[test]
    fn profiles_report_unknown_keys_and_bad_values() {
        let mut diagnostics = Vec::new();
        let profile = parse(
            "[company]\nname = \"Payvane, Inc.\"\nwebsit = \"x\"\n\n[data]\nlocations = [\"US\", \"EU\"]\nhosting = 3\n",
            &mut diagnostics,
        );
        assert_eq!(profile.get("company.name"), Some("Payvane, Inc."));
        assert_eq!(profile.get("data.locations"), Some("US; EU"));
        assert_eq!(profile.names(), vec!["payvane".to_string()]);
        let messages: Vec<String> = diagnostics
            .iter()
            .map(|d| format!("{}: {}", d.line, d.message))
            .collect();
        assert_eq!(
            messages,
            vec![
                "3: unknown key `company.websit`".to_string(),
                "7: `data.hosting` must be a string or a list of strings".to_string(),
            ]
        );
    }
}
