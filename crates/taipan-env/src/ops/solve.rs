//! Solving a request: the prefix as it is, the channels' repodata, conda's rules.

use std::collections::HashSet;
use std::path::Path;

use rattler_conda_types::{Channel, GenericVirtualPackage, MatchSpec, PackageName, RepoDataRecord};
use rattler_solve::ChannelPriority;
use rattler_virtual_packages::{Override, VirtualPackageOverrides, VirtualPackages};

use crate::context::Context;
use crate::error::{CondaError, ErrorKind, Result};
use crate::reporter::Reporter;
use crate::solve::{self, Installed, Kind, Request, Rules};
use crate::transaction::Plan;

/// A solved request, ready to show and apply.
pub struct Solved {
    /// The operations.
    pub plan: Plan,
    /// Channels used (for messages).
    pub channels: Vec<Channel>,
    /// The prefix state before.
    pub installed: Installed,
    /// History specs relaxed to satisfy this request (conda's "neutered specs").
    pub neutered: Vec<String>,
}

/// The virtual packages for the context's platform (`CONDA_OVERRIDE_*` respected).
pub fn virtual_packages(ctx: &Context) -> Result<Vec<GenericVirtualPackage>> {
    let mut overrides = VirtualPackageOverrides::from_env();
    // conda: `CONDA_OVERRIDE_CUDA=""` means "no CUDA"; then don't probe the GPU's arch either.
    if ctx
        .env
        .get("CONDA_OVERRIDE_CUDA")
        .is_some_and(|v| v.is_empty())
    {
        overrides.cuda_arch = Some(Override::String(String::new()));
    }
    configured_overrides(ctx, &mut overrides);
    let configured = match &overrides.archspec {
        Some(Override::String(value)) => Some(value.clone()),
        _ => None,
    };
    let (known, memo) = match crate::archspec_memo::override_value(configured.as_deref()) {
        Some(value) => (crate::archspec_memo::overridden(&value), None),
        None => {
            let memo = crate::archspec_memo::Memo::for_run(ctx);
            (memo.as_ref().and_then(|m| m.recall()), memo)
        }
    };
    if known.is_some() {
        // Known already: rattler is told there is none, and this one is added.
        overrides.archspec = Some(Override::String(String::new()));
    }
    let mut packages: Vec<GenericVirtualPackage> =
        VirtualPackages::detect_for_platform(ctx.subdir, &overrides, None)
            .map(|v| v.into_generic_virtual_packages().collect())
            .map_err(|e| CondaError::generic(format!("cannot detect virtual packages: {e}")))?;
    match (known, memo) {
        // rattler lists `__archspec` last.
        (Some(archspec), _) => packages.push(archspec),
        (None, Some(memo)) => memo.remember(&packages),
        (None, None) => {}
    }
    Ok(packages)
}

/// `override_virtual_packages` (`{glibc: "2.17", cuda: ""}`): like `CONDA_OVERRIDE_<NAME>`,
/// which wins when both are set. An empty value removes the package.
fn configured_overrides(ctx: &Context, overrides: &mut VirtualPackageOverrides) {
    let Some(serde_yaml::Value::Mapping(map)) = ctx.config.other.get("override_virtual_packages")
    else {
        return;
    };
    for (key, value) in map {
        let (Some(key), Some(value)) = (key.as_str(), yaml_text(value)) else {
            continue;
        };
        let name = key.trim_start_matches("__").to_ascii_lowercase();
        if ctx
            .env
            .contains_key(&format!("CONDA_OVERRIDE_{}", name.to_ascii_uppercase()))
        {
            continue;
        }
        let value = Some(Override::String(value.trim().to_string()));
        match name.as_str() {
            "glibc" => overrides.libc = value,
            "linux" => overrides.linux = value,
            "osx" => overrides.osx = value,
            "win" => overrides.win = value,
            "cuda" => overrides.cuda = value,
            "archspec" => overrides.archspec = value,
            other => tracing::warn!("override_virtual_packages: __{other} cannot be overridden"),
        }
    }
}

fn yaml_text(v: &serde_yaml::Value) -> Option<String> {
    match v {
        serde_yaml::Value::String(s) => Some(s.clone()),
        serde_yaml::Value::Number(n) => Some(n.to_string()),
        serde_yaml::Value::Null => Some(String::new()),
        _ => None,
    }
}

/// Channel priority from configuration, as the solver understands it.
pub fn channel_priority(ctx: &Context) -> ChannelPriority {
    match ctx.config.channel_priority {
        taipan_config::ChannelPriority::Strict => ChannelPriority::Strict,
        taipan_config::ChannelPriority::Flexible => ChannelPriority::Flexible,
        taipan_config::ChannelPriority::Disabled => ChannelPriority::Disabled,
    }
}

/// Solves a create/install/update request against the configured channels.
pub async fn solve_request(
    ctx: &Context,
    prefix: &Path,
    kind: Kind,
    mut req: Request,
    reinstall: HashSet<PackageName>,
    reporter: &dyn Reporter,
) -> Result<Solved> {
    let installed = if kind == Kind::Create {
        Installed {
            pins: crate::prefix::pins(ctx, prefix)?,
            ..Installed::default()
        }
    } else {
        crate::prefix::installed(ctx, prefix)?
    };
    for w in &installed.warnings {
        reporter.warning(w);
    }
    let names: Vec<String> = req.specs.iter().map(ToString::to_string).collect();
    let channels = crate::channels::resolve_for(ctx, &names)?;
    reporter.channels(&channels, ctx.subdir.as_str());
    req.channel_priority.get_or_insert(channel_priority(ctx));
    req.is_root = crate::context::same_path(prefix, &ctx.root_prefix);
    let mut query: Vec<MatchSpec> = req.specs.clone();
    for r in &installed.records {
        query.push(MatchSpec::from(
            r.repodata_record.package_record.name.clone(),
        ));
    }
    // Pins by name: the gateway keeps only the records a queried spec matches, and a package
    // that needs what a pin excludes must still be seen (conda then names the pin).
    query.extend(
        installed
            .pins
            .iter()
            .filter_map(|p| p.name.as_exact().cloned().map(MatchSpec::from)),
    );
    for name in installed.history.keys() {
        if let Ok(spec) = solve::parse_spec(name) {
            query.push(spec);
        }
    }
    // `notify_outdated_conda`: conda's records, to see whether a newer one exists.
    let root_conda = crate::outdated::root_conda(ctx);
    if root_conda.is_some() {
        query.push(MatchSpec::from(solve::package_name("conda")?));
    }
    query.retain(|s| {
        s.name
            .as_exact()
            .is_some_and(|n| !n.as_normalized().starts_with("__"))
    });
    reporter.phase("Collecting package metadata (repodata.json)");
    let index = load_index(ctx, &channels, query).await;
    reporter.phase_done(index.is_ok());
    let index = index?;
    let vpkgs = virtual_packages(ctx)?;
    // Offline, conda leaves aggressive packages where they are: nothing newer can be fetched.
    let aggressive = if ctx.config.offline {
        Vec::new()
    } else {
        ctx.config.aggressive_update_packages.clone()
    };
    let rules = Rules {
        aggressive_update_packages: aggressive,
        auto_update_conda: ctx.config.auto_update_conda,
        track_features: ctx.config.track_features.clone(),
    };
    reporter.phase("Solving environment");
    let records = solve::solve(kind, &req, &installed, &index, &vpkgs, &rules);
    reporter.phase_done(records.is_ok());
    let solution = records.map_err(|e| add_channels_to_error(e, &channels, ctx))?;
    if !solution.inconsistent.is_empty() {
        reporter.warning(&format!(
            "The environment is inconsistent, please check the package plan carefully\nThe following packages are causing the inconsistency:{}",
            crate::error::dashlist(&solution.inconsistent)
        ));
    }
    let neutered = solution.neutered;
    let records = solution.records;
    if let Some(notice) = root_conda.and_then(|c| c.notice(ctx, prefix, &index, &records)) {
        reporter.notice(&notice);
    }
    let records = filter_deps(&req, &installed, records);
    check_disallowed(ctx, &records)?;
    let plan = Plan::new(prefix, &installed.records, records, &reinstall, ctx.subdir)?;
    drop_in_background(index);
    Ok(Solved {
        plan,
        channels,
        installed,
        neutered,
    })
}

/// Frees the loaded records on another thread, off the command's path to its output: freeing
/// the thousands of records a large solve loads was 4.5% of its instructions (callgrind,
/// r-essentials). A CLI process may exit before the thread is done, which is fine.
fn drop_in_background(index: crate::repodata::Index) {
    let spawned = std::thread::Builder::new()
        .name("taipan-drop".into())
        .spawn(move || drop(index));
    // Without a thread (resource limits), the caller's thread frees them instead.
    if let Err(e) = spawned {
        tracing::debug!("records freed in place: {e}");
    }
}

/// The records the specs reach in the channels.
async fn load_index(
    ctx: &Context,
    channels: &[Channel],
    query: Vec<MatchSpec>,
) -> Result<crate::repodata::Index> {
    crate::repodata::query(ctx, channels, ctx.subdir, query)
        .await
        .map_err(|e| {
            e.with(
                "channel_urls",
                crate::channels::subdir_urls(channels, ctx.subdir.as_str()),
            )
        })
}

/// `--no-deps` keeps the installed state except the requested packages; `--only-deps` takes
/// the solution without the requested packages nothing else in it depends on (conda's
/// youngest nodes), keeping whatever version of them was installed.
fn filter_deps(
    req: &Request,
    installed: &Installed,
    solved: Vec<RepoDataRecord>,
) -> Vec<RepoDataRecord> {
    if !req.no_deps && !req.only_deps {
        return solved;
    }
    let user: HashSet<String> = req
        .specs
        .iter()
        .filter_map(|s| s.name.as_exact().map(|n| n.as_normalized().to_string()))
        .collect();
    let is_user = |r: &RepoDataRecord| user.contains(r.package_record.name.as_normalized());
    let installed_records = installed.records.iter().map(|r| r.repodata_record.clone());
    if req.no_deps {
        let mut out: Vec<RepoDataRecord> = installed_records.filter(|r| !is_user(r)).collect();
        out.extend(solved.into_iter().filter(|r| is_user(r)));
        return out;
    }
    let needed: HashSet<String> = solved
        .iter()
        .flat_map(|r| r.package_record.depends.iter())
        .map(|d| crate::history::spec_name(d))
        .collect();
    let dropped =
        |r: &RepoDataRecord| is_user(r) && !needed.contains(r.package_record.name.as_normalized());
    let mut out: Vec<RepoDataRecord> = solved.iter().filter(|r| !dropped(r)).cloned().collect();
    let dropped_names: HashSet<&str> = solved
        .iter()
        .filter(|r| dropped(r))
        .map(|r| r.package_record.name.as_normalized())
        .collect();
    out.extend(
        installed_records.filter(|r| dropped_names.contains(r.package_record.name.as_normalized())),
    );
    out
}

/// `disallowed_packages`: a solution holding one is conda's `DisallowedPackageError`.
fn check_disallowed(ctx: &Context, records: &[RepoDataRecord]) -> Result<()> {
    use rattler_conda_types::match_spec::Matches;
    for text in &ctx.config.disallowed_packages {
        let spec = solve::parse_spec(text)?;
        if let Some(r) = records.iter().find(|r| spec.matches(*r)) {
            let dist = crate::dist::Dist::of(r).to_string();
            return Err(CondaError::new(
                ErrorKind::DisallowedPackageError,
                format!("The package '{dist}' is disallowed by configuration.\nSee 'conda config --show disallowed_packages'."),
            )
            .with("dist_str", dist));
        }
    }
    Ok(())
}

fn add_channels_to_error(mut e: CondaError, channels: &[Channel], ctx: &Context) -> CondaError {
    if e.kind == ErrorKind::PackagesNotFoundInChannelsError && !e.extra.contains_key("channel_urls")
    {
        let urls = crate::channels::subdir_urls(channels, ctx.subdir.as_str());
        let packages: Vec<String> = e
            .extra
            .get("packages")
            .and_then(|p| p.as_array())
            .map(|p| {
                p.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        e = crate::error::not_in_channels(&packages, &urls);
    }
    e
}
