//! The deployment's steps and their plan; what they report is in [`crate::report`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use taipan_env::error::ErrorKind;

use taipan_env::{CondaError, Result};

use crate::exec::{self, Log};
use crate::os::{self, OsInfo};
use crate::packages::{self, Manager, Resolution};
use crate::report::{Outcome, Report, Status, StepReport};
use crate::source::{self, Identity, Source};
use crate::user::{self, User};
use crate::{Marker, Options};

const UNINSTALL_STEPS: &[&str] = &[
    "preconditions",
    "init-reverse",
    "remove-prefix",
    "unregister",
];

const STEPS: &[&str] = &[
    "preconditions",
    "system-packages",
    "installer",
    "install",
    "init",
    "update",
    "shared",
    "cleanup",
];

/// A deployment being planned or carried out.
pub struct Deployment {
    opts: Options,
    os: OsInfo,
    manager: Manager,
    user: User,
    source: Source,
    /// Known up front for the default distribution and local files; after download for URLs.
    identity: Option<Identity>,
    prefix: PathBuf,
    /// `HOME/<installer file name>`.
    placed: PathBuf,
    log: Log,
    resolution: Option<Resolution>,
    work: tempfile::TempDir,
    /// The installer obtained (built or downloaded into `work`, or the local file).
    obtained: Option<PathBuf>,
    /// What this run's installer would record; compared with the prefix's marker.
    marker: Option<Marker>,
    progress: Box<dyn FnMut(&str)>,
}

impl Deployment {
    /// Checks everything that can be checked before touching the system: root (unless dry
    /// run), the OS family, the user, the installer file and its checksum, the prefix.
    pub fn prepare(opts: Options, progress: Box<dyn FnMut(&str)>) -> Result<Self> {
        if !opts.dry_run {
            crate::require_root("")?;
        }
        let os = os::detect()?;
        let manager = Manager::for_family(os.family);
        let user = user::lookup(opts.user.as_deref().unwrap_or("root"))?;
        for shell in &opts.shells {
            check_shell(shell)?;
        }
        let source = Source::from_arg(opts.installer.as_deref());
        let (identity, local_sha256) = identify(&source, opts.sha256.as_deref())?;
        let prefix = choose_prefix(&opts, &source, identity.as_ref(), &user)?;
        let placed = user.home.join(source.file_name()?);
        let log = if opts.dry_run {
            Log::open(None)?
        } else {
            Log::open(opts.log_file.as_deref())?
        };
        let marker = identity.as_ref().map(|i| Marker {
            name: i.name.clone(),
            version: i.version.clone(),
            sha256: local_sha256.clone(),
            taipan: matches!(source, Source::Default).then(|| env!("CARGO_PKG_VERSION").into()),
        });
        let mut d = Self {
            opts,
            os,
            manager,
            user,
            source,
            identity,
            prefix,
            placed,
            log,
            resolution: None,
            work: tempfile::tempdir()?,
            obtained: None,
            marker,
            progress,
        };
        if d.opts.uninstall {
            crate::uninstall::check_removable(&d.prefix, &d.user.home)?;
        } else {
            d.check_prefix_writable()?;
        }
        Ok(d)
    }

    /// The steps with what each would do (the `--dry-run` output).
    pub fn plan(&mut self) -> Report {
        if !self.opts.uninstall && self.manager.can_query() {
            // Read-only queries: the plan can say what is missing and what was renamed.
            self.resolution = packages::resolve(self.manager, &mut self.log).ok();
        }
        let mut steps = Vec::new();
        for &name in self.steps() {
            if let Some(detail) = self.describe(name) {
                steps.push(StepReport {
                    name,
                    status: Status::Planned,
                    duration_ms: 0,
                    detail,
                    note: None,
                });
            }
        }
        self.report(steps, None)
    }

    /// Carries out every step, then removes the installer whatever happened.
    pub async fn run(mut self) -> Report {
        self.log.line(&format!(
            "taipan deploy {}: {} for user {} into {}",
            env!("CARGO_PKG_VERSION"),
            self.os.pretty_name,
            self.user.name,
            self.prefix.display()
        ));
        let mut steps = Vec::new();
        let mut error = None;
        let names: Vec<&str> = self
            .steps()
            .iter()
            .copied()
            .filter(|n| self.describe(n).is_some())
            .collect();
        for (i, &name) in names.iter().enumerate() {
            let Some(detail) = self.describe(name) else {
                continue;
            };
            if error.is_some() && name != "cleanup" {
                steps.push(step(name, Status::NotRun, 0, detail, None));
                continue;
            }
            // One line a step, as it starts; the summary says how each ended.
            (self.progress)(&format!("[{}/{}] {name}: {detail}", i + 1, names.len()));
            self.log.line(&format!("== {name}: {detail}"));
            let start = Instant::now();
            let result = self.perform(name).await;
            let ms = start.elapsed().as_millis() as u64;
            let report = match result {
                Ok(o) => step(name, o.status, ms, o.detail, o.note),
                Err(e) => {
                    let report = step(name, Status::Failed, ms, detail, None);
                    error = Some(e);
                    report
                }
            };
            self.log.line(&format!("{name}: {}", report.status.text()));
            steps.push(report);
        }
        let message = error.as_ref().map(|e| e.to_string());
        if let Some(m) = &message {
            self.log.line(m);
        }
        self.report(steps, message)
    }

    fn steps(&self) -> &'static [&'static str] {
        if self.opts.uninstall {
            UNINSTALL_STEPS
        } else {
            STEPS
        }
    }

    /// What step `name` does here, or `None` when it does not apply.
    fn describe(&self, name: &str) -> Option<String> {
        let as_user = format!("as {}", self.user.name);
        let shells = self.opts.shells.join(" ");
        let prefix = self.prefix.display();
        Some(match name {
            "preconditions" => format!(
                "{} ({} family, {}); user {} ({}); prefix {prefix}",
                self.os.pretty_name,
                self.os.family.name(),
                self.manager.program(),
                self.user.name,
                self.user.home.display()
            ),
            "system-packages" => self.describe_packages(),
            "installer" | "install" if self.installed() => {
                let i = self.identity.as_ref()?;
                format!(
                    "{} {} is installed in {prefix}: nothing to do",
                    i.name, i.version
                )
            }
            "installer" => format!(
                "{} -> {} (mode 0744, owner {})",
                self.source.describe(),
                self.placed.display(),
                self.user.name
            ),
            "install" => format!(
                "bash {} -b -f -p {prefix} ({as_user})",
                self.placed.display()
            ),
            "init" => format!("source {prefix}/bin/activate; conda init {shells} ({as_user})"),
            "update" if self.opts.update => {
                format!("source {prefix}/bin/activate; conda update --update-all -y ({as_user})")
            }
            "update" => "conda update --update-all (skipped: --no-update)".into(),
            "shared" => {
                let group = self.opts.shared.as_ref()?;
                format!("{prefix}: group {group}, directories g+rX and setgid, files g+r")
            }
            "cleanup" => format!("remove {}", self.placed.display()),
            "init-reverse" => {
                format!("source {prefix}/bin/activate; conda init --reverse {shells} ({as_user})")
            }
            "remove-prefix" => {
                format!("remove {prefix} and everything in it, its environments included")
            }
            "unregister" => format!(
                "drop {prefix} from {}/.conda/environments.txt",
                self.user.home.display()
            ),
            _ => return None,
        })
    }

    fn describe_packages(&self) -> String {
        let m = self.manager.program();
        let names = match &self.resolution {
            Some(r) if r.missing.is_empty() => {
                return format!("nothing to install: {} present", r.names.join(" "));
            }
            Some(r) => r.missing.join(" "),
            None => format!("{} (missing ones)", self.manager.wanted().join(" ")),
        };
        match self.manager {
            Manager::AptGet if self.opts.upgrade => {
                format!("{m} update; {m} upgrade -y; {m} install -y {names}")
            }
            Manager::AptGet => format!("{m} install -y {names} (no upgrade)"),
            _ => format!("{m} install -y {names}"),
        }
    }

    async fn perform(&mut self, name: &str) -> Result<Outcome> {
        match name {
            "preconditions" => Ok(Outcome::new(
                Status::Checked,
                self.describe("preconditions").unwrap_or_default(),
            )),
            "system-packages" => self.system_packages(),
            "installer" => self.installer().await,
            "install" => self.install(),
            "init" => self.init(),
            "update" => self.update(),
            "shared" => self.share(),
            "cleanup" => self.cleanup(),
            "init-reverse" => self.init_reverse(),
            "remove-prefix" => Ok(if crate::uninstall::remove_prefix(&self.prefix)? {
                Outcome::new(Status::Done, format!("removed {}", self.prefix.display()))
            } else {
                Outcome::new(Status::AlreadyDone, format!("no {}", self.prefix.display()))
            }),
            "unregister" => {
                let n = crate::uninstall::unregister(&self.prefix, &self.user.home)?;
                let detail = format!("{n} entries removed from environments.txt");
                Ok(Outcome::new(
                    if n > 0 {
                        Status::Done
                    } else {
                        Status::AlreadyDone
                    },
                    detail,
                ))
            }
            other => Err(CondaError::generic(format!("unknown step {other}"))),
        }
    }

    fn system_packages(&mut self) -> Result<Outcome> {
        let manager = self.manager;
        let hint = "Fix the package manager (see the log) and run taipan deploy again.";
        let mut changed = false;
        let mut updated = false;
        if manager == Manager::AptGet && self.opts.upgrade {
            let (cmd, shown) = packages::command(manager, &["update"]);
            exec::run_ok(&mut self.log, cmd, &shown, hint)?;
            updated = true;
            let (cmd, shown) = packages::command(manager, &["upgrade", "-y"]);
            let out = exec::run_ok(&mut self.log, cmd, &shown, hint)?;
            changed |= packages::apt_changed(&String::from_utf8_lossy(&out.stdout));
        }
        let mut res = packages::resolve(manager, &mut self.log)?;
        if manager == Manager::AptGet
            && !updated
            && !(res.missing.is_empty() && res.unknown.is_empty())
        {
            // Fresh systems have empty package lists: refresh them before deciding.
            let (cmd, shown) = packages::command(manager, &["update"]);
            exec::run_ok(&mut self.log, cmd, &shown, hint)?;
            res = packages::resolve(manager, &mut self.log)?;
        }
        if !res.missing.is_empty() {
            let mut args = vec!["install", "-y"];
            args.extend(res.missing.iter().map(String::as_str));
            let (cmd, shown) = packages::command(manager, &args);
            exec::run_ok(&mut self.log, cmd, &shown, hint)?;
            changed = true;
        }
        let mut detail = if res.missing.is_empty() {
            format!("{} installed already", res.names.join(" "))
        } else {
            format!("installed {}", res.missing.join(" "))
        };
        for (old, new) in &res.mapped {
            detail.push_str(&format!("; {old} -> {}", new.join(" ")));
        }
        let unknown = res.unknown.clone();
        self.resolution = Some(res);
        let status = if changed {
            Status::Done
        } else {
            Status::AlreadyDone
        };
        let outcome = Outcome::new(status, detail);
        Ok(if unknown.is_empty() {
            outcome
        } else {
            outcome.note(format!(
                "not available on this system, left out: {}",
                unknown.join(" ")
            ))
        })
    }

    /// Whether the prefix already holds what this run's installer installs.
    fn installed(&self) -> bool {
        match (&self.marker, Marker::read(&self.prefix)) {
            (Some(want), Some(have)) => want.matches(&have),
            _ => false,
        }
    }

    async fn installer(&mut self) -> Result<Outcome> {
        if self.installed() {
            return Ok(self.already_installed());
        }
        let obtained = source::obtain(
            &self.source,
            self.work.path(),
            &self.opts.taipan_binary,
            &self.opts.env,
        )
        .await?;
        if let Source::Url(url) = &self.source {
            let sha = match &self.opts.sha256 {
                Some(want) => source::check_sha256(&obtained, want, url)?,
                None => source::sha256(&obtained)?,
            };
            let identity = Identity::read(&obtained)?;
            self.marker = Some(Marker {
                name: identity.name.clone(),
                version: identity.version.clone(),
                sha256: Some(sha),
                taipan: None,
            });
            self.identity = Some(identity);
            if self.installed() {
                return Ok(self.already_installed());
            }
        }
        source::place(&obtained, &self.placed)?;
        self.user.chown(&self.placed)?;
        self.obtained = Some(obtained);
        Ok(Outcome::new(
            Status::Done,
            format!("{} (0744, owner {})", self.placed.display(), self.user.name),
        ))
    }

    fn already_installed(&self) -> Outcome {
        let what = self
            .identity
            .as_ref()
            .map(|i| format!("{} {}", i.name, i.version))
            .unwrap_or_else(|| "this installer".into());
        Outcome::new(
            Status::AlreadyDone,
            format!("{what} is installed in {}", self.prefix.display()),
        )
    }

    fn install(&mut self) -> Result<Outcome> {
        if self.obtained.is_none() {
            return Ok(self.already_installed());
        }
        let existed = self.prefix.exists();
        let mut cmd = self.user.command("bash");
        cmd.arg(&self.placed)
            .args(["-b", "-f", "-p"])
            .arg(&self.prefix);
        let shown = format!(
            "bash {} -b -f -p {}",
            self.placed.display(),
            self.prefix.display()
        );
        let result = exec::run_ok(
            &mut self.log,
            cmd,
            &shown,
            "The installer failed; see its output above and in the log.",
        );
        if let Err(e) = result {
            if !existed && self.prefix.exists() {
                // A failed fresh install leaves nothing behind.
                let _ = std::fs::remove_dir_all(&self.prefix);
                self.log.line(&format!(
                    "removed the partial prefix {}",
                    self.prefix.display()
                ));
            }
            return Err(e);
        }
        if let Some(marker) = &self.marker {
            let name = self.source.file_name()?;
            for path in marker.write(&self.prefix, &name)? {
                self.user.chown(&path)?;
            }
        }
        Ok(Outcome::new(
            Status::Done,
            format!("installed into {}", self.prefix.display()),
        ))
    }

    /// `bash -c 'source PREFIX/bin/activate && conda …'` as the user.
    fn conda(&self, args: &[&str]) -> (Command, String) {
        let mut cmd = self.user.command("bash");
        cmd.arg("-c")
            // `source` hands its caller's arguments to the script: activate base with none.
            .arg(r#"p="$1"; shift; args=("$@"); set --; source "$p/bin/activate" && conda "${args[@]}""#)
            .arg("taipan-deploy")
            .arg(&self.prefix)
            .args(args);
        let shown = format!(
            "source {}/bin/activate && conda {}",
            self.prefix.display(),
            args.join(" ")
        );
        (cmd, shown)
    }

    fn init_reverse(&mut self) -> Result<Outcome> {
        if !self.prefix.join("bin/activate").is_file() {
            return Ok(Outcome::new(
                Status::AlreadyDone,
                format!("no installation in {}", self.prefix.display()),
            ));
        }
        self.init_with(&["init", "--reverse"])
    }

    fn init(&mut self) -> Result<Outcome> {
        self.init_with(&["init"])
    }

    fn init_with(&mut self, base: &[&str]) -> Result<Outcome> {
        let mut args = base.to_vec();
        args.extend(self.opts.shells.iter().map(String::as_str));
        let (cmd, shown) = self.conda(&args);
        let out = exec::run_ok(
            &mut self.log,
            cmd,
            &shown,
            "conda init failed; see the log.",
        )?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let modified: Vec<&str> = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("modified"))
            .map(str::trim)
            .collect();
        if modified.is_empty() {
            return Ok(Outcome::new(
                Status::AlreadyDone,
                format!("conda {}: no change", args.join(" ")),
            ));
        }
        Ok(Outcome::new(
            Status::Done,
            format!("modified {}", modified.join(", ")),
        ))
    }

    fn update(&mut self) -> Result<Outcome> {
        if !self.opts.update {
            return Ok(Outcome::new(Status::Skipped, "--no-update").note("skipped on request"));
        }
        let (cmd, shown) = self.conda(&["update", "--update-all", "-y", "--json"]);
        let out = exec::run(&mut self.log, cmd, &shown)?;
        let json: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
        if out.status.success() {
            return Ok(update_outcome(&json));
        }
        let name = json["exception_name"].as_str().unwrap_or_default();
        let message = json["message"].as_str().unwrap_or_default();
        if is_network_error(name, message) {
            // Expected on an offline server: not a failure, and not worded as one.
            return Ok(Outcome::new(Status::Skipped, "no channel could be reached (offline?)")
                .note(format!("the installation is complete; run `conda update --update-all -y` once the channels are reachable ({name})")));
        }
        Err(CondaError::new(
            ErrorKind::DeployError,
            format!(
                "`{shown}` failed (exit {}): {}\n  See the log; fix the environment and run taipan deploy again.",
                exec::code(&out),
                if message.is_empty() { exec::tail(&out, 8) } else { format!("{name}: {message}") }
            ),
        ))
    }

    fn share(&mut self) -> Result<Outcome> {
        let Some(group) = self.opts.shared.clone() else {
            return Ok(Outcome::new(Status::Skipped, "not shared"));
        };
        let changed = crate::shared::share(&self.prefix, &group, &mut self.log)?;
        let detail = format!(
            "{} readable by group {group}; users' own envs and packages go to ~/.conda",
            self.prefix.display()
        );
        let outcome = Outcome::new(
            if changed {
                Status::Done
            } else {
                Status::AlreadyDone
            },
            detail,
        );
        let gid = user::group_id(&group)?;
        Ok(match crate::shared::blocking_ancestor(&self.prefix, gid) {
            Some(dir) => outcome.note(format!(
                "{} cannot be entered by group {group}, so its members cannot reach the installation; \
                 deploy shared installs outside it (e.g. --prefix /opt/taipan3)",
                dir.display()
            )),
            None => outcome,
        })
    }

    fn cleanup(&mut self) -> Result<Outcome> {
        match std::fs::remove_file(&self.placed) {
            Ok(()) => Ok(Outcome::new(
                Status::Done,
                format!("removed {}", self.placed.display()),
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Outcome::new(
                Status::AlreadyDone,
                format!("no {} to remove", self.placed.display()),
            )),
            Err(e) => Err(CondaError::new(
                ErrorKind::DeployError,
                format!("cannot remove {}: {e}", self.placed.display()),
            )),
        }
    }

    /// Fails early when the user cannot create the prefix.
    fn check_prefix_writable(&mut self) -> Result<()> {
        let prefix = &self.prefix;
        let text = prefix.display().to_string();
        if !prefix.is_absolute() || text.contains(char::is_whitespace) {
            return Err(CondaError::new(
                ErrorKind::DeployError,
                format!("--prefix {text}: the prefix must be an absolute path without spaces (conda cannot work in paths with spaces)."),
            ));
        }
        let mut existing = prefix.as_path();
        while !existing.exists() {
            existing = existing.parent().unwrap_or(Path::new("/"));
        }
        if self.opts.dry_run && !user::is_root() {
            return Ok(());
        }
        let mut cmd = self.user.command("sh");
        cmd.args([
            "-c",
            "test -d \"$1\" && test -w \"$1\" && test -x \"$1\"",
            "sh",
        ])
        .arg(existing);
        let ok = exec::run(
            &mut self.log,
            cmd,
            &format!("test -w {}", existing.display()),
        )?
        .status
        .success();
        if !ok {
            return Err(CondaError::new(
                ErrorKind::DeployError,
                format!(
                    "{} is not writable by user {}, so the prefix {text} cannot be created there.\n  \
                     Choose another --prefix (for example in {}), or make the directory writable.",
                    existing.display(),
                    self.user.name,
                    self.user.home.display()
                ),
            ));
        }
        Ok(())
    }

    fn report(&mut self, steps: Vec<StepReport>, error: Option<String>) -> Report {
        let success = error.is_none() && steps.iter().all(|s| s.status != Status::Failed);
        let (mapped, unavailable) = match &self.resolution {
            Some(r) => (r.mapped.clone(), r.unknown.clone()),
            None => Default::default(),
        };
        let mut versions =
            BTreeMap::from([("taipan".to_owned(), env!("CARGO_PKG_VERSION").to_owned())]);
        if let Some(v) = self.conda_version() {
            versions.insert("conda".into(), v);
        }
        Report {
            success,
            dry_run: self.opts.dry_run,
            os: self.os.clone(),
            package_manager: self.manager,
            user: self.user.name.clone(),
            home: self.user.home.clone(),
            prefix: self.prefix.clone(),
            installer: self.source.describe(),
            distribution: self.identity.clone(),
            steps,
            mapped_packages: mapped,
            unavailable_packages: unavailable,
            versions,
            log_file: self.log.path().map(Path::to_path_buf),
            error,
        }
    }

    /// `PREFIX/bin/conda --version`, e.g. `conda 25.11.0`.
    fn conda_version(&self) -> Option<String> {
        let conda = self.prefix.join("bin/conda");
        if !conda.exists() {
            return None;
        }
        let out = self
            .user
            .command(&conda.display().to_string())
            .arg("--version")
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        (out.status.success() && !text.is_empty()).then_some(text)
    }
}

fn step(
    name: &'static str,
    status: Status,
    ms: u64,
    detail: String,
    note: Option<String>,
) -> StepReport {
    StepReport {
        name,
        status,
        duration_ms: ms,
        detail,
        note,
    }
}

/// The installer's identity (and sha256 for local files), checked up front.
fn identify(source: &Source, sha256: Option<&str>) -> Result<(Option<Identity>, Option<String>)> {
    match source {
        Source::Default => Ok((Some(Identity::of_default()?), None)),
        Source::File(path) => {
            let identity = Identity::read(path)?;
            let sha = match sha256 {
                Some(want) => source::check_sha256(path, want, &path.display().to_string())?,
                None => source::sha256(path)?,
            };
            Ok((Some(identity), Some(sha)))
        }
        Source::Url(_) => Ok((None, None)),
    }
}

/// `--prefix`, or where the installer would install by default: `HOME/<name lowercased>`.
fn choose_prefix(
    opts: &Options,
    source: &Source,
    identity: Option<&Identity>,
    user: &User,
) -> Result<PathBuf> {
    if let Some(p) = &opts.prefix {
        return Ok(std::path::absolute(p).unwrap_or_else(|_| p.clone()));
    }
    if let Some(i) = identity {
        return Ok(i.default_prefix(&user.home));
    }
    // A URL: the file name's first part (`Anaconda3-2024.06-1-Linux-x86_64.sh` → anaconda3).
    let file = source.file_name()?;
    let name = file.split('-').next().unwrap_or(&file).to_lowercase();
    Ok(user.home.join(name.trim_end_matches(".sh")))
}

const SHELLS: &[&str] = &["bash", "zsh", "fish", "tcsh", "xonsh", "powershell"];

fn check_shell(shell: &str) -> Result<()> {
    if SHELLS.contains(&shell) {
        return Ok(());
    }
    Err(CondaError::argument(format!(
        "--shell {shell}: not a shell conda init knows; use one of {}.",
        SHELLS.join(", ")
    )))
}

/// `conda update --json` succeeded: whether it changed anything.
fn update_outcome(json: &serde_json::Value) -> Outcome {
    let actions = &json["actions"];
    let count = |k: &str| actions[k].as_array().map_or(0, Vec::len);
    let (linked, unlinked) = (count("LINK"), count("UNLINK"));
    if linked + unlinked == 0 {
        return Outcome::new(
            Status::AlreadyDone,
            "all requested packages already installed",
        );
    }
    Outcome::new(
        Status::Done,
        format!("{linked} packages linked, {unlinked} unlinked"),
    )
}

/// Errors that mean "no channel could be reached" rather than a broken environment.
fn is_network_error(name: &str, message: &str) -> bool {
    matches!(
        name,
        "CondaHTTPError"
            | "UnavailableInvalidChannel"
            | "CondaSSLError"
            | "ProxyError"
            | "OfflineError"
    ) || message.contains("CONNECTION FAILED")
}
