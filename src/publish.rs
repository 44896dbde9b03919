//! `publish`: the record as a trust page. [`page`] turns a record into a [`TrustPage`] (plain
//! data: what one audience may read, nothing else); [`render_html`] and [`render_json`] turn
//! that into the bytes of `index.html` and `trust.json`, so the two always say the same.
//!
//! Invariants: nothing whose visibility is narrower than the audience reaches the page (the
//! page is built from a copy of the record holding only what the audience may read, so no
//! later step can leak); framework support is computed by [`crate::gaps`], as `gaps` shows
//! it; the bytes depend only on the record (the date shown is the latest `reviewed` date,
//! never the clock); the HTML is self-contained (inline CSS, no script, no external
//! resource). minijinja is used from this module only; its templates are `src/publish/*`,
//! compiled in, with HTML autoescaping on.

use anyhow::{Context, Result};
use serde::Serialize;

use crate::catalog::{self, Catalog, Entry};
use crate::gaps::{self, Support};
use crate::record::{Answer, Control, Owner, Record, Visibility};

const PAGE_HTML: &str = include_str!("publish/page.html");
const STYLE_CSS: &str = include_str!("publish/style.css");

/// What the generated files carry so that a later run knows them as its own.
pub const GENERATOR: &str = "onrecord publish";

/// The sentence every page ends its honest line with.
pub const NOT_LISTED: &str = "Anything not listed on this page is not on the record.";

/// Who a page is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    /// Anyone: only `public` content.
    Public,
    /// Customers under NDA: `public` and `nda` content, never `internal`.
    Nda,
}

impl Audience {
    pub fn shows(self, visibility: Visibility) -> bool {
        match self {
            Audience::Public => visibility == Visibility::Public,
            Audience::Nda => visibility <= Visibility::Nda,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct TrustPage {
    pub generator: &'static str,
    pub audience: Audience,
    /// The latest `reviewed` date of the controls shown.
    pub reviewed: Option<String>,
    pub header: Header,
    pub areas: Vec<Area>,
    pub matrix: Vec<MatrixRow>,
    pub providers: Vec<crate::providers::Provider>,
    pub frameworks: Vec<Framework>,
    pub pre_answers: Vec<PreAnswer>,
    pub honest: Honest,
}

#[derive(Debug, Serialize)]
pub struct Header {
    pub company: String,
    pub product: Option<String>,
    pub description: Option<String>,
    pub website: Option<Link>,
    pub headquarters: Option<String>,
    pub data_locations: Vec<String>,
    pub hosting: Vec<String>,
    pub contacts: Vec<Contact>,
}

#[derive(Debug, Serialize)]
pub struct Link {
    pub text: String,
    pub href: String,
}

#[derive(Debug, Serialize)]
pub struct Contact {
    pub label: String,
    pub text: String,
    /// `mailto:` for an email address, else none.
    pub href: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Area {
    pub name: String,
    pub controls: Vec<Line>,
}

/// One control as the page shows it.
#[derive(Debug, Serialize)]
pub struct Line {
    pub id: String,
    pub title: String,
    pub answer: Answer,
    pub statement: String,
    pub owner: Owner,
    pub providers: Vec<String>,
    pub soc2: Vec<String>,
    pub iso27001: Vec<String>,
    pub evidence: Vec<String>,
}

/// One row of the shared-responsibility matrix.
#[derive(Debug, Serialize)]
pub struct MatrixRow {
    pub area: String,
    pub provider: Vec<Part>,
    pub company: Vec<Part>,
    pub customer: Vec<Part>,
}

#[derive(Debug, Serialize)]
pub struct Part {
    pub text: String,
    /// The control or CUEC id it comes from.
    pub cite: String,
    /// Who operates it, for a provider's or a shared control.
    pub by: Vec<String>,
    /// A `shared` control: the company does it together with `by`.
    pub shared: bool,
}

#[derive(Debug, Serialize)]
pub struct Framework {
    pub key: String,
    pub name: String,
    pub summary: Vec<CategorySummary>,
    pub entries: Vec<Aligned>,
}

#[derive(Debug, Serialize)]
pub struct CategorySummary {
    pub category: String,
    pub entries: usize,
    pub covered: usize,
    pub partly: usize,
    pub not_covered: usize,
    pub out_of_scope: usize,
    /// `full`, `partial`, `none` or `out of scope`.
    pub level: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Aligned {
    pub id: String,
    pub title: String,
    pub category: String,
    pub support: Support,
    pub controls: Vec<Cite>,
    pub evidence: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Cite {
    pub id: String,
    pub title: String,
    pub answer: Answer,
}

#[derive(Debug, Serialize)]
pub struct PreAnswer {
    pub question: String,
    pub answer: Answer,
    /// The control's statement: the answer in words, as `fill` writes it.
    pub statement: String,
    pub control: Cite,
}

#[derive(Debug, Serialize)]
pub struct Honest {
    pub certifications_held: Vec<String>,
    pub certifications_not_held: Vec<String>,
    /// Controls answered `no` (a control's answer answers its title asked as a question).
    pub answered_no: Vec<Cite>,
    pub answered_partial: Vec<Cite>,
    /// Framework categories no control shown covers, e.g. `SOC 2 Privacy (P)`.
    pub not_covered: Vec<String>,
    pub closing: &'static str,
}

/// The page `audience` may read, built from `record`.
pub fn page(record: &Record, audience: Audience) -> TrustPage {
    // Everything below reads this copy only: what the audience may not read is not in it.
    let mut visible = record.clone();
    visible.controls.retain(|c| audience.shows(c.visibility));
    visible.providers.retain(|p| audience.shows(p.visibility));
    let record = &visible;
    let cite = |c: &Control| Cite {
        id: c.id.clone(),
        title: c.title.clone(),
        answer: c.answer,
    };
    TrustPage {
        generator: GENERATOR,
        audience,
        reviewed: record
            .controls
            .iter()
            .filter_map(|c| c.reviewed)
            .max()
            .map(|d| d.to_string()),
        header: header(record, audience),
        areas: areas(record),
        matrix: matrix(record),
        providers: record.providers.clone(),
        frameworks: [catalog::SOC2, catalog::ISO27001]
            .iter()
            .filter_map(|key| record.catalog(key))
            .map(|c| framework(record, c))
            .collect(),
        pre_answers: record
            .controls
            .iter()
            .flat_map(|c| {
                c.authored_questions().map(move |q| PreAnswer {
                    question: q.text.clone(),
                    answer: q.answer.unwrap_or(c.answer),
                    statement: c.statement.clone(),
                    control: cite(c),
                })
            })
            .collect(),
        honest: Honest {
            certifications_held: shown_list(record, audience, "compliance.certifications"),
            certifications_not_held: shown_list(record, audience, "compliance.not_held"),
            answered_no: record
                .controls
                .iter()
                .filter(|c| c.answer == Answer::No)
                .map(cite)
                .collect(),
            answered_partial: record
                .controls
                .iter()
                .filter(|c| c.answer == Answer::Partial)
                .map(cite)
                .collect(),
            not_covered: Vec::new(),
            closing: NOT_LISTED,
        },
    }
    .with_not_covered()
}

impl TrustPage {
    fn with_not_covered(mut self) -> TrustPage {
        self.honest.not_covered = self
            .frameworks
            .iter()
            .flat_map(|f| {
                f.summary
                    .iter()
                    .filter(|s| s.level == "none")
                    .map(move |s| format!("{} {}", f.name, s.category))
            })
            .collect();
        self
    }
}

fn shown(record: &Record, audience: Audience, key: &str) -> Option<String> {
    let profile = &record.profile;
    audience
        .shows(profile.visibility(key))
        .then(|| profile.get(key).map(String::from))
        .flatten()
}

fn shown_list(record: &Record, audience: Audience, key: &str) -> Vec<String> {
    match audience.shows(record.profile.visibility(key)) {
        true => record.profile.list(key),
        false => Vec::new(),
    }
}

fn header(record: &Record, audience: Audience) -> Header {
    let get = |key: &str| shown(record, audience, key);
    let mut contacts = Vec::new();
    let contact_name = [get("contact.name"), get("contact.title")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    for (key, label) in [
        ("contact.email", "Security questionnaires"),
        ("contact.phone", "Phone"),
        ("security.email", "Report a vulnerability"),
        ("privacy.email", "Privacy"),
    ] {
        if let Some(value) = get(key) {
            let label = match key {
                "contact.email" if !contact_name.is_empty() => format!("{label} ({contact_name})"),
                _ => label.to_string(),
            };
            let href = (value.contains('@') && !value.contains(char::is_whitespace))
                .then(|| format!("mailto:{value}"));
            contacts.push(Contact {
                label,
                text: value,
                href,
            });
        }
    }
    Header {
        company: get("company.name")
            .or_else(|| get("product.name"))
            .unwrap_or_else(|| "Trust page".into()),
        product: get("product.name"),
        description: get("product.description"),
        // Only a web address becomes a link; anything else is shown as text.
        website: get("company.website").map(|url| Link {
            text: url
                .trim_start_matches("https://")
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .to_string(),
            href: if url.starts_with("https://") || url.starts_with("http://") {
                url
            } else {
                String::new()
            },
        }),
        headquarters: get("company.headquarters"),
        data_locations: shown_list(record, audience, "data.locations"),
        hosting: shown_list(record, audience, "data.hosting"),
        contacts,
    }
}

/// The section a knowledge file's controls are shown in: the `area` most of its controls
/// name (the first of equals), else the file's name (`people.toml` → People). A knowledge
/// file is one area of the security overview; `area` on single controls still places them in
/// the shared-responsibility matrix.
fn section_of(record: &Record, path: &str) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for area in record
        .controls
        .iter()
        .filter(|c| c.source.path == path)
        .filter_map(|c| c.area.as_deref())
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        match counts.iter_mut().find(|(a, _)| *a == area) {
            Some(entry) => entry.1 += 1,
            None => counts.push((area, 1)),
        }
    }
    let mut best: Option<(&str, usize)> = None;
    for (area, n) in counts {
        if best.is_none_or(|(_, m)| n > m) {
            best = Some((area, n));
        }
    }
    if let Some((area, _)) = best {
        return area.to_string();
    }
    let stem = std::path::Path::new(path)
        .file_stem()
        .map(|s| s.to_string_lossy().replace(['-', '_'], " "))
        .unwrap_or_default();
    let mut chars = stem.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "Other".into(),
    }
}

fn line(record: &Record, c: &Control) -> Line {
    let refs = |key: &str| {
        record
            .mapping(&c.id)
            .map(|m| m.get(key).to_vec())
            .unwrap_or_default()
    };
    Line {
        id: c.id.clone(),
        title: c.title.clone(),
        answer: c.answer,
        statement: c.statement.clone(),
        owner: c.owner,
        providers: c.providers.clone(),
        soc2: refs(catalog::SOC2),
        iso27001: refs(catalog::ISO27001),
        evidence: c.evidence.clone(),
    }
}

/// Sections in the order their first control appears in the record.
fn areas(record: &Record) -> Vec<Area> {
    let mut areas: Vec<Area> = Vec::new();
    for c in &record.controls {
        let name = section_of(record, &c.source.path);
        let at = match areas.iter().position(|a| a.name == name) {
            Some(at) => at,
            None => {
                areas.push(Area {
                    name,
                    controls: Vec::new(),
                });
                areas.len() - 1
            }
        };
        areas[at].controls.push(line(record, c));
    }
    areas
}

/// One row per `area` named by a control or a CUEC row: controls' areas first, in record
/// order, then the CUEC file's.
fn matrix(record: &Record) -> Vec<MatrixRow> {
    let cuecs: &[Entry] = record
        .catalog(catalog::CUEC)
        .map(|c| c.entries.as_slice())
        .unwrap_or(&[]);
    let mut names: Vec<String> = Vec::new();
    let named = record
        .controls
        .iter()
        .filter_map(|c| c.area.as_deref())
        .chain(cuecs.iter().map(|e| e.group.as_str()));
    for name in named.map(str::trim).filter(|n| !n.is_empty()) {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    names
        .into_iter()
        .map(|area| {
            let in_area = |owners: &[Owner]| -> Vec<Part> {
                record
                    .controls
                    .iter()
                    .filter(|c| c.area.as_deref().map(str::trim) == Some(area.as_str()))
                    .filter(|c| owners.contains(&c.owner))
                    .map(|c| Part {
                        text: c.statement.clone(),
                        cite: c.id.clone(),
                        by: match c.owner {
                            Owner::Provider | Owner::Shared => c.providers.clone(),
                            _ => Vec::new(),
                        },
                        shared: c.owner == Owner::Shared,
                    })
                    .collect()
            };
            let mut customer = in_area(&[Owner::Customer]);
            customer.extend(
                cuecs
                    .iter()
                    .filter(|e| e.group.trim() == area)
                    .map(|e| Part {
                        text: e.title.clone(),
                        cite: e.id.clone(),
                        by: Vec::new(),
                        shared: false,
                    }),
            );
            MatrixRow {
                provider: in_area(&[Owner::Provider]),
                company: in_area(&[Owner::Company, Owner::Shared]),
                customer,
                area,
            }
        })
        .collect()
}

fn category_name(catalog: &Catalog, category: &str) -> String {
    if catalog.key != catalog::SOC2 {
        return category.to_string();
    }
    let name = match category {
        "CC" => "Security",
        "A" => "Availability",
        "C" => "Confidentiality",
        "PI" => "Processing integrity",
        _ => "Privacy",
    };
    format!("{name} ({category})")
}

fn framework(record: &Record, catalog: &Catalog) -> Framework {
    let coverage = gaps::entry_coverage(record, catalog);
    let mut summary: Vec<CategorySummary> = Vec::new();
    let mut entries = Vec::new();
    for e in &coverage {
        let category = category_name(catalog, gaps::category(catalog, e.entry));
        let at = match summary.iter().position(|s| s.category == category) {
            Some(at) => at,
            None => {
                summary.push(CategorySummary {
                    category: category.clone(),
                    entries: 0,
                    covered: 0,
                    partly: 0,
                    not_covered: 0,
                    out_of_scope: 0,
                    level: "none",
                });
                summary.len() - 1
            }
        };
        let s = &mut summary[at];
        s.entries += 1;
        match e.support {
            Support::Covered => s.covered += 1,
            Support::Partly => s.partly += 1,
            Support::OnlyNo | Support::Uncovered => s.not_covered += 1,
            Support::OutOfScope => s.out_of_scope += 1,
        }
        let mut evidence: Vec<String> = Vec::new();
        for item in e.controls.iter().flat_map(|c| &c.evidence) {
            if !evidence.contains(item) {
                evidence.push(item.clone());
            }
        }
        entries.push(Aligned {
            id: e.entry.id.clone(),
            title: e.entry.title.clone(),
            category,
            support: e.support,
            controls: e
                .controls
                .iter()
                .map(|c| Cite {
                    id: c.id.clone(),
                    title: c.title.clone(),
                    answer: c.answer,
                })
                .collect(),
            evidence,
        });
    }
    for s in &mut summary {
        s.level = if s.out_of_scope == s.entries {
            "out of scope"
        } else if s.covered + s.out_of_scope == s.entries {
            "full"
        } else if s.covered + s.partly == 0 {
            "none"
        } else {
            "partial"
        };
    }
    Framework {
        key: catalog.key.clone(),
        name: catalog.name.clone(),
        summary,
        entries,
    }
}

/// `index.html`: the page as one self-contained HTML document.
pub fn render_html(page: &TrustPage) -> Result<String> {
    let mut env = minijinja::Environment::new();
    // Autoescaping follows the template name: `.html` escapes every value for HTML.
    env.add_template("page.html", PAGE_HTML)
        .context("the built-in page template does not parse")?;
    env.add_template("style.css", STYLE_CSS)
        .context("the built-in style sheet does not parse")?;
    let template = env.get_template("page.html")?;
    template
        .render(minijinja::context! { page => minijinja::Value::from_serialize(page), not_listed => NOT_LISTED })
        .context("could not render the trust page")
}

/// `trust.json`: the same page as data.
pub fn render_json(page: &TrustPage) -> Result<String> {
    let mut text = serde_json::to_string_pretty(page)?;
    text.push('\n');
    Ok(text)
}
