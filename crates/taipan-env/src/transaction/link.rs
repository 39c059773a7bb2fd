//! Linking the packages of a plan: each one checked against its prefix, journaled, then
//! linked by rattler, several at a time.

use crate::error::ErrorKind;
use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};

use rattler::install::{ExternalSymlinkPolicy, InstallOptions};
use rattler_conda_types::package::{LinkJson, NoArchLinks, PackageFile, PathType, PathsJson};
use rattler_conda_types::prefix::Prefix;
use rattler_conda_types::prefix_record::{Link, LinkType, PathsEntry};
use rattler_conda_types::{PrefixRecord, RepoDataRecord};

use super::journal::Journal;
use super::{check_interrupt, error_chain, scripts, LinkSettings, Outcome, Packages, Plan};
use crate::confine::{check_link_target, check_package_path};
use crate::crashpoint;
use crate::error::{CondaError, Result};

/// Packages linked at once; each package's files are linked concurrently as well.
const PACKAGES_AT_ONCE: usize = 8;

/// A package ready to link: its paths read and checked.
pub(crate) struct Prepared<'a> {
    record: &'a RepoDataRecord,
    dir: PathBuf,
    paths_json: PathsJson,
    /// Every path it will occupy in the prefix, relative (the entries of `paths.json` first,
    /// in order, then entry points).
    targets: Vec<PathBuf>,
    /// Its symbolic links: path in the prefix (relative) and target.
    symlinks: Vec<(PathBuf, PathBuf)>,
    /// Its `directory` entries (relative).
    directories: HashSet<PathBuf>,
    /// Whether it has a pre- or post-link script.
    scripted: bool,
}

impl Prepared<'_> {
    fn absolute(&self, plan: &Plan) -> Vec<PathBuf> {
        self.targets.iter().map(|t| plan.prefix.join(t)).collect()
    }
}

/// Links every package of the plan. Packages without link scripts whose paths do not meet
/// are linked concurrently, up to [`PACKAGES_AT_ONCE`] in flight while the next ones are
/// prepared; a package with a pre-/post-link script, one sharing a path with a package in
/// flight, or one with a path below a link in flight (or a link above a path in flight)
/// first waits for all of them. So scripts run in dependency order after everything before
/// them is linked, a shared path ends up with the package linked last, as with conda's
/// serial execution, and a directory link (`lib64 -> lib`) exists before any file below it.
/// Every link started is awaited, also after a failure, so a rollback sees all files.
pub(crate) async fn link_all(
    plan: &Plan,
    prefix: &Prefix,
    extracted: &Packages<'_>,
    settings: &LinkSettings,
    journal: &mut Journal,
    outcome: &mut Outcome,
) -> Result<()> {
    let mut links = InFlight::default();
    let result = link_each(
        plan, prefix, extracted, settings, journal, outcome, &mut links,
    )
    .await;
    let drained = links.drain(plan, extracted, settings, journal).await;
    let result = result.and(drained);
    if result.is_err() {
        // File operations inside a failed package may still be landing.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    result
}

async fn link_each<'a>(
    plan: &'a Plan,
    prefix: &Prefix,
    extracted: &Packages<'_>,
    settings: &LinkSettings,
    journal: &mut Journal,
    outcome: &mut Outcome,
    links: &mut InFlight<'a>,
) -> Result<()> {
    let mut owners = Owners::of_unchanged(plan);
    for record in &plan.link {
        check_interrupt()?;
        let dir = extracted.dir(record).await?;
        let p = prepare(plan, record, &dir).inspect_err(|_| extracted.purge(record))?;
        owners.claim(record, &p.targets, settings.path_conflict, outcome)?;
        if p.scripted || links.meets(&p) {
            links.drain(plan, extracted, settings, journal).await?;
            check_interrupt()?;
        }
        check_against_prefix(plan, &p, journal).inspect_err(|_| extracted.purge(record))?;
        for (link, _) in &p.symlinks {
            journal.symlinks.insert(plan.prefix.join(link));
        }
        let mut paths = p.absolute(plan);
        paths.push(record_path(plan, record));
        let directories = p.directories.iter().map(|d| plan.prefix.join(d)).collect();
        journal.before_link(&paths, &directories)?;
        crashpoint::hit("link-logged");
        scripts::run_pre_link(plan, record, &dir, settings, outcome)?;
        let scripted = p.scripted;
        if scripted {
            // A script may have changed what directories resolve to.
            journal.fence.forget();
        }
        links.start(p, plan, prefix, settings);
        crashpoint::hit("link-started");
        if scripted {
            links.drain(plan, extracted, settings, journal).await?;
            scripts::run_post_link(plan, record, settings, outcome)?;
            journal.fence.forget();
            crashpoint::hit("post-link");
        } else if links.queue.len() > PACKAGES_AT_ONCE {
            links
                .finish_oldest(plan, extracted, settings, journal)
                .await?;
        }
    }
    Ok(())
}

/// Which package a path of the prefix belongs to (its dist, and whether it is an installed
/// package that stays), for `path_conflict`.
struct Owners(std::collections::HashMap<PathBuf, (String, bool)>);

impl Owners {
    /// The paths of the packages that stay.
    fn of_unchanged(plan: &Plan) -> Self {
        let mut map = std::collections::HashMap::new();
        for r in &plan.unchanged {
            let dist = crate::dist::Dist::of(&r.repodata_record).to_string();
            for f in &r.files {
                map.insert(f.clone(), (dist.clone(), true));
            }
        }
        Owners(map)
    }

    /// Takes a package's paths. A path another package has is conda's
    /// `KnownPackageClobberError` (an installed package) or `SharedLinkPathClobberError` (two
    /// packages of this transaction): an error with `prevent`, a warning with `warn`, nothing
    /// with `clobber` (the package linked last wins, as in conda).
    fn claim(
        &mut self,
        record: &RepoDataRecord,
        targets: &[PathBuf],
        policy: taipan_config::PathConflict,
        outcome: &mut Outcome,
    ) -> Result<()> {
        use taipan_config::PathConflict;
        let dist = crate::dist::Dist::of(record).to_string();
        for t in targets {
            let Some((other, installed)) = self.0.insert(t.clone(), (dist.clone(), false)) else {
                continue;
            };
            if other == dist || policy == PathConflict::Clobber {
                continue;
            }
            let shared = !installed;
            let mut message = if shared {
                format!("This transaction has incompatible packages due to a shared path.\n  packages: {other}, {dist}\n  path: '{}'\n", t.display())
            } else {
                format!("The package '{dist}' cannot be installed due to a\npath collision for '{}'.\nThis path already exists in the target prefix, and it won't be removed by\nan uninstall action in this transaction. The path appears to be coming from\nthe package '{other}', which is already installed in the prefix.\n", t.display())
            };
            if policy == PathConflict::Warn {
                outcome.warnings.push(format!("ClobberWarning: {message}"));
                continue;
            }
            message.push_str(
                "If you'd like to proceed anyway, re-run the command with the `--clobber` flag.\n.",
            );
            return Err(CondaError::new(ErrorKind::ClobberError, message)
                .with("target_path", t.display().to_string()));
        }
        Ok(())
    }
}

fn record_path(plan: &Plan, record: &RepoDataRecord) -> PathBuf {
    let p = &record.package_record;
    plan.prefix.join("conda-meta").join(format!(
        "{}-{}-{}.json",
        p.name.as_normalized(),
        p.version,
        p.build
    ))
}

/// Reads a package's `paths.json` and checks every path it names before anything of it is
/// linked: relative and plain, links that stay relative and only climb first, entry points
/// inside `bin/`, nothing below one of its own links.
fn prepare<'a>(plan: &Plan, record: &'a RepoDataRecord, dir: &Path) -> Result<Prepared<'a>> {
    let paths_json = PathsJson::from_package_directory_with_deprecated_fallback(dir).map_err(|e| {
        CondaError::new(
            ErrorKind::CondaVerificationError,
            format!("The package for {} located at {}\nappears to be corrupted: cannot read info/paths.json: {e}", record.identifier, dir.display()),
        )
    })?;
    let is_python = record.package_record.noarch.is_python();
    let mut targets = Vec::with_capacity(paths_json.paths.len());
    let mut symlinks = Vec::new();
    let mut directories = HashSet::new();
    for entry in &paths_json.paths {
        check_package_path(&entry.relative_path)
            .map_err(|why| unsafe_package(record, dir, &entry.relative_path, why))?;
        let rel = match (&plan.python_info, is_python) {
            (Some(py), true) => py
                .get_python_noarch_target_path(&entry.relative_path)
                .into_owned(),
            _ => entry.relative_path.clone(),
        };
        check_package_path(&rel).map_err(|why| unsafe_package(record, dir, &rel, why))?;
        match entry.path_type {
            PathType::SoftLink => {
                let target = link_target(dir, record, entry)?;
                check_link_target(&target)
                    .map_err(|why| unsafe_package(record, dir, &entry.relative_path, why))?;
                symlinks.push((rel.clone(), target));
            }
            PathType::Directory => {
                directories.insert(rel.clone());
            }
            PathType::HardLink => {}
        }
        targets.push(rel);
    }
    if is_python {
        for command in entry_points(record, dir)? {
            let rel = PathBuf::from("bin").join(&command);
            if check_package_path(&rel).is_err() || rel.parent() != Some(Path::new("bin")) {
                return Err(unsafe_package(
                    record,
                    dir,
                    &rel,
                    "is an entry point outside bin/",
                ));
            }
            targets.push(rel);
        }
    }
    below_own_link(record, dir, &targets, &symlinks)?;
    let name = record.package_record.name.as_normalized();
    let scripted = dir.join(format!("bin/.{name}-pre-link.sh")).is_file()
        || dir.join(format!("bin/.{name}-post-link.sh")).is_file();
    Ok(Prepared {
        record,
        dir: dir.to_path_buf(),
        paths_json,
        targets,
        symlinks,
        directories,
        scripted,
    })
}

/// The commands of a noarch python package's entry points (`info/link.json`, optional).
fn entry_points(record: &RepoDataRecord, dir: &Path) -> Result<Vec<String>> {
    match LinkJson::from_package_directory(dir) {
        Ok(LinkJson {
            noarch: NoArchLinks::Python(py),
            ..
        }) => Ok(py.entry_points.into_iter().map(|ep| ep.command).collect()),
        Ok(_) => Ok(Vec::new()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(unsafe_package(
            record,
            dir,
            Path::new("info/link.json"),
            &format!("is invalid ({e})"),
        )),
    }
}

/// A package that lists a path below one of its own links would have it written through
/// the link while the link itself is being created.
fn below_own_link(
    record: &RepoDataRecord,
    dir: &Path,
    targets: &[PathBuf],
    symlinks: &[(PathBuf, PathBuf)],
) -> Result<()> {
    if symlinks.is_empty() {
        return Ok(());
    }
    let links: HashSet<&Path> = symlinks.iter().map(|(l, _)| l.as_path()).collect();
    for t in targets {
        if let Some(link) = t.ancestors().skip(1).find(|a| links.contains(a)) {
            return Err(unsafe_package(
                record,
                dir,
                t,
                &format!("is below the package's own link '{}'", link.display()),
            ));
        }
    }
    Ok(())
}

/// A `softlink` entry must be a link with a target in the extracted package; a package
/// whose archive stores it as something else (a known broken zlib build does) is refused.
fn link_target(
    dir: &Path,
    record: &RepoDataRecord,
    entry: &rattler_conda_types::package::PathsEntry,
) -> Result<PathBuf> {
    let source = dir.join(&entry.relative_path);
    let is_link = std::fs::symlink_metadata(&source)
        .map(|m| m.file_type().is_symlink())
        .unwrap_or(false);
    match std::fs::read_link(&source) {
        Ok(target) if is_link && !target.as_os_str().is_empty() => Ok(target),
        _ => Err(CondaError::new(
            ErrorKind::CondaVerificationError,
            format!(
                "The package for {} located at {}\nappears to be corrupted. The path '{}'\nis declared as a symbolic link in info/paths.json, but the archive does not contain a valid link there.\nGet an intact copy of the package (the cache entry was removed).",
                record.identifier,
                dir.display(),
                entry.relative_path.display()
            ),
        )),
    }
}

/// Checks a prepared package against the prefix as it is now: every directory it writes
/// into resolves inside the prefix, and every link it creates points inside.
fn check_against_prefix(plan: &Plan, p: &Prepared<'_>, journal: &mut Journal) -> Result<()> {
    for t in &p.targets {
        if !journal.fence.parent_inside(&plan.prefix.join(t)) {
            return Err(unsafe_package(
                p.record,
                &p.dir,
                t,
                "would be written through a link that leads outside the environment",
            ));
        }
    }
    for (link, target) in &p.symlinks {
        journal
            .fence
            .link_inside(&plan.prefix.join(link), target)
            .map_err(|why| {
                unsafe_package(
                    p.record,
                    &p.dir,
                    link,
                    &format!("is a link that {why} ('{}')", target.display()),
                )
            })?;
    }
    Ok(())
}

fn unsafe_package(record: &RepoDataRecord, dir: &Path, path: &Path, why: &str) -> CondaError {
    CondaError::new(
        ErrorKind::CondaVerificationError,
        format!(
            "The package for {} located at {}\nis unsafe: the path '{}' {why}.\nNothing of it was installed and it was removed from the package cache; do not use this package.",
            record.identifier,
            dir.display(),
            path.display()
        ),
    )
    .with("path", path.display().to_string())
}

/// The result of linking one package: the paths it created, or the error's text.
type LinkResult = std::result::Result<Vec<PathsEntry>, String>;

/// Links running on rayon, oldest first, and the prefix paths they create.
#[derive(Default)]
struct InFlight<'a> {
    queue: VecDeque<(Prepared<'a>, tokio::sync::oneshot::Receiver<LinkResult>)>,
    /// Every path in flight (relative).
    paths: HashSet<PathBuf>,
    /// The links in flight (relative).
    symlinks: HashSet<PathBuf>,
}

impl<'a> InFlight<'a> {
    /// Whether a package meets one in flight: a shared path, a path below a link in flight,
    /// or a link of its own above a path in flight.
    fn meets(&self, p: &Prepared<'_>) -> bool {
        if self.queue.is_empty() {
            return false;
        }
        if p.targets.iter().any(|t| self.paths.contains(t)) {
            return true;
        }
        if !self.symlinks.is_empty()
            && p.targets
                .iter()
                .any(|t| t.ancestors().skip(1).any(|a| self.symlinks.contains(a)))
        {
            return true;
        }
        if !p.symlinks.is_empty() {
            let own: HashSet<&Path> = p.symlinks.iter().map(|(l, _)| l.as_path()).collect();
            return self
                .paths
                .iter()
                .any(|t| t.ancestors().skip(1).any(|a| own.contains(a)));
        }
        false
    }

    /// Starts linking a prepared package.
    fn start(&mut self, p: Prepared<'a>, plan: &Plan, prefix: &Prefix, settings: &LinkSettings) {
        let options = InstallOptions {
            python_info: plan.python_info.clone(),
            platform: Some(plan.platform),
            // Link support is decided once per transaction (see `LinkSettings::hardlinks`);
            // leaving these unset makes rattler probe with test files for every package.
            allow_hard_links: Some(settings.hardlinks && !settings.always_copy),
            allow_ref_links: Some(false),
            allow_symbolic_links: Some(true),
            // Read once already (and checked); rattler would read it again otherwise.
            paths_json: Some(p.paths_json.clone()),
            // Checked above with the prefix's real layout; this is a second line.
            external_symlink_policy: ExternalSymlinkPolicy::Deny,
            ..InstallOptions::default()
        };
        let dir = p.dir.clone();
        let prefix = prefix.clone();
        let softlink = settings.always_softlink && !settings.always_copy;
        // The synchronous linker spreads a package's files over rayon; the async one would
        // start a blocking task per file. It runs on a rayon worker, so its parallel loop
        // stays on the pool instead of handing work over from a blocking thread and waiting
        // for it (a few thread switches per package). A fresh clobber registry per package:
        // it never sees another package's files, so nothing goes to `__clobbers__` (conda
        // has no such directory; the package linked last wins).
        let (sender, task) = tokio::sync::oneshot::channel();
        rayon::spawn(move || {
            let linked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                rattler::install::link_package_sync(&dir, &prefix, Default::default(), options)
            }));
            let result = match linked {
                Ok(Ok((paths, _link_type))) if softlink => {
                    soft_link_files(&dir, prefix.path(), &paths).map(|()| paths)
                }
                Ok(Ok((paths, _link_type))) => Ok(paths),
                Ok(Err(e)) => Err(error_chain(&e)),
                Err(_) => Err("the linker failed unexpectedly (an internal error)".to_string()),
            };
            let _ = sender.send(result);
        });
        self.paths.extend(p.targets.iter().cloned());
        self.symlinks
            .extend(p.symlinks.iter().map(|(l, _)| l.clone()));
        self.queue.push_back((p, task));
    }

    /// Waits for the oldest link and records its package (conda-meta).
    async fn finish_oldest(
        &mut self,
        plan: &Plan,
        extracted: &Packages<'_>,
        settings: &LinkSettings,
        journal: &mut Journal,
    ) -> Result<()> {
        let Some((p, task)) = self.queue.pop_front() else {
            return Ok(());
        };
        for t in &p.targets {
            self.paths.remove(t);
        }
        for (l, _) in &p.symlinks {
            self.symlinks.remove(l);
        }
        if !p.symlinks.is_empty() {
            // Directories may resolve differently now.
            journal.fence.forget();
        }
        let result = match task.await {
            Ok(r) => r,
            Err(_) => Err("the linking task ended without a result".to_string()),
        };
        match result {
            Ok(paths) => {
                write_record(plan, p.record, &p.dir, paths, settings, journal)?;
                crashpoint::hit("linked");
                extracted.release(&p.dir);
                Ok(())
            }
            Err(e) => {
                extracted.purge(p.record);
                Err(CondaError::new(
                    ErrorKind::LinkError,
                    format!(
                        "An error occurred while installing package '{}'.\n  {}",
                        p.record.identifier, e
                    ),
                ))
            }
        }
    }

    /// Waits for every link in flight, in order; the first error is returned after all
    /// of them ended.
    async fn drain(
        &mut self,
        plan: &Plan,
        extracted: &Packages<'_>,
        settings: &LinkSettings,
        journal: &mut Journal,
    ) -> Result<()> {
        let mut first_error = None;
        while !self.queue.is_empty() {
            if let Err(e) = self.finish_oldest(plan, extracted, settings, journal).await {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// The keys of a `conda-meta` record in the order conda writes them; others follow.
const CONDA_RECORD_KEYS: &[&str] = &[
    "name",
    "version",
    "build",
    "build_number",
    "channel",
    "subdir",
    "fn",
    "md5",
    "url",
    "sha256",
    "arch",
    "platform",
    "depends",
    "constrains",
    "track_features",
    "features",
    "noarch",
    "python_site_packages_path",
    "license",
    "license_family",
    "package_type",
    "timestamp",
    "indexed_timestamp",
    "size",
    "requested_spec",
    "package_tarball_full_path",
    "extracted_package_dir",
    "files",
    "paths_data",
    "link",
    "requested_specs",
];

/// A record as conda writes it: its keys in conda's order, `constrains` always present, and
/// `package_type` (`noarch_generic`, `noarch_python`) for noarch packages.
fn conda_record_layout(value: serde_json::Value, record: &RepoDataRecord) -> serde_json::Value {
    let serde_json::Value::Object(mut map) = value else {
        return value;
    };
    map.entry("constrains")
        .or_insert_with(|| serde_json::Value::Array(Vec::new()));
    let noarch = &record.package_record.noarch;
    if noarch.is_python() {
        map.insert("package_type".into(), "noarch_python".into());
    } else if noarch.is_generic() {
        map.insert("package_type".into(), "noarch_generic".into());
    }
    let mut out = serde_json::Map::new();
    for key in CONDA_RECORD_KEYS {
        if let Some(v) = map.remove(*key) {
            out.insert((*key).to_string(), v);
        }
    }
    out.extend(map);
    serde_json::Value::Object(out)
}

/// Writes a linked package's `conda-meta` record (its path was journaled as created).
fn write_record(
    plan: &Plan,
    record: &RepoDataRecord,
    package_dir: &Path,
    paths: Vec<PathsEntry>,
    settings: &LinkSettings,
    journal: &mut Journal,
) -> Result<()> {
    let name = record.package_record.name.as_normalized().to_string();
    let requested = settings.requested.get(&name).cloned();
    // conda records the channel as the full URL of the subdir the package came from.
    let mut record = record.clone();
    if let Some(channel) = &record.channel {
        let base = channel.trim_end_matches('/');
        let subdir = format!("/{}", record.package_record.subdir);
        if !base.ends_with(&subdir) {
            record.channel = Some(format!("{base}{subdir}"));
        }
    }
    let record = &record;
    let tarball = package_dir
        .parent()
        .map(|p| p.join(record.identifier.to_string()));
    let prefix_record = PrefixRecord {
        package_tarball_full_path: tarball.filter(|p| p.exists()),
        extracted_package_dir: Some(package_dir.to_path_buf()),
        link: Some(Link {
            source: package_dir.to_path_buf(),
            link_type: Some(if settings.always_copy {
                LinkType::Copy
            } else if settings.always_softlink {
                LinkType::SoftLink
            } else {
                LinkType::HardLink
            }),
        }),
        #[allow(deprecated)]
        requested_spec: requested.clone(),
        requested_specs: requested.into_iter().collect(),
        ..PrefixRecord::from_repodata_record(record.clone(), paths)
    };
    let path = plan
        .prefix
        .join("conda-meta")
        .join(prefix_record.file_name());
    let json = serde_json::to_value(&prefix_record)
        .and_then(|v| serde_json::to_vec(&conda_record_layout(v, record)))
        .map_err(|e| CondaError::generic(format!("cannot serialise {}: {e}", path.display())))?;
    if record.package_record.noarch.is_python() {
        journal.python_records.push(path.clone());
    }
    journal.write_file(&path, &json)
}

/// `always_softlink`: each linked file the prefix did not change (no prefix placeholder, not
/// `no_link`) becomes a symbolic link to its copy in the package cache, as conda links it.
/// Each is swapped in with a rename, so a file is always whole.
fn soft_link_files(
    dir: &Path,
    prefix: &Path,
    paths: &[rattler_conda_types::prefix_record::PathsEntry],
) -> std::result::Result<(), String> {
    use rattler_conda_types::prefix_record::PathType;
    for entry in paths {
        if entry.path_type != PathType::HardLink
            || entry.prefix_placeholder.is_some()
            || entry.no_link
        {
            continue;
        }
        let target = dir.join(&entry.relative_path);
        let link = prefix.join(&entry.relative_path);
        let Some(name) = link.file_name() else {
            continue;
        };
        let staged = link.with_file_name(format!(".{}.taipan-softlink", name.to_string_lossy()));
        let _ = std::fs::remove_file(&staged);
        std::os::unix::fs::symlink(&target, &staged)
            .and_then(|()| std::fs::rename(&staged, &link))
            .map_err(|e| {
                let _ = std::fs::remove_file(&staged);
                format!(
                    "always_softlink: cannot link {} to {}: {e}",
                    link.display(),
                    target.display()
                )
            })?;
    }
    Ok(())
}
