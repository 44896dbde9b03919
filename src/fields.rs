//! What each question's answer field takes: yes/no, one of a list of choices, several of them,
//! free text, a number or a date. Filling writes only what fits the field.
//!
//! Read from, in this order:
//! 1. a type column beside the questions (`type`, `answer type`, `field type`, as VSAQ and
//!    CISA SCRM exports have) with its `choices` column (`A | B | C`);
//! 2. the dropdown (list validation) on the row's answer cell;
//! 3. an answer column that has dropdowns on other rows but none on this one (HECVAT's
//!    General Information rows): free text.
//!
//! Otherwise the field is [`Field::Unknown`], filled as a yes/no question is.

use serde::Serialize;

use crate::questionnaire::{Grid, Layout, ListValidation};
use crate::record::Answer;
use crate::report::spell_answer;

/// What an answer field takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(tag = "type", content = "choices", rename_all = "snake_case")]
pub enum Field {
    /// Nothing says: a yes/no answer with its explanation, as before types were read.
    #[default]
    Unknown,
    /// Yes or No (and perhaps N/A), as the choices spell them (empty: plain words).
    YesNo(Vec<String>),
    /// One of these.
    Choice(Vec<String>),
    /// Any of these.
    Choices(Vec<String>),
    Text,
    Number,
    Date,
}

impl Field {
    /// Whether `Yes`/`No` may be written into the field (as the field spells it).
    pub fn takes_yes_no(&self) -> bool {
        matches!(self, Field::Unknown | Field::YesNo(_))
    }

    /// The field's name in messages and reports.
    pub fn name(&self) -> &'static str {
        match self {
            Field::Unknown => "unknown",
            Field::YesNo(_) => "yes/no",
            Field::Choice(_) => "a choice",
            Field::Choices(_) => "several choices",
            Field::Text => "free text",
            Field::Number => "a number",
            Field::Date => "a date",
        }
    }

    /// The spelling of `answer` among the field's choices, when it takes one.
    pub fn spell(&self, answer: Answer) -> Option<String> {
        match self {
            Field::Unknown => spell_answer(answer, &[]),
            Field::YesNo(choices) | Field::Choice(choices) => spell_answer(answer, choices),
            _ => None,
        }
    }
}

/// Headers of a column that gives each question's answer type.
const TYPE_HEADERS: [&str; 5] = [
    "type",
    "answer type",
    "field type",
    "response type",
    "question type",
];
/// Headers of a column that lists each question's choices.
const CHOICE_HEADERS: [&str; 4] = ["choices", "options", "answer options", "allowed values"];

/// The field of every question of `layout`, in its order.
pub fn fields(grid: &Grid, layout: &Layout, validations: &[ListValidation]) -> Vec<Field> {
    let column = |names: &[&str]| -> Option<u32> {
        let row = layout.header_row?;
        grid.rows
            .get(row as usize)?
            .iter()
            .position(|h| {
                let h = h.trim().to_lowercase();
                names.contains(&h.as_str())
            })
            .map(|c| c as u32)
    };
    let (type_col, choice_col) = (column(&TYPE_HEADERS), column(&CHOICE_HEADERS));
    let answer_has_dropdowns = layout.answer_col.is_some_and(|col| {
        validations
            .iter()
            .any(|v| v.first_col <= col && col <= v.last_col)
    });
    layout
        .questions
        .iter()
        .map(|q| {
            if let Some(col) = type_col {
                let choices = choice_col
                    .map(|c| split_choices(grid.cell(q.row, c)))
                    .unwrap_or_default();
                if let Some(field) = from_type(grid.cell(q.row, col), choices) {
                    return field;
                }
            }
            let Some(answer) = layout.answer_col else {
                return Field::Unknown;
            };
            let dropdown = validations.iter().find(|v| {
                v.first_row <= q.row
                    && q.row <= v.last_row
                    && v.first_col <= answer
                    && answer <= v.last_col
            });
            match dropdown {
                Some(v) => choice_field(v.choices.clone()),
                None if answer_has_dropdowns => Field::Text,
                None => Field::Unknown,
            }
        })
        .collect()
}

/// `Yes | No | N/A` → its choices.
fn split_choices(text: &str) -> Vec<String> {
    text.split('|')
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect()
}

impl Field {
    /// The field a type column's value names (`radiogroup`, `box`, `unique_choice`, ...),
    /// with the row's choices; `None` for a value it does not know.
    pub fn from_type(value: &str, choices: Vec<String>) -> Option<Field> {
        from_type(value, choices)
    }
}

/// A field from a type column's value (`radiogroup`, `checkgroup`, `box`, `line`, `text`,
/// `unique_choice`, `number`, ...); `None` for a value it does not know.
fn from_type(value: &str, choices: Vec<String>) -> Option<Field> {
    let value = value.trim().to_lowercase().replace(['-', ' '], "_");
    Some(match value.as_str() {
        "yes_no" | "yesno" | "boolean" | "bool" => Field::YesNo(choices),
        "radiogroup" | "radio" | "unique_choice" | "single_choice" | "choice" | "select"
        | "dropdown" | "list" => choice_field(choices),
        "checkgroup" | "checkbox" | "checkboxes" | "multiple_choice" | "multi_choice"
        | "multiselect" | "multi_select" => Field::Choices(choices),
        "box" | "line" | "text" | "textarea" | "string" | "free_text" | "freetext" | "comment" => {
            Field::Text
        }
        "number" | "numeric" | "integer" | "decimal" | "percent" | "percentage" => Field::Number,
        "date" | "datetime" => Field::Date,
        _ => return None,
    })
}

/// A list of choices: yes/no when Yes and No are both among them (other choices, such as
/// `N/A` or `Alternate`, may be there too).
fn choice_field(choices: Vec<String>) -> Field {
    let yes = spell_answer(Answer::Yes, &choices).is_some();
    let no = spell_answer(Answer::No, &choices).is_some();
    if yes && no {
        Field::YesNo(choices)
    } else {
        Field::Choice(choices)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn type_columns_name_the_field() {
        let yes_no = strings(&["Yes", "No", "Alternate", "N/A"]);
        assert_eq!(
            from_type("unique_choice", yes_no.clone()),
            Some(Field::YesNo(yes_no))
        );
        let long = strings(&["Yes, we have a published contact.", "No, we don't."]);
        assert_eq!(
            from_type("radiogroup", long.clone()),
            Some(Field::Choice(long))
        );
        assert_eq!(
            from_type("checkgroup", strings(&["SAML 2.0", "OIDC"])),
            Some(Field::Choices(strings(&["SAML 2.0", "OIDC"])))
        );
        assert_eq!(from_type("box", Vec::new()), Some(Field::Text));
        assert_eq!(from_type("Line", Vec::new()), Some(Field::Text));
        assert_eq!(from_type("number", Vec::new()), Some(Field::Number));
        assert_eq!(from_type("Access", Vec::new()), None);
    }

    #[test]
    fn only_yes_no_fields_take_yes_or_no() {
        assert!(Field::Unknown.takes_yes_no());
        assert!(Field::YesNo(strings(&["Y", "N"])).takes_yes_no());
        for field in [
            Field::Choice(strings(&["Annually", "Quarterly"])),
            Field::Choices(strings(&["SAML 2.0"])),
            Field::Text,
            Field::Number,
            Field::Date,
        ] {
            assert!(!field.takes_yes_no(), "{field:?}");
            assert_eq!(field.spell(Answer::Yes), None, "{field:?}");
        }
        assert_eq!(
            Field::YesNo(strings(&["YES", "NO"]))
                .spell(Answer::Yes)
                .as_deref(),
            Some("YES")
        );
    }
}
