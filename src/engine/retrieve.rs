//! Matching: which control answers a question, and how sure we are, or that none does.
//!
//! Retrieval is tantivy BM25 over weighted fields. Deciding is ours, because near misses
//! score as high as true matches in BM25 ("tokenize card numbers" against "encrypt data at
//! rest"). A candidate is judged by how much of the question it *explains*: each unit of the
//! question's main clause weighs its rarity in the record (IDF; words the record never uses
//! weigh most, they are the distinctive ask), and the confidence is the weighted share the
//! control covers, blended with how closely one of its own phrasings reads like the question.
//!
//! Matching is a pure function of the record and the question: no I/O, no clock.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use anyhow::Result;
use serde::Serialize;

use super::question::{self, Question};
use crate::catalog;
use crate::index::{SearchIndex, control_text};
use crate::record::{Answer, Record};
use crate::text::{Analyzer, Unit};

/// How many candidates retrieval hands to the judge.
const CANDIDATES: usize = 12;

/// A word weighing more than this is more than a common word (see `token_weight`).
const MEANINGFUL: f32 = 1.0;

/// A control as the judge sees it.
struct Profile {
    /// Every token of the control's text fields (framework titles excluded: too generic).
    tokens: HashSet<String>,
    /// Tokens the control uses only in negative sentences of its statement ("shared logins
    /// are not permitted"): a question about them likely asks the opposite of the title.
    denied: HashSet<String>,
    /// Title and questions, analyzed, with the answer a phrasing carries.
    phrasings: Vec<(BTreeSet<String>, Option<Answer>, String)>,
    /// For an `n/a` control, the thesaurus concepts its title names ("GDPR", "mobile app")
    /// that no other control's title, questions or keywords name: the record says they do
    /// not apply, so any question about them is answered by it.
    out_of_scope: HashSet<String>,
}

impl Profile {
    /// The control's profile, and the thesaurus concepts its title, questions and keywords
    /// name (which `out_of_scope` needs from every control, so it is finished by the caller).
    fn new(record: &Record, analyzer: &Analyzer, i: usize) -> (Profile, HashSet<String>) {
        let control = &record.controls[i];
        let [title, questions, keywords, statement] = control_text(record, analyzer, i);
        let headline: HashSet<String> =
            title.into_iter().chain(questions).chain(keywords).collect();
        let headline_concepts = headline
            .iter()
            .filter(|t| t.starts_with("syn_"))
            .cloned()
            .collect();
        let denied = denied_tokens(analyzer, &control.statement, &statement, &headline);
        let mut tokens = headline;
        tokens.extend(statement);
        let title = unit_set(analyzer, &control.title);
        let out_of_scope = if control.answer == Answer::NotApplicable {
            title
                .iter()
                .filter(|t| t.starts_with("syn_"))
                .cloned()
                .collect()
        } else {
            HashSet::new()
        };
        let mut phrasings = vec![(title, None, control.title.clone())];
        for q in control.authored_questions() {
            phrasings.push((unit_set(analyzer, &q.text), q.answer, q.text.clone()));
        }
        let profile = Profile {
            tokens,
            denied,
            phrasings,
            out_of_scope,
        };
        (profile, headline_concepts)
    }
}

/// How candidates are ranked when the semantic signal is on (`calibration.toml`,
/// `[ranking]`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ranking {
    /// The share of the semantic similarity in a candidate's rank (the rest is the judge's
    /// score).
    pub semantic: f32,
    /// How many of the nearest controls by meaning join BM25's candidates.
    pub neighbours: usize,
    /// How similar a control must be to join them: below it, a control that shares no word
    /// with the question is no candidate.
    pub floor: f32,
}

/// One candidate's scores, for choosing and for `--explain`.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub control: String,
    /// What candidates are ranked by: the judge's score, or, when the engine has the
    /// sentence model, `words` blended with the semantic similarity.
    pub rank: f32,
    /// The judge's score: how much of the question the control explains.
    pub score: f32,
    /// The judge's score without a phrasing taking it over: what the rank blends with the
    /// semantic similarity, which reads the same phrasings by meaning (docs/engine.md,
    /// "The rank reads each phrasing once").
    #[serde(skip)]
    pub words: f32,
    /// The sentence-embedding similarity of the question to the control's nearest text.
    pub semantic: f32,
    pub coverage: f32,
    /// The share of the question covered only by negative sentences of the statement.
    pub denied: f32,
    pub phrasing: f32,
    pub bm25: f32,
    pub by_framework_id: bool,
    #[serde(skip)]
    pub index: usize,
    #[serde(skip)]
    pub phrasing_answer: Option<Answer>,
    #[serde(skip)]
    pub phrasing_text: String,
}

/// One unit of the question as the judge weighed it.
#[derive(Debug, Clone, Serialize)]
pub struct SeenUnit {
    /// As written (stemmed).
    pub surface: String,
    /// The thesaurus concept's name, or the stem.
    pub concept: String,
    /// The token looked up in controls.
    #[serde(skip)]
    pub token: String,
    pub weight: f32,
    /// Covered by the best candidate.
    pub covered: bool,
    /// Some control of the record uses it.
    pub in_record: bool,
}

/// What the judge saw in a question.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    /// The clause that was matched (the main clause of a compound question).
    pub clause: String,
    pub units: Vec<SeenUnit>,
    pub framework_ids: Vec<String>,
    pub negated: bool,
}

pub struct Matcher {
    analyzer: Analyzer,
    index: SearchIndex,
    profiles: Vec<Profile>,
    by_id: HashMap<String, usize>,
    /// Control index → id.
    ids: Vec<String>,
    /// Each token's weight over the controls (its rarity), computed once.
    weights: HashMap<String, f32>,
    /// Framework id (SOC 2, ISO 2022, and ISO 2013 through its successors) → controls.
    framework: BTreeMap<String, Vec<usize>>,
    /// Framework id → its title, which stands in for the id in the question's text.
    titles: BTreeMap<String, String>,
}

impl Matcher {
    pub fn new(record: &Record, analyzer: Analyzer, index: SearchIndex) -> Matcher {
        // Analysing every control's text is most of opening a large record: split it over the
        // cores (each thread has its own stem memo, so the parts do not wait on one another).
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = record.controls.len().div_ceil(threads).max(1);
        let indices: Vec<usize> = (0..record.controls.len()).collect();
        let (mut profiles, headline_concepts): (Vec<Profile>, Vec<HashSet<String>>) =
            std::thread::scope(|scope| {
                let parts: Vec<_> = indices
                    .chunks(chunk)
                    .map(|part| {
                        let analyzer = &analyzer;
                        scope.spawn(move || {
                            part.iter()
                                .map(|&i| Profile::new(record, analyzer, i))
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                parts
                    .into_iter()
                    .flat_map(|part| part.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                    .collect()
            });
        let mut named_by: HashMap<String, usize> = HashMap::new();
        for concept in headline_concepts.into_iter().flatten() {
            *named_by.entry(concept).or_default() += 1;
        }
        for profile in &mut profiles {
            profile
                .out_of_scope
                .retain(|c| named_by.get(c).copied().unwrap_or(0) <= 1);
        }
        let mut df: HashMap<String, usize> = HashMap::new();
        for profile in &profiles {
            for token in &profile.tokens {
                *df.entry(token.clone()).or_default() += 1;
            }
        }
        let n = profiles.len();
        let weights = df
            .iter()
            .map(|(t, &df)| (t.clone(), token_weight(&analyzer, n, t, df)))
            .collect();
        let ids: Vec<String> = record.controls.iter().map(|c| c.id.clone()).collect();
        let by_id = record
            .controls
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.clone(), i))
            .collect();
        let mut titles = catalog::iso2013_titles();
        for catalog in &record.catalogs {
            for entry in &catalog.entries {
                titles.insert(entry.id.to_uppercase(), entry.title.clone());
            }
        }
        Matcher {
            framework: framework_index(record),
            titles,
            analyzer,
            index,
            profiles,
            by_id,
            ids,
            weights,
        }
    }

    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    fn weight(&self, token: &str) -> f32 {
        match self.weights.get(token) {
            Some(&w) => w,
            None => token_weight(&self.analyzer, self.profiles.len(), token, 1),
        }
    }

    /// Whether control `index` uses `token` in its title, statement, questions or keywords.
    pub fn uses(&self, index: usize, token: &str) -> bool {
        self.profiles[index].tokens.contains(token)
    }

    /// Whether any control of the record uses `token`.
    pub fn in_record(&self, token: &str) -> bool {
        self.weights.contains_key(token)
    }

    /// The index of the control with id `id`.
    pub fn index(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// Reads a question against this record's framework ids.
    pub fn read(&self, text: &str) -> Question {
        question::read(text, &self.analyzer, &self.framework, &self.titles)
    }

    /// Ranks the controls for `question`, best first, with what was seen in it.
    ///
    /// `similarities` holds each control's semantic similarity to the question, when the
    /// engine has the model: the nearest controls join BM25's candidates, and candidates are
    /// ranked by their judge's score blended with it ([`Ranking`]).
    pub fn rank(
        &self,
        question: &Question,
        similarities: Option<&[f32]>,
        ranking: &Ranking,
    ) -> Result<(Analysis, Vec<Candidate>)> {
        let units = &question.units;
        let framework_ids = &question.framework_ids;
        let tokens: Vec<String> = units.iter().map(|u| u.token.clone()).collect();
        let mut hits = self.index.search(&tokens, CANDIDATES)?;
        if let Some(similarities) = similarities
            && !tokens.is_empty()
        {
            // The nearest controls by meaning, which may share no word with the question.
            let mut nearest: Vec<usize> = (0..similarities.len()).collect();
            nearest.sort_by(|&a, &b| similarities[b].total_cmp(&similarities[a]).then(a.cmp(&b)));
            for i in nearest
                .into_iter()
                .take(ranking.neighbours)
                .filter(|&i| similarities[i] >= ranking.floor)
            {
                if !hits.iter().any(|(id, _)| self.by_id.get(id) == Some(&i)) {
                    hits.push((self.id_of(i), 0.0));
                }
            }
        }
        let by_framework: BTreeSet<usize> = framework_ids
            .iter()
            .flat_map(|id| self.framework.get(id).into_iter().flatten().copied())
            .collect();
        if !by_framework.is_empty() {
            // The question names the criterion: only controls mapped to it can answer it.
            hits.retain(|(id, _)| self.by_id.get(id).is_some_and(|i| by_framework.contains(i)));
            for &i in &by_framework {
                if !hits.iter().any(|(id, _)| self.by_id.get(id) == Some(&i)) {
                    hits.push((self.id_of(i), 0.0));
                }
            }
        }
        let weights: Vec<f32> = units.iter().map(|u| self.weight(&u.token)).collect();
        let total: f32 = weights.iter().sum();
        let mut candidates: Vec<Candidate> = hits
            .iter()
            .filter_map(|(id, bm25)| self.by_id.get(id).map(|&i| (i, *bm25)))
            .map(|(i, bm25)| self.judge(i, bm25, units, &weights, total, by_framework.contains(&i)))
            .collect();
        if let Some(similarities) = similarities {
            for c in &mut candidates {
                c.semantic = similarities[c.index];
                c.rank = (1.0 - ranking.semantic) * c.words + ranking.semantic * c.semantic;
            }
        }
        candidates.sort_by(|a, b| {
            b.rank
                .total_cmp(&a.rank)
                .then(b.score.total_cmp(&a.score))
                .then(b.bm25.total_cmp(&a.bm25))
                .then(a.index.cmp(&b.index))
        });
        let best = candidates.first().map(|c| &self.profiles[c.index]);
        let analysis = Analysis {
            clause: question.clause.clone(),
            units: units
                .iter()
                .zip(&weights)
                .map(|(u, w)| SeenUnit {
                    surface: u.surface.clone(),
                    concept: self.analyzer.thesaurus.name(&u.token).to_string(),
                    token: u.token.clone(),
                    weight: *w,
                    covered: best.is_some_and(|p| p.tokens.contains(&u.token)),
                    in_record: self.in_record(&u.token),
                })
                .collect(),
            framework_ids: framework_ids.clone(),
            negated: question.negated,
        };
        Ok((analysis, candidates))
    }

    fn id_of(&self, index: usize) -> String {
        self.ids[index].clone()
    }

    fn judge(
        &self,
        i: usize,
        bm25: f32,
        units: &[Unit],
        weights: &[f32],
        total: f32,
        by_framework: bool,
    ) -> Candidate {
        let profile = &self.profiles[i];
        // The weighted share of the question whose units are in `tokens`.
        let share = |tokens: &HashSet<String>| {
            let part: f32 = units
                .iter()
                .zip(weights)
                .filter(|(u, _)| tokens.contains(&u.token))
                .map(|(_, w)| w)
                .sum();
            if total > 0.0 { part / total } else { 0.0 }
        };
        let coverage = share(&profile.tokens);
        let denied = share(&profile.denied);
        let question: BTreeSet<String> = units.iter().map(|u| u.token.clone()).collect();
        let (phrasing, phrasing_answer, phrasing_text) = profile
            .phrasings
            .iter()
            .map(|(p, answer, text)| (self.similarity(&question, p), *answer, text))
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(s, a, t)| (s, a, t.clone()))
            .unwrap_or((0.0, None, String::new()));
        let mut words = 0.8 * coverage + 0.2 * phrasing;
        let mut score = words.max(phrasing);
        let out_of_scope = units
            .iter()
            .any(|u| profile.out_of_scope.contains(&u.token));
        if by_framework || out_of_scope {
            // Naming a criterion the control is mapped to, or a topic it says does not apply,
            // is strong evidence on its own; the rest of the question still decides between
            // several such controls.
            let floor = 0.7 + 0.3 * coverage;
            score = score.max(floor);
            words = words.max(floor);
        }
        Candidate {
            control: self.id_of(i),
            rank: score,
            score,
            words,
            semantic: 0.0,
            coverage,
            denied,
            phrasing,
            bm25,
            by_framework_id: by_framework,
            index: i,
            phrasing_answer,
            phrasing_text,
        }
    }

    /// Weighted Dice similarity of two unit sets.
    fn similarity(&self, a: &BTreeSet<String>, b: &BTreeSet<String>) -> f32 {
        let sum = |set: &BTreeSet<String>| set.iter().map(|t| self.weight(t)).sum::<f32>();
        let shared: f32 = a.intersection(b).map(|t| self.weight(t)).sum();
        let all = sum(a) + sum(b);
        // An empty f32 sum is -0.0: test `shared` so nothing shares as "-0.00".
        if all > 0.0 && shared > 0.0 {
            2.0 * shared / all
        } else {
            0.0
        }
    }

    /// The meaningful words the question adds to the phrasing of `best` it reads like that the
    /// control does not use either, and those of the phrasing the question lacks: such a word
    /// ("survive the end of employment" against "end when employment ends") can turn round
    /// what the phrasing asks.
    pub fn differs_from_phrasing(&self, best: &Candidate, analysis: &Analysis) -> Vec<String> {
        let Some((phrasing, ..)) = self.profiles[best.index]
            .phrasings
            .iter()
            .find(|(_, _, text)| *text == best.phrasing_text)
        else {
            return Vec::new();
        };
        let question: BTreeSet<&str> = analysis.units.iter().map(|u| u.token.as_str()).collect();
        let added = analysis
            .units
            .iter()
            .filter(|u| u.weight > MEANINGFUL && !u.covered && !phrasing.contains(&u.token))
            .map(|u| u.concept.clone());
        let dropped = phrasing
            .iter()
            .filter(|t| self.weight(t) > MEANINGFUL && !question.contains(t.as_str()))
            .map(|t| self.analyzer.thesaurus.name(t).to_string());
        added.chain(dropped).collect()
    }

    /// The meaningful words of the question (as `clause` writes them) that the control at
    /// `index` does not use: what a person checks first when that control is proposed.
    /// How the question's meaningful units align with control `index`: the share of their
    /// weight the control does not use, how many of them the control does not use though
    /// another control does, and how many no control uses.
    pub fn alignment(&self, index: usize, analysis: &Analysis) -> [f32; 3] {
        let profile = &self.profiles[index];
        let meaningful: Vec<&SeenUnit> = analysis
            .units
            .iter()
            .filter(|u| u.weight > MEANINGFUL)
            .collect();
        let total: f32 = meaningful.iter().map(|u| u.weight).sum();
        let missing: Vec<&&SeenUnit> = meaningful
            .iter()
            .filter(|u| !profile.tokens.contains(&u.token))
            .collect();
        let share = if total > 0.0 {
            missing.iter().map(|u| u.weight).sum::<f32>() / total
        } else {
            0.0
        };
        let elsewhere = missing.iter().filter(|u| u.in_record).count() as f32;
        let nowhere = missing.iter().filter(|u| !u.in_record).count() as f32;
        [share, elsewhere, nowhere]
    }

    pub fn not_covered(&self, index: usize, analysis: &Analysis) -> Vec<String> {
        let profile = &self.profiles[index];
        let missing: Vec<&SeenUnit> = analysis
            .units
            .iter()
            .filter(|u| u.weight > MEANINGFUL && !profile.tokens.contains(&u.token))
            .collect();
        let mut words: Vec<String> = Vec::new();
        let mut reached = BTreeSet::new();
        for word in analysis
            .clause
            .split(|c: char| !c.is_alphanumeric() && c != '-')
            .filter(|w| !w.is_empty())
        {
            let tokens = unit_set(&self.analyzer, word);
            let hit: Vec<&&SeenUnit> = missing
                .iter()
                .filter(|u| tokens.contains(&u.token))
                .collect();
            if !hit.is_empty() {
                reached.extend(hit.iter().map(|u| u.token.clone()));
                let word = word.to_lowercase();
                if !words.contains(&word) {
                    words.push(word);
                }
            }
        }
        // A concept no single word reaches ("multi factor authentication"): its name.
        for unit in missing.iter().filter(|u| !reached.contains(&u.token)) {
            if !words.contains(&unit.concept) {
                words.push(unit.concept.clone());
            }
        }
        words
    }

    /// What the control at `index` leaves unanswered of a question's second `part`: the
    /// quantity it asks when the title and statement state none, and its meaningful words
    /// the control does not use. Empty when the control speaks to all of it.
    pub fn part_not_answered(&self, index: usize, part: &str, statement: &str) -> Vec<String> {
        let mut missing = Vec::new();
        if let Some(asked) = super::question::asked_quantity(part)
            && !super::question::states_quantity(statement, asked)
        {
            missing.push(asked.what().to_string());
        }
        let profile = &self.profiles[index];
        for unit in self.analyzer.question_units(part) {
            let name = self.analyzer.thesaurus.name(&unit.token).to_string();
            if self.weight(&unit.token) > MEANINGFUL
                && !profile.tokens.contains(&unit.token)
                && !missing.contains(&name)
            {
                missing.push(name);
            }
        }
        missing
    }

    /// Tokens of `control` that the question's units cover (for a second citation).
    pub fn covers(&self, index: usize, token: &str) -> bool {
        self.profiles[index].tokens.contains(token)
    }
}

/// A token's weight: its rarity over the `n` controls, `df` of which use it. A word the
/// record never uses (`df` 1 here) weighs like the rarest word it does: it may be the
/// distinctive ask, or just the customer's paraphrase, and a lexical judge cannot tell. A
/// common word ("enabled", "recent") weighs like a word of half the record, used or not: it
/// is no ask.
fn token_weight(analyzer: &Analyzer, n: usize, token: &str, df: usize) -> f32 {
    let n = n as f32;
    let df = if analyzer.is_generic(token) {
        n / 2.0
    } else {
        df.max(1) as f32
    };
    ((n + 1.0) / (df + 0.5)).ln().max(0.1)
}

/// Tokens of the statement's negative sentences that neither its positive sentences nor
/// `elsewhere` (title, questions, keywords) use. `statement` is the whole statement's
/// tokens: a token every occurrence of which is in a negative sentence is used only there,
/// so only the negative sentences are analysed again.
fn denied_tokens(
    analyzer: &Analyzer,
    text: &str,
    statement: &[String],
    elsewhere: &HashSet<String>,
) -> HashSet<String> {
    let mut in_denials: HashMap<String, usize> = HashMap::new();
    for denial in text
        .split(['.', ';', ':'])
        .flat_map(|s| denials(analyzer, s))
    {
        for token in analyzer.document_tokens(denial) {
            *in_denials.entry(token).or_default() += 1;
        }
    }
    if in_denials.is_empty() {
        return HashSet::new();
    }
    let mut in_statement: HashMap<&str, usize> = HashMap::new();
    for token in statement {
        *in_statement.entry(token).or_default() += 1;
    }
    in_denials
        .into_iter()
        .filter(|(t, n)| in_statement.get(t.as_str()).is_some_and(|all| all <= n))
        .filter(|(t, _)| !elsewhere.contains(t))
        .map(|(t, _)| t)
        .collect()
}

/// The parts of a sentence that say what is not done: the whole of a negative sentence, or
/// what follows "rather than" / "instead of" up to the next comma ("access goes through Okta
/// rather than a network VPN").
fn denials<'a>(analyzer: &Analyzer, sentence: &'a str) -> Vec<&'a str> {
    if analyzer.is_negated(sentence) {
        return vec![sentence];
    }
    let lower = sentence.to_ascii_lowercase();
    ["rather than ", "instead of "]
        .iter()
        .flat_map(|marker| lower.match_indices(marker).map(|(at, m)| at + m.len()))
        .map(|from| {
            let rest = &sentence[from..];
            &rest[..rest.find(',').unwrap_or(rest.len())]
        })
        .collect()
}

fn unit_set(analyzer: &Analyzer, text: &str) -> BTreeSet<String> {
    analyzer
        .question_units(text)
        .into_iter()
        .map(|u| u.token)
        .collect()
}

/// Framework id → the controls mapped to it; ISO 2013 ids resolve through their successors.
fn framework_index(record: &Record) -> BTreeMap<String, Vec<usize>> {
    let mut map: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, control) in record.controls.iter().enumerate() {
        if let Some(mapping) = record.mapping(&control.id) {
            for refs in mapping.refs.values() {
                for id in refs {
                    map.entry(id.to_uppercase()).or_default().push(i);
                }
            }
        }
    }
    for (old, new) in catalog::iso2013_successors() {
        let controls: Vec<usize> = new
            .iter()
            .flat_map(|id| map.get(id).cloned().unwrap_or_default())
            .collect();
        if !controls.is_empty() && !map.contains_key(&old) {
            map.insert(old, controls);
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_denial_is_a_negative_sentence_or_what_is_done_rather_than() {
        let analyzer = Analyzer::new(&[]);
        assert_eq!(
            denials(&analyzer, "We do not run an in-house SOC"),
            ["We do not run an in-house SOC"]
        );
        assert_eq!(
            denials(
                &analyzer,
                "Access goes through Okta rather than a network VPN, so laptops stay off it"
            ),
            ["a network VPN"]
        );
        assert_eq!(
            denials(
                &analyzer,
                "Roles use short-lived credentials instead of access keys"
            ),
            ["access keys"]
        );
        assert!(denials(&analyzer, "Backups are encrypted").is_empty());
    }
}
