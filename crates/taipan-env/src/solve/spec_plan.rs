//! One solve's specs, constraints and preferences under conda's rules (history specs,
//! pins, aggressive updates, conda in the root), handed to resolvo.

use rattler_solve::{resolvo::Solver, SolveError, SolverImpl, SolverTask};

use super::*;

/// The specs, constraints and preferences of one solve.
pub(super) struct SpecPlan {
    specs: Vec<MatchSpec>,
    /// Installed packages nothing asked for: required while the installed packages are
    /// frozen, free to go (when nothing needs them any more) in a flexible solve, as in conda.
    kept: Vec<MatchSpec>,
    constraints: Vec<MatchSpec>,
    /// Names whose installed version should not be preferred (they may float).
    unlocked: HashSet<String>,
    /// `track_features`: the legacy features whose builds may be installed.
    tracked_features: Vec<String>,
}

impl SpecPlan {
    pub(super) fn build(
        kind: Kind,
        req: &Request,
        installed: &Installed,
        rules: &Rules,
        relax_history: bool,
    ) -> Result<Self> {
        let user: HashSet<String> = req.specs.iter().map(name_of).collect();
        let mut specs = req.specs.clone();
        let mut unlocked: HashSet<String> = user.clone();
        let mut named: HashSet<String> = user.clone();
        // In the root prefix with auto_update_conda, conda's own history spec gives way to
        // `conda >=installed` (added below), so conda floats to the newest.
        let conda_floats = req.is_root && rules.auto_update_conda && kind != Kind::Create;
        // conda: "When pruning DO NOT consider history of already installed packages".
        let history = installed.history.iter().filter(|_| !req.prune);
        for (name, spec) in history {
            if named.contains(name) || installed.get(name).is_none() {
                continue;
            }
            if conda_floats && (name == "conda" || name == "taipan") {
                continue;
            }
            // conda replaces the history spec of an aggressive package by its bare name.
            let aggressive = rules.aggressive_update_packages.contains(name);
            let relaxed = req.update_all || aggressive;
            specs.push(if relaxed {
                name_only(name)?
            } else if relax_history {
                neutered_form(&parse_spec(spec)?)
            } else {
                parse_spec(spec)?
            });
            named.insert(name.clone());
        }
        let mut kept = Vec::new();
        if !req.prune {
            for rec in &installed.records {
                let name = rec
                    .repodata_record
                    .package_record
                    .name
                    .as_normalized()
                    .to_string();
                if !named.insert(name.clone()) {
                    continue;
                }
                // conda keeps everything when there is no history to tell what was asked
                // for, plus aggressive packages and a few it always keeps.
                let always = installed.history.is_empty()
                    || rules.aggressive_update_packages.contains(&name)
                    || ALWAYS_KEPT.contains(&name.as_str());
                if always {
                    specs.push(name_only(&name)?);
                } else {
                    kept.push(name_only(&name)?);
                }
            }
        }
        if let Some(py) = installed.get("python").filter(|_| !user.contains("python")) {
            if let Some((maj, min)) = py.repodata_record.package_record.version.as_major_minor() {
                specs.push(parse_spec(&format!("python {maj}.{min}.*"))?);
            }
        }
        for name in &rules.aggressive_update_packages {
            if installed.get(name).is_some() {
                unlocked.insert(name.clone());
            }
        }
        if req.is_root {
            // The package providing conda itself: conda, or taipan in taipan's distribution.
            let provider = ["conda", "taipan"]
                .into_iter()
                .find(|n| installed.get(n).is_some());
            if let Some(conda) = provider.and_then(|n| installed.get(n)) {
                let name = conda
                    .repodata_record
                    .package_record
                    .name
                    .as_normalized()
                    .to_string();
                let v = &conda.repodata_record.package_record.version;
                // An explicit version from the user is honoured, even a downgrade; conda
                // never goes down otherwise.
                let explicit = req
                    .specs
                    .iter()
                    .any(|s| name_of(s) == name && strictness(s) > 1);
                if !explicit {
                    specs.push(parse_spec(&format!("{name} >={v}"))?);
                }
                if rules.auto_update_conda && kind != Kind::Create {
                    unlocked.insert(name);
                }
            }
        }
        if req.update_all || req.update_deps {
            for rec in &installed.records {
                unlocked.insert(
                    rec.repodata_record
                        .package_record
                        .name
                        .as_normalized()
                        .to_string(),
                );
            }
        }
        let constraints = if req.no_pin {
            Vec::new()
        } else {
            installed.pins.clone()
        };
        Ok(Self {
            specs,
            kept,
            constraints,
            unlocked,
            tracked_features: rules.track_features.clone(),
        })
    }

    fn locked<'a>(&self, installed: &'a Installed) -> Vec<&'a RepoDataRecord> {
        installed
            .records
            .iter()
            .map(|r| &r.repodata_record)
            .filter(|r| {
                !self
                    .unlocked
                    .contains(r.package_record.name.as_normalized())
            })
            .collect()
    }

    /// Installed records frozen for the first attempt of `install`.
    pub(super) fn frozen_records(
        &self,
        installed: &Installed,
        req: &Request,
    ) -> Vec<RepoDataRecord> {
        let user: HashSet<String> = req.specs.iter().map(name_of).collect();
        installed
            .records
            .iter()
            .map(|r| r.repodata_record.clone())
            .filter(|r| {
                let n = r.package_record.name.as_normalized();
                !user.contains(n) && !self.unlocked.contains(n)
            })
            .collect()
    }
}

pub(super) fn run(
    buckets: &[Vec<&RepoDataRecord>],
    plan: &SpecPlan,
    installed: &Installed,
    frozen: &[RepoDataRecord],
    virtual_packages: &[GenericVirtualPackage],
    req: &Request,
) -> Result<Vec<RepoDataRecord>> {
    let mut specs = plan.specs.clone();
    if !frozen.is_empty() {
        specs.extend(plan.kept.iter().cloned());
    }
    let locked = plan.locked(installed);
    let pinned: Vec<&RepoDataRecord> = frozen.iter().collect();
    let all: Vec<&RepoDataRecord> = buckets
        .iter()
        .flatten()
        .chain(&locked)
        .chain(&pinned)
        .copied()
        .collect();
    let solved = match super::features::Emulation::new(&all, &plan.tracked_features) {
        None => solve_task(
            specs,
            plan,
            buckets.to_vec(),
            (locked, pinned),
            HashMap::new(),
            virtual_packages,
            req,
        ),
        // Old channels' legacy `features`: the records as conda's rules let the solver see them.
        Some(e) => {
            let seen = buckets
                .iter()
                .map(|b| b.iter().map(|r| e.view(r)).collect())
                .collect();
            let locked = locked.iter().map(|r| e.view(r)).collect();
            let pinned = pinned.iter().map(|r| e.view(r)).collect();
            solve_task(
                specs,
                plan,
                seen,
                (locked, pinned),
                e.excluded.clone(),
                virtual_packages,
                req,
            )
            .map(|records| e.restore(records))
        }
    };
    solved.map_err(|e| unsat_error(e, virtual_packages))
}

fn solve_task(
    specs: Vec<MatchSpec>,
    plan: &SpecPlan,
    buckets: Vec<Vec<&RepoDataRecord>>,
    (locked, pinned): (Vec<&RepoDataRecord>, Vec<&RepoDataRecord>),
    excluded: HashMap<url::Url, std::sync::Arc<str>>,
    virtual_packages: &[GenericVirtualPackage],
    req: &Request,
) -> std::result::Result<Vec<RepoDataRecord>, SolveError> {
    let priority = req.channel_priority.unwrap_or(ChannelPriority::Strict);
    let records = buckets.iter().flatten().chain(&locked).chain(&pinned);
    let channel_priority = effective_priority(priority, records.copied());
    let task = SolverTask {
        specs,
        constraints: plan.constraints.clone(),
        virtual_packages: virtual_packages.to_vec(),
        locked_packages: locked,
        pinned_packages: pinned,
        channel_priority,
        excluded_candidates: excluded,
        ..SolverTask::from_iter(buckets.iter().map(|b| b.iter().copied()))
    };
    Solver.solve(task).map(|r| r.records)
}

/// Flexible priority only orders candidates by their channel's rank before their version. When
/// every record comes from one channel (the common single-channel solve) the ranks are all
/// equal, so that order is the same as with no priority, and rattler then skips hashing the
/// channel name on every comparison (a tenth of a warm ×100 solve). A record named like a virtual
/// package (`__glibc`) would rank against the machine's own, so it keeps flexible.
fn effective_priority<'a>(
    priority: ChannelPriority,
    mut records: impl Iterator<Item = &'a RepoDataRecord>,
) -> ChannelPriority {
    if priority != ChannelPriority::Flexible {
        return priority;
    }
    let Some(first) = records.next() else {
        return priority;
    };
    let one_channel = std::iter::once(first).chain(records).all(|r| {
        r.channel == first.channel && !r.package_record.name.as_normalized().starts_with("__")
    });
    if one_channel {
        ChannelPriority::Disabled
    } else {
        priority
    }
}

fn unsat_error(err: SolveError, virtual_packages: &[GenericVirtualPackage]) -> CondaError {
    let reasons = match err {
        SolveError::Unsolvable(reasons) => reasons.join("\n"),
        other => return CondaError::new(ErrorKind::UnsatisfiableError, other.to_string()),
    };
    let system = system_conflicts(&reasons, virtual_packages);
    let message = if system.is_empty() {
        format!(
            "The following specifications were found to be incompatible with each other:\n\n{reasons}\n\nRelax or remove one of the conflicting specs, or add a channel that offers compatible builds."
        )
    } else {
        // conda's "virtual_package" message: the conflict is with the machine, so say so
        // and show what the machine has (or that it has none).
        format!(
            "The following specifications were found to be incompatible with your system:\n\n{reasons}\n\n{}\n\nA package needs a different system (or a CONDA_OVERRIDE_* value); pick a build that fits this machine.",
            system.join("\n")
        )
    };
    CondaError::new(ErrorKind::UnsatisfiableError, message)
}

/// "Your installed version is: …" for each virtual package (`__cuda`) the solver's
/// explanation names, in the order named.
fn system_conflicts(reasons: &str, virtual_packages: &[GenericVirtualPackage]) -> Vec<String> {
    let mut seen: Vec<&str> = Vec::new();
    for word in reasons.split(|c: char| c.is_whitespace() || c == '(' || c == ',') {
        let name = word.trim_end_matches(|c: char| !c.is_alphanumeric() && c != '_' && c != '-');
        if name.len() > 2 && name.starts_with("__") && !seen.contains(&name) {
            seen.push(name);
        }
    }
    seen.iter()
        .map(|name| {
            let installed = virtual_packages
                .iter()
                .find(|v| v.name.as_normalized() == *name)
                .map_or_else(|| "not available".to_string(), |v| v.version.to_string());
            if seen.len() == 1 {
                format!("Your installed version is: {installed}")
            } else {
                format!("Your installed version of {name} is: {installed}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rattler_conda_types::{PackageName, PackageRecord, Version};
    use std::str::FromStr;

    fn record(name: &str, channel: &str) -> RepoDataRecord {
        let package_record = PackageRecord::new(
            PackageName::from_str(name).unwrap(),
            Version::from_str("1").unwrap(),
            "0".parse().unwrap(),
        );
        let file_name = format!("{name}-1-0.conda");
        RepoDataRecord {
            package_record,
            identifier: file_name.parse().unwrap(),
            url: url::Url::parse(&format!("{channel}/noarch/{file_name}")).unwrap(),
            channel: Some(channel.into()),
        }
    }

    #[test]
    fn flexible_priority_is_dropped_only_when_every_record_shares_one_channel() {
        let (a, b) = ("https://a.example/c", "https://b.example/c");
        let flexible = |records: &[RepoDataRecord]| {
            effective_priority(ChannelPriority::Flexible, records.iter())
        };
        let one = [record("dep", a), record("app", a)];
        assert_eq!(flexible(&one), ChannelPriority::Disabled);
        let two = [record("dep", a), record("dep", b)];
        assert_eq!(flexible(&two), ChannelPriority::Flexible);
        let virtual_named = [record("dep", a), record("__glibc", a)];
        assert_eq!(flexible(&virtual_named), ChannelPriority::Flexible);
        assert_eq!(flexible(&[]), ChannelPriority::Flexible);
        let strict = effective_priority(ChannelPriority::Strict, one.iter());
        assert_eq!(strict, ChannelPriority::Strict);
    }
}
