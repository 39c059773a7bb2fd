//! The plan: which records a transaction unlinks and links.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use rattler::install::{PythonInfo, Transaction};
use rattler_conda_types::{PackageName, PackageRecord, PrefixRecord, RepoDataRecord, Subdir};

use crate::error::{CondaError, Result};

/// The unlink and link operations that take a prefix from its current to its desired state.
pub struct Plan {
    /// Target prefix.
    pub prefix: PathBuf,
    /// Records to unlink (removed, or replaced by another build).
    pub unlink: Vec<PrefixRecord>,
    /// Records to link, in dependency order.
    pub link: Vec<RepoDataRecord>,
    /// Records that stay.
    pub unchanged: Vec<PrefixRecord>,
    /// Python of the final environment, for noarch python packages.
    pub python_info: Option<PythonInfo>,
    /// Platform of the prefix.
    pub platform: Subdir,
}

impl Plan {
    /// Computes the operations between installed records and the desired set.
    pub fn new(
        prefix: &Path,
        installed: &[PrefixRecord],
        desired: Vec<RepoDataRecord>,
        reinstall: &HashSet<PackageName>,
        platform: Subdir,
    ) -> Result<Self> {
        let tx: Transaction<PrefixRecord, RepoDataRecord> = Transaction::from_current_and_desired(
            installed.to_vec(),
            desired,
            Some(reinstall),
            None,
            platform,
        )
        .map_err(|e| CondaError::generic(format!("cannot plan the transaction: {e}")))?;
        let mut unlink = Vec::new();
        let mut link = Vec::new();
        for op in &tx.operations {
            if let Some(old) = op.record_to_remove() {
                unlink.push(old.clone());
            }
            if let Some(new) = op.record_to_install() {
                link.push(new.clone());
            }
        }
        let link = PackageRecord::sort_topologically(link);
        Ok(Self {
            prefix: prefix.to_path_buf(),
            unlink,
            link,
            unchanged: tx.unchanged.clone(),
            python_info: tx.python_info.clone(),
            platform,
        })
    }

    /// A plan that only unlinks the given records.
    pub fn removal(
        prefix: &Path,
        installed: &[PrefixRecord],
        remove: Vec<PrefixRecord>,
        platform: Subdir,
    ) -> Self {
        let gone: HashSet<String> = remove.iter().map(|r| r.file_name()).collect();
        Self {
            prefix: prefix.to_path_buf(),
            unchanged: installed
                .iter()
                .filter(|r| !gone.contains(&r.file_name()))
                .cloned()
                .collect(),
            unlink: remove,
            link: Vec::new(),
            python_info: None,
            platform,
        }
    }

    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.unlink.is_empty() && self.link.is_empty()
    }

    /// Pairs old and new records by name, for the plan display.
    pub fn changes(&self) -> Vec<(Option<&PrefixRecord>, Option<&RepoDataRecord>)> {
        let mut out = Vec::new();
        let new_by_name: HashMap<&str, &RepoDataRecord> = self
            .link
            .iter()
            .map(|r| (r.package_record.name.as_normalized(), r))
            .collect();
        let mut seen = HashSet::new();
        for old in &self.unlink {
            let name = old.repodata_record.package_record.name.as_normalized();
            seen.insert(name);
            out.push((Some(old), new_by_name.get(name).copied()));
        }
        for new in &self.link {
            if !seen.contains(new.package_record.name.as_normalized()) {
                out.push((None, Some(new)));
            }
        }
        out
    }
}
