//! `conda compare`: does an environment hold what an environment file asks for?

use std::collections::HashMap;
use std::path::Path;

use rattler_conda_types::match_spec::Matches;
use rattler_conda_types::package::BuildString;
use rattler_conda_types::{PackageName, PackageRecord, Version};

use crate::envfile::EnvFile;
use crate::error::Result;

/// conda's success line.
pub const SUCCESS: &str = "Success. All the packages in the specification file are present in the environment with matching version and build string.";

/// The mismatches (`<name> not found`, `<name> found but mismatch. …`); empty when every
/// spec of the file (conda and pip) is satisfied.
pub fn compare(prefix: &Path, file: &EnvFile) -> Result<Vec<String>> {
    let installed = crate::prefix::records(prefix)?;
    let mut active: HashMap<String, PackageRecord> = installed
        .iter()
        .map(|r| {
            let p = &r.repodata_record.package_record;
            (p.name.as_normalized().to_string(), p.clone())
        })
        .collect();
    // pip's distributions take part as conda sees them: build `pypi_0`.
    for d in crate::pip::installed_dists(prefix, &installed) {
        if let Some(record) = pip_record(&d) {
            active.entry(d.name.clone()).or_insert(record);
        }
    }
    let mut errors = Vec::new();
    for text in file.specs.iter().chain(&file.pip) {
        let spec = crate::spec::parse_spec(text)?;
        let Some(name) = spec.name.as_exact().map(|n| n.as_normalized().to_string()) else {
            errors.push(format!("{text} not found"));
            continue;
        };
        match active.get(&name) {
            Some(record) if spec.matches(record) => {}
            Some(record) => errors.push(format!(
                "{name} found but mismatch. Specification pkg: {text}, Running pkg: {}={}={}",
                record.name.as_normalized(),
                record.version,
                record.build
            )),
            None => errors.push(format!("{name} not found")),
        }
    }
    Ok(errors)
}

fn pip_record(d: &crate::pip::PipDist) -> Option<PackageRecord> {
    let name = PackageName::try_from(d.name.as_str()).ok()?;
    let version: Version = d.version.parse().ok()?;
    Some(PackageRecord::new(
        name,
        version,
        BuildString::new_unchecked("pypi_0"),
    ))
}
