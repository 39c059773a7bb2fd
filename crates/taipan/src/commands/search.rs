//! `conda search`.

use std::collections::BTreeMap;
use taipan_env::error::ErrorKind;

use rattler_conda_types::match_spec::Matches;
use rattler_conda_types::{MatchSpec, RepoDataRecord};
use taipan_env::{CondaError, Result};

use super::helpers::Load;
use crate::cli::SearchArgs;

/// Runs `conda search`.
pub async fn run(a: SearchArgs) -> Result<u8> {
    let argv = super::helpers::argv();
    let ctx = Load {
        channels: Some(&a.channels),
        platform: a.platform.clone(),
        ..Load::new(&argv, &a.output)
    }
    .context()?;
    let channels = taipan_env::channels::resolve(&ctx)?;
    let text = a.spec.clone().unwrap_or_else(|| "*".into());
    let show = !a.output.json && !a.output.quiet;
    let step = crate::output::prompt::Step::start("Loading channels", show);
    let found = find(&ctx, &channels, &text).await;
    step.finish(found.is_ok());
    let mut records = found?;
    if records.is_empty() && !text.contains('*') {
        if show {
            println!("No match found for: {text}. Search: *{text}*");
        }
        records = find(&ctx, &channels, &format!("*{text}*")).await?;
    }
    if records.is_empty() {
        let urls = taipan_env::channels::subdir_urls(&channels, ctx.subdir.as_str());
        return Err(taipan_env::error::not_in_channels(
            std::slice::from_ref(&text),
            &urls,
        ));
    }
    records.sort_by(|x, y| {
        let (a, b) = (&x.package_record, &y.package_record);
        (a.name.as_normalized(), &a.version, a.build_number, &a.build).cmp(&(
            b.name.as_normalized(),
            &b.version,
            b.build_number,
            &b.build,
        ))
    });
    if a.output.json {
        print_json(&records);
    } else if a.info {
        print_info(&records);
    } else {
        print_table(&records);
    }
    Ok(0)
}

async fn find(
    ctx: &taipan_env::context::Context,
    channels: &[rattler_conda_types::Channel],
    text: &str,
) -> Result<Vec<RepoDataRecord>> {
    // Globs (`*ssl*`) select names; the records of those names are then listed whole.
    let spec = if text.contains('*') {
        None
    } else {
        Some(taipan_env::solve::parse_spec(text)?)
    };
    let names = match &spec {
        None => matching_names(ctx, channels, text).await?,
        Some(spec) => vec![spec.clone()],
    };
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let gateway = taipan_env::repodata::gateway(ctx)?;
    let platforms = [ctx.subdir, rattler_conda_types::Subdir::NoArch];
    let out = gateway
        .query(channels.to_vec(), platforms, names)
        .execute()
        .await
        .map_err(|e| CondaError::new(ErrorKind::UnavailableInvalidChannel, e.to_string()))?;
    Ok(out
        .repodata
        .iter()
        .flat_map(|rd| rd.iter().cloned().collect::<Vec<_>>())
        .filter(|r| spec.as_ref().is_none_or(|s| s.matches(r)))
        .collect())
}

async fn matching_names(
    ctx: &taipan_env::context::Context,
    channels: &[rattler_conda_types::Channel],
    glob: &str,
) -> Result<Vec<MatchSpec>> {
    let pattern = format!(
        "^{}$",
        regex::escape(
            glob.split(|c: char| " =<>!".contains(c))
                .next()
                .unwrap_or(glob)
        )
        .replace("\\*", ".*")
    );
    let re = regex::Regex::new(&pattern)
        .map_err(|e| CondaError::new(ErrorKind::CondaValueError, e.to_string()))?;
    let gateway = taipan_env::repodata::gateway(ctx)?;
    let names = gateway
        .names(
            channels.to_vec(),
            [ctx.subdir, rattler_conda_types::Subdir::NoArch],
        )
        .execute()
        .await
        .map_err(|e| CondaError::new(ErrorKind::UnavailableInvalidChannel, e.to_string()))?;
    Ok(names
        .into_iter()
        .filter(|n| re.is_match(n.as_normalized()))
        .map(MatchSpec::from)
        .collect())
}

fn print_table(records: &[RepoDataRecord]) {
    println!(
        "# {:<18} {:>15} {:>15}  {:<20}",
        "Name", "Version", "Build", "Channel"
    );
    for r in records {
        let p = &r.package_record;
        // conda's `"%-20s %15s %15s  %-20s"` with the channel's `Channel.name`.
        println!(
            "{:<20} {:>15} {:>15}  {:<20}",
            p.name.as_normalized(),
            p.version.to_string(),
            p.build.to_string(),
            crate::output::plan::record_channel_name(r)
        );
    }
}

fn print_info(records: &[RepoDataRecord]) {
    for r in records {
        let p = &r.package_record;
        let title = format!("{} {} {}", p.name.as_normalized(), p.version, p.build);
        println!("{title}\n{}", "-".repeat(title.len()));
        println!("file name   : {}", r.identifier);
        println!("name        : {}", p.name.as_normalized());
        println!("version     : {}", p.version);
        println!("build       : {}", p.build);
        println!("build number: {}", p.build_number);
        println!("size        : {} bytes", p.size.unwrap_or(0));
        println!("license     : {}", p.license.clone().unwrap_or_default());
        println!("subdir      : {}", p.subdir);
        println!("url         : {}", r.url);
        println!("dependencies:");
        for d in &p.depends {
            println!("  - {d}");
        }
        println!();
    }
}

fn print_json(records: &[RepoDataRecord]) {
    let mut by_name: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for r in records {
        // conda dumps each PackageRecord, as in a plan's FETCH list.
        let v = crate::output::plan::record_dump(r);
        by_name
            .entry(r.package_record.name.as_normalized().to_string())
            .or_default()
            .push(v);
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&by_name).unwrap_or_default()
    );
}
