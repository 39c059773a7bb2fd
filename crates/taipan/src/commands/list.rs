//! `conda list`.

use std::path::Path;

use taipan_env::error::ErrorKind;
use taipan_env::export;
use taipan_env::listing::{self, Entry};
use taipan_env::{CondaError, Result};

use super::helpers::Load;
use crate::cli::ListArgs;

/// Runs `conda list`.
pub fn run(a: ListArgs) -> Result<u8> {
    let argv = super::helpers::argv();
    let ctx = Load {
        target: Some(&a.target),
        channel_urls: a.channel_urls.value(),
        ..Load::new(&argv, &a.output)
    }
    .context()?;
    let prefix = ctx.target_prefix(a.target.name.as_deref(), a.target.prefix.as_deref())?;
    ctx.require_env(&prefix, a.target.name.as_deref())?;
    super::helpers::refuse_if_interrupted(&prefix)?;
    if a.md5 && a.sha256 {
        return Err(CondaError::argument(
            "Only one of --md5 and --sha256 can be specified at the same time",
        ));
    }
    if a.revisions {
        return revisions(&prefix, a.output.is_json());
    }
    let records = taipan_env::prefix::records(&prefix)?;
    if a.explicit {
        let checksum = if a.md5 {
            export::Checksum::Md5
        } else if a.sha256 {
            export::Checksum::Sha256
        } else {
            export::Checksum::None
        };
        let text = export::list_explicit(records, ctx.subdir.as_str(), checksum, a.auth);
        print!("{text}");
        return Ok(0);
    }
    // Checked before anything is printed, as conda does.
    let source = if a.fields.is_empty() {
        "the configuration (list_fields)"
    } else {
        "--fields"
    };
    let fields = listing::fields(&configured_fields(&a, &ctx), a.size, source)?;
    let mut entries = select(listing::entries(&prefix, records, !a.no_pip), &a, &prefix)?;
    if a.reverse {
        entries.reverse();
    }
    let show_urls = ctx.config.show_channel_urls;
    if a.output.is_json() {
        let items: Vec<_> = entries.iter().map(|e| e.dump(&prefix, a.size)).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&items).unwrap_or_default()
        );
    } else if a.canonical {
        for e in &entries {
            println!("{}", e.dist_str());
        }
    } else if a.export {
        let specs: Vec<String> = entries.iter().map(Entry::spec).collect();
        print!("{}", export::list_export(&specs, ctx.subdir.as_str()));
    } else {
        let env_size = a.size.then(|| listing::environment_size(&prefix, &entries));
        print!("{}", table(&prefix, &entries, &fields, show_urls, env_size));
    }
    Ok(0)
}

/// `--fields`, else the `list_fields` setting (a list, or one comma-separated string).
fn configured_fields(a: &ListArgs, ctx: &taipan_env::context::Context) -> Vec<String> {
    if !a.fields.is_empty() {
        return a.fields.iter().map(|f| f.trim().to_string()).collect();
    }
    ctx.config.other_strings("list_fields")
}

/// The packages the regex (or `-f NAME`) selects; conda's errors when none match.
fn select(entries: Vec<Entry>, a: &ListArgs, prefix: &Path) -> Result<Vec<Entry>> {
    let Some(re) = &a.regex else {
        return Ok(entries);
    };
    if a.full_name {
        let found: Vec<Entry> = entries.into_iter().filter(|e| e.name() == re).collect();
        if found.is_empty() {
            return Err(CondaError::new(
                ErrorKind::PackageNotInstalledError,
                format!(
                    "Package is not installed in prefix.\n  prefix: {}\n  package name: {re}\n",
                    prefix.display()
                ),
            ));
        }
        return Ok(found);
    }
    let pattern = regex::RegexBuilder::new(re)
        .case_insensitive(true)
        .build()
        .map_err(|e| {
            CondaError::new(
                ErrorKind::CondaValueError,
                format!("invalid regex '{re}': {e}"),
            )
        })?;
    let found: Vec<Entry> = entries
        .into_iter()
        .filter(|e| pattern.is_match(e.name()))
        .collect();
    if found.is_empty() {
        return Err(CondaError::new(
            ErrorKind::CondaValueError,
            format!("No packages match '{re}'."),
        ));
    }
    Ok(found)
}

/// conda's human list: the first columns at least 23/15/15 wide when they are the default
/// ones, every column as wide as its widest value, lines right-trimmed.
fn table(
    prefix: &Path,
    entries: &[Entry],
    fields: &[String],
    show_urls: Option<bool>,
    env_size: Option<u64>,
) -> String {
    let titles: Vec<&str> = fields.iter().map(|f| listing::title(f)).collect();
    let default_first = fields.len() >= 4
        && fields[..4]
            .iter()
            .zip(listing::DEFAULT_FIELDS)
            .all(|(a, b)| a == b);
    let mut widths: Vec<usize> = titles.iter().map(|t| t.len()).collect();
    if default_first {
        widths[..4].copy_from_slice(&[23, 15, 15, 1]);
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            fields
                .iter()
                .map(|f| e.field(f, prefix, show_urls))
                .collect()
        })
        .collect();
    for row in &rows {
        for (w, v) in widths.iter_mut().zip(row) {
            *w = (*w).max(v.chars().count());
        }
    }
    let mut out = format!("# packages in environment at {}:\n", prefix.display());
    if let Some(size) = env_size {
        out.push_str(&format!(
            "# environment size: {}\n",
            listing::human_bytes(size)
        ));
    }
    out.push_str("#\n");
    let titles: Vec<String> = titles.iter().map(|t| t.to_string()).collect();
    out.push_str(&format!("# {}\n", line(&titles, &widths)));
    widths[0] += 2; // the header's '# '
    for row in &rows {
        out.push_str(&line(row, &widths));
        out.push('\n');
    }
    out
}

fn line(values: &[String], widths: &[usize]) -> String {
    values
        .iter()
        .zip(widths)
        .map(|(v, w)| format!("{v:<w$}"))
        .collect::<Vec<_>>()
        .join("  ")
        .trim_end()
        .to_string()
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
