//! `conda list`.

use rattler_conda_types::PrefixRecord;
use taipan_env::dist::channel_name;
use taipan_env::error::ErrorKind;
use taipan_env::export;
use taipan_env::{CondaError, Result};

use super::helpers::Load;
use crate::cli::ListArgs;

/// Runs `conda list`.
pub fn run(a: ListArgs) -> Result<u8> {
    let argv = super::helpers::argv();
    let ctx = Load {
        target: Some(&a.target),
        ..Load::new(&argv, &a.output)
    }
    .context()?;
    let prefix = ctx.target_prefix(a.target.name.as_deref(), a.target.prefix.as_deref())?;
    ctx.require_env(&prefix, a.target.name.as_deref())?;
    super::helpers::refuse_if_interrupted(&prefix)?;
    if a.revisions {
        return revisions(&prefix, a.output.json);
    }
    let mut records = taipan_env::prefix::records(&prefix)?;
    records.sort_by_key(|r| {
        r.repodata_record
            .package_record
            .name
            .as_normalized()
            .to_ascii_lowercase()
    });
    if let Some(re) = &a.regex {
        let pattern = if a.full_name {
            format!("^{re}$")
        } else {
            re.clone()
        };
        let re = regex::RegexBuilder::new(&pattern)
            .case_insensitive(true)
            .build()
            .map_err(|e| {
                CondaError::new(
                    ErrorKind::CondaValueError,
                    format!("invalid regex '{pattern}': {e}"),
                )
            })?;
        records.retain(|r| re.is_match(r.repodata_record.package_record.name.as_normalized()));
        if records.is_empty() && !a.output.json {
            return Err(CondaError::new(
                ErrorKind::PackagesNotFoundError,
                format!("No packages in {} match '{pattern}'.", prefix.display()),
            ));
        }
    }
    if a.output.json {
        let items: Vec<_> = records
            .iter()
            .map(|r| crate::output::plan::action_item(&r.repodata_record))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&items).unwrap_or_default()
        );
    } else if a.explicit {
        let checksum = if a.md5 {
            export::Checksum::Md5
        } else if a.sha256 {
            export::Checksum::Sha256
        } else {
            export::Checksum::None
        };
        print!(
            "{}",
            export::list_explicit(records, ctx.subdir.as_str(), checksum)
        );
    } else if a.export {
        print!("{}", export::list_export(&records, ctx.subdir.as_str()));
    } else {
        print!("{}", table(&prefix, &records));
    }
    Ok(0)
}

fn shown_channel(r: &PrefixRecord) -> String {
    let name = channel_name(&r.repodata_record);
    if name.starts_with("pkgs/") {
        String::new()
    } else {
        name
    }
}

fn table(prefix: &std::path::Path, records: &[PrefixRecord]) -> String {
    let rows: Vec<[String; 4]> = records
        .iter()
        .map(|r| {
            let p = &r.repodata_record.package_record;
            [
                p.name.as_normalized().to_string(),
                p.version.to_string(),
                p.build.to_string(),
                shown_channel(r),
            ]
        })
        .collect();
    let head = [
        "# Name".to_string(),
        "Version".into(),
        "Build".into(),
        "Channel".into(),
    ];
    let w: Vec<usize> = (0..3)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].len())
                .chain([head[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |r: &[String; 4]| {
        format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {}",
            r[0],
            r[1],
            r[2],
            r[3],
            w0 = w[0],
            w1 = w[1],
            w2 = w[2]
        )
        .trim_end()
        .to_string()
    };
    let mut out = format!("# packages in environment at {}:\n#\n", prefix.display());
    out.push_str(&line(&head));
    out.push('\n');
    for r in &rows {
        out.push_str(&line(r));
        out.push('\n');
    }
    out
}

fn revisions(prefix: &std::path::Path, json: bool) -> Result<u8> {
    let (revs, warnings) = taipan_env::history::read(prefix)?;
    for w in &warnings {
        eprintln!("WARNING: {w}");
    }
    if json {
        let items: Vec<_> = revs
            .iter()
            .enumerate()
            .map(|(i, r)| taipan_env::history::object_log_item(r, i))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&items).unwrap_or_default()
        );
        return Ok(0);
    }
    for (i, r) in revs.iter().enumerate() {
        println!("{}  (rev {i})", r.date);
        for line in taipan_env::history::pretty_lines(r) {
            println!("    {line}");
        }
        println!();
    }
    Ok(0)
}
