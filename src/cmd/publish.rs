//! `onrecord publish [-o DIR] [--audience public|nda]`: the trust page, `index.html` and
//! `trust.json`, written together and atomically into DIR.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use onrecord::outputs::{Outputs, Replace};
use onrecord::publish::{self, Audience, GENERATOR};
use onrecord::record;

use super::Outcome;
use crate::cli::{Config, Format};

pub struct PublishArgs {
    pub output: PathBuf,
    pub audience: Audience,
    pub replace: Replace,
}

pub fn run(config: &Config, args: &PublishArgs) -> Result<Outcome> {
    let root = config.record()?;
    let loaded = record::load_passing(root, &config.limits)?;
    let record = &loaded.record;
    let page = publish::page(record, args.audience);
    let html = publish::render_html(&page)?;
    let json = publish::render_json(&page)?;

    let dir = &args.output;
    if dir.exists() && !dir.is_dir() {
        bail!(
            "`{}` is not a directory; -o names the directory the page is written into",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("could not create `{}`: {e}", dir.display()))?;
    let targets = [
        (dir.join("index.html"), "the trust page", html),
        (dir.join("trust.json"), "the trust page's JSON", json),
    ];
    // A page this command wrote earlier is replaced; any other file is refused without
    // --force, so `-o` pointing at a folder of one's own never loses a file.
    let replace = match args.replace {
        Replace::Force => Replace::Force,
        Replace::Refuse => {
            for (path, what, _) in &targets {
                if path.exists() && !written_by_us(path) {
                    bail!(
                        "`{}` exists and was not written by onrecord publish; {what} would \
                         replace it: choose another -o directory, or pass --force",
                        path.display()
                    );
                }
            }
            Replace::Force
        }
    };
    let inputs: Vec<PathBuf> = record.files.iter().map(|(rel, _)| root.join(rel)).collect();
    let mut outputs = Outputs::new(&inputs, replace);
    for (path, what, _) in &targets {
        outputs.claim(path, what)?;
    }
    for (path, _, bytes) in targets {
        outputs.set(&path, bytes.into_bytes())?;
    }
    outputs.commit()?;
    let audience = match args.audience {
        Audience::Public => "public",
        Audience::Nda => "nda",
    };
    let controls: usize = page.areas.iter().map(|a| a.controls.len()).sum();
    let (index, data) = (dir.join("index.html"), dir.join("trust.json"));
    match config.format {
        Format::Json => outln!(
            "{}",
            serde_json::json!({
                "index": index.display().to_string(),
                "json": data.display().to_string(),
                "audience": audience,
                "controls": controls,
                "providers": page.providers.len(),
                "pre_answers": page.pre_answers.len(),
            })
        )?,
        _ if config.quiet => {}
        _ => eprintln!(
            "wrote {} and {} ({audience} audience: {controls} controls, {} providers, {} \
             pre-answered questions)",
            index.display(),
            data.display(),
            page.providers.len(),
            page.pre_answers.len(),
        ),
    }
    Ok(Outcome::Success)
}

/// Whether `path` is a file an earlier `publish` wrote: it names onrecord publish as its
/// generator near its start.
fn written_by_us(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 2048];
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let n = file.read(&mut head).unwrap_or(0);
    let head = String::from_utf8_lossy(&head[..n]);
    head.contains(&format!(
        "<meta name=\"generator\" content=\"{GENERATOR}\">"
    )) || head.contains(&format!("\"generator\": \"{GENERATOR}\""))
}
