//! The installer's last step, run by the embedded binary once the header has checked and
//! unpacked the payload (`_conda installer finish`, as constructor's installers run
//! `_conda constructor`): it installs every environment offline from the unpacked package
//! cache, writes the root prefix's files and removes what the install no longer needs.
//! One process instead of a dozen shell commands per environment.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use taipan_env::error::ErrorKind;

use rattler_conda_types::RepoDataRecord;
use taipan_env::context::{Context, ContextOptions};
use taipan_env::history::Entry;
use taipan_env::{CondaError, Result};

use crate::layout::{EnvFiles, Payload, Script, BINARY};

/// What the header knows when it hands over.
pub struct Finish {
    /// The root prefix being installed or updated.
    pub prefix: PathBuf,
    /// The unpacked payload (`pkgs/`, `.taipan-installer/`); removed at the end.
    pub payload: PathBuf,
    /// `-u`: environments that exist are updated and their history appended to.
    pub update: bool,
    /// `-k`: keep `pkgs/`.
    pub keep_pkgs: bool,
    /// `-s`: skip pre_install and post_install.
    pub skip_scripts: bool,
    /// `register_envs` of the spec: list the environments in `~/.conda/environments.txt`.
    pub register_envs: bool,
    /// The command line, for the history of an updated environment.
    pub cmd: String,
    /// The process environment (the header exports `INSTALLER_*` and `PREFIX` for scripts).
    pub env: HashMap<String, String>,
}

/// Runs the steps in the order the header used to: `_conda`, the package cache, pre_install, the base
/// and `extra_envs`, `.condarc`, `bin/conda`, activation files, `.nonadmin`, registration,
/// post_install, cleanup. The first failure stops it; the header then removes a fresh prefix.
pub async fn finish(f: &Finish) -> Result<()> {
    let payload = Payload::at(&f.payload);
    // The running binary moves itself into place (replacing an older one on update).
    let conda = payload.binary();
    if conda.exists() {
        std::fs::rename(&conda, f.prefix.join(BINARY))?;
    }
    move_pkgs(&payload.pkgs(), &f.prefix.join("pkgs"))?;
    if !f.skip_scripts {
        run_script(&payload.script(Script::PreInstall))?;
    }
    std::fs::create_dir_all(f.prefix.join("conda-meta"))?;
    // Linked packages are deleted from the cache as the last environment is installed:
    // an earlier one may share them with a later one.
    let extra = extra_envs(&payload)?;
    println!("Installing the base environment ...");
    install_env(f, "base", &payload.env(None), &f.prefix, extra.is_empty()).await?;
    for (i, name) in extra.iter().enumerate() {
        println!("Installing the {name} environment ...");
        let last = i + 1 == extra.len();
        let prefix = f.prefix.join("envs").join(name);
        install_env(f, name, &payload.env(Some(name)), &prefix, last).await?;
    }
    if payload.condarc().is_file() {
        std::fs::copy(payload.condarc(), f.prefix.join(".condarc"))?;
    }
    // `bin/conda -> ../_conda`: the binary the installer put in place.
    taipan_env::ops::root_setup(&f.prefix, Path::new("../_conda"))?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        std::fs::write(f.prefix.join(".nonadmin"), "")?;
    }
    if f.register_envs {
        register(f)?;
    }
    if !f.skip_scripts {
        run_script(&payload.script(Script::PostInstall))?;
    }
    if !f.keep_pkgs {
        remove_tree(&f.prefix.join("pkgs"))?;
    }
    remove_tree(&f.payload)
}

/// `extra_envs` in the payload, by name (the order a shell glob gives).
fn extra_envs(payload: &Payload) -> Result<Vec<String>> {
    let Ok(entries) = std::fs::read_dir(payload.extra_envs()) else {
        return Ok(Vec::new());
    };
    let mut envs = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            envs.push(name);
        }
    }
    envs.sort();
    Ok(envs)
}

/// Moves the unpacked package cache into `PREFIX/pkgs`. An existing cache (-u, -f) keeps
/// its other entries; entries of the same packages are replaced by the verified ones.
fn move_pkgs(from: &Path, to: &Path) -> Result<()> {
    if !from.is_dir() {
        return Ok(());
    }
    if std::fs::symlink_metadata(to).is_err() {
        return Ok(std::fs::rename(from, to)?);
    }
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if let Ok(meta) = std::fs::symlink_metadata(&target) {
            if meta.is_dir() {
                std::fs::remove_dir_all(&target)?;
            } else {
                std::fs::remove_file(&target)?;
            }
        }
        std::fs::rename(entry.path(), &target)?;
    }
    Ok(())
}

/// Installs one environment offline from `dir/lock.txt` into `prefix`, then writes its
/// history (the build's `history.in`, replacing what the install wrote, or appended on
/// update) and `initial-state.explicit.txt`.
async fn install_env(
    f: &Finish,
    name: &str,
    files: &EnvFiles,
    prefix: &Path,
    last: bool,
) -> Result<()> {
    let existed = prefix.join("conda-meta").is_dir();
    let ctx = context(f, prefix)?;
    let records = locked_records(files)?;
    let entry = Entry {
        cmd: f.cmd.clone(),
        ..Entry::default()
    };
    // An existing environment (`-u`) is locked first, which also recovers an interrupted
    // transaction of it; a new one is locked when it is created.
    let mut lock = match existed {
        true => Some(taipan_env::prefix_lock::lock(prefix).await?),
        false => None,
    };
    let installed = taipan_env::ops::install_records(
        &ctx,
        prefix,
        records,
        &entry,
        last && !f.keep_pkgs,
        lock.as_mut(),
    )
    .await;
    if let Some(lock) = lock {
        lock.release().await;
    }
    installed.map_err(|mut e| {
        e.message = format!(
            "installing the {name} environment into {} failed:\n{}",
            prefix.display(),
            e.message
        );
        e
    })?;
    let history = prefix.join("conda-meta").join("history");
    let block = format!(
        "==> {} <==\n{}",
        taipan_env::history::now(),
        std::fs::read_to_string(files.history())?
    );
    if existed && f.update {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&history)?;
        file.write_all(block.as_bytes())?;
    } else {
        std::fs::write(&history, block)?;
    }
    std::fs::copy(
        files.initial_state(),
        prefix.join("conda-meta").join("initial-state.explicit.txt"),
    )?;
    Ok(())
}

/// The records of an environment's lock (`lock.txt`, `@EXPLICIT` with sha256), taken from
/// the records the build solved (`records.json`): knowing them up front lets linking start
/// while later packages are still being extracted. Each lock line must have its record.
fn locked_records(files: &EnvFiles) -> Result<Vec<RepoDataRecord>> {
    let lock = files.lock();
    let urls = taipan_env::ops::explicit_urls(&lock, &std::fs::read_to_string(&lock)?)?;
    let path = files.records();
    let damaged = |what: String| {
        CondaError::new(
            ErrorKind::CondaVerificationError,
            format!(
                "{}: {what}\n  The installer is damaged; download it again.",
                path.display()
            ),
        )
    };
    let text = std::fs::read_to_string(&path)?;
    let solved: Vec<RepoDataRecord> =
        serde_json::from_str(&text).map_err(|e| damaged(e.to_string()))?;
    let mut by_url: HashMap<url::Url, RepoDataRecord> =
        solved.into_iter().map(|r| (r.url.clone(), r)).collect();
    urls.into_iter()
        .map(|(url, hash)| {
            let record = by_url
                .remove(&url)
                .ok_or_else(|| damaged(format!("no record for {url}")))?;
            let listed = hash
                .as_deref()
                .and_then(|h| h.strip_prefix("sha256:"))
                .and_then(rattler_digest::parse_digest_from_hex::<rattler_digest::Sha256>);
            if listed.is_some() && listed != record.package_record.sha256 {
                return Err(damaged(format!(
                    "the sha256 of {url} differs from the lock"
                )));
            }
            Ok(record)
        })
        .collect()
}

/// The context of an offline install from the payload's cache into `prefix`: the root is
/// the new prefix, its `pkgs/` the only package cache, and nothing is registered (the
/// installer registers at the end, if the spec asks for it).
fn context(f: &Finish, prefix: &Path) -> Result<Context> {
    let mut env = f.env.clone();
    env.insert("CONDA_ROOT_PREFIX".into(), f.prefix.display().to_string());
    env.insert(
        "CONDA_PKGS_DIRS".into(),
        f.prefix.join("pkgs").display().to_string(),
    );
    env.insert("CONDA_REGISTER_ENVS".into(), "false".into());
    let mut opts = ContextOptions {
        exe: Some(f.prefix.join(BINARY)),
        env,
        prefix: Some(prefix.to_path_buf()),
        ..ContextOptions::default()
    };
    opts.cli.offline = Some(true);
    opts.cli.always_yes = Some(true);
    opts.cli.quiet = Some(true);
    Context::load(&opts)
}

/// `bin/conda -> ../_conda`, unless a package provided `bin/conda`.
/// Adds the root prefix and its `extra_envs` to `~/.conda/environments.txt` (once each).
fn register(f: &Finish) -> Result<()> {
    let Some(home) = f.env.get("HOME").filter(|h| !h.is_empty()) else {
        return Ok(());
    };
    let dir = Path::new(home).join(".conda");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("environments.txt");
    let mut text = std::fs::read_to_string(&path).unwrap_or_default();
    let mut prefixes = vec![f.prefix.clone()];
    prefixes.extend(
        extra_envs(&Payload::at(&f.payload))?
            .into_iter()
            .map(|name| f.prefix.join("envs").join(name)),
    );
    for p in prefixes {
        let line = p.display().to_string();
        if !text.lines().any(|l| l == line) {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&line);
            text.push('\n');
        }
    }
    Ok(std::fs::write(&path, text)?)
}

/// Runs `sh META/NAME` if the spec has it; it sees the header's exported variables.
fn run_script(script: &Path) -> Result<()> {
    let name = script
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !script.is_file() {
        return Ok(());
    }
    let status = std::process::Command::new("sh").arg(script).status();
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(CondaError::new(
            ErrorKind::InstallError,
            format!(
                "executing {name} failed ({s}); see its output above.\n  Fix the script in the installer spec, or run the installer with -s to skip it."
            ),
        )),
        Err(e) => Err(CondaError::new(
            ErrorKind::InstallError,
            format!("executing {name} failed: cannot run sh: {e}"),
        )),
    }
}

/// Removes a directory tree, the top-level entries spread over a few threads: deleting the
/// extracted package cache is thousands of unlinks, and the machine's other cores are idle
/// by now.
fn remove_tree(dir: &Path) -> Result<()> {
    let entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.flatten().map(|e| e.path()).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let threads = std::thread::available_parallelism()
        .map(|n| n.get().min(4))
        .unwrap_or(1);
    let chunk = entries.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        for part in entries.chunks(chunk) {
            s.spawn(move || {
                for path in part {
                    let _ = match std::fs::symlink_metadata(path) {
                        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
                        _ => std::fs::remove_file(path),
                    };
                }
            });
        }
    });
    std::fs::remove_dir_all(dir).map_err(|e| {
        CondaError::generic(format!(
            "cannot remove {}: {e}\n  Remove it by hand; the installation itself is complete.",
            dir.display()
        ))
    })
}
