//! Solving with conda's rules on top of resolvo: history specs stay constraints, python keeps
//! its minor version, pins are hard constraints, aggressive updates float, conda in the root
//! never goes down, installed packages stay unless removed.

use crate::error::ErrorKind;
pub use crate::spec::parse_spec;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::rc::Rc;
use std::str::FromStr;

use rattler_conda_types::match_spec::Matches;
use rattler_conda_types::{
    GenericVirtualPackage, MatchSpec, PackageName, PrefixRecord, RepoDataRecord,
};
use rattler_solve::ChannelPriority;

use crate::error::{dashlist, CondaError, Result};
use crate::history::spec_name;
use crate::repodata::Index;

mod features;
mod removal;
mod spec_plan;

pub use removal::{kept_on_removal, removal};
use spec_plan::{run, SpecPlan};

/// What kind of command asks for the solve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `conda create`: a fresh environment.
    Create,
    /// `conda install`.
    Install,
    /// `conda update`.
    Update,
}

/// A solve request, after flags are parsed.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// Specs the user named on this command line (and `--file`).
    pub specs: Vec<MatchSpec>,
    /// `update --all`.
    pub update_all: bool,
    /// `--freeze-installed`: installed packages may not change (no retry).
    pub freeze_installed: bool,
    /// `--update-deps`: dependencies of the specs may update too.
    pub update_deps: bool,
    /// `--update-specs`: skip the frozen first attempt.
    pub update_specs: bool,
    /// `--no-pin`: ignore pinned packages.
    pub no_pin: bool,
    /// `--prune`: keep only what the request needs (conda ignores history and the installed
    /// packages when pruning).
    pub prune: bool,
    /// Channel priority.
    pub channel_priority: Option<ChannelPriority>,
    /// Whether the prefix is the root prefix (conda's own rules apply).
    pub is_root: bool,
    /// `--no-deps`: only the requested packages change.
    pub no_deps: bool,
    /// `--only-deps`: everything but the requested packages.
    pub only_deps: bool,
}

/// The environment as it is before the command.
#[derive(Debug, Clone, Default)]
pub struct Installed {
    /// Installed records.
    pub records: Vec<PrefixRecord>,
    /// Requested specs replayed from history, by name.
    pub history: BTreeMap<String, String>,
    /// Pins: `pinned_packages` and `conda-meta/pinned`.
    pub pins: Vec<MatchSpec>,
    /// Problems met while reading the prefix (unreadable history lines), for the user.
    pub warnings: Vec<String>,
}

impl Installed {
    fn get(&self, name: &str) -> Option<&PrefixRecord> {
        self.records
            .iter()
            .find(|r| r.repodata_record.package_record.name.as_normalized() == name)
    }
}

/// Settings that come from configuration.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// `aggressive_update_packages`.
    pub aggressive_update_packages: Vec<String>,
    /// `auto_update_conda`.
    pub auto_update_conda: bool,
    /// `track_features`: legacy `features` whose builds may be installed (and are preferred).
    pub track_features: Vec<String>,
}

/// Installed packages conda keeps whether or not anything asked for them ("to compensate for
/// older installers not recording these").
const ALWAYS_KEPT: [&str; 6] = [
    "anaconda",
    "conda",
    "conda-build",
    "python.app",
    "console_shortcut",
    "powershell_shortcut",
];

fn name_of(spec: &MatchSpec) -> String {
    spec.name
        .as_exact()
        .map(|n| n.as_normalized().to_string())
        .unwrap_or_default()
}

fn name_only(name: &str) -> Result<MatchSpec> {
    parse_spec(name)
}

/// conda's neutering of a conflicting history spec: its name and version only
/// (`buildstring=1.0=b_1` → `buildstring==1.0`), the bare name when it had no version.
fn neutered_form(spec: &MatchSpec) -> MatchSpec {
    MatchSpec {
        name: spec.name.clone(),
        version: spec.version.clone(),
        ..MatchSpec::default()
    }
}

/// conda's `MatchSpec.strictness`: 1 a name, 2 a name and a version, 3 anything more.
fn strictness(spec: &MatchSpec) -> u8 {
    let more = spec.build.is_some()
        || spec.build_number.is_some()
        || spec.channel.is_some()
        || spec.subdir.is_some()
        || spec.md5.is_some()
        || spec.sha256.is_some()
        || spec.file_name.is_some()
        || spec.url.is_some();
    if more {
        3
    } else if spec.version.is_some() {
        2
    } else {
        1
    }
}

/// Solves the request; returns the records the environment should hold afterwards.
///
/// `--update-deps` is conda's second solve: once the request is solved, every package in the
/// dependency chain of the requested specs becomes a requested name (over its history spec;
/// python keeps its minor, pins stay), and the request is solved again with those.
pub fn solve(
    kind: Kind,
    req: &Request,
    installed: &Installed,
    index: &Index,
    virtual_packages: &[GenericVirtualPackage],
    rules: &Rules,
) -> Result<Solution> {
    if !req.update_deps || req.specs.is_empty() {
        return solve_once(kind, req, installed, index, virtual_packages, rules);
    }
    let first = Request {
        update_deps: false,
        ..req.clone()
    };
    let solved = solve_once(kind, &first, installed, index, virtual_packages, rules)?;
    let user: HashSet<String> = req.specs.iter().map(name_of).collect();
    let pinned: HashSet<String> = installed.pins.iter().map(name_of).collect();
    let mut specs = req.specs.clone();
    for name in dependency_chain(&user, &solved.records) {
        if user.contains(&name) || (pinned.contains(&name) && !req.no_pin) {
            continue;
        }
        let minor = (name == "python")
            .then(|| installed.get("python"))
            .flatten()
            .and_then(|py| py.repodata_record.package_record.version.as_major_minor());
        specs.push(match minor {
            Some((maj, min)) => parse_spec(&format!("python {maj}.{min}.*"))?,
            None => name_only(&name)?,
        });
    }
    let second = Request {
        specs,
        update_deps: false,
        update_specs: true,
        ..req.clone()
    };
    solve_once(kind, &second, installed, index, virtual_packages, rules)
}

/// Every package the named ones depend on, directly or not, within `records`.
fn dependency_chain(names: &HashSet<String>, records: &[RepoDataRecord]) -> BTreeSet<String> {
    let by_name: HashMap<&str, &RepoDataRecord> = records
        .iter()
        .map(|r| (r.package_record.name.as_normalized(), r))
        .collect();
    let mut chain: BTreeSet<String> = BTreeSet::new();
    let mut stack: Vec<String> = names.iter().cloned().collect();
    while let Some(name) = stack.pop() {
        let Some(rec) = by_name.get(name.as_str()) else {
            continue;
        };
        for dep in &rec.package_record.depends {
            let dep = spec_name(dep);
            if by_name.contains_key(dep.as_str()) && chain.insert(dep.clone()) {
                stack.push(dep);
            }
        }
    }
    chain
}

/// conda's handling of an inconsistent environment: the installed packages whose
/// dependencies the installed ones do not satisfy are left out of the solve; those neither
/// requested nor in the history go back in as they were afterwards (only what the request
/// touches is repaired), the others are solved for by name.
fn solve_once(
    kind: Kind,
    req: &Request,
    installed: &Installed,
    index: &Index,
    virtual_packages: &[GenericVirtualPackage],
    rules: &Rules,
) -> Result<Solution> {
    let bad = inconsistent(installed);
    if bad.is_empty() {
        return solve_consistent(kind, req, installed, index, virtual_packages, rules);
    }
    let user: HashSet<String> = req.specs.iter().map(name_of).collect();
    let restore: Vec<&PrefixRecord> = bad
        .iter()
        .filter(|r| {
            let n = r.repodata_record.package_record.name.as_normalized();
            !user.contains(n) && !installed.history.contains_key(n)
        })
        .copied()
        .collect();
    let restored: HashSet<&str> = restore
        .iter()
        .map(|r| r.repodata_record.package_record.name.as_normalized())
        .collect();
    let mut consistent = installed.clone();
    consistent
        .records
        .retain(|r| !restored.contains(r.repodata_record.package_record.name.as_normalized()));
    for r in &bad {
        let n = r.repodata_record.package_record.name.as_normalized();
        if n != "python" && !user.contains(n) {
            consistent.history.remove(n);
        }
    }
    let mut solution = solve_consistent(kind, req, &consistent, index, virtual_packages, rules)?;
    solution
        .records
        .retain(|r| !restored.contains(r.package_record.name.as_normalized()));
    solution
        .records
        .extend(restore.iter().map(|r| r.repodata_record.clone()));
    solution.inconsistent = bad
        .iter()
        .map(|r| crate::dist::Dist::of(&r.repodata_record).to_string())
        .collect();
    Ok(solution)
}

/// Installed records with a dependency no installed record satisfies (python's `pip` aside
/// when pip is not installed, as conda strips it).
fn inconsistent(installed: &Installed) -> Vec<&PrefixRecord> {
    installed
        .records
        .iter()
        .filter(|r| {
            let rec = &r.repodata_record.package_record;
            rec.depends.iter().any(|dep| {
                let name = spec_name(dep);
                if name.starts_with("__") {
                    return false;
                }
                let Some(have) = installed.get(&name) else {
                    return !(rec.name.as_normalized() == "python" && name == "pip");
                };
                parse_spec(dep).is_ok_and(|spec| !spec.matches(&have.repodata_record))
            })
        })
        .collect()
}

fn solve_consistent(
    kind: Kind,
    req: &Request,
    installed: &Installed,
    index: &Index,
    virtual_packages: &[GenericVirtualPackage],
    rules: &Rules,
) -> Result<Solution> {
    check_available(req, installed, index)?;
    check_pins(req, installed, index)?;
    let buckets = prepare_buckets(index, installed);
    match solve_with(
        kind,
        req,
        installed,
        &buckets,
        virtual_packages,
        rules,
        false,
    ) {
        Ok(records) => Ok(Solution {
            records,
            neutered: Vec::new(),
            inconsistent: Vec::new(),
        }),
        Err(first) => {
            neuter(kind, req, installed, &buckets, virtual_packages, rules).ok_or_else(|| {
                match first.kind {
                    ErrorKind::UnsatisfiableError => missing_dependencies(req, index)
                        .or_else(|| {
                            pin_conflict(kind, req, installed, &buckets, virtual_packages, rules)
                        })
                        .unwrap_or(first),
                    _ => first,
                }
            })
        }
    }
}

/// conda's `SpecsConfigurationConflictError` for a request that only the pins make
/// unsatisfiable (it solves without them): names the requested specs and the pins the
/// solution without them breaks.
fn pin_conflict(
    kind: Kind,
    req: &Request,
    installed: &Installed,
    buckets: &[Vec<&RepoDataRecord>],
    virtual_packages: &[GenericVirtualPackage],
    rules: &Rules,
) -> Option<CondaError> {
    if req.no_pin || installed.pins.is_empty() || req.specs.is_empty() {
        return None;
    }
    let unpinned = Request {
        no_pin: true,
        ..req.clone()
    };
    let records = solve_with(
        kind,
        &unpinned,
        installed,
        buckets,
        virtual_packages,
        rules,
        false,
    )
    .ok()?;
    let broken: Vec<String> = installed
        .pins
        .iter()
        .filter(|pin| {
            records
                .iter()
                .any(|r| r.package_record.name.as_normalized() == name_of(pin) && !pin.matches(r))
        })
        .map(crate::spec::conda_str)
        .collect();
    if broken.is_empty() {
        return None;
    }
    let requested: Vec<String> = req.specs.iter().map(crate::spec::conda_str).collect();
    Some(
        CondaError::new(
            ErrorKind::SpecsConfigurationConflictError,
            format!(
                "Requested specs conflict with configured specs.\n  requested specs: {}\n  pinned specs: {}\nUse 'conda config --remove pinned_packages ...' or edit conda-meta/pinned to change the pins, or pass --no-pin.",
                dashlist(&requested),
                dashlist(&broken)
            ),
        )
        .with("requested_specs", requested)
        .with("pinned_specs", broken),
    )
}

/// conda's `PackagesNotFoundInChannelsError` for an unsolvable request whose dependency
/// closure names specs no record in the channels matches (conda's classic solver reports
/// these instead of a conflict).
fn missing_dependencies(req: &Request, index: &Index) -> Option<CondaError> {
    let mut by_name: HashMap<&str, Vec<&RepoDataRecord>> = HashMap::new();
    for r in index.iter() {
        by_name
            .entry(r.package_record.name.as_normalized())
            .or_default()
            .push(r);
    }
    // As conda's reduced index: a record whose dependency no record of a requested name
    // that the request allows can satisfy is out of reach, and so is what only it needs.
    let requested: HashMap<String, Vec<&RepoDataRecord>> = req
        .specs
        .iter()
        .map(|spec| {
            let name = name_of(spec);
            let allowed = by_name
                .get(name.as_str())
                .map(|rs| rs.iter().copied().filter(|r| spec.matches(*r)).collect())
                .unwrap_or_default();
            (name, allowed)
        })
        .collect();
    let allowed = |dep: &MatchSpec| {
        requested
            .get(name_of(dep).as_str())
            .is_none_or(|allowed| allowed.iter().any(|a| dep.matches(*a)))
    };
    // Records share most of their dependency strings: each distinct one is parsed and queued
    // once (parsing every occurrence was half the instructions of an unsatisfiable request).
    let mut parsed: HashMap<&str, Option<Rc<MatchSpec>>> = HashMap::new();
    let mut queued: HashSet<&str> = HashSet::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut queue: Vec<Rc<MatchSpec>> = req.specs.iter().cloned().map(Rc::new).collect();
    let mut missing: BTreeSet<String> = BTreeSet::new();
    while let Some(spec) = queue.pop() {
        let name = name_of(&spec);
        if name.is_empty() || name.starts_with("__") || !seen.insert(spec.to_string()) {
            continue;
        }
        let matching: Vec<&&RepoDataRecord> = by_name
            .get(name.as_str())
            .map(|rs| rs.iter().filter(|r| spec.matches(**r)).collect())
            .unwrap_or_default();
        if matching.is_empty() {
            missing.insert(spec.to_string());
            continue;
        }
        for r in matching {
            let deps: Vec<(&str, Rc<MatchSpec>)> = r
                .package_record
                .depends
                .iter()
                .filter_map(|d| {
                    let spec = parsed
                        .entry(d.as_str())
                        .or_insert_with(|| parse_spec(d).ok().map(Rc::new));
                    spec.clone().map(|s| (d.as_str(), s))
                })
                .collect();
            if deps.iter().all(|(_, d)| allowed(d)) {
                for (text, dep) in deps {
                    if queued.insert(text) {
                        queue.push(dep);
                    }
                }
            }
        }
    }
    if missing.is_empty() {
        return None;
    }
    Some(not_in_channels(missing.into_iter().collect()))
}

/// conda's `PackagesNotFoundInChannelsError`; the channels are added by the caller.
fn not_in_channels(missing: Vec<String>) -> CondaError {
    CondaError::new(
        ErrorKind::PackagesNotFoundInChannelsError,
        format!(
            "The following packages are not available from current channels:\n{}\n",
            dashlist(&missing)
        ),
    )
    .with("packages", missing.clone())
    .with("packages_formatted", dashlist(&missing))
}

/// A solution and the history specs conda had to relax ("neutered") to reach it.
#[derive(Debug, Clone)]
pub struct Solution {
    /// The records the environment should hold.
    pub records: Vec<RepoDataRecord>,
    /// History specs relaxed because they conflicted with this request.
    pub neutered: Vec<String>,
    /// Installed packages (dists) that made the environment inconsistent before the solve.
    pub inconsistent: Vec<String>,
}

/// conda's neutering: when specs requested earlier conflict with this request, they are
/// relaxed to the bare package name, and recorded as `# neutered specs:` in the history.
fn neuter(
    kind: Kind,
    req: &Request,
    installed: &Installed,
    buckets: &[Vec<&RepoDataRecord>],
    virtual_packages: &[GenericVirtualPackage],
    rules: &Rules,
) -> Option<Solution> {
    if req.specs.is_empty() || req.freeze_installed || installed.history.is_empty() {
        return None;
    }
    let records = solve_with(kind, req, installed, buckets, virtual_packages, rules, true).ok()?;
    let user: HashSet<String> = req.specs.iter().map(name_of).collect();
    let neutered = installed
        .history
        .iter()
        .filter(|(name, _)| !user.contains(*name))
        .filter_map(|(name, spec)| {
            let parsed = parse_spec(spec).ok()?;
            let relaxed = neutered_form(&parsed);
            let chosen = records
                .iter()
                .find(|r| r.package_record.name.as_normalized() == name)?;
            let neutered = !parsed.matches(chosen) && strictness(&relaxed) < strictness(&parsed);
            neutered.then(|| crate::spec::conda_str(&relaxed))
        })
        .collect();
    Some(Solution {
        records,
        neutered,
        inconsistent: Vec::new(),
    })
}

#[allow(clippy::too_many_arguments)]
fn solve_with(
    kind: Kind,
    req: &Request,
    installed: &Installed,
    buckets: &[Vec<&RepoDataRecord>],
    virtual_packages: &[GenericVirtualPackage],
    rules: &Rules,
    relax_history: bool,
) -> Result<Vec<RepoDataRecord>> {
    let plan = SpecPlan::build(kind, req, installed, rules, relax_history)?;
    let frozen_first =
        kind == Kind::Install && !req.update_specs && !req.update_deps && !req.specs.is_empty();
    if req.freeze_installed || frozen_first {
        let frozen = plan.frozen_records(installed, req);
        match run(buckets, &plan, installed, &frozen, virtual_packages, req) {
            Ok(r) => return Ok(r),
            Err(e) if req.freeze_installed => return Err(e),
            Err(_) => {
                tracing::info!("frozen solve failed; retrying with installed packages unfrozen")
            }
        }
    }
    run(buckets, &plan, installed, &[], virtual_packages, req)
}

/// Fails with `PackagesNotFoundInChannelsError` when a requested spec matches nothing in the
/// channels.
fn check_available(req: &Request, installed: &Installed, index: &Index) -> Result<()> {
    // An installed record counts as available, as in conda's index (offline with an
    // uncached channel, `update NAME` of what is installed is "already installed").
    let missing: Vec<String> = req
        .specs
        .iter()
        .filter(|s| !name_of(s).starts_with("__"))
        .filter(|s| !index.iter().any(|r| s.matches(r)))
        .filter(|s| {
            !installed
                .records
                .iter()
                .any(|r| s.matches(&r.repodata_record))
        })
        .map(|s| s.to_string())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(not_in_channels(missing))
}

/// A requested spec that no record satisfies together with a pin is a configuration conflict.
fn check_pins(req: &Request, installed: &Installed, index: &Index) -> Result<()> {
    if req.no_pin {
        return Ok(());
    }
    for spec in &req.specs {
        let name = name_of(spec);
        for pin in installed.pins.iter().filter(|p| name_of(p) == name) {
            let both = index.iter().any(|r| spec.matches(r) && pin.matches(r));
            if !both {
                return Err(CondaError::new(
                    ErrorKind::SpecsConfigurationConflictError,
                    format!(
                        "Requested specs conflict with configured specs.\n  requested specs: {}\n  pinned specs: {}\nUse 'conda config --remove pinned_packages {pin}' or edit conda-meta/pinned to change the pin, or pass --no-pin.",
                        dashlist([spec.to_string()]),
                        dashlist([pin.to_string()])
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Index buckets (by reference) plus the installed records the channels no longer offer.
fn prepare_buckets<'a>(index: &'a Index, installed: &'a Installed) -> Vec<Vec<&'a RepoDataRecord>> {
    let mut buckets = index.bucket_refs();
    if installed.records.is_empty() {
        return buckets;
    }
    let known: HashSet<&url::Url> = index.iter().map(|r| &r.url).collect();
    let extra: Vec<&RepoDataRecord> = installed
        .records
        .iter()
        .map(|r| &r.repodata_record)
        .filter(|r| !known.contains(&r.url))
        .collect();
    buckets.push(extra);
    buckets
}

/// Parses a name for `update`/`remove`, which take names only.
pub fn package_name(text: &str) -> Result<PackageName> {
    PackageName::from_str(text.trim()).map_err(|e| {
        CondaError::new(
            ErrorKind::CondaValueError,
            format!("invalid package name '{text}': {e}"),
        )
    })
}
