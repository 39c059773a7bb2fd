//! `conda doctor --fix`: the repairs of the checks that have one, asked one by one.

use super::*;

/// How the user answered a fix's question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Go on.
    Yes,
    /// Skip this fix.
    No,
    /// `--dry-run`: say what would be done, skip it.
    DryRun,
}

/// How fixes talk to the user: their messages, their questions, and the reporter of the
/// transactions they carry out.
pub trait FixUi: Sync {
    /// A line of a fix's output.
    fn say(&self, text: &str);
    /// A fix's question (conda's `(y/[n])?`).
    fn ask(&self, question: &str) -> Result<Answer>;
    /// The reporter of a re-link transaction.
    fn reporter(&self) -> &dyn Reporter;
}

/// Runs the fixes of the checks that have one, in order, for what `report` found. Returns
/// the exit code (1 when a fix failed; its error is reported through `say`... as a
/// warning by the caller).
pub async fn fix(
    ctx: &Context,
    req: &DoctorRequest,
    report: &Report,
    ui: &dyn FixUi,
) -> Vec<(&'static str, Result<()>)> {
    let mut out = Vec::new();
    for (name, finding) in &report.findings {
        let result = match finding {
            Finding::AlteredFiles(_) => fix_files(ctx, req, ui, true).await,
            Finding::MissingFiles(_) => fix_files(ctx, req, ui, false).await,
            Finding::Consistency { .. } => fix_consistency(ctx, req, ui).await,
            Finding::EnvironmentTxt { .. } => fix_registry(ctx, req, ui),
            Finding::Pinned { .. } => fix_pinned(ctx, req, ui).await,
            Finding::FileLocking(_) | Finding::CaBundle(_) => continue,
        };
        out.push((*name, result));
    }
    out
}

/// Altered or missing files: the packages are linked again from the package cache (or a
/// fresh download when the cache copy is gone or itself altered). An altered file is
/// first copied aside as `<file>.~doctor`, so no change made to it is lost.
async fn fix_files(
    ctx: &Context,
    req: &DoctorRequest,
    ui: &dyn FixUi,
    altered: bool,
) -> Result<()> {
    let (what, question) = if altered {
        (
            "altered",
            "Reinstall these packages to restore original files?",
        )
    } else {
        (
            "missing",
            "Reinstall these packages to restore missing files?",
        )
    };
    let mut lock = lock_env(&req.prefix, ui.reporter()).await?;
    let found = if altered {
        altered_files(&req.prefix)
    } else {
        missing_files(&req.prefix)
    };
    if found.is_empty() {
        ui.say(&format!("No packages with {what} files found."));
        lock.release().await;
        return Ok(());
    }
    ui.say(&format!(
        "Found {} package(s) with {what} files:",
        found.len()
    ));
    for (pkg, files) in &found {
        ui.say(&format!("  {pkg}: {} {what} file(s)", files.len()));
    }
    ui.say("");
    if ui.ask(question)? != Answer::Yes {
        lock.release().await;
        return Ok(());
    }
    let result = relink(ctx, req, &found, altered, &mut lock, ui).await;
    lock.release().await;
    result
}

async fn relink(
    ctx: &Context,
    req: &DoctorRequest,
    found: &BTreeMap<String, Vec<String>>,
    altered: bool,
    lock: &mut crate::prefix_lock::PrefixLock,
    ui: &dyn FixUi,
) -> Result<()> {
    let installed = crate::prefix::records(&req.prefix)?;
    let stem = |r: &PrefixRecord| {
        let p = &r.repodata_record.package_record;
        format!("{}-{}-{}", p.name.as_normalized(), p.version, p.build)
    };
    let chosen: Vec<&PrefixRecord> = installed
        .iter()
        .filter(|r| found.contains_key(&stem(r)))
        .collect();
    let reinstall: HashSet<rattler_conda_types::PackageName> = chosen
        .iter()
        .map(|r| r.repodata_record.package_record.name.clone())
        .collect();
    // A hard-linked file changed in place changed the cache's copy too: such a cache
    // entry is dropped, so that the package is fetched again.
    for r in &chosen {
        drop_altered_cache_entry(ctx, r, &found[&stem(r)]);
    }
    let mut saved = Vec::new();
    if altered {
        for files in found.values() {
            for f in files {
                let from = req.prefix.join(f);
                let to = aside(&from);
                std::fs::copy(&from, &to).map_err(|e| {
                    CondaError::generic(format!(
                        "cannot keep a copy of {} before replacing it: {e}",
                        from.display()
                    ))
                })?;
                ui.say(&format!(
                    "Keeping your version of {f} as {}",
                    to.strip_prefix(&req.prefix).unwrap_or(&to).display()
                ));
                saved.push(to);
            }
        }
    }
    let requested = chosen
        .iter()
        .filter_map(|r| {
            r.requested_specs.first().cloned().map(|s| {
                (
                    r.repodata_record
                        .package_record
                        .name
                        .as_normalized()
                        .to_string(),
                    s,
                )
            })
        })
        .collect();
    let desired = installed
        .iter()
        .map(|r| r.repodata_record.clone())
        .collect();
    let plan = Plan::new(&req.prefix, &installed, desired, &reinstall, ctx.subdir)?;
    let t = Transact {
        dry_run: false,
        download_only: false,
        confirmed: false,
        specs: PlanSpecs::default(),
        requested,
        history: Entry {
            cmd: req.cmd.clone(),
            ..Entry::default()
        },
    };
    let done: Result<Transacted> = transact(ctx, plan, t, Some(lock), ui.reporter()).await;
    let applied = matches!(
        &done,
        Ok(Transacted {
            done: Done::Applied(_),
            ..
        })
    );
    if !applied {
        // Nothing was replaced: the copies are not needed.
        for s in &saved {
            let _ = std::fs::remove_file(s);
        }
    }
    done.map(|_| ())
}

/// `<file>.~doctor` (`.~doctor2`, … when taken).
fn aside(file: &Path) -> PathBuf {
    let mut n = 1;
    loop {
        let suffix = if n == 1 {
            ".~doctor".to_string()
        } else {
            format!(".~doctor{n}")
        };
        let mut name = file.as_os_str().to_owned();
        name.push(suffix);
        let p = PathBuf::from(name);
        if std::fs::symlink_metadata(&p).is_err() {
            return p;
        }
        n += 1;
    }
}

/// Removes a package's cache entry when one of `files` in it differs from the package's
/// `info/paths.json` (it shared the altered file with the prefix through a hard link).
fn drop_altered_cache_entry(ctx: &Context, record: &PrefixRecord, files: &[String]) {
    let p = &record.repodata_record.package_record;
    let entry = format!("{}-{}-{}", p.name.as_normalized(), p.version, p.build);
    let by_path: HashMap<String, String> = record
        .paths_data
        .paths
        .iter()
        .filter_map(|e| {
            e.sha256.map(|s| {
                (
                    e.relative_path.to_string_lossy().into_owned(),
                    crate::hex(&s),
                )
            })
        })
        .collect();
    for dir in &ctx.pkgs_dirs {
        let entry_dir = dir.join(&entry);
        if !entry_dir.is_dir() {
            continue;
        }
        let damaged = files.iter().any(|f| {
            let Some(want) = by_path.get(f) else {
                return false;
            };
            let cached = entry_dir.join(f);
            cached.is_file() && sha256_hex(&cached).map(|h| &h != want).unwrap_or(true)
        });
        if damaged {
            let trash = dir.join(format!(".{entry}.doctor-trash"));
            if std::fs::rename(&entry_dir, &trash).is_ok() {
                let _ = std::fs::remove_dir_all(&trash);
            }
        }
    }
}

/// Missing or mismatched dependencies: conda installs the missing ones and updates the
/// packages with problems (`--update-deps`).
async fn fix_consistency(ctx: &Context, req: &DoctorRequest, ui: &dyn FixUi) -> Result<()> {
    let records = crate::prefix::records(&req.prefix)?;
    let (issues, missing_deps) = consistency(ctx, &records)?;
    if issues.is_empty() {
        ui.say("No inconsistent packages found.");
        return Ok(());
    }
    ui.say(&format!(
        "Found {} package(s) with dependency issues:",
        issues.len()
    ));
    for (pkg, i) in &issues {
        let mut line = format!("  {pkg}:");
        if !i.missing.is_empty() {
            line.push_str(&format!(" {} missing", i.missing.len()));
        }
        if !i.inconsistent.is_empty() {
            line.push_str(&format!(" {} inconsistent", i.inconsistent.len()));
        }
        ui.say(&line);
    }
    ui.say("");
    if ui.ask("Attempt to resolve these dependency issues?")? != Answer::Yes {
        return Ok(());
    }
    let mut specs = missing_deps;
    for pkg in issues.keys() {
        if !specs.contains(pkg) {
            specs.push(pkg.clone());
        }
    }
    let request = crate::ops::InstallRequest {
        change: crate::ops::Change {
            prefix: req.prefix.clone(),
            name: req.name.clone(),
            specs,
            cmd: req.cmd.clone(),
            solve: crate::solve::Request {
                update_deps: true,
                ..crate::solve::Request::default()
            },
            ..crate::ops::Change::default()
        },
        ..crate::ops::InstallRequest::default()
    };
    crate::ops::install(ctx, request, ui.reporter())
        .await
        .map(|_| ())
}

/// `environments.txt`: registers the environment when it is missing, and drops entries
/// that are no longer environments.
fn fix_registry(ctx: &Context, req: &DoctorRequest, ui: &dyn FixUi) -> Result<()> {
    let Finding::EnvironmentTxt {
        listed,
        file,
        stale,
    } = environment_txt(ctx, &req.prefix)
    else {
        return Ok(());
    };
    let prefix = req.prefix.display();
    if listed {
        ui.say(&format!(
            "Environment is already registered in environments.txt: {prefix}"
        ));
    } else {
        ui.say(&format!("Environment not found in {}", file.display()));
        ui.say(&format!("  Environment: {prefix}"));
        ui.say("");
    }
    if !stale.is_empty() {
        ui.say(&format!(
            "Found {} registered environment(s) that no longer exist:",
            stale.len()
        ));
        for s in &stale {
            ui.say(&format!("  {}", s.display()));
        }
        ui.say("");
    }
    if listed && stale.is_empty() {
        return Ok(());
    }
    let question = match (listed, stale.is_empty()) {
        (false, true) => "Register this environment?",
        (true, false) => "Remove these entries from environments.txt?",
        _ => "Register this environment and remove the stale entries?",
    };
    if ui.ask(question)? != Answer::Yes {
        return Ok(());
    }
    // Rewriting the registry keeps only environments that exist.
    crate::registry::register(ctx, &req.prefix)?;
    crate::registry::drop_stale(ctx)?;
    if !listed {
        ui.say(&format!("Environment registered: {prefix}"));
    }
    for s in &stale {
        ui.say(&format!("Removed from environments.txt: {}", s.display()));
    }
    Ok(())
}

/// `conda-meta/pinned`: specs naming packages that are not installed are removed.
async fn fix_pinned(ctx: &Context, req: &DoctorRequest, ui: &dyn FixUi) -> Result<()> {
    let _ = ctx;
    let lock = lock_env(&req.prefix, ui.reporter()).await?;
    let result = fix_pinned_locked(req, ui);
    lock.release().await;
    result
}

fn fix_pinned_locked(req: &DoctorRequest, ui: &dyn FixUi) -> Result<()> {
    let file = req.prefix.join("conda-meta").join("pinned");
    if !file.exists() {
        ui.say(&format!("No pinned file found at {}", file.display()));
        return Ok(());
    }
    let records = crate::prefix::records(&req.prefix)?;
    let Finding::Pinned { not_installed, .. } = pinned(&req.prefix, &records) else {
        return Ok(());
    };
    if not_installed.is_empty() {
        ui.say("No malformed specs found in pinned file.");
        return Ok(());
    }
    ui.say(&format!(
        "Found {} potentially malformed spec(s) in {}:",
        not_installed.len(),
        file.display()
    ));
    for name in &not_installed {
        ui.say(&format!("  {name} (package not installed)"));
    }
    ui.say("");
    if ui.ask("Remove these specs from the pinned file?")? != Answer::Yes {
        return Ok(());
    }
    let text = std::fs::read_to_string(&file)?;
    let mut kept = Vec::new();
    for line in text.lines() {
        let stripped = line.trim();
        if stripped.is_empty() || stripped.starts_with('#') {
            kept.push(line.to_string());
            continue;
        }
        let name = crate::solve::parse_spec(stripped)
            .ok()
            .and_then(|s| s.name.as_exact().map(|n| n.as_normalized().to_string()));
        if name.is_some_and(|n| not_installed.contains(&n)) {
            ui.say(&format!("Removing: {stripped}"));
        } else {
            kept.push(line.to_string());
        }
    }
    let body = if kept.is_empty() {
        String::new()
    } else {
        format!("{}\n", kept.join("\n"))
    };
    crate::fsutil::write_atomic(&file, body.as_bytes())?;
    ui.say(&format!("Updated {}", file.display()));
    Ok(())
}

/// Dependency problems as YAML (`conda doctor -v`).
pub fn issues_yaml(issues: &BTreeMap<String, DependencyIssues>) -> String {
    serde_yaml::to_string(issues).unwrap_or_default()
}
