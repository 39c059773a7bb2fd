//! conda's "A newer version of conda exists" notice (`notify_outdated_conda`): after a solve,
//! when the channel the root prefix's `conda` came from offers a newer one.

use std::path::Path;

use rattler_conda_types::{PrefixRecord, RepoDataRecord, Version};

use crate::context::{same_path, Context};
use crate::repodata::Index;

/// The root prefix's `conda` (what the notice compares against), when the notice is wanted.
pub fn root_conda(ctx: &Context) -> Option<RootConda> {
    if !ctx.config.notify_outdated_conda || ctx.config.quiet || ctx.config.json {
        return None;
    }
    let meta = ctx.root_prefix.join("conda-meta");
    let record = |name: &str| -> Option<PrefixRecord> {
        // Only the files that can hold it: a root prefix holds hundreds of records.
        std::fs::read_dir(&meta)
            .ok()?
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("{name}-"))
            })
            .filter_map(|e| PrefixRecord::from_path(e.path()).ok())
            .find(|r| r.repodata_record.package_record.name.as_normalized() == name)
    };
    let conda = record("conda")?;
    let channel = match crate::naming::canonical_name(&conda.repodata_record) {
        c if c.is_empty() || c == "<unknown>" => "defaults".to_string(),
        c => c,
    };
    Some(RootConda {
        version: conda
            .repodata_record
            .package_record
            .version
            .version()
            .clone(),
        channel,
        has_conda_self: record("conda-self").is_some(),
        frozen: ctx.root_prefix.join("conda-meta").join("frozen").exists(),
    })
}

/// The installed `conda` of the root prefix.
pub struct RootConda {
    version: Version,
    channel: String,
    has_conda_self: bool,
    frozen: bool,
}

impl RootConda {
    /// conda's notice, when `index` has a newer conda from the same channel (and the solve
    /// does not install it into the root prefix).
    pub fn notice(
        &self,
        ctx: &Context,
        prefix: &Path,
        index: &Index,
        linked: &[RepoDataRecord],
    ) -> Option<String> {
        let newer = |r: &RepoDataRecord| {
            r.package_record.name.as_normalized() == "conda"
                && *r.package_record.version.version() > self.version
                && crate::naming::canonical_name(r) == self.channel
        };
        if same_path(prefix, &ctx.root_prefix) && linked.iter().any(newer) {
            return None;
        }
        let latest = index
            .iter()
            .filter(|r| newer(r))
            .map(|r| r.package_record.version.version().clone())
            .max()?;
        let command = if self.has_conda_self {
            "conda self update".to_string()
        } else if self.frozen {
            format!(
                "conda update -n base -c {} conda --override-frozen",
                self.channel
            )
        } else {
            format!("conda update -n base -c {} conda", self.channel)
        };
        Some(format!(
            "\n\n==> WARNING: A newer version of conda exists. <==\ncurrent version: {}\nlatest version: {latest}\n\nPlease update conda by running\n\n    $ {command}\n\n",
            self.version
        ))
    }
}
