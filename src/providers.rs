//! The providers and subprocessors (`providers.toml` at the record root): who operates part
//! of the service, what for, and the certifications they hold. `publish` lists them; a
//! control's `provider` names one of them.
//!
//! Read through serde (`deny_unknown_fields`), so a bad key or type is reported at its line;
//! the checks that span entries (duplicate names, empty text, a control naming a provider the
//! file does not list) are diagnostics of their own.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::diag::{Diagnostic, Lines, did_you_mean};
use crate::record::{Control, Visibility};

pub const PROVIDERS_TOML: &str = "providers.toml";

const HINT: &str = "each entry is a [[provider]] table of name = \"...\", role = \"...\", \
                    certifications = [\"...\"], subprocessor = true|false, location = \"...\", \
                    visibility = \"public\"|\"nda\"|\"internal\"";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Provider {
    pub name: String,
    /// What it does for the service.
    pub role: String,
    pub certifications: Vec<String>,
    /// Whether it processes customer data (a subprocessor), not only supports the company.
    pub subprocessor: bool,
    /// Where it processes data, when the record says.
    pub location: Option<String>,
    #[serde(skip)]
    pub visibility: Visibility,
    #[serde(skip)]
    pub line: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    provider: Vec<Spanned<RawProvider>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    name: String,
    role: String,
    #[serde(default)]
    certifications: Vec<String>,
    #[serde(default = "yes")]
    subprocessor: bool,
    location: Option<String>,
    visibility: Option<Spanned<String>>,
}

fn yes() -> bool {
    true
}

/// Parses `providers.toml`, reporting every problem; entries with an error are left out.
pub fn parse(text: &str, diagnostics: &mut Vec<Diagnostic>) -> Vec<Provider> {
    let lines = Lines::new(text);
    let raw: RawFile = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(err) => {
            let line = err.span().map(|s| lines.line_of(s.start)).unwrap_or(0);
            diagnostics.push(
                Diagnostic::error(
                    PROVIDERS_TOML,
                    line,
                    format!("invalid file: {}", err.message().trim()),
                )
                .with_hint(Some(HINT.into())),
            );
            return Vec::new();
        }
    };
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut providers = Vec::new();
    for entry in raw.provider {
        let line = lines.line_of(entry.span().start);
        let entry = entry.into_inner();
        let mut ok = true;
        let visibility = match &entry.visibility {
            None => Visibility::default(),
            Some(v) => match Visibility::parse(v.get_ref()) {
                Some(v) => v,
                None => {
                    diagnostics.push(
                        Diagnostic::error(
                            PROVIDERS_TOML,
                            lines.line_of(v.span().start),
                            format!("unknown visibility `{}`", v.get_ref()),
                        )
                        .with_hint(Some("visibility is public | nda | internal".into())),
                    );
                    ok = false;
                    Visibility::Internal
                }
            },
        };
        let name = entry.name.trim().to_string();
        if name.is_empty() || entry.role.trim().is_empty() {
            diagnostics.push(
                Diagnostic::error(
                    PROVIDERS_TOML,
                    line,
                    "a provider with an empty name or role",
                )
                .with_hint(Some(
                    "say who it is and what it does for the service".into(),
                )),
            );
            ok = false;
        }
        if let Some(first) = seen.get(&name.to_lowercase()) {
            diagnostics.push(Diagnostic::error(
                PROVIDERS_TOML,
                line,
                format!("duplicate provider `{name}`, first listed on line {first}"),
            ));
            ok = false;
        }
        seen.insert(name.to_lowercase(), line);
        if ok {
            providers.push(Provider {
                name,
                role: entry.role.trim().to_string(),
                certifications: entry
                    .certifications
                    .iter()
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty())
                    .collect(),
                subprocessor: entry.subprocessor,
                location: entry.location.filter(|l| !l.trim().is_empty()),
                visibility,
                line,
            });
        }
    }
    providers
}

/// A warning for each control naming a provider that `providers.toml` does not list.
pub fn check_names(
    controls: &[Control],
    providers: &[Provider],
    diagnostics: &mut Vec<Diagnostic>,
) {
    for control in controls {
        for name in &control.providers {
            if providers.iter().any(|p| p.name.eq_ignore_ascii_case(name)) {
                continue;
            }
            let hint = did_you_mean(name, providers.iter().map(|p| p.name.as_str()))
                .unwrap_or_else(|| {
                    format!("add a [[provider]] named `{name}` to {PROVIDERS_TOML}")
                });
            diagnostics.push(
                Diagnostic::warning(
                    &control.source.path,
                    control.source.line,
                    format!(
                        "control `{}` names provider `{name}`, which {PROVIDERS_TOML} does not list",
                        control.id
                    ),
                )
                .with_hint(Some(hint)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_report_bad_keys_values_and_duplicates() {
        let mut diagnostics = Vec::new();
        let providers = parse(
            "[[provider]]\nname = \"AWS\"\nrole = \"Hosting\"\ncertifications = [\"SOC 2 Type II\"]\n\n\
             [[provider]]\nname = \"Stripe\"\nrole = \"Payments\"\nvisibility = \"secret\"\n\n\
             [[provider]]\nname = \"aws\"\nrole = \"Again\"\n",
            &mut diagnostics,
        );
        assert_eq!(providers.len(), 1);
        assert!(providers[0].subprocessor);
        let messages: Vec<String> = diagnostics
            .iter()
            .map(|d| format!("{}: {}", d.line, d.message))
            .collect();
        assert_eq!(
            messages,
            vec![
                "9: unknown visibility `secret`".to_string(),
                "11: duplicate provider `aws`, first listed on line 1".to_string(),
            ]
        );
        let mut diagnostics = Vec::new();
        parse(
            "[[provider]]\nname = \"AWS\"\nrol = \"x\"\n",
            &mut diagnostics,
        );
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].line, 3, "{:?}", diagnostics[0]);
    }
}
