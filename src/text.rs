//! Text analysis shared by indexing and matching: tokenize, drop stop words and questionnaire
//! filler, stem (tantivy's English Snowball stemmer), and fold thesaurus phrases to one
//! concept token.
//!
//! Documents keep every token and add the concept tokens; questions become *units*, one per
//! concept, so "two-factor authentication" is one ask (covered by a control that says "MFA"),
//! not three words of which two are missing.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet};

use tantivy::tokenizer::{
    Language, LowerCaser, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
};

const BUILTIN_THESAURUS: &str = include_str!("thesaurus.txt");
const GENERIC_WORDS: &str = include_str!("generic_words.txt");
/// The built-in word lists, for the index fingerprint.
pub const BUILTIN_WORD_LISTS: [&str; 2] = [BUILTIN_THESAURUS, GENERIC_WORDS];

/// Words of questionnaire boilerplate that carry no ask of their own ("Please describe whether
/// your organization has ..."; CAIQ's "CSP", the questionnaire's name for the one
/// answering). Stemmed at start-up like everything else; part of the index fingerprint.
pub const FILLER: &[&str] = &[
    "you",
    "your",
    "yours",
    "we",
    "our",
    "us",
    "organization",
    "organisation",
    "company",
    "please",
    "describe",
    "explain",
    "provide",
    "detail",
    "details",
    "list",
    "indicate",
    "specify",
    "confirm",
    "state",
    "outline",
    "whether",
    "currently",
    "solution",
    "product",
    "service",
    "services",
    "platform",
    "offering",
    "vendor",
    "csp",
    "csps",
    "any",
    "all",
    "also",
    "use",
    "used",
    "using",
    "include",
    "including",
    "includes",
    "e.g",
    "eg",
    "etc",
    "appropriate",
    "ensure",
    "place",
    "able",
    "support",
    "supports",
    "relevant",
    "kind",
    "type",
    "types",
    "how",
    "what",
    "which",
    "who",
    "when",
    "where",
    "why",
    "do",
    "does",
    "did",
    "have",
    "has",
    "can",
    "will",
    "would",
    "should",
    "shall",
    "must",
    "may",
    "might",
    "could",
    "is",
    "are",
    "be",
    "been",
    "being",
    "exist",
    "exists",
    "existing",
    "way",
    "ways",
    "specific",
    "documented",
    "formal",
    "formally",
    "established",
    "maintained",
    "maintain",
    "implemented",
    "implement",
    "defined",
    "i.e",
    "ie",
    "respect",
    "regard",
    "regarding",
    "related",
    "relating",
    "handle",
    "handled",
    "perform",
    "performed",
    "performs",
    "conduct",
    "conducted",
    "take",
    "taken",
    "make",
    "made",
    "provided",
    "following",
    "via",
    "within",
    "per",
    "each",
    "every",
    "one",
    "other",
    "others",
    "such",
    "that",
    "this",
    "these",
    "those",
    "there",
    "their",
    "them",
    "they",
    "its",
    "it",
    "yes",
    "no",
    "n/a",
    "so",
    "if",
    "then",
    "than",
    "own",
    "new",
    "based",
    "place",
    "practice",
    "practices",
    "approach",
    "measures",
    "mechanisms",
    "mechanism",
    "controls",
    "control",
    "program",
    "programme",
    "processes",
    "procedures",
    "procedure",
    "process",
    "policy",
    "policies",
    "documentation",
    "information",
];

/// Phrases with a negation word that deny nothing: "we notify customers without undue
/// delay" says that customers are notified (GDPR's own wording).
const AFFIRMING_IDIOMS: &[&str] = &[
    "without undue delay",
    "without unreasonable delay",
    "without delay",
    "without customer impact",
    "without impact",
    "without interruption",
    "without disruption",
    "without downtime",
];

/// Words that turn a question around ("Is any data stored unencrypted?").
const NEGATIONS: &[&str] = &[
    "not",
    "never",
    "without",
    "unencrypted",
    "plaintext",
    "unauthenticated",
    "unpatched",
    "unsupported",
    "unmanaged",
    "unrestricted",
    "unmonitored",
    "unlogged",
    "no",
    "nt",
];

/// A unit of a question: one concept the answer has to speak to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unit {
    /// The token looked up in controls: a stem, or a concept token for a thesaurus group.
    pub token: String,
    /// How it was written, for `--explain`.
    pub surface: String,
}

/// A thesaurus: groups of equivalent terms, each folded to the concept token `syn_N`.
#[derive(Debug, Clone, Default)]
pub struct Thesaurus {
    /// First token of a phrase → (phrase tokens, group), longest first.
    phrases: HashMap<String, Vec<(Vec<String>, usize)>>,
    /// Group → its first term, for display.
    names: Vec<String>,
    /// The concept tokens of a record's `we | ...` lines: the names the company goes by.
    company: HashSet<String>,
}

impl Thesaurus {
    /// The display name of a concept token (`syn_3` → "single sign-on"), or the token itself.
    pub fn name<'a>(&'a self, token: &'a str) -> &'a str {
        token
            .strip_prefix("syn_")
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| self.names.get(n))
            .map(String::as_str)
            .unwrap_or(token)
    }

    pub fn groups(&self) -> usize {
        self.names.len()
    }
}

/// One line of a thesaurus file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThesaurusLine {
    /// `term | term | ...`: equivalent terms; the first names the concept.
    Same(Vec<String>),
    /// `broader > term | term | ...`: each term is a kind of `broader` ("cloud provider > aws"):
    /// a document that names one also speaks of `broader`, not the other way round.
    Kinds {
        line: usize,
        broader: String,
        narrower: Vec<String>,
    },
}

/// Parses thesaurus lines (`term | term | ...`, `broader > term | ...`, `#` comments). Returns
/// problems as (1-based line, message) so a record's own file can be reported like any other.
pub fn parse_thesaurus_lines(text: &str) -> (Vec<ThesaurusLine>, Vec<(usize, String)>) {
    let mut lines = Vec::new();
    let mut problems = Vec::new();
    // Terms keep their case: "IDS" in capitals is the acronym ([`KEPT_ACRONYMS`]).
    let terms = |list: &str| -> Vec<String> {
        list.split('|')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect()
    };
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some((broader, narrower)) = line.split_once(" > ") {
            let broader = broader.trim().to_string();
            let narrower = terms(narrower);
            if broader.is_empty() || broader.contains('|') || narrower.is_empty() {
                problems.push((
                    index + 1,
                    "a kinds line is one broader term, ` > `, then its kinds separated by ` | `"
                        .to_string(),
                ));
                continue;
            }
            lines.push(ThesaurusLine::Kinds {
                line: index + 1,
                broader,
                narrower,
            });
            continue;
        }
        let group = terms(line);
        if group.len() < 2 {
            problems.push((
                index + 1,
                "a thesaurus group needs at least two terms separated by ` | `".to_string(),
            ));
            continue;
        }
        lines.push(ThesaurusLine::Same(group));
    }
    (lines, problems)
}

/// The analyzer for a record whose own thesaurus file reads `text`, or every problem with the
/// file as (1-based line, message): lines that do not parse and kinds lines whose terms
/// resolve to nothing.
pub fn record_analyzer(text: &str) -> Result<Analyzer, Vec<(usize, String)>> {
    let (lines, mut problems) = parse_thesaurus_lines(text);
    let analyzer = Analyzer::new(&lines);
    problems.extend(analyzer.kinds_problems(&lines));
    if problems.is_empty() {
        Ok(analyzer)
    } else {
        Err(problems)
    }
}

/// tantivy's English pipeline (lowercase, stop words, Snowball stemmer) with a memo of every
/// word it has seen: a record says the same words thousands of times, and stemming them was
/// most of the time it took to open one. One per thread, so threads never wait on each other;
/// a word's stem is the same for every analyzer.
struct WordStemmer {
    pipeline: TextAnalyzer,
    /// Lowercased word → its stem, or `None` for a stop word.
    seen: HashMap<String, Option<String>>,
}

impl WordStemmer {
    fn new() -> WordStemmer {
        let pipeline = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(LowerCaser)
            .filter(
                StopWordFilter::new(Language::English)
                    .unwrap_or_else(|| StopWordFilter::remove(Vec::new())),
            )
            .filter(Stemmer::new(Language::English))
            .build();
        WordStemmer {
            pipeline,
            seen: HashMap::new(),
        }
    }

    fn stem(&mut self, word: &str) -> Option<String> {
        let lower = word.to_lowercase();
        if let Some(stem) = self.seen.get(&lower) {
            return stem.clone();
        }
        let stem = match OWN_STEMS.iter().find(|(w, _)| *w == lower) {
            Some((_, stem)) => Some(stem.to_string()),
            None => {
                let mut stream = self.pipeline.token_stream(&lower);
                stream.advance().then(|| stream.token().text.clone())
            }
        };
        self.seen.insert(lower, stem.clone());
        stem
    }
}

/// Words the stemmer would merge with a word of another meaning: "production" and "product",
/// "provider" and "provide", "containers" and "contains", "severity" and "several",
/// "information" and "inform", "yearly" and "year" (which made every year a frequency),
/// "integrity" and "integration", "authority" and "authorization", "objective" and
/// "object", "tokenization" and "token", "government" and "governance", "responsible" and
/// "response", and topic words that share a stem with a common word ("awareness" and
/// "aware", "enforcement" and "enforce", "quit" and "quite"). Found by stemming the words of
/// both records, the eval questions, the generic words and an English word list and reading
/// the groups. They get a stem of their own, so the word lists can also hold the common word.
const OWN_STEMS: &[(&str, &str)] = &[
    ("production", "production"),
    ("provider", "provider"),
    ("providers", "provider"),
    ("container", "container"),
    ("containers", "container"),
    ("containerized", "container"),
    ("severity", "severity"),
    ("severities", "severity"),
    ("availability", "availability"),
    ("continuity", "continuity"),
    ("continuous", "continuous"),
    ("continuously", "continuous"),
    ("dependency", "dependency"),
    ("dependencies", "dependency"),
    ("controller", "controller"),
    ("controllers", "controller"),
    ("information", "information"),
    ("yearly", "yearly"),
    ("quarterly", "quarterly"),
    ("monthly", "monthly"),
    ("weekly", "weekly"),
    ("periodic", "periodic"),
    ("periodically", "periodic"),
    ("important", "important"),
    ("importance", "important"),
    ("anonymous", "anonymous"),
    ("anonymously", "anonymous"),
    ("accountant", "accountant"),
    ("accountants", "accountant"),
    ("accounting", "accounting"),
    ("accountability", "accountable"),
    ("accountable", "accountable"),
    ("authority", "authority"),
    ("authorities", "authority"),
    ("generator", "generator"),
    ("generators", "generator"),
    ("generative", "generative"),
    ("integrity", "integrity"),
    ("objective", "objective"),
    ("objectives", "objective"),
    ("tokenization", "tokeniz"),
    ("tokenize", "tokeniz"),
    ("tokenized", "tokeniz"),
    ("tokenizing", "tokeniz"),
    ("tokenizes", "tokeniz"),
    ("commitment", "commitment"),
    ("commitments", "commitment"),
    ("government", "government"),
    ("governments", "government"),
    ("containment", "containment"),
    ("responsible", "responsib"),
    ("responsibility", "responsib"),
    ("responsibilities", "responsib"),
    ("appointment", "appointment"),
    ("appointments", "appointment"),
    ("awareness", "awareness"),
    ("acceptable", "acceptable"),
    ("acceptance", "acceptance"),
    ("exception", "exception"),
    ("exceptions", "exception"),
    ("enforcement", "enforcement"),
    ("setting", "setting"),
    ("settings", "setting"),
    ("quite", "quite"),
    ("probably", "probably"),
    ("accessibility", "accessibility"),
    ("processing", "processing"),
    ("processed", "processing"),
    ("provisioning", "provisioning"),
    ("provisioned", "provisioning"),
];

/// Acronyms, written in capitals, that the stemmer would fold into another word: "IDS" into
/// "id" (user ids), "IPS" into "ip" (IP addresses), "AIDE" into "aid". Kept whole; written in
/// lowercase they are the everyday words.
const KEPT_ACRONYMS: &[&str] = &["IDS", "IPS", "AIDE"];

/// The first term of a thesaurus line that lists the company's own names
/// (`we | kestrel | kestrel care`).
const COMPANY_GROUP: &str = "we";

/// Marks a stop word kept in place by [`Analyzer::words`]; no stem starts with it.
const STOP_MARK: char = '~';

fn is_stop(word: &str) -> bool {
    word.starts_with(STOP_MARK)
}

/// The positions of the words that are not stop words.
fn content_positions(words: &[String]) -> Vec<usize> {
    (0..words.len()).filter(|&i| !is_stop(&words[i])).collect()
}

thread_local! {
    static STEMMER: RefCell<WordStemmer> = RefCell::new(WordStemmer::new());
}

/// The analyzer: tokenizer, stemmer and thesaurus together.
#[derive(Clone)]
pub struct Analyzer {
    filler: HashSet<String>,
    /// Stems of common words that weigh little even when the record never uses them.
    generic: HashSet<String>,
    negations: HashSet<String>,
    pub thesaurus: Thesaurus,
    /// Token of a kind → tokens of what it is a kind of (`broader > ...` lines).
    kinds: HashMap<String, Vec<String>>,
}

impl Analyzer {
    /// The built-in thesaurus plus a record's own lines (`extra`).
    pub fn new(extra: &[ThesaurusLine]) -> Analyzer {
        let mut analyzer = Analyzer {
            filler: HashSet::new(),
            generic: HashSet::new(),
            negations: HashSet::new(),
            thesaurus: Thesaurus::default(),
            kinds: HashMap::new(),
        };
        analyzer.filler = FILLER.iter().flat_map(|w| analyzer.stems(w)).collect();
        analyzer.generic = GENERIC_WORDS
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .flat_map(|w| analyzer.stems(w))
            .collect();
        analyzer.negations = NEGATIONS.iter().map(|w| w.to_string()).collect();
        let (builtin, _) = parse_thesaurus_lines(BUILTIN_THESAURUS);
        let lines: Vec<&ThesaurusLine> = builtin.iter().chain(extra).collect();
        for line in &lines {
            if let ThesaurusLine::Same(terms) = line {
                analyzer.add_group(terms);
            }
        }
        for list in analyzer.thesaurus.phrases.values_mut() {
            list.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
        }
        for line in &lines {
            if let ThesaurusLine::Kinds {
                broader, narrower, ..
            } = line
                && let Some(broader) = analyzer.term_token(broader)
            {
                let kinds: Vec<String> = narrower
                    .iter()
                    .filter_map(|t| analyzer.term_token(t))
                    .collect();
                for kind in kinds {
                    analyzer
                        .kinds
                        .entry(kind)
                        .or_default()
                        .push(broader.clone());
                }
            }
        }
        analyzer
    }

    /// The one token a term folds to: a word's stem or a thesaurus concept. `None` for a
    /// phrase that is no thesaurus term, which a kinds line cannot use.
    fn term_token(&self, term: &str) -> Option<String> {
        match self.fold(&self.words(term)).as_slice() {
            [(token, _)] => Some(token.clone()),
            _ => None,
        }
    }

    /// The terms of `lines`' kinds lines that fold to no single token, as problems.
    pub fn kinds_problems(&self, lines: &[ThesaurusLine]) -> Vec<(usize, String)> {
        let mut problems = Vec::new();
        for line in lines {
            if let ThesaurusLine::Kinds {
                line,
                broader,
                narrower,
            } = line
            {
                for term in std::iter::once(broader).chain(narrower) {
                    if self.term_token(term).is_none() {
                        problems.push((
                            *line,
                            format!(
                                "`{term}` is neither one word nor a term of a thesaurus group; \
                                 add a group for it or use one word"
                            ),
                        ));
                    }
                }
            }
        }
        problems
    }

    fn add_group(&mut self, terms: &[String]) {
        let group = self.thesaurus.names.len();
        self.thesaurus.names.push(terms[0].clone());
        if terms[0].eq_ignore_ascii_case(COMPANY_GROUP) {
            self.thesaurus.company.insert(format!("syn_{group}"));
        }
        for term in terms {
            // A phrase is looked up by its first word that is not a stop word; stop words
            // before it must still precede it ("at rest" is not "REST API").
            let tokens = self.words(term);
            if let Some(first) = tokens.iter().find(|t| !is_stop(t)) {
                self.thesaurus
                    .phrases
                    .entry(first.clone())
                    .or_default()
                    .push((tokens.clone(), group));
            }
        }
    }

    /// Lowercased, stop-worded, stemmed tokens, British spellings folded to American ones.
    pub fn stems(&self, text: &str) -> Vec<String> {
        let mut words = self.words(text);
        words.retain(|w| !is_stop(w));
        words
    }

    /// [`Analyzer::stems`] with each stop word kept in its place, marked ([`is_stop`]): a
    /// thesaurus phrase that has one must match it ("log in" is not "log").
    fn words(&self, text: &str) -> Vec<String> {
        let text = normalize_words(text);
        STEMMER.with_borrow_mut(|stemmer| {
            // Words as tantivy's SimpleTokenizer cuts them: runs of alphanumeric characters.
            text.split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(|word| {
                    if KEPT_ACRONYMS.contains(&word) {
                        return word.to_lowercase();
                    }
                    stemmer
                        .stem(word)
                        .unwrap_or_else(|| format!("{STOP_MARK}{}", word.to_lowercase()))
                })
                .collect()
        })
    }

    /// The thesaurus phrase, if any, that starts at the `k`-th word of `words` that is not a
    /// stop word (after the phrase's own leading stop words, which must stand right before
    /// it), with how many such words it spans. A phrase with a stop word matches the
    /// words in order; one without matches them with their stop words left out ("encryption
    /// of data at rest" has "data at rest"). Either way, one common word may stand inside:
    /// "reachable directly from the internet" is "reachable from the internet".
    fn phrase_at<'a>(
        &'a self,
        words: &'a [String],
        content: &'a [usize],
        k: usize,
    ) -> impl Iterator<Item = (usize, &'a (Vec<String>, usize))> + 'a {
        let start = content[k];
        self.thesaurus
            .phrases
            .get(&words[start])
            .into_iter()
            .flatten()
            .filter_map(move |entry| {
                let lead = entry.0.iter().take_while(|t| is_stop(t)).count();
                if start < lead || words[start - lead..start] != entry.0[..lead] {
                    return None;
                }
                let phrase = &entry.0[lead..];
                let spans = phrase.iter().filter(|t| !is_stop(t)).count();
                let with_stops = spans < phrase.len();
                let position = |at: usize| {
                    if with_stops {
                        Some(start + at).filter(|&i| i < words.len())
                    } else {
                        content.get(k + at).copied()
                    }
                };
                let mut at = 0;
                let mut skipped = false;
                for t in phrase {
                    let word = &words[position(at)?];
                    if word != t {
                        if skipped || at == 0 || !self.generic.contains(word) {
                            return None;
                        }
                        skipped = true;
                        at += 1;
                        if words[position(at)?] != *t {
                            return None;
                        }
                    }
                    at += 1;
                }
                let end = position(at - 1)?;
                let content_words = content[k..].iter().take_while(|&&c| c <= end).count();
                Some((content_words, entry))
            })
    }

    /// Folds thesaurus phrases: each item is (concept or stem, the stems it covers).
    fn fold(&self, words: &[String]) -> Vec<(String, Vec<String>)> {
        let content = content_positions(words);
        let mut out = Vec::new();
        let mut k = 0;
        while k < content.len() {
            match self.phrase_at(words, &content, k).next() {
                Some((spans, (phrase, group))) => {
                    let covers = phrase.iter().filter(|t| !is_stop(t)).cloned().collect();
                    out.push((format!("syn_{group}"), covers));
                    k += spans;
                }
                None => {
                    let word = &words[content[k]];
                    out.push((word.clone(), vec![word.clone()]));
                    k += 1;
                }
            }
        }
        out
    }

    /// Tokens to index for a document: every stem, plus the concept token of every phrase it
    /// contains, also inside a longer one: "secure coding training" says "secure coding".
    /// (A question folds to its longest phrases only: that is what it asks.)
    pub fn document_tokens(&self, text: &str) -> Vec<String> {
        let words = self.words(text);
        let content = content_positions(&words);
        let mut tokens: Vec<String> = content.iter().map(|&i| words[i].clone()).collect();
        for k in 0..content.len() {
            tokens.extend(
                self.phrase_at(&words, &content, k)
                    .map(|(_, (_, group))| format!("syn_{group}")),
            );
        }
        // "AWS" says "cloud provider" too.
        let broader: Vec<String> = tokens
            .iter()
            .flat_map(|t| self.kinds.get(t).into_iter().flatten().cloned())
            .collect();
        tokens.extend(broader);
        tokens
    }

    /// The units a question asks about, without filler, deduplicated, in order. The company's
    /// own name asks nothing: "Is Kestrel certified?" asks "Are you certified?".
    pub fn question_units(&self, text: &str) -> Vec<Unit> {
        let words = self.words(text);
        let mut seen = BTreeSet::new();
        self.fold(&words)
            .into_iter()
            .filter(|(token, covers)| {
                token.starts_with("syn_") || !self.filler.contains(&covers[0])
            })
            .filter(|(token, _)| !self.thesaurus.company.contains(token))
            .filter(|(token, _)| token.chars().count() > 1)
            .filter(|(token, _)| seen.insert(token.clone()))
            .map(|(token, covers)| Unit {
                surface: covers.join(" "),
                token,
            })
            .collect()
    }

    /// Whether `token` is a common word with no security ask of its own (`src/generic_words.txt`).
    pub fn is_generic(&self, token: &str) -> bool {
        self.generic.contains(token)
    }

    /// Whether the question is phrased negatively ("stored unencrypted", "without MFA").
    pub fn is_negated(&self, text: &str) -> bool {
        let mut lower = text.to_lowercase();
        if lower.contains("without") {
            for idiom in AFFIRMING_IDIOMS {
                lower = lower.replace(idiom, " ");
            }
        }
        lower
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| self.negations.contains(w))
            || lower.contains("n't")
    }
}

/// Words whose British spelling differs other than by -ise/-ize.
const BRITISH: &[(&str, &str)] = &[
    ("centre", "center"),
    ("centres", "centers"),
    ("programme", "program"),
    ("programmes", "programs"),
    ("licence", "license"),
    ("defence", "defense"),
    ("catalogue", "catalog"),
    ("analyse", "analyze"),
    ("analysed", "analyzed"),
    ("enrol", "enroll"),
    ("enrolment", "enrollment"),
    ("fulfil", "fulfill"),
    ("judgement", "judgment"),
];

/// British -our roots ("honour", "behaviours", "favoured"): the American spelling drops the
/// `u`. Listed, because most words in -our are not British spellings ("hour", "four").
const OUR_ROOTS: &[&str] = &[
    "armour",
    "behaviour",
    "colour",
    "endeavour",
    "favour",
    "harbour",
    "honour",
    "labour",
    "neighbour",
    "rumour",
    "vigour",
];

/// -ise words that are not British spellings of -ize words.
const ISE_WORDS: &[&str] = &[
    "advise",
    "compromise",
    "concise",
    "devise",
    "disguise",
    "enterprise",
    "exercise",
    "expertise",
    "franchise",
    "improvise",
    "merchandise",
    "noise",
    "otherwise",
    "precise",
    "premise",
    "promise",
    "raise",
    "revise",
    "rise",
    "supervise",
    "surprise",
    "televise",
    "wise",
    "likewise",
    "clockwise",
];

/// Prefixes written with a hyphen that belong to their word, which is mostly also written
/// closed ("anti-virus" and "antivirus", "sub-processor" and "subprocessor", "de-identified"
/// and "deidentified", "multi-tenant" and "multitenant"). Not before an acronym
/// ("anti-DDoS"), which is a word of its own. Not "re-": "re-approved" also says "approved",
/// and split, "re" still marks "re-screened" as more than "screened".
const JOINED_PREFIXES: &[&str] = &["allow", "anti", "co", "de", "deny", "multi", "non", "sub"];

/// Normalizes words before stemming, in one pass:
/// - British spellings ("sanitised", "authorisation", "centre") become American ones, so both
///   stem alike (stemmers treat -ise and -ize words differently);
/// - an acronym's plural `s` goes ("SSNs", "CVEs"), which no stemmer drops;
/// - a possessive `'s` or a contraction's `'re`, `'ve`, `'ll`, `'d`, `'m` goes ("a
///   candidate's employer", "you're"): split off, it would be a word;
/// - a one-letter prefix stays with its word ("e-discovery" → "ediscovery", "e-mail" →
///   "email"): split, the letter is dropped as noise and the word alone means something else;
///   so does a prefix of [`JOINED_PREFIXES`] ("anti-bribery" → "antibribery"), which alone
///   would match every other word it prefixes ("anti-malware").
fn normalize_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphabetic() {
            word.push(c);
        } else if c == '-'
            && (word.chars().count() == 1
                || (JOINED_PREFIXES.contains(&word.to_lowercase().as_str())
                    && !starts_acronym(chars.clone())))
            && chars.peek().is_some_and(|n| n.is_alphabetic())
        {
            continue;
        } else if let Some(len) = (matches!(c, '\'' | '\u{2019}') && !word.is_empty())
            .then(|| clitic_len(chars.clone()))
            .flatten()
        {
            for _ in 0..len {
                chars.next();
            }
        } else {
            out.push_str(&fold_word(&word));
            word.clear();
            out.push(c);
        }
    }
    out.push_str(&fold_word(&word));
    out
}

/// The length of a possessive or contraction ending after an apostrophe (`'s`, `'re`, `'ve`,
/// `'ll`, `'d`, `'m`), if `rest` starts with one: it belongs to the word before it
/// ("you're", "a candidate's"). Alone, it would be a word of its own.
fn clitic_len(rest: impl Iterator<Item = char> + Clone) -> Option<usize> {
    let letters: String = rest
        .clone()
        .take_while(|c| c.is_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    matches!(letters.as_str(), "s" | "re" | "ve" | "ll" | "d" | "m").then_some(letters.len())
}

/// Whether the word `rest` starts with is an acronym: two capitals or more ("DDoS", "PII").
fn starts_acronym(rest: impl Iterator<Item = char>) -> bool {
    rest.take_while(|c| c.is_alphanumeric())
        .filter(char::is_ascii_uppercase)
        .count()
        >= 2
}

fn fold_word(word: &str) -> String {
    if let Some(acronym) = word.strip_suffix('s')
        && acronym.len() >= 2
        && acronym.bytes().all(|b| b.is_ascii_uppercase())
    {
        return acronym.to_string();
    }
    let lower = word.to_lowercase();
    if let Some((_, us)) = BRITISH.iter().find(|(uk, _)| *uk == lower) {
        return us.to_string();
    }
    if let Some(root) = OUR_ROOTS.iter().find(|root| lower.starts_with(*root)) {
        return format!("{}r{}", &root[..root.len() - 2], &lower[root.len()..]);
    }
    for (uk, us) in [
        ("isation", "ization"),
        ("isations", "izations"),
        ("ised", "ized"),
        ("ising", "izing"),
        ("ises", "izes"),
        ("ise", "ize"),
    ] {
        if let Some(stem) = lower.strip_suffix(uk) {
            let base = format!("{stem}ise");
            if stem.len() >= 3 && !ISE_WORDS.contains(&base.as_str()) {
                return format!("{stem}{us}");
            }
        }
    }
    word.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `text` asks about the thesaurus concept named `name`.
    fn asks_about(analyzer: &Analyzer, text: &str, name: &str) -> bool {
        analyzer
            .question_units(text)
            .iter()
            .any(|u| analyzer.thesaurus.name(&u.token) == name)
    }

    fn tokens(units: &[Unit]) -> BTreeSet<&str> {
        units.iter().map(|u| u.token.as_str()).collect()
    }

    #[test]
    fn common_words_are_generic_and_topics_are_not() {
        let analyzer = Analyzer::new(&[]);
        for word in [
            "enabled",
            "recent",
            "possible",
            "happens",
            "timeframe",
            "frequency",
        ] {
            let stem = &analyzer.stems(word)[0];
            assert!(analyzer.is_generic(stem), "{word}");
        }
        for word in ["slavery", "insurance", "escrow", "tokenization"] {
            let stem = &analyzer.stems(word)[0];
            assert!(!analyzer.is_generic(stem), "{word}");
        }
        // The lists hold stems: a listed word must not stem like a topic ("product" and
        // "production", "contains" and "containers", "several" and "severity").
        for word in [
            "production",
            "provider",
            "containers",
            "severity",
            "availability",
            "dependencies",
            "continuity",
        ] {
            let units = analyzer.question_units(word);
            assert_eq!(units.len(), 1, "{word} is filler");
            assert!(!analyzer.is_generic(&units[0].token), "{word} is generic");
        }
        // "information" is filler, but "inform" is the ask of "do you inform customers".
        assert!(analyzer.question_units("information").is_empty());
        for (a, b) in [
            ("information", "inform"),
            // A year is a time, yearly a frequency.
            ("yearly", "year"),
            ("period", "periodically"),
            // Anonymous access is no anonymization.
            ("anonymous", "anonymized"),
            ("integrity", "integration"),
            ("authority", "authorization"),
            ("objective", "object"),
            ("tokenization", "token"),
            ("government", "governance"),
            ("responsible", "response"),
            ("accounting", "account"),
            ("generators", "generate"),
            ("commitments", "commit"),
            ("appointments", "appointed"),
            // A topic word that shares a stem with a common word would weigh as common.
            ("awareness", "aware"),
            ("exceptions", "except"),
            ("enforcement", "enforce"),
            ("quit", "quite"),
            ("accessibility", "access"),
            // "a process for" is filler, "processing personal data" is not.
            ("processing", "process"),
            // "contract provisions" are no account provisioning.
            ("provisioning", "provisions"),
        ] {
            assert_ne!(analyzer.stems(a), analyzer.stems(b), "{a} and {b}");
        }
        // An import is no important thing.
        assert!(!analyzer.is_generic(&analyzer.stems("import")[0]));
    }

    #[test]
    fn acronyms_in_capitals_are_not_folded_into_everyday_words() {
        let analyzer = Analyzer::new(&[]);
        assert_ne!(analyzer.stems("IDS"), analyzer.stems("ids"));
        assert_ne!(analyzer.stems("IPS"), analyzer.stems("IP"));
        assert_eq!(analyzer.stems("ips"), analyzer.stems("IP"));
        assert_ne!(analyzer.stems("AIDE"), analyzer.stems("aid"));
        assert!(asks_about(
            &analyzer,
            "Do you run an IDS?",
            "intrusion detection"
        ));
        assert!(!asks_about(
            &analyzer,
            "Are user ids unique?",
            "intrusion detection"
        ));
    }

    #[test]
    fn one_letter_prefixes_stay_with_their_word() {
        let analyzer = Analyzer::new(&[]);
        assert_eq!(analyzer.stems("e-discovery"), analyzer.stems("ediscovery"));
        assert_eq!(analyzer.stems("E-mail"), analyzer.stems("email"));
        assert_eq!(
            analyzer.stems("SSNs and CVEs"),
            analyzer.stems("SSN and CVE")
        );
        assert_eq!(analyzer.stems("bus"), vec!["bus".to_string()]);
        assert_eq!(
            analyzer.stems("anti-bribery"),
            analyzer.stems("antibribery")
        );
        assert_eq!(
            analyzer.stems("sub-processors"),
            analyzer.stems("subprocessors")
        );
        assert_eq!(
            analyzer.stems("allow-listing"),
            analyzer.stems("allowlisting")
        );
        assert_ne!(
            analyzer.stems("anti-bribery"),
            analyzer.stems("anti-malware")
        );
        assert_eq!(analyzer.stems("anti-DDoS"), analyzer.stems("anti DDoS"));
        assert_eq!(
            analyzer.stems("de-identified"),
            analyzer.stems("deidentified")
        );
        assert_eq!(
            analyzer.stems("multi-tenant"),
            analyzer.stems("multitenant")
        );
        assert_eq!(
            analyzer.stems("end-to-end"),
            vec!["end".to_string(), "end".to_string()]
        );
    }

    #[test]
    fn acronyms_and_expansions_fold_to_one_concept() {
        let analyzer = Analyzer::new(&[]);
        let a = analyzer.question_units("Is MFA enforced?");
        let b = analyzer.question_units("Do you enforce two-factor authentication?");
        assert_eq!(tokens(&a), tokens(&b));
        let concept = a
            .iter()
            .find(|u| u.token.starts_with("syn_"))
            .expect("a concept");
        assert_eq!(
            analyzer.thesaurus.name(&concept.token),
            "multi-factor authentication"
        );
    }

    #[test]
    fn a_common_word_inside_a_phrase_keeps_it_whole() {
        let analyzer = Analyzer::new(&[]);
        let facing = |text: &str| asks_about(&analyzer, text, "internet-facing");
        assert!(facing("Are databases reachable from the internet?"));
        assert!(facing(
            "Are databases reachable directly from the internet?"
        ));
        // Only a common word, and only one: a topic word inside is a different ask.
        assert!(!facing(
            "Are databases reachable over VPN from the internet?"
        ));
        assert!(!facing(
            "Are databases reachable directly and easily from the internet?"
        ));
    }

    #[test]
    fn a_phrase_that_starts_with_a_stop_word_needs_it() {
        let analyzer = Analyzer::new(&[]);
        let at_rest = |text: &str| asks_about(&analyzer, text, "at rest");
        assert!(at_rest("Is data encrypted at rest?"));
        assert!(at_rest("at-rest encryption?"));
        assert!(!at_rest("Do you offer a REST API?"));
    }

    #[test]
    fn related_but_different_terms_stay_apart() {
        let analyzer = Analyzer::new(&[]);
        // Sanitizing input is no media sanitization; vetting a vendor is no background check.
        assert!(!asks_about(
            &analyzer,
            "Do you sanitize user input?",
            "deletion"
        ));
        assert!(asks_about(
            &analyzer,
            "Is media sanitization done?",
            "deletion"
        ));
        assert!(!asks_about(
            &analyzer,
            "Are vendors vetted?",
            "background check"
        ));
        let encrypt = analyzer.question_units("Is data encrypted?");
        let tokenize = analyzer.question_units("Is data tokenized?");
        assert_ne!(tokens(&encrypt), tokens(&tokenize));
        let scan = analyzer.question_units("vulnerability scan");
        let pentest = analyzer.question_units("penetration test");
        assert_ne!(tokens(&scan), tokens(&pentest));
        // The digit of "SOC 3" is one character: alone it would be dropped, leaving "SOC".
        let soc2 = analyzer.question_units("SOC 2 report");
        let soc3 = analyzer.question_units("SOC 3 report");
        assert_ne!(tokens(&soc2), tokens(&soc3));
    }

    #[test]
    fn filler_and_punctuation_are_dropped() {
        let analyzer = Analyzer::new(&[]);
        let units = analyzer
            .question_units("Please describe: does your organization [SaaS] perform backups?");
        let names: Vec<&str> = units
            .iter()
            .map(|u| analyzer.thesaurus.name(&u.token))
            .collect();
        assert_eq!(names, vec!["software as a service", "backup"]);
    }

    #[test]
    fn documents_keep_words_and_add_concepts() {
        let analyzer = Analyzer::new(&[]);
        let tokens = analyzer.document_tokens("We require multi-factor authentication for staff.");
        assert!(tokens.contains(&"authent".to_string()));
        assert!(tokens.iter().any(|t| t.starts_with("syn_")));
        // A phrase inside a longer one still counts: "secure coding training" says "secure
        // coding", while a question about the training asks about the training.
        let tokens = analyzer.document_tokens("Engineers take secure coding training.");
        let coding = &analyzer.question_units("secure coding")[0].token;
        let training = &analyzer.question_units("secure coding training")[0].token;
        assert_ne!(coding, training);
        assert!(tokens.contains(coding) && tokens.contains(training));
    }

    #[test]
    fn a_record_thesaurus_extends_the_builtin_one() {
        let (extra, problems) =
            parse_thesaurus_lines("payvane vault | pvv\nstore > pvv | keybox\n");
        assert!(problems.is_empty(), "{problems:?}");
        let analyzer = Analyzer::new(&extra);
        assert!(analyzer.kinds_problems(&extra).is_empty());
        assert_eq!(
            tokens(&analyzer.question_units("PVV")),
            tokens(&analyzer.question_units("Payvane Vault"))
        );
        // A kinds line is one way: a document naming the kind speaks of the broader term.
        let store = analyzer.term_token("store").unwrap();
        assert!(
            analyzer
                .document_tokens("Secrets live in our Keybox.")
                .contains(&store)
        );
        assert!(
            analyzer
                .document_tokens("Payvane Vault holds the keys.")
                .contains(&store)
        );
        let keybox = analyzer.term_token("keybox").unwrap();
        assert!(
            !analyzer
                .document_tokens("Our store holds keys.")
                .contains(&keybox)
        );
    }

    #[test]
    fn the_company_s_own_name_asks_nothing() {
        let (lines, problems) = parse_thesaurus_lines("we | kestrel | kestrel care\n");
        assert!(problems.is_empty());
        let analyzer = Analyzer::new(&lines);
        assert_eq!(
            tokens(&analyzer.question_units("Is Kestrel Care certified?")),
            tokens(&analyzer.question_units("Are you certified?"))
        );
        assert_eq!(
            tokens(&analyzer.question_units("Is Kestrel's code kept private?")),
            tokens(&analyzer.question_units("Is your code kept private?"))
        );
        // Without the line, the name is a word like any other.
        let plain = Analyzer::new(&[]);
        assert_ne!(
            tokens(&plain.question_units("Is Kestrel certified?")),
            tokens(&plain.question_units("Are you certified?"))
        );
    }

    #[test]
    fn kinds_lines_that_cannot_resolve_are_problems() {
        let (lines, problems) = parse_thesaurus_lines("cloud > aws\ncloud hosting > aws\n > x\n");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].0, 3);
        let analyzer = Analyzer::new(&lines);
        let problems = analyzer.kinds_problems(&lines);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].0, 2);
        assert!(problems[0].1.contains("cloud hosting"));
    }

    #[test]
    fn negations_are_detected() {
        let analyzer = Analyzer::new(&[]);
        assert!(analyzer.is_negated("Is any customer data stored unencrypted?"));
        assert!(analyzer.is_negated("Can users log in without MFA?"));
        assert!(!analyzer.is_negated("Is customer data encrypted at rest?"));
        assert!(!analyzer.is_negated("We notify affected customers without undue delay."));
        assert!(
            analyzer.is_negated("Staff cannot view data without undue delay or without a grant.")
        );
    }

    #[test]
    fn british_spellings_stem_like_american_ones() {
        let analyzer = Analyzer::new(&[]);
        for (uk, us) in [
            ("sanitised", "sanitized"),
            ("authorisation", "authorization"),
            ("centre", "center"),
            ("organise", "organize"),
            ("honoured", "honored"),
            ("behaviours", "behaviors"),
        ] {
            assert_eq!(analyzer.stems(uk), analyzer.stems(us), "{uk}");
        }
        assert_ne!(analyzer.stems("enterprise"), analyzer.stems("enterprize"));
        assert_eq!(fold_word("exercised"), "exercised");
        assert_eq!(fold_word("hours"), "hours");
        assert_eq!(
            analyzer.stems("a candidate's employer"),
            analyzer.stems("candidate employer")
        );
        assert_eq!(
            analyzer.stems("the vendor\u{2019}s staff"),
            analyzer.stems("vendor staff")
        );
        // So do contractions: "you're" is no word "re".
        for (contracted, plain) in [
            ("the mechanism you're using", "the mechanism you using"),
            ("the mechanism we've used", "the mechanism we used"),
            ("we'll use it", "we use it"),
        ] {
            assert_eq!(analyzer.stems(contracted), analyzer.stems(plain));
        }
    }

    #[test]
    fn no_builtin_phrase_belongs_to_two_groups() {
        // "log in" and "logging" once both came out as "log"; "secure programming" and
        // "security program" still stem alike, so only one of them is listed.
        let analyzer = Analyzer::new(&[]);
        for (first, entries) in &analyzer.thesaurus.phrases {
            for (i, (phrase, group)) in entries.iter().enumerate() {
                let other = entries[i + 1..]
                    .iter()
                    .find(|(p, g)| p == phrase && g != group);
                assert!(other.is_none(), "{first}: {phrase:?} is in two groups");
            }
        }
        let concept = |text: &str| analyzer.question_units(text)[0].token.clone();
        assert_ne!(concept("log in"), concept("logging"));
        assert_eq!(concept("log in"), concept("sign-in"));
    }

    #[test]
    fn thesaurus_file_parses_without_problems() {
        let (lines, problems) = parse_thesaurus_lines(BUILTIN_THESAURUS);
        assert!(lines.len() >= 120, "{}", lines.len());
        assert_eq!(problems, vec![]);
        assert_eq!(Analyzer::new(&[]).kinds_problems(&lines), vec![]);
    }
}
