//! Link scripts (`pre-link`, `post-link`, `pre-unlink`), run as conda runs them, and the
//! `.messages.txt` they leave.

use crate::error::ErrorKind;
use std::path::Path;
use std::process::Command;

use rattler_conda_types::{PackageRecord, RepoDataRecord};

use super::{LinkSettings, Outcome, Plan};
use crate::error::{CondaError, Result};

/// Children of a transaction die with it: a link script or `compileall` still running after
/// taipan was killed would change the prefix while the next command recovers it.
pub(crate) fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: `prctl` is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

pub(crate) fn run_pre_link(
    plan: &Plan,
    record: &RepoDataRecord,
    dir: &Path,
    settings: &LinkSettings,
    outcome: &mut Outcome,
) -> Result<()> {
    let script = dir.join(format!(
        "bin/.{}-pre-link.sh",
        record.package_record.name.as_normalized()
    ));
    run_link_script(
        plan,
        record,
        &script,
        "pre-link",
        Some(dir),
        settings,
        outcome,
    )
}

pub(crate) fn run_post_link(
    plan: &Plan,
    record: &RepoDataRecord,
    settings: &LinkSettings,
    outcome: &mut Outcome,
) -> Result<()> {
    let script = plan.prefix.join(format!(
        "bin/.{}-post-link.sh",
        record.package_record.name.as_normalized()
    ));
    run_link_script(plan, record, &script, "post-link", None, settings, outcome)
}

/// Runs one link script if the package has it; a failure is a `LinkError` naming the package.
fn run_link_script(
    plan: &Plan,
    record: &RepoDataRecord,
    script: &Path,
    kind: &str,
    source_dir: Option<&Path>,
    settings: &LinkSettings,
    outcome: &mut Outcome,
) -> Result<()> {
    if !script.is_file() {
        return Ok(());
    }
    run_script(
        script,
        &plan.prefix,
        &record.package_record,
        settings,
        source_dir,
    )
    .map_err(|e| link_error(record, kind, e))?;
    collect_messages(&plan.prefix, outcome);
    Ok(())
}

fn link_error(record: &RepoDataRecord, kind: &str, err: CondaError) -> CondaError {
    CondaError::new(
        ErrorKind::LinkError,
        format!(
            "{kind} script failed for package {}\n{}",
            record.identifier, err.message
        ),
    )
}

/// How a link script is started.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ScriptMode {
    /// `bash -x script` (pre-link).
    Plain,
    /// Sourced inside the activated environment (post-link, pre-unlink), as conda does:
    /// `CONDA_PREFIX`, `PATH` and the env's `etc/conda/activate.d/*.sh` are in effect.
    Activated,
}

/// Runs a link script as conda does, with `PREFIX`, `ROOT_PREFIX`, `PKG_NAME`,
/// `PKG_VERSION`, `PKG_BUILDNUM`, the script's dir first on `PATH`, cwd = script dir
/// (and `SOURCE_DIR` for pre-link).
pub(crate) fn run_script(
    script: &Path,
    prefix: &Path,
    record: &PackageRecord,
    settings: &LinkSettings,
    source_dir: Option<&Path>,
) -> Result<()> {
    let mode = if source_dir.is_some() {
        ScriptMode::Plain
    } else {
        ScriptMode::Activated
    };
    let dir = script.parent().unwrap_or(prefix);
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let wrapper = match mode {
        ScriptMode::Plain => None,
        ScriptMode::Activated => Some(activation_wrapper(prefix, script, settings)?),
    };
    let mut cmd = Command::new("bash");
    match &wrapper {
        Some(w) => cmd.arg(w.path()),
        None => cmd.arg("-x").arg(script),
    };
    die_with_parent(&mut cmd);
    cmd.current_dir(dir)
        .env("PREFIX", prefix)
        .env("ROOT_PREFIX", &settings.root_prefix)
        .env("PKG_NAME", record.name.as_normalized())
        .env("PKG_VERSION", record.version.to_string())
        .env("PKG_BUILDNUM", record.build_number.to_string())
        .env("PATH", path);
    if let Some(src) = source_dir {
        cmd.env("SOURCE_DIR", src);
    }
    let out = cmd
        .output()
        .map_err(|e| CondaError::generic(format!("cannot run {}: {e}", script.display())))?;
    if out.status.success() {
        return Ok(());
    }
    let messages = std::fs::read_to_string(prefix.join(".messages.txt")).unwrap_or_default();
    let _ = std::fs::remove_file(prefix.join(".messages.txt"));
    Err(CondaError::generic(format!(
        "location of failed script: {}\n==> script messages <==\n{}\n==> script output <==\nstdout: {}\nstderr: {}\nreturn code: {}",
        script.display(),
        if messages.is_empty() { "<None>".to_string() } else { messages },
        String::from_utf8_lossy(&out.stdout).trim_end(),
        String::from_utf8_lossy(&out.stderr).trim_end(),
        out.status.code().unwrap_or(-1)
    )))
}

/// A temporary bash script that activates `prefix` (as `conda activate` would, package
/// `activate.d` scripts included) and sources `script`.
fn activation_wrapper(
    prefix: &Path,
    script: &Path,
    settings: &LinkSettings,
) -> Result<tempfile::NamedTempFile> {
    let shell_settings = taipan_shell::activate::Settings {
        changeps1: false,
        env_prompt: String::new(),
        auto_stack: 0,
        root_prefix: settings.root_prefix.clone(),
        conda_exe: settings.conda_exe.clone(),
        envs_dirs: settings.envs_dirs.clone(),
        script_ext: "sh",
    };
    let env: std::collections::HashMap<String, String> = std::env::vars().collect();
    let body = taipan_shell::wrap::link_script(&env, prefix, &shell_settings, script);
    let mut file = tempfile::Builder::new()
        .prefix("conda-link-script")
        .suffix(".sh")
        .tempfile()?;
    std::io::Write::write_all(&mut file, body.as_bytes())?;
    Ok(file)
}

pub(crate) fn collect_messages(prefix: &Path, outcome: &mut Outcome) {
    let path = prefix.join(".messages.txt");
    if let Ok(text) = std::fs::read_to_string(&path) {
        if !text.trim().is_empty() {
            outcome.messages.push(text);
        }
        let _ = std::fs::remove_file(&path);
    }
}
