//! The package plan in conda's layouts: `## Package Plan ##` and the JSON `actions`.

use rattler_conda_types::{PrefixRecord, RepoDataRecord};
use serde_json::{json, Value};
use taipan_env::dist::channel_name;
use taipan_env::transaction::Plan;

/// One LINK/UNLINK item in conda's JSON shape (`PackageRecord.dist_fields_dump()`).
pub fn action_item(r: &RepoDataRecord) -> Value {
    let p = &r.package_record;
    let base_url = base_url(r);
    json!({
        "base_url": base_url,
        "build_number": p.build_number,
        "build_string": p.build,
        "channel": dist_channel_name(&base_url),
        "dist_name": format!("{}-{}-{}", p.name.as_normalized(), p.version, p.build),
        "name": p.name.as_normalized(),
        "platform": p.subdir,
        "version": p.version.to_string(),
    })
}

/// The channel's URL without the subdir (conda's `channel.base_url`).
fn base_url(r: &RepoDataRecord) -> String {
    taipan_env::naming::record_channel_url(r)
}

/// conda's `Channel.name` of a record's channel (`conda-forge`, `pkgs/main`, the last path
/// component of a `file://` channel).
pub fn record_channel_name(r: &RepoDataRecord) -> String {
    taipan_env::naming::name(r)
}

fn dist_channel_name(base_url: &str) -> String {
    taipan_env::naming::naming().name(base_url)
}

/// A FETCH item: the whole package record as conda dumps a `PackageRecord` (its fields in
/// conda's order, unset optional ones left out, `arch`/`platform` always present).
pub fn record_dump(r: &RepoDataRecord) -> Value {
    let p = &r.package_record;
    let mut m = serde_json::Map::new();
    m.insert("name".into(), json!(p.name.as_normalized()));
    m.insert("version".into(), json!(p.version.to_string()));
    m.insert("build".into(), json!(p.build));
    m.insert("build_number".into(), json!(p.build_number));
    let dir = r
        .url
        .as_str()
        .rsplit_once('/')
        .map(|(d, _)| d)
        .unwrap_or("");
    m.insert("channel".into(), json!(dir));
    m.insert("subdir".into(), json!(p.subdir));
    m.insert("fn".into(), json!(r.identifier.to_string()));
    // Field by field rather than through the whole record as a `Value`: a `--json` plan of a
    // few hundred packages spent a tenth of the command's instructions on the fields not shown.
    if let Some(md5) = &p.md5 {
        m.insert("md5".into(), json!(taipan_env::hex(md5)));
    }
    m.insert("url".into(), json!(r.url.as_str()));
    if let Some(sha256) = &p.sha256 {
        m.insert("sha256".into(), json!(taipan_env::hex(sha256)));
    }
    m.insert("arch".into(), json!(p.arch));
    m.insert("platform".into(), json!(p.platform));
    m.insert("depends".into(), json!(p.depends));
    m.insert("constrains".into(), json!(p.constrains));
    if !p.track_features.is_empty() {
        m.insert("track_features".into(), json!(p.track_features.join(" ")));
    }
    if let Some(f) = p.features.as_deref().filter(|f| !f.is_empty()) {
        m.insert("features".into(), json!(f));
    }
    let package_type = if p.noarch.is_python() {
        m.insert("noarch".into(), json!("python"));
        Some("noarch_python")
    } else if p.noarch.is_generic() {
        m.insert("noarch".into(), json!("generic"));
        Some("noarch_generic")
    } else {
        None
    };
    let optional = [
        ("python_site_packages_path", &p.python_site_packages_path),
        ("license", &p.license),
        ("license_family", &p.license_family),
    ];
    for (k, v) in optional {
        if let Some(v) = v {
            m.insert(k.into(), json!(v));
        }
    }
    if let Some(t) = package_type {
        m.insert("package_type".into(), json!(t));
    }
    for (k, t) in [
        ("timestamp", &p.timestamp),
        ("indexed_timestamp", &p.indexed_timestamp),
    ] {
        if let Some(t) = t {
            m.insert(k.into(), serde_json::to_value(t).unwrap_or(Value::Null));
        }
    }
    if let Some(size) = p.size {
        m.insert("size".into(), json!(size));
    }
    Value::Object(m)
}

/// The `actions` object for a plan.
pub fn actions_json(plan: &Plan, fetch: &[&RepoDataRecord]) -> Value {
    // conda 26's order: FETCH, PREFIX, UNLINK, LINK.
    let mut actions = serde_json::Map::new();
    actions.insert(
        "FETCH".into(),
        Value::Array(fetch.iter().map(|r| record_dump(r)).collect()),
    );
    actions.insert("PREFIX".into(), json!(plan.prefix.display().to_string()));
    if !plan.unlink.is_empty() {
        actions.insert(
            "UNLINK".into(),
            Value::Array(
                plan.unlink
                    .iter()
                    .map(|r| action_item(&r.repodata_record))
                    .collect(),
            ),
        );
    }
    if !plan.link.is_empty() {
        actions.insert(
            "LINK".into(),
            Value::Array(plan.link.iter().map(action_item).collect()),
        );
    }
    Value::Object(actions)
}

/// conda's `record_id()`: the channel's name (not its canonical name), subdir and package.
fn dist_value(r: &RepoDataRecord) -> String {
    let p = &r.package_record;
    format!(
        "{}/{}::{}-{}-{} ",
        record_channel_name(r),
        p.subdir,
        p.name.as_normalized(),
        p.version,
        p.build
    )
}

/// What changes between two records, as conda's plan shows it: the channel (and subdir) only
/// when they differ, then `version-build` when either differs.
fn diff_strs(old: &RepoDataRecord, new: &RepoDataRecord) -> (String, String) {
    let (op, np) = (&old.package_record, &new.package_record);
    let channel_change = record_channel_name(old) != record_channel_name(new);
    let subdir_change = op.subdir != np.subdir;
    let version_change = op.version.to_string() != np.version.to_string();
    let build_change = op.build != np.build;
    let (mut left, mut right) = (String::new(), String::new());
    if channel_change || subdir_change {
        left.push_str(&record_channel_name(old));
        right.push_str(&record_channel_name(new));
    }
    if subdir_change {
        left.push_str(&format!("/{}", op.subdir));
        right.push_str(&format!("/{}", np.subdir));
    }
    if (channel_change || subdir_change) && (version_change || build_change) {
        left.push_str(&format!("::{}-", op.name.as_normalized()));
        right.push_str(&format!("::{}-", np.name.as_normalized()));
    }
    if version_change || build_change {
        left.push_str(&format!("{}-{}", op.version, op.build));
        right.push_str(&format!("{}-{}", np.version, np.build));
    }
    (left, right)
}

fn truncate(name: &str, width: usize) -> String {
    if name.len() > width {
        format!("{}~", &name[..width])
    } else {
        name.to_string()
    }
}

/// Prints `## Package Plan ##` with downloads and change sections.
pub fn print_plan(
    plan: &Plan,
    removed_specs: &[String],
    updated_specs: &[String],
    fetch: &[&RepoDataRecord],
    channel_urls: Option<bool>,
) {
    let mut out = String::new();
    out.push_str("\n## Package Plan ##\n\n");
    out.push_str(&format!(
        "  environment location: {}\n\n",
        plan.prefix.display()
    ));
    if !removed_specs.is_empty() {
        out.push_str("  removed specs:\n");
        for s in removed_specs {
            out.push_str(&format!("    - {s}\n"));
        }
        out.push('\n');
    }
    if !updated_specs.is_empty() {
        out.push_str("  added / updated specs:\n");
        for s in updated_specs {
            out.push_str(&format!("    - {s}\n"));
        }
        out.push('\n');
    }
    if !fetch.is_empty() {
        out.push_str(&download_table(fetch, channel_urls));
    }
    out.push_str(&change_sections(plan));
    print!("{out}");
}

fn download_table(fetch: &[&RepoDataRecord], channel_urls: Option<bool>) -> String {
    let mut out = String::from("\nThe following packages will be downloaded:\n\n");
    out.push_str("    package                    |            build\n");
    out.push_str("    ---------------------------|-----------------\n");
    let mut total = 0;
    for r in fetch {
        let p = &r.package_record;
        let size = p.size.unwrap_or(0);
        total += size;
        let mut line = format!(
            "    {:<27}|{:>17}{:>15}",
            format!("{}-{}", p.name.as_normalized(), p.version),
            p.build.to_string(),
            taipan_env::listing::human_bytes(size),
        );
        let channel = shown_channel(&channel_name(r), channel_urls);
        if !channel.is_empty() {
            line.push_str(&format!("  {channel}"));
        }
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str("    ------------------------------------------------------------\n");
    out.push_str(&format!(
        "{}Total: {:>14}\n\n",
        " ".repeat(43),
        taipan_env::listing::human_bytes(total)
    ));
    out
}

/// A canonical channel name as `show_channel_urls` lets it be shown: never when false,
/// except `defaults` when unset, always when true.
pub fn shown_channel(canonical: &str, show: Option<bool>) -> String {
    match show {
        Some(false) => String::new(),
        None if canonical == "defaults" => String::new(),
        _ => canonical.to_string(),
    }
}

#[derive(Default)]
struct Sections {
    new: Vec<String>,
    removed: Vec<String>,
    updated: Vec<String>,
    superseded: Vec<String>,
    downgraded: Vec<String>,
    revised: Vec<String>,
}

fn change_sections(plan: &Plan) -> String {
    let mut s = Sections::default();
    let mut changes = plan.changes();
    changes.sort_by_key(|(o, n)| {
        n.map(|r| r.package_record.name.as_normalized().to_string())
            .or_else(|| {
                o.map(|r| {
                    r.repodata_record
                        .package_record
                        .name
                        .as_normalized()
                        .to_string()
                })
            })
    });
    for (old, new) in changes {
        classify(&mut s, old, new);
    }
    let mut out = String::new();
    for (title, items) in [
        ("The following NEW packages will be INSTALLED:", &s.new),
        ("The following packages will be REMOVED:", &s.removed),
        ("The following packages will be UPDATED:", &s.updated),
        (
            "The following packages will be SUPERSEDED by a higher-priority channel:",
            &s.superseded,
        ),
        ("The following packages will be DOWNGRADED:", &s.downgraded),
        ("The following packages will be REVISED:", &s.revised),
    ] {
        if !items.is_empty() {
            out.push_str(&format!("\n{title}\n\n"));
            for i in items {
                out.push_str(&format!("  {i}\n"));
            }
        }
    }
    out.push('\n');
    out
}

fn classify(s: &mut Sections, old: Option<&PrefixRecord>, new: Option<&RepoDataRecord>) {
    match (old, new) {
        (None, Some(n)) => s.new.push(format!(
            "{:<18} {}",
            truncate(n.package_record.name.as_normalized(), 17),
            dist_value(n)
        )),
        (Some(o), None) => {
            let p = &o.repodata_record.package_record;
            s.removed.push(format!(
                "{}-{}-{}",
                p.name.as_normalized(),
                p.version,
                p.build
            ));
        }
        (Some(o), Some(n)) => {
            let op = &o.repodata_record.package_record;
            let np = &n.package_record;
            let (left, right) = diff_strs(&o.repodata_record, n);
            let line = format!(
                "{:<18} {:>38} --> {right} ",
                truncate(np.name.as_normalized(), 17),
                truncate(&left, 37),
            );
            let same_channel = record_channel_name(&o.repodata_record) == record_channel_name(n)
                && op.subdir == np.subdir;
            let newer = np.version > op.version
                || (np.version == op.version && np.build_number > op.build_number);
            if newer {
                s.updated.push(line);
            } else if !same_channel {
                s.superseded.push(line);
            } else if np.version == op.version && np.build != op.build {
                s.revised.push(line);
            } else if np.version != op.version || np.build != op.build {
                s.downgraded.push(line);
            }
            // The same record (a noarch: python package relinked for a new python): conda
            // leaves it out of the report.
        }
        (None, None) => {}
    }
}
