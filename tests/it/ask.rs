//! `onrecord index` and `onrecord ask`: the index lifecycle and the honesty rules.

use onrecord::engine::{Engine, Outcome, Status};
use onrecord::record::Answer;

use crate::{copy_example, index_dir, onrecord, record_with, repo};

#[test]
fn index_is_built_once_then_reused_and_rebuilt_when_the_record_changes() {
    let dir = copy_example();
    assert_eq!(
        onrecord(dir.path(), &["index"]).stdout,
        "index built: 130 controls\n"
    );
    assert_eq!(
        onrecord(dir.path(), &["index"]).stdout,
        "index up to date: 130 controls\n"
    );
    let path = dir.path().join("knowledge/cryptography.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("AES-256", "AES-256-GCM")).unwrap();
    assert_eq!(
        onrecord(dir.path(), &["index"]).stdout,
        "index built: 130 controls\n"
    );
}

#[test]
fn a_corrupt_index_is_rebuilt_silently() {
    let dir = copy_example();
    onrecord(dir.path(), &["index"]);
    std::fs::write(index_dir(dir.path()).join("meta.json"), "{ not json").unwrap();
    let run = onrecord(dir.path(), &["ask", "Is MFA enforced?"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("answered: yes"), "{}", run.stdout);
}

#[test]
fn an_unwritable_index_location_falls_back_to_memory() {
    let dir = copy_example();
    std::fs::write(
        dir.path().join(".onrecord"),
        "a file where the index directory would go",
    )
    .unwrap();
    let run = onrecord(dir.path(), &["index"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("in memory"), "{}", run.stdout);
    assert!(
        onrecord(dir.path(), &["ask", "Is MFA enforced?"])
            .stdout
            .starts_with("answered: yes")
    );
}

#[test]
fn a_record_with_errors_is_refused_with_a_pointer_to_check() {
    let run = onrecord(
        &repo().join("fixtures/check/bad-answer"),
        &["ask", "Is data encrypted?"],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("run `onrecord check`"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    // `onrecord ask ... | head -1`: the pipe is closed before the answer is written.
    let dir = copy_example();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_onrecord"))
        .args(["ask", "Is customer data encrypted at rest?", "--explain"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run onrecord");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(0), "{stderr}");
}

#[test]
fn json_output_has_the_report_keys() {
    let run = onrecord(
        &repo(),
        &[
            "ask",
            "Is customer data encrypted at rest?",
            "--format",
            "json",
        ],
    );
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["status"], "answered");
    assert_eq!(json["answer"], "yes");
    assert_eq!(json["citations"][0]["control"], "ENC-01");
    assert!(
        json["citations"][0]["soc2"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
    assert!(
        json["confidence"]
            .as_f64()
            .is_some_and(|c| (0.0..=1.0).contains(&c))
    );
}

#[test]
fn explain_shows_terms_and_runners_up() {
    let run = onrecord(&repo(), &["ask", "Do you use 2FA for admins?", "--explain"]);
    assert!(
        run.stdout.contains("(multi-factor authentication)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("candidates:"));
}

fn engine(dir: &std::path::Path) -> Engine {
    Engine::open(dir).expect("engine")
}

/// One question asked of the record at `dir`.
fn ask(dir: &std::path::Path, question: &str) -> Outcome {
    engine(dir).ask(question).expect("ask")
}

#[test]
fn never_yes_without_a_cited_yes_control() {
    let dir = tempfile::tempdir().unwrap();
    crate::copy_eval_record(dir.path(), None);
    let engine = engine(dir.path());
    let mut reader = csv::Reader::from_path(repo().join("fixtures/eval/questions.csv")).unwrap();
    let mut yes = 0;
    for row in reader.records() {
        let question = row.unwrap()[4].to_string();
        let outcome = engine.ask(&question).unwrap();
        if outcome.status == Status::Answered && outcome.answer == Some(Answer::Yes) {
            yes += 1;
            let cited_yes = outcome
                .citations
                .iter()
                .any(|c| engine.record.control(&c.control).unwrap().answer == Answer::Yes);
            assert!(cited_yes, "{question}: yes without a yes control");
        }
        if outcome.status == Status::NotOnRecord {
            assert!(outcome.answer.is_none() && outcome.citations.is_empty());
        }
    }
    assert!(yes > 30, "the invariant was exercised {yes} times");
}

#[test]
fn an_inverse_phrasing_carries_its_own_answer() {
    let dir = copy_example();
    let outcome = ask(dir.path(), "Is any customer data stored unencrypted?");
    assert_eq!(outcome.status, Status::Answered);
    assert_eq!(outcome.answer, Some(Answer::No));
    assert_eq!(outcome.citations[0].control, "ENC-01");
}

#[test]
fn a_negated_question_matched_only_through_the_statement_goes_to_review() {
    let dir = copy_example();
    let outcome = ask(
        dir.path(),
        "Are customer invoices ever processed without encryption at rest?",
    );
    assert_ne!(outcome.status, Status::Answered, "{:?}", outcome.answer);
}

#[test]
fn framework_ids_resolve_through_the_mappings_including_2013_ids() {
    let dir = copy_example();
    let engine = engine(dir.path());
    let mapped_to = |id: &str, key: &str| {
        engine
            .record
            .mappings
            .iter()
            .filter(|(_, m)| m.get(key).iter().any(|r| r == id))
            .map(|(c, _)| c.clone())
            .collect::<Vec<_>>()
    };
    let outcome = engine.ask("Describe how you meet A.8.24.").unwrap();
    assert!(
        mapped_to("A.8.24", "iso27001").contains(&outcome.citations[0].control),
        "{:?}",
        outcome.citations
    );
    let outcome = engine
        .ask("Is ISO 27001:2013 A.9.4.2 implemented?")
        .unwrap();
    assert!(
        mapped_to("A.8.5", "iso27001").contains(&outcome.citations[0].control),
        "{:?}",
        outcome.citations
    );
    let outcome = engine.ask("How do you address CC7.4?").unwrap();
    assert!(
        mapped_to("CC7.4", "soc2").contains(&outcome.citations[0].control),
        "{:?}",
        outcome.citations
    );
}

#[test]
fn a_compound_question_is_answered_by_its_main_clause() {
    let dir = copy_example();
    let engine = engine(dir.path());
    let plain = engine.ask("Do you perform penetration tests?").unwrap();
    let compound = engine
        .ask("Do you perform penetration tests? If so, how often, and who reviews the results?")
        .unwrap();
    assert_eq!(plain.citations, compound.citations);
    assert_eq!(compound.status, Status::Answered);
}

#[test]
fn an_off_record_question_is_not_on_the_record() {
    let dir = copy_example();
    let outcome = ask(dir.path(), "Do you hold FedRAMP High authorization?");
    assert_eq!(
        outcome.status,
        Status::NotOnRecord,
        "{:?}",
        outcome.citations
    );
    assert_eq!(outcome.answer, None);
}

#[test]
fn a_question_opposite_to_a_negative_title_is_not_answered_yes() {
    // AI-02 "No training of AI models on customer data" answers yes to its title; asked the
    // other way round without a matching { q, answer } phrasing, a yes would be a lie.
    let dir = copy_example();
    let outcome = ask(dir.path(), "Is our data used to train AI models?");
    assert_eq!(outcome.status, Status::Review, "{:?}", outcome.reason);
    // What the reader is offered is the title's answer turned round.
    assert_eq!(outcome.answer, Some(Answer::No));
}

/// A two-control record written inline, for rules that need a precise setup.
fn tiny_record() -> tempfile::TempDir {
    record_with(
        r#"
[[control]]
id = "IAM-01"
title = "Named accounts for every person"
answer = "yes"
statement = "Every employee signs in with a personal named account; generic or shared logins are not permitted."
reviewed = 2026-06-01
questions = [
  "Does every employee have a unique account?",
  { q = "Do staff share login accounts?", answer = "no" },
]

[[control]]
id = "BCK-01"
title = "Database backups with point-in-time recovery"
answer = "yes"
statement = "Production databases are backed up continuously with point-in-time recovery and kept for 35 days."
reviewed = 2026-06-01

[[control]]
id = "MON-01"
title = "Around-the-clock security monitoring"
answer = "yes"
statement = "Alerts are triaged 24 hours a day by a contracted detection and response provider. We do not run an in-house security operations centre."
reviewed = 2026-06-01

[[control]]
id = "SUP-01"
title = "Support access to customer data"
answer = "yes"
statement = "Support staff open a customer's invoices only after a customer administrator grants time-limited access."
reviewed = 2026-06-01
questions = [{ q = "Can support staff open customer invoices without permission?", answer = "no" }]

[[control]]
id = "MOB-01"
title = "Mobile app security"
answer = "n/a"
statement = "We do not ship a native mobile app; customers use the web application in a browser."
reviewed = 2026-06-01
"#,
        "control,soc2,iso27001,cuec\nIAM-01,CC6.1,A.5.16;A.8.15,\nBCK-01,A1.2,A.8.13,\nMON-01,CC7.2,A.8.16,\nSUP-01,CC6.3,A.8.3;A.8.15,\nMOB-01,CC8.1,A.8.26,\n",
    )
}

#[test]
fn a_question_leaning_towards_an_opposite_phrasing_goes_to_review() {
    // It reads more like "Do staff share login accounts?" (answer no) than like the title, but
    // not closely enough to take that answer: a yes would be a misrepresentation.
    let dir = tiny_record();
    let outcome = ask(dir.path(), "Are generic or shared logins in use anywhere?");
    assert_eq!(outcome.citations[0].control, "IAM-01");
    assert_ne!(outcome.status, Status::Answered, "{:?}", outcome.reason);
}

#[test]
fn common_words_do_not_hold_back_a_terse_question() {
    // "enabled" and "actually" are words the example record hardly uses; they used to weigh
    // like its rarest words and kept a plain match under the review threshold.
    let dir = copy_example();
    let outcome = ask(dir.path(), "Is PITR actually enabled?");
    assert_ne!(
        outcome.status,
        Status::NotOnRecord,
        "{:?}",
        outcome.citations
    );
}

#[test]
fn a_question_about_what_the_statement_denies_goes_to_review_offered_no() {
    // MON-01 answers yes to its title; "We do not run an in-house security operations centre"
    // rules out what is asked, so it goes to review, and the reader is offered no, not the
    // control's yes. An open question gets no such turn.
    let dir = tiny_record();
    for question in [
        "Is your security operations centre in-house?",
        "Is your security operations centre run in-house?",
    ] {
        let outcome = ask(dir.path(), question);
        assert_eq!(outcome.citations[0].control, "MON-01");
        assert_eq!(outcome.status, Status::Review, "{:?}", outcome.reason);
        assert_eq!(outcome.answer, Some(Answer::No));
    }
    let outcome = ask(
        dir.path(),
        "Which in-house security operations centre handles your alerts?",
    );
    assert_eq!(outcome.citations[0].control, "MON-01");
    assert_ne!(outcome.answer, Some(Answer::No));
}

#[test]
fn a_phrasing_answer_does_not_carry_over_to_a_question_asked_the_other_way_round() {
    // SUP-01 has { q = "Can support staff open customer invoices without permission?",
    // answer = "no" }; this question reads like it but asks the positive way.
    let dir = tiny_record();
    let outcome = ask(
        dir.path(),
        "Do support staff need permission to open customer invoices?",
    );
    assert_eq!(outcome.citations[0].control, "SUP-01");
    assert_ne!(outcome.answer, Some(Answer::No), "{:?}", outcome.reason);
    assert_ne!(outcome.status, Status::Answered, "{:?}", outcome.reason);
}

#[test]
fn a_phrasing_answer_is_not_sent_for_a_question_that_adds_to_it() {
    // IAM-01 says no to "Do staff share login accounts?" for its employees. Asked of
    // contractors, a word neither the phrasing nor the control uses, the no is a reading.
    let dir = tiny_record();
    let outcome = ask(dir.path(), "Do staff share login accounts?");
    assert_eq!(outcome.status, Status::Answered, "{:?}", outcome.reason);
    assert_eq!(outcome.answer, Some(Answer::No));
    let outcome = ask(dir.path(), "Do your contractors share login accounts?");
    assert_eq!(outcome.citations[0].control, "IAM-01");
    assert_eq!(outcome.status, Status::Review);
    let reason = outcome.reason.detail.clone();
    assert!(reason.contains("contractor"), "{reason}");
}

#[test]
fn a_question_offering_two_ways_is_read_before_it_is_sent() {
    let dir = tiny_record();
    let outcome = ask(
        dir.path(),
        "Are databases backed up with point-in-time recovery, or do we keep our own copies?",
    );
    assert_eq!(outcome.citations[0].control, "BCK-01");
    assert_eq!(outcome.status, Status::Review, "{:?}", outcome.reason);
}

#[test]
fn an_open_question_is_sent_unread_only_when_it_reads_like_a_phrasing() {
    let dir = copy_example();
    // Every word of it is in ENC-07 (application secrets in Secrets Manager), which is not
    // how passwords are stored: a description sent unread must be one the record wrote for it.
    let outcome = ask(dir.path(), "How does the application store passwords?");
    assert_eq!(outcome.status, Status::Review, "{:?}", outcome.citations);
    let reason = outcome.reason.detail.clone();
    assert!(reason.contains("open question"), "{reason}");
    // One of SDL-07's own phrasings.
    let outcome = ask(
        dir.path(),
        "How are emergency changes handled and documented?",
    );
    assert_eq!(outcome.citations[0].control, "SDL-07");
    assert_eq!(outcome.status, Status::Answered, "{:?}", outcome.reason);
}

#[test]
fn a_question_asked_the_other_way_round_from_a_plain_phrasing_is_read_first_turned_round() {
    // AI-03 (yes) has the plain phrasing "Does your AI provider commit not to retain or train
    // on the data we send it?"; this asks whether the data is retained.
    let dir = copy_example();
    let outcome = ask(
        dir.path(),
        "Is the data we send to your AI provider retained?",
    );
    assert_eq!(outcome.citations[0].control, "AI-03");
    assert_eq!(outcome.status, Status::Review, "{:?}", outcome.reason);
    assert_eq!(outcome.answer, Some(Answer::No));
}

#[test]
fn what_a_statement_does_rather_than_something_else_denies_the_other() {
    // HR-08: "all access goes through Okta with device trust checks rather than a network VPN".
    let dir = copy_example();
    let outcome = ask(
        dir.path(),
        "Do you operate a VPN that allows remote access to your network?",
    );
    assert_eq!(outcome.citations[0].control, "HR-08");
    assert_eq!(outcome.status, Status::Review, "{:?}", outcome.reason);
    assert_eq!(outcome.answer, Some(Answer::No));
}

#[test]
fn a_framework_id_the_record_maps_is_on_the_record() {
    // A.8.15 (logging) is mapped to IAM-01 and SUP-01, whose text never says "logging" and
    // which tie: the mapping alone puts the question on the record.
    let dir = tiny_record();
    let outcome = ask(dir.path(), "A.8.15?");
    assert_ne!(
        outcome.status,
        Status::NotOnRecord,
        "{}",
        outcome.confidence
    );
    assert!(
        ["IAM-01", "SUP-01"].contains(&outcome.citations[0].control.as_str()),
        "{:?}",
        outcome.citations
    );
}

#[test]
fn a_question_about_the_customers_people_is_not_answered_by_the_companys_own_practice() {
    // IAM-01 is about the company's staff; "our employees" are the customer's.
    let dir = tiny_record();
    let ours = ask(
        dir.path(),
        "Does every employee have a personal named account?",
    );
    assert_eq!(ours.status, Status::Answered, "{:?}", ours.reason);
    let theirs = ask(
        dir.path(),
        "Does every one of our employees have a personal named account?",
    );
    assert_eq!(theirs.citations[0].control, "IAM-01");
    assert_eq!(theirs.status, Status::Review, "{:?}", theirs.reason);
}

#[test]
fn a_quantity_the_record_does_not_state_is_not_on_the_record() {
    // BCK-01 says how long backups are kept; SUP-01 says when support may open invoices,
    // not how often it does.
    let dir = tiny_record();
    let kept = ask(dir.path(), "How long are production database backups kept?");
    assert_eq!(kept.citations[0].control, "BCK-01");
    assert_ne!(kept.status, Status::NotOnRecord, "{}", kept.confidence);
    let question = "Do support staff open a customer's invoices?";
    assert_ne!(ask(dir.path(), question).status, Status::NotOnRecord);
    let often = ask(
        dir.path(),
        "How often do support staff open a customer's invoices?",
    );
    assert_eq!(often.status, Status::NotOnRecord, "{}", often.confidence);
    assert!(often.reason.detail.contains("SUP-01"));
    // A yes/no question that names a frequency asks for one too.
    let monthly = ask(
        dir.path(),
        "Do support staff open a customer's invoices every month?",
    );
    assert_eq!(
        monthly.status,
        Status::NotOnRecord,
        "{}",
        monthly.confidence
    );
    assert_eq!(monthly.reason.code.as_str(), "quantity_not_stated");
}

#[test]
fn a_topic_an_n_a_control_names_is_answered_by_it() {
    // MOB-01 says there is no mobile app: a question about how the Android app is tested is
    // about something the record says does not apply, not off the record.
    let dir = tiny_record();
    let outcome = ask(
        dir.path(),
        "Is your Android app tested against the OWASP MASVS before each store release?",
    );
    assert_ne!(
        outcome.status,
        Status::NotOnRecord,
        "{}",
        outcome.confidence
    );
    assert_eq!(outcome.citations[0].control, "MOB-01");
    assert_eq!(outcome.answer, Some(Answer::NotApplicable));
}

#[test]
fn a_record_thesaurus_line_that_cannot_resolve_is_reported_with_its_line() {
    let dir = tiny_record();
    let thesaurus = dir.path().join("thesaurus.txt");
    std::fs::write(&thesaurus, "# ours\nsign-in hub > keycloak\n").unwrap();
    let error = Engine::open(dir.path())
        .err()
        .expect("an error")
        .to_string();
    assert!(error.contains("thesaurus.txt:2"), "{error}");
    assert!(error.contains("sign-in hub"), "{error}");
    // One word, or a term of a group, resolves; a statement naming the kind then speaks of it.
    std::fs::write(&thesaurus, "hub > keycloak\n").unwrap();
    let engine = Engine::open(dir.path()).expect("engine");
    assert!(engine.ask("Is there a hub?").is_ok());
}

#[test]
fn a_question_two_controls_explain_alike_but_answer_otherwise_goes_to_review() {
    let dir = record_with(
        r#"
[[control]]
id = "PRV-01"
title = "Personal data inventory"
answer = "yes"
statement = "We keep an inventory of the personal data we hold."
reviewed = 2026-06-01

[[control]]
id = "PRV-02"
title = "Sale of personal data"
answer = "no"
statement = "We do not sell personal data."
reviewed = 2026-06-01
"#,
        "control,soc2,iso27001,cuec\nPRV-01,P1.1,A.5.34,\nPRV-02,P6.1,A.5.34,\n",
    );
    let outcome = ask(dir.path(), "Personal data?");
    assert_eq!(outcome.status, Status::Review, "{:?}", outcome.reason);
    assert!(
        outcome.reason.detail.contains("as well"),
        "{:?}",
        outcome.reason
    );
}

#[test]
fn a_follow_up_or_a_single_word_is_read_before_it_is_sent() {
    let dir = tiny_record();
    let follow_up = ask(
        dir.path(),
        "If so, are production database backups kept for 35 days?",
    );
    assert_eq!(follow_up.citations[0].control, "BCK-01");
    assert_eq!(follow_up.status, Status::Review, "{:?}", follow_up.reason);
    assert!(follow_up.reason.detail.contains("follows up"));
    let if_needed = ask(
        dir.path(),
        "If needed, can production database backups be kept for 35 days?",
    );
    assert_eq!(if_needed.status, Status::Review, "{:?}", if_needed.reason);
    let asked = ask(
        dir.path(),
        "Are production database backups kept for 35 days?",
    );
    assert_eq!(asked.status, Status::Answered, "{:?}", asked.reason);
    // One plain word: which of its many asks is meant, nobody can tell from the record.
    let one_word = ask(dir.path(), "Triage?");
    assert_eq!(one_word.citations[0].control, "MON-01");
    assert_eq!(one_word.status, Status::Review, "{:?}", one_word.reason);
}

#[test]
fn notifying_without_undue_delay_denies_nothing() {
    let dir = record_with(
        r#"
[[control]]
id = "INC-01"
title = "Customer notification of security incidents"
answer = "yes"
statement = "We notify affected customers without undue delay after confirming a security incident."
reviewed = 2026-06-01
"#,
        "control,soc2,iso27001,cuec\nINC-01,CC7.4,A.5.26,\n",
    );
    let outcome = ask(
        dir.path(),
        "Do you notify affected customers of security incidents?",
    );
    assert_eq!(outcome.status, Status::Answered, "{:?}", outcome.reason);
    assert_eq!(outcome.answer, Some(Answer::Yes));
}

#[test]
fn the_company_s_name_in_a_question_means_you() {
    // The example record's thesaurus.txt says `we | payvane`: "Has Payvane ..." asks "Have
    // you ...", and the name the pen-test control never uses no longer holds it back.
    let dir = copy_example();
    let question = "Has Payvane had a penetration test this year?";
    let named = ask(dir.path(), question);
    assert_eq!(named.status, Status::Answered, "{:?}", named.reason);
    std::fs::remove_file(dir.path().join("thesaurus.txt")).unwrap();
    let unnamed = ask(dir.path(), question);
    assert_eq!(unnamed.citations[0].control, named.citations[0].control);
    assert_eq!(unnamed.status, Status::Review, "{:?}", unnamed.reason);
}
