//! Reading an environment: installed records, history, pins.

use crate::error::ErrorKind;
use std::path::Path;

use rattler_conda_types::{MatchSpec, PrefixRecord};

use crate::context::Context;
use crate::error::{CondaError, Result};
use crate::solve::Installed;
use crate::spec::parse_spec;

/// Loads the installed records of a prefix (`conda-meta/*.json`).
pub fn records(prefix: &Path) -> Result<Vec<PrefixRecord>> {
    let meta = prefix.join("conda-meta");
    if !meta.is_dir() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&meta)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            let record = PrefixRecord::from_path(&path).map_err(|e| {
                CondaError::new(
                    ErrorKind::CorruptedEnvironmentError,
                    format!("cannot read {}: {e}\n  Fix or remove the file, then reinstall that package.", path.display()),
                )
            })?;
            out.push(record);
        }
    }
    out.sort_by(|a, b| {
        a.repodata_record
            .package_record
            .name
            .as_normalized()
            .cmp(b.repodata_record.package_record.name.as_normalized())
    });
    Ok(out)
}

/// Pins from `pinned_packages` and `<prefix>/conda-meta/pinned`.
pub fn pins(ctx: &Context, prefix: &Path) -> Result<Vec<MatchSpec>> {
    let mut specs: Vec<String> = ctx.config.pinned_packages.clone();
    let pinned = prefix.join("conda-meta").join("pinned");
    if let Ok(text) = std::fs::read_to_string(&pinned) {
        specs.extend(
            text.lines()
                .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
                .filter(|l| !l.is_empty()),
        );
    }
    specs.iter().map(|s| parse_spec(s)).collect()
}

/// Everything the solver needs to know about the prefix as it is.
pub fn installed(ctx: &Context, prefix: &Path) -> Result<Installed> {
    let (revisions, warnings) = crate::history::read(prefix)?;
    Ok(Installed {
        records: records(prefix)?,
        history: crate::history::requested_specs(&revisions),
        pins: pins(ctx, prefix)?,
        warnings,
    })
}
