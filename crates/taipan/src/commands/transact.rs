//! The common tail of create/install/update/remove: show the plan, confirm, fetch, link,
//! report — in conda's text layout or its JSON shape.

use std::collections::HashMap;
use std::sync::Arc;
use taipan_env::error::ErrorKind;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use rattler_conda_types::RepoDataRecord;
use serde_json::json;
use taipan_env::cache::Fetched;
use taipan_env::cache::Progress;
use taipan_env::context::Context;
use taipan_env::history::Entry;
use taipan_env::prefix_lock::PrefixLock;
use taipan_env::transaction::Plan;
use taipan_env::{CondaError, Result};

use crate::output;

/// How the plan should be carried out.
pub struct Options {
    pub json: bool,
    pub quiet: bool,
    pub yes: bool,
    pub dry_run: bool,
    pub download_only: bool,
    pub removed_specs: Vec<String>,
    pub updated_specs: Vec<String>,
    pub requested: HashMap<String, String>,
}

impl Options {
    /// Options of create/install/update, from their shared flags.
    pub fn for_solve(
        s: &crate::cli::SolveArgs,
        updated_specs: Vec<String>,
        specs: &[rattler_conda_types::MatchSpec],
    ) -> Self {
        Self {
            json: s.output.json,
            quiet: s.output.quiet,
            yes: s.yes,
            dry_run: s.dry_run,
            download_only: s.download_only,
            removed_specs: Vec::new(),
            updated_specs,
            requested: requested_map(specs),
        }
    }
}

/// The solve request of install/update from their shared flags.
pub fn request(
    specs: Vec<rattler_conda_types::MatchSpec>,
    s: &crate::cli::SolveArgs,
    m: &crate::cli::ModifyArgs,
    update_all: bool,
    update_specs: bool,
) -> taipan_env::solve::Request {
    taipan_env::solve::Request {
        specs,
        update_all,
        freeze_installed: m.freeze_installed,
        update_deps: m.update_deps,
        update_specs,
        no_pin: s.no_pin,
        prune: m.prune,
        no_deps: s.no_deps,
        only_deps: s.only_deps,
        ..Default::default()
    }
}

/// conda's solve header: channels, platform, then the phases as `<phase>: done`.
pub struct SolveSteps {
    enabled: bool,
    current: std::cell::RefCell<Option<output::Step>>,
}

impl SolveSteps {
    /// Prints `Channels:` and `Platform:` (unless quiet/json) and reports the phases after.
    pub fn new(ctx: &Context, quiet: bool) -> Self {
        let enabled = !quiet;
        if enabled {
            if let Ok(channels) = taipan_env::channels::resolve(ctx) {
                println!("Channels:");
                for c in channels {
                    println!(" - {}", c.name());
                }
            }
            println!("Platform: {}", ctx.subdir.as_str());
        }
        Self {
            enabled,
            current: Default::default(),
        }
    }
}

impl taipan_env::ops::Steps for SolveSteps {
    fn start(&self, phase: &str) {
        *self.current.borrow_mut() = Some(output::Step::start(phase, self.enabled));
    }
    fn done(&self, ok: bool) {
        if let Some(step) = self.current.borrow_mut().take() {
            step.finish(ok);
        }
    }
}

/// Records that are not in any package cache yet.
fn to_fetch<'a>(ctx: &Context, plan: &'a Plan) -> Vec<&'a RepoDataRecord> {
    plan.link
        .iter()
        .filter(|r| {
            let p = &r.package_record;
            let dir = format!("{}-{}-{}", p.name.as_normalized(), p.version, p.build);
            !ctx.pkgs_dirs
                .iter()
                .any(|d| d.join(&dir).join("info").join("index.json").is_file())
        })
        .collect()
}

/// Shows, confirms and applies a plan, holding the prefix's `lock` (a new prefix is locked
/// when it is created). Returns the exit code.
pub async fn carry_out(
    ctx: &Context,
    plan: &Plan,
    entry: Entry,
    opts: Options,
    lock: Option<&mut PrefixLock>,
) -> Result<u8> {
    let fetch = to_fetch(ctx, plan);
    if plan.is_empty() {
        return nothing_to_do(opts.json);
    }
    if !opts.json && !opts.quiet {
        output::print_plan(plan, &opts.removed_specs, &opts.updated_specs, &fetch);
    }
    if opts.dry_run {
        return stopped_early(plan, &fetch, opts.json, "dry_run");
    }
    if !output::confirm(
        opts.yes || ctx.config.always_yes.unwrap_or(false),
        opts.json,
    )? {
        if !opts.json {
            println!("\nExiting.\n");
        }
        return Ok(0);
    }
    let progress = progress(opts.json || opts.quiet, fetch.len());
    if opts.download_only {
        taipan_env::ops::download(ctx, plan, progress).await?;
        return stopped_early(plan, &fetch, opts.json, "download_only");
    }
    if !opts.json && !opts.quiet && !fetch.is_empty() {
        println!("\nDownloading and Extracting Packages:\n");
    }
    let extracted = taipan_env::ops::download(ctx, plan, progress).await?;
    let step = output::Step::start("Preparing transaction", !opts.json && !opts.quiet);
    step.finish(true);
    let step = output::Step::start("Verifying transaction", !opts.json && !opts.quiet);
    step.finish(true);
    if !show_prelink_messages(
        plan,
        &extracted,
        opts.yes || ctx.config.always_yes.unwrap_or(false) || opts.json,
    )? {
        return Ok(0);
    }
    let step = output::Step::start("Executing transaction", !opts.json && !opts.quiet);
    let packages = taipan_env::transaction::Packages::Ready(&extracted);
    let outcome = taipan_env::ops::apply(ctx, plan, &packages, &entry, opts.requested, lock).await;
    step.finish(outcome.is_ok());
    let outcome = outcome?;
    report(plan, &fetch, &outcome, opts.json);
    Ok(0)
}

/// Prints `info/prelink_messages` as conda does and asks to continue (unless `-y`).
fn show_prelink_messages(plan: &Plan, extracted: &Fetched, yes: bool) -> Result<bool> {
    let messages = taipan_env::ops::prelink_messages(plan, extracted);
    if messages.is_empty() {
        return Ok(true);
    }
    println!("\n\nThe following PRELINK MESSAGES are INCLUDED:\n\n");
    for (name, text) in messages {
        println!("  File {name}:\n");
        for line in text.lines() {
            println!("  {line}");
        }
        println!();
    }
    if !output::confirm(yes, false)? {
        println!("\nExiting.\n");
        return Ok(false);
    }
    Ok(true)
}

fn report(
    plan: &Plan,
    fetch: &[&RepoDataRecord],
    outcome: &taipan_env::transaction::Outcome,
    json: bool,
) {
    for w in &outcome.warnings {
        if w.starts_with("SafetyError:") {
            eprintln!("{w}");
        } else {
            eprintln!("WARNING: {w}");
        }
    }
    for m in &outcome.messages {
        if json {
            eprint!("{m}");
        } else {
            print!("{m}");
        }
    }
    if json {
        let value = json!({
            "actions": output::actions_json(plan, fetch),
            "prefix": plan.prefix.display().to_string(),
            "success": true,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
    }
}

fn nothing_to_do(json: bool) -> Result<u8> {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({"message": "All requested packages already installed.", "success": true})
            )
            .unwrap_or_default()
        );
    } else {
        println!("\n# All requested packages already installed.\n");
    }
    Ok(0)
}

/// Ends a command that stops before linking (`--dry-run`, `--download-only`): the plan as
/// JSON with `flag: true`, or conda's `DryRunExit` line.
fn stopped_early(plan: &Plan, fetch: &[&RepoDataRecord], json: bool, flag: &str) -> Result<u8> {
    if json {
        // Sorted keys, as conda prints them.
        let value: std::collections::BTreeMap<&str, serde_json::Value> = [
            ("actions", output::actions_json(plan, fetch)),
            (flag, json!(true)),
            ("prefix", json!(plan.prefix.display().to_string())),
            ("success", json!(true)),
        ]
        .into_iter()
        .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
    } else {
        eprintln!("\nDryRunExit: Dry run. Exiting.\n");
    }
    Ok(0)
}

struct Bars {
    multi: MultiProgress,
    bars: std::sync::Mutex<HashMap<String, ProgressBar>>,
}

impl Progress for Bars {
    fn start(&self, record: &RepoDataRecord) {
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(record.identifier.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(100));
        if let Ok(mut bars) = self.bars.lock() {
            bars.insert(record.identifier.to_string(), bar);
        }
    }
    fn done(&self, record: &RepoDataRecord) {
        if let Ok(mut bars) = self.bars.lock() {
            if let Some(bar) = bars.remove(&record.identifier.to_string()) {
                bar.finish_with_message(format!("{} done", record.identifier));
            }
        }
    }
}

/// Progress bars on a terminal, nothing otherwise.
fn progress(silent: bool, count: usize) -> Arc<dyn Progress> {
    use std::io::IsTerminal;
    if silent || count == 0 || !std::io::stderr().is_terminal() {
        return Arc::new(taipan_env::cache::Silent);
    }
    Arc::new(Bars {
        multi: MultiProgress::new(),
        bars: Default::default(),
    })
}

/// The specs the user typed, as conda records them (`str(MatchSpec)`).
pub fn spec_strings(texts: &[String]) -> Vec<String> {
    texts.iter().map(|s| s.trim().to_string()).collect()
}

/// Requested spec by package name, for `requested_spec` in conda-meta records.
pub fn requested_map(specs: &[rattler_conda_types::MatchSpec]) -> HashMap<String, String> {
    specs
        .iter()
        .filter_map(|s| {
            s.name
                .as_exact()
                .map(|n| (n.as_normalized().to_string(), s.to_string()))
        })
        .collect()
}

/// Reads `--file` arguments: `@EXPLICIT` files give URLs, others give specs.
pub fn read_files(files: &[std::path::PathBuf]) -> Result<(Vec<String>, Vec<ExplicitUrl>)> {
    let mut specs = Vec::new();
    let mut urls = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).map_err(|e| {
            CondaError::new(
                ErrorKind::CondaFileIOError,
                format!("'{}'. {e}\n  Check the path given to --file.", f.display()),
            )
        })?;
        if text.lines().any(|l| l.trim() == "@EXPLICIT") {
            urls.extend(taipan_env::ops::explicit_urls(f, &text)?);
        } else {
            specs.extend(
                text.lines()
                    .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
                    .filter(|l| !l.is_empty()),
            );
        }
    }
    Ok((specs, urls))
}

pub use taipan_env::ops::ExplicitUrl;
