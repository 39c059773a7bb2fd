//! What `conda remove` takes out: the named packages, what depends on them (unless
//! `--force`), and what they leave orphaned, keeping what conda keeps.

use super::*;

/// Packages conda keeps on a removal although nothing asked for them (its solver adds them
/// to the specs when installed): `aggressive_update_packages` and conda's own list.
pub fn kept_on_removal(rules: &Rules) -> Vec<String> {
    ALWAYS_KEPT
        .iter()
        .map(|s| s.to_string())
        .chain(rules.aggressive_update_packages.iter().cloned())
        .collect()
}

/// Which installed packages a removal takes away: the named ones, everything that depends on
/// them, and dependencies nothing needs any more (`keep`, like history specs, are needed).
/// With `force`, only the named ones.
pub fn removal(
    installed: &Installed,
    prefix: &std::path::Path,
    names: &[String],
    force: bool,
    keep: &[String],
) -> Result<Vec<PrefixRecord>> {
    let by_name: HashMap<String, &PrefixRecord> = installed
        .records
        .iter()
        .map(|r| {
            (
                r.repodata_record
                    .package_record
                    .name
                    .as_normalized()
                    .to_string(),
                r,
            )
        })
        .collect();
    let missing: Vec<&String> = names.iter().filter(|n| !by_name.contains_key(*n)).collect();
    if !missing.is_empty() {
        let mut list: Vec<String> = missing.iter().map(|s| s.to_string()).collect();
        list.sort();
        return Err(CondaError::new(
            ErrorKind::PackagesNotFoundInPrefixError,
            format!(
                "The following packages are missing from the target environment:\n  prefix: {}\n{}\n",
                prefix.display(),
                dashlist(&list)
            ),
        )
        .with("package_name", list.clone())
        .with("packages_formatted", dashlist(&list))
        .with("prefix", prefix.display().to_string()));
    }
    let deps = dependency_graph(&by_name);
    let mut removed: BTreeSet<String> = names.iter().cloned().collect();
    if !force {
        add_dependents(&deps, &mut removed);
        add_orphans(installed, &deps, keep, &mut removed);
    }
    Ok(removed
        .iter()
        .filter_map(|n| by_name.get(n).map(|r| (*r).clone()))
        .collect())
}

fn dependency_graph(by_name: &HashMap<String, &PrefixRecord>) -> HashMap<String, Vec<String>> {
    by_name
        .iter()
        .map(|(n, r)| {
            let deps = r
                .repodata_record
                .package_record
                .depends
                .iter()
                .map(|d| spec_name(d))
                .filter(|d| by_name.contains_key(d))
                .collect();
            (n.clone(), deps)
        })
        .collect()
}

fn add_dependents(deps: &HashMap<String, Vec<String>>, removed: &mut BTreeSet<String>) {
    loop {
        let more: Vec<String> = deps
            .iter()
            .filter(|(n, d)| !removed.contains(*n) && d.iter().any(|x| removed.contains(x)))
            .map(|(n, _)| n.clone())
            .collect();
        if more.is_empty() {
            return;
        }
        removed.extend(more);
    }
}

/// Drops dependencies of removed packages that no remaining root still reaches.
fn add_orphans(
    installed: &Installed,
    deps: &HashMap<String, Vec<String>>,
    keep: &[String],
    removed: &mut BTreeSet<String>,
) {
    let mut candidates: BTreeSet<String> = BTreeSet::new();
    let mut stack: Vec<String> = removed.iter().cloned().collect();
    while let Some(n) = stack.pop() {
        for d in deps.get(&n).into_iter().flatten() {
            if candidates.insert(d.clone()) {
                stack.push(d.clone());
            }
        }
    }
    let roots: Vec<String> = deps
        .keys()
        .filter(|n| !removed.contains(*n))
        .filter(|n| {
            installed.history.contains_key(*n) || keep.contains(*n) || !candidates.contains(*n)
        })
        .cloned()
        .collect();
    let mut keep: HashSet<String> = HashSet::new();
    let mut stack = roots;
    while let Some(n) = stack.pop() {
        if removed.contains(&n) || !keep.insert(n.clone()) {
            continue;
        }
        stack.extend(deps.get(&n).into_iter().flatten().cloned());
    }
    for c in candidates {
        if !keep.contains(&c) {
            removed.insert(c);
        }
    }
}
