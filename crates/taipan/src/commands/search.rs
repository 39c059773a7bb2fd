//! `conda search`.

use std::collections::BTreeMap;

use rattler_conda_types::{PackageRecord, RepoDataRecord};
use taipan_env::ops::search;
use taipan_env::Result;

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
    let text = a.spec.clone().unwrap_or_else(|| "*".into());
    let show = !a.output.is_json() && !a.output.is_quiet();
    if a.envs {
        return in_environments(&ctx, &a, &text, show);
    }
    let channels = taipan_env::channels::resolve(&ctx)?;
    let step = crate::output::prompt::Step::start("Loading channels", show);
    let found = search::channels(&ctx, &channels, &text, !a.skip_flexible_search).await;
    step.finish(found.is_ok());
    let found = found?;
    if let (Some(flex), false) = (&found.flexible, a.output.is_json()) {
        println!("No match found for: {text}. Search: {flex}");
    }
    if found.records.is_empty() {
        let urls = taipan_env::channels::subdir_urls(&channels, ctx.subdir.as_str());
        return Err(taipan_env::error::not_in_channels(
            std::slice::from_ref(&text),
            &urls,
        ));
    }
    let records = found.records;
    if a.output.is_json() {
        print_json(&records);
    } else if a.info {
        for r in &records {
            print!("{}", pretty_record(&r.package_record, r.url.as_ref()));
        }
    } else {
        println!(
            "# {:<18} {:>15} {:>15}  {:<20}",
            "Name", "Version", "Build", "Channel"
        );
        for r in &records {
            let p = &r.package_record;
            // conda's `"%-20s %15s %15s  %-20s"` with the channel's `Channel.name`.
            println!(
                "{:<20} {:>15} {:>15}  {:<20}",
                p.name.as_normalized(),
                p.version.to_string(),
                p.build.to_string(),
                taipan_env::naming::name(r)
            );
        }
    }
    Ok(0)
}

/// `--envs`: the installed packages `text` selects in every known environment.
fn in_environments(
    ctx: &taipan_env::context::Context,
    a: &SearchArgs,
    text: &str,
    show: bool,
) -> Result<u8> {
    let step =
        crate::output::prompt::Step::start(&format!("Searching environments for {text}"), show);
    let found = search::environments(ctx, text);
    step.finish(found.as_ref().is_ok_and(|f| !f.is_empty()));
    let found = found?;
    if found.is_empty() {
        return Err(search::not_in_environments(text));
    }
    if a.output.is_json() {
        let groups: Vec<serde_json::Value> = found
            .iter()
            .map(|(prefix, records)| {
                serde_json::json!({
                    "location": prefix,
                    "package_records": records
                        .iter()
                        .map(|r| crate::output::plan::record_dump(&r.repodata_record))
                        .collect::<Vec<_>>(),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&groups).unwrap_or_default()
        );
    } else if a.info {
        for r in found.iter().flat_map(|(_, records)| records) {
            let rr = &r.repodata_record;
            print!("{}", pretty_record(&rr.package_record, rr.url.as_ref()));
        }
    } else {
        println!(
            "# {:<13} {:>15} {:>15}  {:<20} {:<20}",
            "Name", "Version", "Build", "Channel", "Location"
        );
        for (prefix, records) in &found {
            for r in records {
                let p = &r.repodata_record.package_record;
                println!(
                    "{:<15} {:>15} {:>15}  {:<20} {:<20}",
                    p.name.as_normalized(),
                    p.version.to_string(),
                    p.build.to_string(),
                    taipan_env::naming::name(&r.repodata_record),
                    prefix.display().to_string()
                );
            }
        }
    }
    Ok(0)
}

/// conda's `--info` block of one record (`_pretty_record_format`).
fn pretty_record(p: &PackageRecord, url: &str) -> String {
    let title = format!("{} {} {}", p.name.as_normalized(), p.version, p.build);
    let mut out = vec![title.clone(), "-".repeat(title.len())];
    let mut line = |k: &str, v: String| out.push(format!("{k:<12}: {v}"));
    let file_name = url.rsplit('/').next().unwrap_or_default().to_string();
    line("file name", file_name);
    line("name", p.name.as_normalized().to_string());
    line("version", p.version.to_string());
    line("build", p.build.to_string());
    line("build number", p.build_number.to_string());
    if let Some(size) = p.size {
        line("size", taipan_env::listing::human_bytes(size));
    }
    if let Some(license) = &p.license {
        line("license", license.clone());
    }
    line("subdir", p.subdir.clone());
    line("url", url.to_string());
    if let Some(md5) = p.md5 {
        line("md5", md5.iter().map(|b| format!("{b:02x}")).collect());
    }
    if let Some(ts) = p.timestamp {
        line("timestamp", taipan_env::listing::utc_time(ts.timestamp()));
    }
    if !p.track_features.is_empty() {
        line(
            "track_features",
            taipan_env::error::dashlist(&p.track_features),
        );
    }
    if !p.constrains.is_empty() {
        line("constraints", taipan_env::error::dashlist(&p.constrains));
    }
    let deps = if p.depends.is_empty() {
        "[]".to_string()
    } else {
        taipan_env::error::dashlist(&p.depends)
    };
    line("dependencies", deps);
    out.push("\n".into());
    format!("{}\n", out.join("\n"))
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
