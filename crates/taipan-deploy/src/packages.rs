//! Step 2, system packages: the libraries Anaconda's GUI-capable packages need, installed
//! non-interactively with the system's package manager. Names a release no longer carries are
//! replaced by their successors, after asking the package manager which names it knows.

use std::collections::{BTreeMap, HashMap};
use std::process::Command;

use serde::Serialize;
use taipan_env::Result;

use crate::exec::{self, Log};
use crate::os::Family;

/// Debian family (the classic Anaconda list).
pub const DEBIAN: &[&str] = &[
    "libgl1-mesa-glx",
    "libegl1-mesa",
    "libxrandr2",
    "libxss1",
    "libxcursor1",
    "libxcomposite1",
    "libasound2",
    "libxi6",
    "libxtst6",
    "libxdamage1",
    "curl",
];

/// RedHat family.
pub const REDHAT: &[&str] = &[
    "libXcomposite",
    "libXcursor",
    "libXi",
    "libXtst",
    "libXrandr",
    "alsa-lib",
    "mesa-libEGL",
    "libXdamage",
    "mesa-libGL",
    "libXScrnSaver",
];

/// Renamed packages: Debian 13 and Ubuntu 24.04 dropped the old names.
const SUCCESSORS: &[(&str, &[&str])] = &[
    ("libgl1-mesa-glx", &["libgl1", "libglx-mesa0"]),
    ("libegl1-mesa", &["libegl1"]),
    ("libasound2", &["libasound2t64"]),
];

/// The package manager used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Manager {
    /// `apt-get` (queries with `apt-cache`).
    AptGet,
    /// `dnf` (queries with `rpm` and `dnf`).
    Dnf,
    /// `yum`, where dnf is missing (CentOS 7).
    Yum,
}

impl Manager {
    /// The family's manager: apt-get; dnf when on PATH, else yum.
    pub fn for_family(family: Family) -> Self {
        match family {
            Family::Debian => Self::AptGet,
            Family::Redhat if exec::on_path("dnf") => Self::Dnf,
            Family::Redhat => Self::Yum,
        }
    }

    /// The program name.
    pub fn program(self) -> &'static str {
        match self {
            Self::AptGet => "apt-get",
            Self::Dnf => "dnf",
            Self::Yum => "yum",
        }
    }

    /// Whether the query tools are here (`apt-cache`, or `dnf`/`yum`).
    pub fn can_query(self) -> bool {
        match self {
            Self::AptGet => exec::on_path("apt-cache"),
            other => exec::on_path(other.program()),
        }
    }

    /// The classic list for this manager's family.
    pub fn wanted(self) -> &'static [&'static str] {
        match self {
            Self::AptGet => DEBIAN,
            Self::Dnf | Self::Yum => REDHAT,
        }
    }
}

/// What the package manager knows about one name.
#[derive(Debug, Clone, Copy, Default)]
struct Known {
    installed: bool,
    available: bool,
}

/// The names to ask for, after successors were substituted.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Resolution {
    /// Final names, in the classic order.
    pub names: Vec<String>,
    /// Those not installed yet.
    pub missing: Vec<String>,
    /// Old name → its successors, for names this release no longer carries.
    pub mapped: BTreeMap<String, Vec<String>>,
    /// Names neither the release nor a successor provides (left out, with a warning).
    pub unknown: Vec<String>,
}

/// Asks the package manager about the wanted names and substitutes successors.
pub fn resolve(manager: Manager, log: &mut Log) -> Result<Resolution> {
    let mut ask: Vec<&str> = manager.wanted().to_vec();
    for (_, new) in SUCCESSORS {
        ask.extend(new.iter().copied());
    }
    let known = query(manager, &ask, log)?;
    let info = |n: &str| known.get(n).copied().unwrap_or_default();
    let mut res = Resolution::default();
    for &name in manager.wanted() {
        let k = info(name);
        let successors = SUCCESSORS.iter().find(|(old, _)| *old == name);
        let chosen: Vec<&str> = match successors {
            _ if k.installed || k.available => vec![name],
            Some((_, new)) if new.iter().all(|n| info(n).installed || info(n).available) => {
                res.mapped
                    .insert(name.into(), new.iter().map(|s| s.to_string()).collect());
                new.to_vec()
            }
            _ => {
                res.unknown.push(name.into());
                continue;
            }
        };
        for n in chosen {
            res.names.push(n.into());
            if !info(n).installed {
                res.missing.push(n.into());
            }
        }
    }
    Ok(res)
}

fn query(manager: Manager, names: &[&str], log: &mut Log) -> Result<HashMap<String, Known>> {
    match manager {
        Manager::AptGet => apt_policy(names, log),
        Manager::Dnf | Manager::Yum => rpm_query(manager, names, log),
    }
}

/// `apt-cache policy NAMES`: a block per known name with `Installed:` and `Candidate:`.
fn apt_policy(names: &[&str], log: &mut Log) -> Result<HashMap<String, Known>> {
    let mut cmd = Command::new("apt-cache");
    cmd.arg("policy").args(names).env("LC_ALL", "C");
    let out = exec::run(log, cmd, &format!("apt-cache policy {}", names.join(" ")))?;
    Ok(parse_policy(&String::from_utf8_lossy(&out.stdout)))
}

fn parse_policy(text: &str) -> HashMap<String, Known> {
    let mut known = HashMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            current = Some(line.trim_end_matches(':').to_owned());
            continue;
        }
        let Some(name) = &current else { continue };
        let entry: &mut Known = known.entry(name.clone()).or_default();
        let line = line.trim();
        if let Some(v) = line.strip_prefix("Installed:") {
            entry.installed = v.trim() != "(none)";
        } else if let Some(v) = line.strip_prefix("Candidate:") {
            entry.available = v.trim() != "(none)";
        }
    }
    known
}

/// `rpm -q NAME` tells what is installed; `dnf|yum info NAME` what the repositories have.
fn rpm_query(manager: Manager, names: &[&str], log: &mut Log) -> Result<HashMap<String, Known>> {
    let have_rpm = exec::on_path("rpm");
    let mut known = HashMap::new();
    for &name in names {
        let installed = have_rpm && {
            let mut cmd = Command::new("rpm");
            cmd.args(["-q", "--quiet", name]);
            exec::run(log, cmd, &format!("rpm -q --quiet {name}"))?
                .status
                .success()
        };
        let available = installed || {
            let mut cmd = Command::new(manager.program());
            cmd.args(["info", "-q", name]);
            let shown = format!("{} info -q {name}", manager.program());
            exec::run(log, cmd, &shown)?.status.success()
        };
        known.insert(
            name.to_owned(),
            Known {
                installed,
                available,
            },
        );
    }
    Ok(known)
}

/// A package-manager command, non-interactive. apt-get waits for the dpkg lock instead of
/// failing at once: on a freshly booted server, unattended-upgrades often holds it.
pub fn command(manager: Manager, args: &[&str]) -> (Command, String) {
    let mut cmd = Command::new(manager.program());
    if manager == Manager::AptGet {
        cmd.args(["-o", "DPkg::Lock::Timeout=600"]);
    }
    cmd.args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .env("LC_ALL", "C");
    (cmd, format!("{} {}", manager.program(), args.join(" ")))
}

/// Whether apt-get's summary line (`N upgraded, M newly installed, …`) reports changes.
pub fn apt_changed(stdout: &str) -> bool {
    stdout.lines().any(|l| {
        let l = l.trim();
        l.contains(" upgraded, ")
            && l.contains(" newly installed")
            && !l.starts_with("0 upgraded, 0 newly installed")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_blocks() {
        let text = "libgl1-mesa-glx:\n  Installed: (none)\n  Candidate: (none)\n  Version table:\n\
                    libgl1:\n  Installed: (none)\n  Candidate: 1.7.0-1\n  Version table:\n     1.7.0-1 500\n\
                    curl:\n  Installed: 7.88.1\n  Candidate: 7.88.1\n";
        let k = parse_policy(text);
        assert!(!k["libgl1-mesa-glx"].available && !k["libgl1-mesa-glx"].installed);
        assert!(k["libgl1"].available && !k["libgl1"].installed);
        assert!(k["curl"].installed);
        assert!(!k.contains_key("libasound2t64"));
    }

    #[test]
    fn apt_summary() {
        assert!(!apt_changed(
            "0 upgraded, 0 newly installed, 0 to remove and 3 not upgraded.\n"
        ));
        assert!(apt_changed(
            "2 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n"
        ));
        assert!(apt_changed(
            "0 upgraded, 5 newly installed, 0 to remove and 0 not upgraded.\n"
        ));
    }
}
