//! Unlinking an installed package: its `pre-unlink` script, then its files and record moved
//! into the journal's stash (deleted at the commit point, restored on rollback).

use std::collections::HashSet;
use std::path::PathBuf;

use rattler_conda_types::PrefixRecord;

use super::journal::{Journal, Stash};
use super::{scripts, LinkSettings, Outcome, Plan};
use crate::confine::check_package_path;
use crate::error::Result;

pub(crate) fn unlink_one(
    plan: &Plan,
    record: &PrefixRecord,
    settings: &LinkSettings,
    journal: &mut Journal,
    outcome: &mut Outcome,
) -> Result<()> {
    let name = record.repodata_record.package_record.name.as_normalized();
    let script = plan.prefix.join(format!("bin/.{name}-pre-unlink.sh"));
    if script.is_file() {
        if let Err(e) = scripts::run_script(
            &script,
            &plan.prefix,
            &record.repodata_record.package_record,
            settings,
            None,
        ) {
            outcome.warnings.push(format!(
                "pre-unlink script failed for package {}: {}",
                record.repodata_record.identifier, e.message
            ));
        }
        scripts::collect_messages(&plan.prefix, outcome);
        journal.fence.forget();
    }
    let mut paths: Vec<PathBuf> = Vec::new();
    let mut seen = HashSet::new();
    let listed = record
        .paths_data
        .paths
        .iter()
        .map(|e| &e.relative_path)
        .chain(&record.files);
    for rel in listed {
        if !seen.insert(rel.clone()) {
            continue;
        }
        // A record written before paths were checked (or edited by hand) may name paths
        // outside the prefix: those are never touched.
        if let Err(why) = check_package_path(rel) {
            outcome.warnings.push(format!(
                "{}: the path '{}' in its conda-meta record {why}; it was left alone",
                record.repodata_record.identifier,
                rel.display()
            ));
            continue;
        }
        let path = plan.prefix.join(rel);
        if !journal.fence.parent_inside(&path) {
            outcome.warnings.push(format!(
                "{}: '{}' is behind a link that leads outside the environment; it was left alone",
                record.repodata_record.identifier,
                rel.display()
            ));
            continue;
        }
        paths.push(path);
    }
    paths.push(plan.prefix.join("conda-meta").join(record.file_name()));
    journal.stash_all(&paths, Stash::ForUnlink, &HashSet::new())?;
    crate::crashpoint::hit("unlinked");
    Ok(())
}
