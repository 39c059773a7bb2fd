//! The package plan in conda's layouts: `## Package Plan ##` and the JSON `actions`.

use rattler_conda_types::{PrefixRecord, RepoDataRecord};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;
use taipan_env::dist::channel_name;
use taipan_env::transaction::Plan;

/// One LINK/UNLINK item in conda's JSON shape (`PackageRecord.dist_fields_dump()`),
/// serialized straight from the record.
pub struct Item<'a>(pub &'a RepoDataRecord);

impl Serialize for Item<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = &self.0.package_record;
        let base_url = base_url(self.0);
        let version = p.version.to_string();
        let mut m = s.serialize_map(Some(8))?;
        m.serialize_entry("base_url", &base_url)?;
        m.serialize_entry("build_number", &p.build_number)?;
        m.serialize_entry("build_string", &p.build)?;
        m.serialize_entry("channel", &dist_channel_name(&base_url))?;
        m.serialize_entry(
            "dist_name",
            &format!("{}-{}-{}", p.name.as_normalized(), version, p.build),
        )?;
        m.serialize_entry("name", p.name.as_normalized())?;
        m.serialize_entry("platform", &p.subdir)?;
        m.serialize_entry("version", &version)?;
        m.end()
    }
}

/// [`Item`] as a JSON value.
pub fn action_item(r: &RepoDataRecord) -> Value {
    serde_json::to_value(Item(r)).unwrap_or(Value::Null)
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
/// conda's order, unset optional ones left out, `arch`/`platform` always present). Written
/// field by field straight to the output: building it as a `Value` first (and, before that,
/// the whole record) was a tenth of a `--json` plan's instructions.
pub struct Dump<'a>(pub &'a RepoDataRecord);

impl Serialize for Dump<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let p = &r.package_record;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("name", p.name.as_normalized())?;
        m.serialize_entry("version", &p.version.to_string())?;
        m.serialize_entry("build", &p.build)?;
        m.serialize_entry("build_number", &p.build_number)?;
        let dir = r
            .url
            .as_str()
            .rsplit_once('/')
            .map(|(d, _)| d)
            .unwrap_or("");
        m.serialize_entry("channel", dir)?;
        m.serialize_entry("subdir", &p.subdir)?;
        m.serialize_entry("fn", &r.identifier.to_string())?;
        if let Some(md5) = &p.md5 {
            m.serialize_entry("md5", &taipan_env::hex(md5))?;
        }
        m.serialize_entry("url", r.url.as_str())?;
        if let Some(sha256) = &p.sha256 {
            m.serialize_entry("sha256", &taipan_env::hex(sha256))?;
        }
        m.serialize_entry("arch", &p.arch)?;
        m.serialize_entry("platform", &p.platform)?;
        m.serialize_entry("depends", &p.depends)?;
        m.serialize_entry("constrains", &p.constrains)?;
        if !p.track_features.is_empty() {
            m.serialize_entry("track_features", &p.track_features.join(" "))?;
        }
        if let Some(f) = p.features.as_deref().filter(|f| !f.is_empty()) {
            m.serialize_entry("features", f)?;
        }
        let package_type = if p.noarch.is_python() {
            m.serialize_entry("noarch", "python")?;
            Some("noarch_python")
        } else if p.noarch.is_generic() {
            m.serialize_entry("noarch", "generic")?;
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
                m.serialize_entry(k, v)?;
            }
        }
        if let Some(t) = package_type {
            m.serialize_entry("package_type", t)?;
        }
        for (k, t) in [
            ("timestamp", &p.timestamp),
            ("indexed_timestamp", &p.indexed_timestamp),
        ] {
            if let Some(t) = t {
                m.serialize_entry(k, t)?;
            }
        }
        if let Some(size) = p.size {
            m.serialize_entry("size", &size)?;
        }
        m.end()
    }
}

/// [`Dump`] as a JSON value.
pub fn record_dump(r: &RepoDataRecord) -> Value {
    serde_json::to_value(Dump(r)).unwrap_or(Value::Null)
}

/// The `actions` object of a plan, in conda 26's order: FETCH, PREFIX, UNLINK, LINK, then
/// pip's part (`PIP`) when there is one.
pub struct Actions<'a> {
    pub plan: &'a Plan,
    pub fetch: &'a [&'a RepoDataRecord],
    pub pip: Option<&'a [String]>,
}

impl Serialize for Actions<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let plan = self.plan;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("FETCH", &Seq(self.fetch.iter().map(|r| Dump(r))))?;
        m.serialize_entry("PREFIX", &plan.prefix.display().to_string())?;
        if !plan.unlink.is_empty() {
            m.serialize_entry(
                "UNLINK",
                &Seq(plan.unlink.iter().map(|r| Item(&r.repodata_record))),
            )?;
        }
        if !plan.link.is_empty() {
            m.serialize_entry("LINK", &Seq(plan.link.iter().map(Item)))?;
        }
        if let Some(pip) = self.pip {
            m.serialize_entry("PIP", pip)?;
        }
        m.end()
    }
}

/// A sequence serialized from an iterator (cloned, since `serialize` takes `&self`).
struct Seq<I>(I);

impl<I: Iterator<Item = T> + Clone, T: Serialize> Serialize for Seq<I> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.clone())
    }
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
