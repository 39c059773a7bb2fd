//! `conda search`: records of the channels (or of the installed environments, `--envs`)
//! that a match spec selects — its name may be a glob (`*ssl*`) — and conda's flexible
//! retry (`dep` → `*dep*`) when an exact name finds nothing.

use std::path::PathBuf;

use rattler_conda_types::match_spec::Matches;
use rattler_conda_types::{
    Channel, MatchSpec, PackageName, PackageNameMatcher, PrefixRecord, RepoDataRecord, Subdir,
};

use crate::context::Context;
use crate::error::ErrorKind;
use crate::{CondaError, Result};

/// What a search found.
pub struct Found {
    /// The matching records, by name, version, build number and build.
    pub records: Vec<RepoDataRecord>,
    /// The flexible spec searched after the exact one found nothing (conda prints it).
    pub flexible: Option<String>,
}

/// Searches `channels` for `text`; with `flexible`, an exact name that finds nothing is
/// retried as `*name*` (constraints kept), as conda does unless `--skip-flexible-search`.
pub async fn channels(
    ctx: &Context,
    channels: &[Channel],
    text: &str,
    flexible: bool,
) -> Result<Found> {
    let spec = crate::spec::parse_query(text)?;
    let mut records = query(ctx, channels, &spec).await?;
    let mut tried = None;
    if records.is_empty() && flexible {
        if let Some((flex, shown)) = flexible_spec(&spec) {
            records = query(ctx, channels, &flex).await?;
            tried = Some(shown);
        }
    }
    sort(&mut records);
    Ok(Found {
        records,
        flexible: tried,
    })
}

/// The installed records `text` selects, per known environment (those with a match only).
pub fn environments(ctx: &Context, text: &str) -> Result<Vec<(PathBuf, Vec<PrefixRecord>)>> {
    let spec = crate::spec::parse_query(text)?;
    let mut out = Vec::new();
    for prefix in crate::registry::all_envs(ctx) {
        let Ok(records) = crate::prefix::records(&prefix) else {
            continue;
        };
        let mut found: Vec<PrefixRecord> = records
            .into_iter()
            .filter(|r| spec.matches(&r.repodata_record.package_record))
            .collect();
        if found.is_empty() {
            continue;
        }
        found.sort_by(|a, b| {
            let (a, b) = (
                &a.repodata_record.package_record,
                &b.repodata_record.package_record,
            );
            (a.name.as_normalized(), &a.version, a.build_number, &a.build).cmp(&(
                b.name.as_normalized(),
                &b.version,
                b.build_number,
                &b.build,
            ))
        });
        out.push((prefix, found));
    }
    Ok(out)
}

/// conda's error when no environment has a match (`PackagesNotFoundError`).
pub fn not_in_environments(text: &str) -> CondaError {
    let formatted = crate::error::dashlist([text]);
    CondaError::new(
        ErrorKind::PackagesNotFoundError,
        format!("The following packages are missing from the target environment:\n{formatted}\n"),
    )
    .with("packages", vec![text.to_string()])
    .with("packages_formatted", formatted)
    .with("channel_urls", Vec::<String>::new())
    .with("channels_formatted", "")
}

/// `*name*` for a spec with an exact name (its other constraints kept), and how conda
/// prints it; none for a spec whose name is already a pattern.
fn flexible_spec(spec: &MatchSpec) -> Option<(MatchSpec, String)> {
    let name = spec.name.as_exact()?.as_normalized().to_string();
    let mut flex = spec.clone();
    flex.name = format!("*{name}*").parse::<PackageNameMatcher>().ok()?;
    let exact = crate::spec::conda_str(spec);
    let shown = match exact.strip_prefix(&name) {
        Some(rest) => format!("*{name}*{rest}"),
        None => format!("*{name}*"),
    };
    Some((flex, shown))
}

async fn query(
    ctx: &Context,
    channels: &[Channel],
    spec: &MatchSpec,
) -> Result<Vec<RepoDataRecord>> {
    let platforms = [ctx.subdir, Subdir::NoArch];
    // The same readers as a solve: a warm search of a large channel parses only the records
    // of the names it asks for, through the persistent index.
    let opened = crate::repodata::open(ctx, channels, &platforms).await?;
    let names: Vec<PackageName> = match spec.name.as_exact() {
        Some(name) => vec![name.clone()],
        None => opened
            .names(ctx, &platforms)
            .await?
            .into_iter()
            .filter(|n| spec.name.matches(n))
            .collect(),
    };
    if names.is_empty() {
        return Ok(Vec::new());
    }
    // conda's search honours `exclude_newer` from the configuration.
    let cutoff = crate::cutoff::policy(&ctx.config.other, channels)?;
    let out = opened
        .gateway
        .query(opened.sources, platforms, names)
        .execute()
        .await
        .map_err(|e| crate::repodata::gateway_error(ctx, e))?;
    Ok(out
        .repodata
        .iter()
        .flat_map(|rd| rd.iter().cloned().collect::<Vec<_>>())
        .filter(|r| spec.matches(r))
        .filter(|r| cutoff.as_ref().is_none_or(|c| !c.is_excluded(r)))
        .collect())
}

/// conda's order for a channel search: name, version, then the build string (not the build
/// number: `r3.2.1_0a` (number 1) comes before `r3.2.2_0` (number 0)). The sort is stable, so
/// equal keys keep channel order.
fn sort(records: &mut [RepoDataRecord]) {
    records.sort_by(|x, y| {
        let (a, b) = (&x.package_record, &y.package_record);
        (a.name.as_normalized(), &a.version, &a.build).cmp(&(
            b.name.as_normalized(),
            &b.version,
            &b.build,
        ))
    });
}
