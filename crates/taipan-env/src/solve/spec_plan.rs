//! One solve's specs, constraints and preferences under conda's rules (history specs,
//! pins, aggressive updates, conda in the root), handed to resolvo.

use rattler_solve::{resolvo::Solver, SolveError, SolverImpl, SolverTask};

use super::*;

/// The specs, constraints and preferences of one solve.
pub(super) struct SpecPlan {
    specs: Vec<MatchSpec>,
    constraints: Vec<MatchSpec>,
    /// Names whose installed version should not be preferred (they may float).
    unlocked: HashSet<String>,
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
        if !req.prune {
            for rec in &installed.records {
                let name = rec
                    .repodata_record
                    .package_record
                    .name
                    .as_normalized()
                    .to_string();
                if named.insert(name.clone()) {
                    specs.push(name_only(&name)?);
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
            constraints,
            unlocked,
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
    let task = SolverTask {
        specs: plan.specs.clone(),
        constraints: plan.constraints.clone(),
        virtual_packages: virtual_packages.to_vec(),
        locked_packages: plan.locked(installed),
        pinned_packages: frozen.iter().collect(),
        channel_priority: req.channel_priority.unwrap_or(ChannelPriority::Strict),
        ..SolverTask::from_iter(buckets.iter().map(|b| b.iter().copied()))
    };
    Solver.solve(task).map(|r| r.records).map_err(unsat_error)
}

fn unsat_error(err: SolveError) -> CondaError {
    match err {
        SolveError::Unsolvable(reasons) => CondaError::new(
            ErrorKind::UnsatisfiableError,
            format!(
                "The following specifications were found to be incompatible with each other:\n\n{}\n\nRelax or remove one of the conflicting specs, or add a channel that offers compatible builds.",
                reasons.join("\n")
            ),
        ),
        other => CondaError::new(ErrorKind::UnsatisfiableError, other.to_string()),
    }
}
