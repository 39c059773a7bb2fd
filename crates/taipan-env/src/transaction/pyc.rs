//! Compiling the sources of noarch python packages, as conda does after linking them.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::Command;

use rattler_conda_types::prefix_record::PathsEntry;
use rattler_conda_types::PrefixRecord;

use super::journal::Journal;
use super::Plan;
use crate::error::Result;

/// conda compiles the sources of noarch python packages with the environment's python
/// (`python -Wi -m compileall -q -l -i LIST -j 0`) and records the `.pyc` files as
/// `pyc_file`. The `.pyc` paths are journaled before python writes them. Failures of the
/// compiler are only logged, as in conda.
pub(crate) fn compile(plan: &Plan, journal: &mut Journal) -> Result<()> {
    let Some(py) = &plan.python_info else {
        return Ok(());
    };
    let python = plan.prefix.join(&py.path);
    if journal.python_records.is_empty() || !python.exists() {
        return Ok(());
    }
    let mut records: Vec<(PathBuf, PrefixRecord)> = journal
        .python_records
        .iter()
        .filter_map(|p| PrefixRecord::from_path(p).ok().map(|r| (p.clone(), r)))
        .collect();
    let sources: Vec<PathBuf> = records
        .iter()
        .flat_map(|(_, r)| r.paths_data.paths.iter())
        .map(|e| e.relative_path.clone())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "py") && p.starts_with(&py.site_packages_path)
        })
        .collect();
    if sources.is_empty() {
        return Ok(());
    }
    let tag = format!("cpython-{}{}", py.short_version.0, py.short_version.1);
    let targets: Vec<PathBuf> = sources
        .iter()
        .filter_map(|s| pyc_path(s, &tag))
        .map(|p| plan.prefix.join(p))
        .collect();
    journal.before_link(&targets, &HashSet::new())?;
    crate::crashpoint::hit("pyc-logged");
    let list: String = sources
        .iter()
        .map(|p| format!("{}\n", plan.prefix.join(p).display()))
        .collect();
    let listfile = journal.scratch().join("compileall.txt");
    std::fs::write(&listfile, list)?;
    let mut cmd = Command::new(&python);
    cmd.args(["-Wi", "-m", "compileall", "-q", "-l", "-i"])
        .arg(&listfile)
        .args(["-j", "0"])
        .current_dir(&plan.prefix);
    super::scripts::die_with_parent(&mut cmd);
    if let Err(e) = cmd.output() {
        tracing::warn!("cannot compile .py files with {}: {e}", python.display());
        return Ok(());
    }
    for (path, record) in &mut records {
        add_pyc_entries(plan, record, &tag);
        if let Ok(json) = serde_json::to_vec(record) {
            journal.write_file(path, &json)?;
        }
    }
    Ok(())
}

/// `dir/__pycache__/<stem>.<tag>.pyc` for `dir/<stem>.py`.
fn pyc_path(source: &std::path::Path, tag: &str) -> Option<PathBuf> {
    let (dir, stem) = (source.parent()?, source.file_stem()?);
    Some(
        dir.join("__pycache__")
            .join(format!("{}.{tag}.pyc", stem.to_string_lossy())),
    )
}

fn add_pyc_entries(plan: &Plan, record: &mut PrefixRecord, tag: &str) {
    let sources: Vec<PathBuf> = record
        .paths_data
        .paths
        .iter()
        .map(|e| e.relative_path.clone())
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .collect();
    for src in sources {
        let Some(pyc) = pyc_path(&src, tag) else {
            continue;
        };
        let Ok(meta) = std::fs::metadata(plan.prefix.join(&pyc)) else {
            continue;
        };
        record.files.push(pyc.clone());
        record.paths_data.paths.push(PathsEntry {
            relative_path: pyc,
            original_path: None,
            path_type: rattler_conda_types::prefix_record::PathType::PycFile,
            no_link: false,
            sha256: None,
            sha256_in_prefix: None,
            size_in_bytes: Some(meta.len()),
            file_mode: None,
            prefix_placeholder: None,
        });
    }
}
