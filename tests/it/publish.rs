//! `onrecord publish`: the trust page of every record under `fixtures/publish/` and of the
//! example record. Cases are data: a fixture folder with its `expect.toml` (what each
//! audience's page shows and hides) needs no new Rust. Every page is also checked for leaks
//! (each string of each `nda` or `internal` control, profile table and provider absent where
//! the audience may not read it), parsed by html5ever (zero parse errors, one h1, no skipped
//! heading level, no empty link, nothing external), its colours checked for contrast, and
//! rendered by headless Chromium to PNG and PDF.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use html5ever::tendril::TendrilSink;
use markup5ever_rcdom::{Handle, NodeData, RcDom};
use onrecord::limits::Limits;
use onrecord::record::Visibility;

use crate::{missing, onrecord, repo};

/// A published page, read back: its HTML, the DOM's text and attribute values, its JSON.
struct Page {
    html: String,
    json: String,
    /// Every text node and attribute value of the DOM, as a reader or a crawler sees them.
    seen: String,
    /// The JSON's string values, unescaped.
    json_text: String,
    dir: tempfile::TempDir,
}

impl Page {
    fn shows(&self, text: &str) -> bool {
        self.seen.contains(text) || self.json_text.contains(text)
    }

    fn index(&self) -> PathBuf {
        self.dir.path().join("index.html")
    }
}

fn publish(record: &Path, audience: &str) -> Page {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().to_string_lossy().into_owned();
    let run = onrecord(
        dir.path(),
        &[
            "--record",
            &record.to_string_lossy(),
            "publish",
            "-o",
            &out,
            "--audience",
            audience,
        ],
    );
    assert_eq!(run.code, 0, "{}: {}", record.display(), run.seen());
    let html = std::fs::read_to_string(dir.path().join("index.html")).expect("index.html");
    let json = std::fs::read_to_string(dir.path().join("trust.json")).expect("trust.json");
    let dom = parse(&html);
    let mut seen = String::new();
    walk(&dom.document, &mut |node| match &node.data {
        NodeData::Text { contents } => {
            seen.push_str(&contents.borrow());
            seen.push('\n');
        }
        NodeData::Element { attrs, .. } => {
            for attr in attrs.borrow().iter() {
                seen.push_str(&attr.value);
                seen.push('\n');
            }
        }
        _ => {}
    });
    let value: serde_json::Value = serde_json::from_str(&json).expect("trust.json is JSON");
    let mut json_text = String::new();
    strings(&value, &mut json_text);
    Page {
        html,
        json,
        seen,
        json_text,
        dir,
    }
}

fn strings(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

fn parse(html: &str) -> RcDom {
    html5ever::parse_document(RcDom::default(), Default::default())
        .from_utf8()
        .read_from(&mut html.as_bytes())
        .expect("html5ever reads the page")
}

fn walk(node: &Handle, visit: &mut impl FnMut(&Handle)) {
    visit(node);
    for child in node.children.borrow().iter() {
        walk(child, visit);
    }
}

fn element_name(node: &Handle) -> Option<String> {
    match &node.data {
        NodeData::Element { name, .. } => Some(name.local.to_string()),
        _ => None,
    }
}

fn text_of(node: &Handle) -> String {
    let mut text = String::new();
    walk(node, &mut |n| {
        if let NodeData::Text { contents } = &n.data {
            text.push_str(&contents.borrow());
        }
    });
    text
}

/// The fixture records, then the example record (which has no `expect.toml`).
fn records() -> Vec<PathBuf> {
    let root = repo().join("fixtures/publish");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("fixtures/publish")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("knowledge").is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 4, "fixtures/publish holds {cases:?}");
    cases.push(repo());
    cases
}

const AUDIENCES: [&str; 2] = ["public", "nda"];

#[test]
fn every_fixture_page_shows_and_hides_what_its_expect_file_says() {
    for record in records() {
        let Ok(text) = std::fs::read_to_string(record.join("expect.toml")) else {
            continue;
        };
        let expect: toml::Table = toml::from_str(&text).expect("expect.toml");
        for (audience, lists) in &expect {
            let page = publish(&record, audience);
            let list = |key: &str| -> Vec<String> {
                lists
                    .get(key)
                    .and_then(|v| v.as_array())
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            for text in list("shows") {
                assert!(
                    page.shows(&text),
                    "{} ({audience}): the page does not show {text:?}",
                    record.display()
                );
            }
            for text in list("hides") {
                assert!(
                    !page.html.contains(&text) && !page.json.contains(&text) && !page.shows(&text),
                    "{} ({audience}): the page shows {text:?}",
                    record.display()
                );
            }
        }
    }
}

/// Every string a record holds at a visibility, from its controls, profile and providers.
fn strings_at(record: &Path, visibility: Visibility) -> Vec<String> {
    let loaded = onrecord::record::load(record, &Limits::default()).expect("the record loads");
    let record = loaded.record;
    let mut out = Vec::new();
    for c in record
        .controls
        .iter()
        .filter(|c| c.visibility == visibility)
    {
        out.extend([c.id.clone(), c.title.clone(), c.statement.clone()]);
        out.extend(c.evidence.iter().cloned());
        out.extend(c.questions.iter().map(|q| q.text.clone()));
    }
    for (key, _) in onrecord::profile::KEYS {
        if record.profile.visibility(key) == visibility
            && let Some(value) = record.profile.get(key)
        {
            out.push(value.to_string());
        }
    }
    for p in record
        .providers
        .iter()
        .filter(|p| p.visibility == visibility)
    {
        out.extend([p.name.clone(), p.role.clone()]);
        out.extend(p.certifications.iter().cloned());
    }
    out
}

#[test]
fn no_page_shows_anything_narrower_than_its_audience() {
    let mut checked = 0;
    for record in records() {
        let nda = strings_at(&record, Visibility::Nda);
        let internal = strings_at(&record, Visibility::Internal);
        let public = publish(&record, "public");
        let for_nda = publish(&record, "nda");
        for text in nda.iter().chain(&internal) {
            assert!(
                !public.html.contains(text.as_str())
                    && !public.json.contains(text.as_str())
                    && !public.shows(text),
                "{}: the public page shows {text:?}",
                record.display()
            );
            checked += 1;
        }
        for text in &internal {
            assert!(
                !for_nda.html.contains(text.as_str())
                    && !for_nda.json.contains(text.as_str())
                    && !for_nda.shows(text),
                "{}: the nda page shows internal {text:?}",
                record.display()
            );
        }
        for text in &nda {
            assert!(
                for_nda.shows(text),
                "{}: the nda page leaves out nda {text:?}",
                record.display()
            );
        }
    }
    assert!(checked >= 18, "only {checked} strings checked");
}

#[test]
fn the_same_record_publishes_the_same_bytes() {
    for record in records() {
        for audience in AUDIENCES {
            let first = publish(&record, audience);
            let second = publish(&record, audience);
            assert_eq!(first.html, second.html, "{}", record.display());
            assert_eq!(first.json, second.json, "{}", record.display());
        }
    }
}

#[test]
fn publishing_the_example_record_takes_under_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let record = repo().to_string_lossy().into_owned();
    let mut fastest = Duration::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        let run = onrecord(dir.path(), &["--record", &record, "publish", "-q"]);
        fastest = fastest.min(start.elapsed());
        assert_eq!(run.code, 0, "{}", run.seen());
    }
    println!("publish on the example record: {fastest:?}");
    assert!(fastest < Duration::from_secs(1), "took {fastest:?}");
    assert!(dir.path().join("trust/index.html").is_file());
}

#[test]
fn publish_replaces_its_own_page_but_no_other_file_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let record = repo().join("fixtures/publish/matrix");
    let record = record.to_string_lossy();
    let args = ["--record", &record, "publish", "-o", "site"];
    assert_eq!(onrecord(dir.path(), &args).code, 0);
    assert_eq!(
        onrecord(dir.path(), &args).code,
        0,
        "its own page is replaced"
    );
    std::fs::write(
        dir.path().join("site/index.html"),
        "<p>a page of our own</p>",
    )
    .unwrap();
    let run = onrecord(dir.path(), &args);
    assert_eq!(run.code, 2, "{}", run.seen());
    assert!(run.stderr.contains("site/index.html") && run.stderr.contains("--force"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("site/index.html")).unwrap(),
        "<p>a page of our own</p>"
    );
    let forced = [&args[..], &["--force"]].concat();
    assert_eq!(onrecord(dir.path(), &forced).code, 0);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("site"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        leftovers,
        ["index.html", "trust.json"],
        "no temporary file left"
    );
}

#[test]
fn a_record_with_errors_is_not_published() {
    let dir = tempfile::tempdir().unwrap();
    let record = repo().join("fixtures/check/bad-providers");
    let run = onrecord(
        dir.path(),
        &["--record", &record.to_string_lossy(), "publish"],
    );
    assert_eq!(run.code, 2, "{}", run.seen());
    assert!(run.stderr.contains("onrecord check"), "{}", run.stderr);
    assert!(!dir.path().join("trust").exists());
}

#[test]
fn every_page_is_valid_html5_with_headings_links_and_nothing_external() {
    // The validator does report errors: a fragment with no doctype and a stray end tag.
    assert!(!parse("<p>a</b>").errors.borrow().is_empty());
    for record in records() {
        for audience in AUDIENCES {
            let page = publish(&record, audience);
            let at = format!("{} ({audience})", record.display());
            let dom = parse(&page.html);
            let errors = dom.errors.borrow();
            assert!(errors.is_empty(), "{at}: HTML parse errors {errors:?}");
            let mut headings = Vec::new();
            let mut links = 0;
            walk(&dom.document, &mut |node| {
                let Some(name) = element_name(node) else {
                    return;
                };
                if let Some(level) = name.strip_prefix('h').and_then(|l| l.parse::<usize>().ok()) {
                    headings.push(level);
                }
                if name == "a" {
                    links += 1;
                    assert!(
                        !text_of(node).trim().is_empty(),
                        "{at}: a link without text"
                    );
                }
                assert!(
                    !["script", "link", "img", "iframe", "object", "embed"]
                        .contains(&name.as_str()),
                    "{at}: <{name}> in the page"
                );
                if let NodeData::Element { attrs, .. } = &node.data {
                    for attr in attrs.borrow().iter() {
                        let key = attr.name.local.to_string();
                        assert!(
                            key != "src" && !key.starts_with("on"),
                            "{at}: attribute {key}"
                        );
                    }
                }
                if name == "html" {
                    assert!(page.html.contains("<html lang=\"en\">"), "{at}: no lang");
                }
            });
            assert_eq!(
                headings.iter().filter(|&&l| l == 1).count(),
                1,
                "{at}: one h1"
            );
            assert_eq!(headings.first(), Some(&1), "{at}: the h1 comes first");
            for pair in headings.windows(2) {
                assert!(
                    pair[1] <= pair[0] + 1,
                    "{at}: h{} after h{}",
                    pair[1],
                    pair[0]
                );
            }
            assert!(links >= 6, "{at}: the contents links");
            assert!(!page.html.contains("url("), "{at}: a url() in the style");
            assert!(!page.html.contains("@import"), "{at}: an @import");
        }
    }
}

/// Relative luminance of a `#rrggbb` colour (WCAG 2).
fn luminance(hex: &str) -> f64 {
    let channel = |i: usize| {
        let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).expect("hex")) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
}

fn contrast(a: &str, b: &str) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

#[test]
fn every_text_colour_reads_at_4_5_to_1_on_every_background() {
    let page = publish(&repo().join("fixtures/publish/alignment"), "public");
    let style = page
        .html
        .split_once("<style>")
        .and_then(|(_, rest)| rest.split_once("</style>"))
        .map(|(css, _)| css)
        .expect("an inline style sheet");
    let mut texts = BTreeSet::new();
    let mut backgrounds = BTreeSet::new();
    for declaration in style.split([';', '{', '}']) {
        let Some((property, value)) = declaration.split_once(':') else {
            continue;
        };
        let (property, value) = (property.trim(), value.trim());
        let set = match property {
            "color" => &mut texts,
            "background" | "background-color" => &mut backgrounds,
            _ => continue,
        };
        assert!(
            value.len() == 7 && value.starts_with('#'),
            "{property}: {value} is not #rrggbb, so it is not checked"
        );
        set.insert(value.to_string());
    }
    assert!(
        texts.len() >= 4 && backgrounds.len() >= 4,
        "{texts:?} {backgrounds:?}"
    );
    for text in &texts {
        for background in &backgrounds {
            let ratio = contrast(text, background);
            assert!(ratio >= 4.5, "{text} on {background}: {ratio:.2}:1");
        }
    }
}

/// Debian's Chromium (`.ci/run` installs it).
fn chromium() -> Option<PathBuf> {
    let path = PathBuf::from("/usr/bin/chromium");
    if path.is_file() {
        return Some(path);
    }
    missing("Chromium (/usr/bin/chromium) is not installed")
}

/// Runs headless Chromium on `page` with `args` and a fresh profile, within a minute.
fn render(chromium: &Path, page: &Path, args: &[String]) {
    let profile = tempfile::tempdir().unwrap();
    let output = Command::new("timeout")
        .arg("120")
        .arg(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(
        output.status.success(),
        "chromium {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn chromium_renders_every_page_to_png_and_pdf() {
    let Some(chromium) = chromium() else {
        return;
    };
    for record in records() {
        let page = publish(&record, "public");
        let at = record.display();
        let png = page.dir.path().join("page.png");
        let pdf = page.dir.path().join("page.pdf");
        render(
            &chromium,
            &page.index(),
            &[
                format!("--screenshot={}", png.display()),
                "--window-size=1280,2000".into(),
            ],
        );
        render(
            &chromium,
            &page.index(),
            &[
                format!("--print-to-pdf={}", pdf.display()),
                "--no-pdf-header-footer".into(),
            ],
        );
        let (ink, colours) = ink_and_colours(&png);
        assert!(ink > 0.02, "{at}: the screenshot is blank ({ink:.4} ink)");
        assert!(
            colours >= 8,
            "{at}: only {colours} colours in the screenshot"
        );
        let pdf = std::fs::read(&pdf).expect("the PDF");
        assert!(pdf.starts_with(b"%PDF"), "{at}: not a PDF");
        assert!(pdf.len() > 10_000, "{at}: a {} byte PDF", pdf.len());
    }
}

/// The share of pixels that are not white, and how many distinct colours there are.
fn ink_and_colours(path: &Path) -> (f64, usize) {
    let file = std::io::BufReader::new(std::fs::File::open(path).expect("the screenshot"));
    let mut decoder = png::Decoder::new(file);
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    let channels = info.color_type.samples();
    assert!(channels >= 3, "{:?}", info.color_type);
    let pixels = &buf[..info.buffer_size()];
    let mut ink = 0usize;
    let mut colours = BTreeSet::new();
    let mut total = 0usize;
    for px in pixels.chunks_exact(channels) {
        total += 1;
        if px[..3].iter().any(|&c| c < 240) {
            ink += 1;
        }
        colours.insert([px[0], px[1], px[2]]);
    }
    (ink as f64 / total.max(1) as f64, colours.len())
}
