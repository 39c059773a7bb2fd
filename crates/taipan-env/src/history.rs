//! `conda-meta/history`: conda's append-only transaction log, read and written in conda's format.
//!
//! Each transaction appends a block:
//! ```text
//! ==> 2024-05-01 10:00:00 <==
//! # cmd: conda install numpy
//! # conda version: 25.11.0
//! -conda-forge/linux-64::numpy-1.26.0-py312h0
//! +conda-forge/linux-64::numpy-1.26.4-py312h1
//! # update specs: ['numpy']
//! ```
//! The requested specs of an environment are the replay of every block's
//! `update`/`remove`/`neutered` specs; conda's solver rules depend on them.

use crate::error::ErrorKind;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use crate::error::{CondaError, Result};

pub use crate::CONDA_COMPAT_VERSION;

/// One transaction block of the history file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Revision {
    /// The date as written (`%Y-%m-%d %H:%M:%S`, local time).
    pub date: String,
    /// The command line, if recorded.
    pub cmd: Option<String>,
    /// The conda version that wrote the block.
    pub conda_version: Option<String>,
    /// Dist strings removed (`-` lines).
    pub removed: Vec<String>,
    /// Dist strings added (`+` lines), or the full state for old-format blocks.
    pub added: Vec<String>,
    /// `# update specs:`.
    pub update_specs: Vec<String>,
    /// `# remove specs:`.
    pub remove_specs: Vec<String>,
    /// `# neutered specs:`.
    pub neutered_specs: Vec<String>,
    /// The block has `+`/`-` lines (a diff); otherwise its lines are a full state (conda's
    /// oldest format).
    pub diff: bool,
}

/// Parses a history file's text into revisions; unknown lines are ignored as conda does.
pub fn parse(text: &str) -> Vec<Revision> {
    let mut revisions: Vec<Revision> = Vec::new();
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(date) = parse_header(line) {
            revisions.push(Revision {
                date,
                ..Revision::default()
            });
            continue;
        }
        let Some(rev) = revisions.last_mut() else {
            continue;
        };
        if let Some(comment) = line.strip_prefix('#') {
            parse_comment(rev, comment.trim());
        } else if let Some(dist) = line.strip_prefix('-') {
            rev.diff = true;
            rev.removed.push(dist.to_string());
        } else if let Some(dist) = line.strip_prefix('+') {
            rev.diff = true;
            rev.added.push(dist.to_string());
        } else {
            rev.added.push(line.to_string());
        }
    }
    revisions
}

fn parse_header(line: &str) -> Option<String> {
    let inner = line.strip_prefix("==>")?.strip_suffix("<==")?;
    Some(inner.trim().to_string())
}

fn parse_comment(rev: &mut Revision, comment: &str) {
    if let Some(cmd) = comment.strip_prefix("cmd:") {
        rev.cmd = Some(cmd.trim().to_string());
    } else if let Some(v) = comment.strip_prefix("conda version:") {
        rev.conda_version = Some(v.trim().to_string());
    } else if let Some((kind, value)) = comment.split_once("specs:") {
        let specs = parse_spec_list(value.trim());
        match kind.trim() {
            "update" => rev.update_specs = specs,
            "remove" => rev.remove_specs = specs,
            "neutered" => rev.neutered_specs = specs,
            _ => {}
        }
    }
}

/// Parses a Python list literal of strings (`['a', "b"]`) or a legacy comma list.
pub fn parse_spec_list(value: &str) -> Vec<String> {
    let Some(inner) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) else {
        return value
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
    };
    let mut out = Vec::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' || c == '"' {
            let mut item = String::new();
            for d in chars.by_ref() {
                if d == c {
                    break;
                }
                item.push(d);
            }
            out.push(item);
        }
    }
    out
}

/// Formats specs as Python's `repr()` of a list of strings.
pub fn format_spec_list(specs: &[String]) -> String {
    let items: Vec<String> = specs
        .iter()
        .map(|s| {
            if s.contains('\'') && !s.contains('"') {
                format!("\"{s}\"")
            } else {
                format!("'{}'", s.replace('\'', "\\'"))
            }
        })
        .collect();
    format!("[{}]", items.join(", "))
}

/// Name of the package a spec string refers to (`numpy>=1` → `numpy`, `conda-forge::numpy` → `numpy`).
pub fn spec_name(spec: &str) -> String {
    let spec = spec.rsplit("::").next().unwrap_or(spec).trim();
    let end = spec
        .find(|c: char| " =<>!~[;".contains(c))
        .unwrap_or(spec.len());
    spec[..end].trim().to_ascii_lowercase()
}

/// The specs the user asked for, by package name, replayed over all revisions.
pub fn requested_specs(revisions: &[Revision]) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for rev in revisions {
        for spec in rev.update_specs.iter().chain(&rev.neutered_specs) {
            map.insert(spec_name(spec), spec.clone());
        }
        for spec in &rev.remove_specs {
            map.remove(&spec_name(spec));
        }
    }
    map
}

/// One revision's changes, paired by package name as conda shows them (dist strings as
/// written).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    /// Packages added.
    pub install: Vec<String>,
    /// Packages removed.
    pub remove: Vec<String>,
    /// (old, new) with a newer version.
    pub upgrade: Vec<(String, String)>,
    /// (old, new) with an older version.
    pub downgrade: Vec<(String, String)>,
}

impl Revision {
    /// The revision's changes: a package both removed and added is an upgrade or a
    /// downgrade by version.
    pub fn changes(&self) -> Changes {
        use crate::dist::Dist;
        let by_name = |dists: &[String]| -> BTreeMap<String, String> {
            dists
                .iter()
                .map(|d| (Dist::parse(d).name, d.clone()))
                .collect()
        };
        let removed = by_name(&self.removed);
        let added = by_name(&self.added);
        let mut out = Changes::default();
        for (name, new) in &added {
            let Some(old) = removed.get(name) else {
                out.install.push(new.clone());
                continue;
            };
            let (old_v, new_v) = (Dist::parse(old).version, Dist::parse(new).version);
            let newer = match (
                old_v.parse::<rattler_conda_types::Version>(),
                new_v.parse::<rattler_conda_types::Version>(),
            ) {
                (Ok(o), Ok(n)) => n >= o,
                _ => true,
            };
            let pair = (old.clone(), new.clone());
            if newer {
                out.upgrade.push(pair);
            } else {
                out.downgrade.push(pair);
            }
        }
        for (name, old) in &removed {
            if !added.contains_key(name) {
                out.remove.push(old.clone());
            }
        }
        out
    }
}

/// What one transaction writes into the history.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    /// The command line.
    pub cmd: String,
    /// Dist strings unlinked.
    pub removed: Vec<String>,
    /// Dist strings linked.
    pub added: Vec<String>,
    /// Specs the user requested (`update specs`).
    pub update_specs: Vec<String>,
    /// Specs the user removed.
    pub remove_specs: Vec<String>,
    /// Specs conda relaxed.
    pub neutered_specs: Vec<String>,
}

impl Entry {
    /// Renders the block exactly as conda writes it.
    pub fn render(&self, date: &str) -> String {
        let mut out = format!("==> {date} <==\n# cmd: {}\n", self.cmd);
        out.push_str(&format!("# conda version: {CONDA_COMPAT_VERSION}\n"));
        let mut removed = self.removed.clone();
        removed.sort();
        let mut added = self.added.clone();
        added.sort();
        for d in removed {
            out.push_str(&format!("-{d}\n"));
        }
        for d in added {
            out.push_str(&format!("+{d}\n"));
        }
        for (label, specs) in [
            ("remove", &self.remove_specs),
            ("update", &self.update_specs),
            ("neutered", &self.neutered_specs),
        ] {
            if !specs.is_empty() {
                out.push_str(&format!("# {label} specs: {}\n", format_spec_list(specs)));
            }
        }
        out
    }
}

/// Reads `<prefix>/conda-meta/history` (missing file = no revisions). A line that is not
/// valid UTF-8 is skipped; the second value names each one, for a warning.
pub fn read(prefix: &Path) -> Result<(Vec<Revision>, Vec<String>)> {
    let path = prefix.join("conda-meta").join("history");
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(e) => {
            return Err(CondaError::generic(format!(
                "cannot read {}: {e}",
                path.display()
            )))
        }
    };
    let mut text = String::with_capacity(bytes.len());
    let mut warnings = Vec::new();
    for (n, line) in bytes.split(|b| *b == b'\n').enumerate() {
        match std::str::from_utf8(line) {
            Ok(line) => {
                text.push_str(line);
                text.push('\n');
            }
            Err(_) => warnings.push(format!(
                "{} line {}: not valid UTF-8; the line was skipped ({})",
                path.display(),
                n + 1,
                String::from_utf8_lossy(line).trim()
            )),
        }
    }
    Ok((parse(&text), warnings))
}

/// The local time as history stamps write it (`2024-06-01 12:00:00`).
pub fn now() -> String {
    chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Appends a block to `<prefix>/conda-meta/history`, stamped with the local time.
pub fn append(prefix: &Path, entry: &Entry) -> Result<()> {
    let date = now();
    let path = prefix.join("conda-meta").join("history");
    if !path.exists() {
        crate::layout::set_creation_time(prefix);
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| {
            CondaError::new(
                ErrorKind::EnvironmentNotWritableError,
                format!(
                    "The current user does not have write permissions to the target environment.\n  environment location: {}\n  ({e})",
                    prefix.display()
                ),
            )
        })?;
    file.write_all(entry.render(&date).as_bytes())?;
    Ok(())
}

/// The package set after each revision (conda's `History.construct_states`): a diff block
/// applies its `-`/`+` lines to the state before it, any other block is the whole state.
pub fn states(revisions: &[Revision]) -> Vec<std::collections::BTreeSet<String>> {
    let mut out = Vec::with_capacity(revisions.len());
    let mut current = std::collections::BTreeSet::new();
    for rev in revisions {
        if rev.diff {
            for d in &rev.removed {
                current.remove(d);
            }
            current.extend(rev.added.iter().cloned());
        } else {
            current = rev.added.iter().cloned().collect();
        }
        out.push(current.clone());
    }
    out
}

/// conda's `dist_str_to_quad`: (name, version, build, channel) of a history dist string; the
/// channel is everything before `::` (`conda-forge/linux-64`), `<unknown>` without one.
pub fn quad(dist: &str) -> (String, String, String, String) {
    let dist = dist
        .strip_suffix(".tar.bz2")
        .or_else(|| dist.strip_suffix(".conda"))
        .unwrap_or(dist);
    let (channel, nvb) = match dist.split_once("::") {
        Some((c, rest)) => (c.to_string(), rest),
        None => ("<unknown>".to_string(), dist),
    };
    let mut parts = nvb.rsplitn(3, '-');
    let build = parts.next().unwrap_or_default().to_string();
    let version = parts.next().unwrap_or_default().to_string();
    let name = parts.next().unwrap_or_default().to_string();
    (name, version, build, channel)
}

/// One revision as `conda list --revisions --json` shows it (conda's `History.object_log`):
/// `name-version-build-channel` strings; for an old full-state block, its lines as written.
pub fn object_log_item(rev: &Revision, number: usize) -> serde_json::Value {
    use serde_json::json;
    let mut install = Vec::new();
    let mut remove = Vec::new();
    let mut upgrade = Vec::new();
    let mut downgrade = Vec::new();
    if rev.diff {
        let by_name = |dists: &[String]| -> BTreeMap<String, (String, String, String)> {
            dists
                .iter()
                .map(|d| {
                    let (n, v, b, c) = quad(d);
                    (n.to_lowercase(), (v, b, c))
                })
                .collect()
        };
        let added = by_name(&rev.added);
        let removed = by_name(&rev.removed);
        let join = |n: &str, (v, b, c): &(String, String, String)| format!("{n}-{v}-{b}-{c}");
        for (name, new) in &added {
            match removed.get(name) {
                Some(old) => {
                    let pair = json!({"old": join(name, old), "new": join(name, new)});
                    if newer(new, old) {
                        upgrade.push(pair);
                    } else {
                        downgrade.push(pair);
                    }
                }
                None => install.push(join(name, new)),
            }
        }
        for (name, old) in &removed {
            if !added.contains_key(name) {
                remove.push(join(name, old));
            }
        }
    } else {
        let mut all = rev.added.clone();
        all.sort();
        install = all;
    }
    json!({"date": rev.date, "rev": number, "install": install, "remove": remove,
           "upgrade": upgrade, "downgrade": downgrade})
}

/// Whether `new` (version, build, channel) is an upgrade of `old`: by version order, then
/// build and channel as text (conda compares the three as text).
fn newer(new: &(String, String, String), old: &(String, String, String)) -> bool {
    use std::cmp::Ordering;
    let by_version = match (
        new.0.parse::<rattler_conda_types::Version>(),
        old.0.parse::<rattler_conda_types::Version>(),
    ) {
        (Ok(n), Ok(o)) => n.cmp(&o),
        _ => new.0.cmp(&old.0),
    };
    match by_version {
        Ordering::Equal => (&new.1, &new.2) > (&old.1, &old.2),
        o => o == Ordering::Greater,
    }
}

/// One revision's lines as `conda list --revisions` prints them (conda's `pretty_content`):
/// ` name  {old -> new}`, `-name-version (channel)`, `+name-version (channel)`.
pub fn pretty_lines(rev: &Revision) -> Vec<String> {
    if !rev.diff {
        let mut all = rev.added.clone();
        all.sort();
        return all;
    }
    let by_name = |dists: &[String]| -> BTreeMap<String, String> {
        dists
            .iter()
            .map(|d| {
                let (n, v, _, c) = quad(d);
                let shown = if c == "defaults" {
                    v
                } else {
                    format!("{v} ({c})")
                };
                (n.to_lowercase(), shown)
            })
            .collect()
    };
    let added = by_name(&rev.added);
    let removed = by_name(&rev.removed);
    let mut out = Vec::new();
    for (name, new) in &added {
        if let Some(old) = removed.get(name) {
            out.push(format!(" {name}  {{{old} -> {new}}}"));
        }
    }
    for (name, old) in &removed {
        if !added.contains_key(name) {
            out.push(format!("-{name}-{old}"));
        }
    }
    for (name, new) in &added {
        if !removed.contains_key(name) {
            out.push(format!("+{name}-{new}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_replay() {
        let entry = Entry {
            cmd: "conda create -n x numpy".into(),
            added: vec!["c/linux-64::b-1-0".into(), "c/linux-64::a-1-0".into()],
            update_specs: vec!["numpy".into(), "python=3.12".into()],
            ..Entry::default()
        };
        let text = entry.render("2024-05-01 10:00:00");
        assert!(text.contains("+c/linux-64::a-1-0\n+c/linux-64::b-1-0\n"));
        assert!(text.contains("# update specs: ['numpy', 'python=3.12']\n"));
        let mut all = text.clone();
        all.push_str(
            &Entry {
                cmd: "conda remove numpy".into(),
                remove_specs: vec!["numpy".into()],
                ..Entry::default()
            }
            .render("2024-05-01 10:01:00"),
        );
        let revs = parse(&all);
        assert_eq!(revs.len(), 2);
        assert_eq!(revs[0].date, "2024-05-01 10:00:00");
        let req = requested_specs(&revs);
        assert_eq!(req.keys().collect::<Vec<_>>(), vec!["python"]);
    }

    #[test]
    fn spec_names() {
        assert_eq!(spec_name("conda-forge::NumPy>=1.2"), "numpy");
        assert_eq!(spec_name("python 3.12.*"), "python");
        assert_eq!(spec_name("a[build=0]"), "a");
    }
}
