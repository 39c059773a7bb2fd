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

#[cfg(test)]
mod tests {
    use super::*;
    use rattler_conda_types::{PackageName, Version};
    use std::str::FromStr;

    fn record(name: &str, version: &str, build: &str, depends: &[&str]) -> RepoDataRecord {
        let mut package_record = PackageRecord::new(
            PackageName::from_str(name).unwrap(),
            Version::from_str(version).unwrap(),
            build.parse().unwrap(),
        );
        package_record.subdir = "noarch".into();
        package_record.depends = depends.iter().map(|d| d.to_string()).collect();
        let file_name = format!("{name}-{version}-{build}.conda");
        RepoDataRecord {
            package_record,
            identifier: file_name.parse().unwrap(),
            url: url::Url::parse(&format!("file:///channel/noarch/{file_name}")).unwrap(),
            channel: Some("file:///channel".into()),
        }
    }

    fn installed(records: &[RepoDataRecord]) -> Vec<PrefixRecord> {
        records
            .iter()
            .map(|r| PrefixRecord::from_repodata_record(r.clone(), Vec::new()))
            .collect()
    }

    fn names<'a>(records: impl IntoIterator<Item = &'a RepoDataRecord>) -> Vec<String> {
        records
            .into_iter()
            .map(|r| crate::dist::Dist::of(r).to_string())
            .collect()
    }

    #[test]
    fn an_upgrade_unlinks_the_old_and_links_dependencies_first() {
        let prefix = Path::new("/env");
        let before = installed(&[
            record("dep", "1.0", "0", &[]),
            record("app", "1.0", "0", &["dep 1.*"]),
            record("keep", "1.0", "0", &[]),
        ]);
        let desired = vec![
            record("app", "2.0", "0", &["dep >=2"]),
            record("keep", "1.0", "0", &[]),
            record("dep", "2.0", "0", &[]),
            record("new", "1.0", "0", &[]),
        ];
        let plan = Plan::new(prefix, &before, desired, &HashSet::new(), Subdir::NoArch).unwrap();
        let unlinked: Vec<String> = plan
            .unlink
            .iter()
            .map(|r| r.repodata_record.package_record.to_string())
            .collect();
        assert_eq!(unlinked.len(), 2, "{unlinked:?}");
        let linked = names(&plan.link);
        let pos = |n: &str| linked.iter().position(|l| l.contains(n)).unwrap();
        assert!(pos("dep-2.0") < pos("app-2.0"), "{linked:?}");
        assert_eq!(plan.unchanged.len(), 1);
        let pairs: Vec<(Option<String>, Option<String>)> = plan
            .changes()
            .into_iter()
            .map(|(old, new)| {
                (
                    old.map(|o| o.repodata_record.package_record.version.to_string()),
                    new.map(|n| n.package_record.name.as_normalized().to_string()),
                )
            })
            .collect();
        assert!(pairs.contains(&(Some("1.0".into()), Some("app".into()))));
        assert!(pairs.contains(&(Some("1.0".into()), Some("dep".into()))));
        assert!(pairs.contains(&(None, Some("new".into()))));
        assert_eq!(pairs.len(), 3);
    }

    #[test]
    fn nothing_to_do_unless_a_reinstall_is_asked_for() {
        let prefix = Path::new("/env");
        let same = vec![record("dep", "1.0", "0", &[])];
        let plan = Plan::new(
            prefix,
            &installed(&same),
            same.clone(),
            &HashSet::new(),
            Subdir::NoArch,
        )
        .unwrap();
        assert!(plan.is_empty());
        let again: HashSet<PackageName> = [PackageName::from_str("dep").unwrap()].into();
        let plan = Plan::new(prefix, &installed(&same), same, &again, Subdir::NoArch).unwrap();
        assert_eq!((plan.unlink.len(), plan.link.len()), (1, 1));
    }

    #[test]
    fn a_removal_keeps_the_rest() {
        let all = installed(&[record("a", "1", "0", &[]), record("b", "1", "0", &[])]);
        let plan = Plan::removal(
            Path::new("/env"),
            &all,
            vec![all[0].clone()],
            Subdir::NoArch,
        );
        assert_eq!(plan.unlink.len(), 1);
        assert_eq!(plan.unchanged.len(), 1);
        assert_eq!(
            plan.unchanged[0]
                .repodata_record
                .package_record
                .name
                .as_normalized(),
            "b"
        );
        assert!(!plan.is_empty());
    }
}
