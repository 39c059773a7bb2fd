//! Running system commands with everything they print kept in the deploy log.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use taipan_env::error::ErrorKind;

use taipan_env::{CondaError, Result};

/// The deploy log: every command and its output, with times.
pub struct Log {
    file: Option<File>,
    path: Option<PathBuf>,
}

impl Log {
    /// Appends to `path` (created 0600 with its directory if missing); `None` keeps no log.
    pub fn open(path: Option<&Path>) -> Result<Self> {
        let Some(path) = path else {
            return Ok(Self {
                file: None,
                path: None,
            });
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| log_error(path, e))?;
        }
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| log_error(path, e))?;
        Ok(Self {
            file: Some(file),
            path: Some(path.to_path_buf()),
        })
    }

    /// Where the log is written.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Writes one time-stamped line.
    pub fn line(&mut self, text: &str) {
        if let Some(f) = &mut self.file {
            let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S");
            // A log that can't be written must not fail the deployment.
            let _ = writeln!(f, "[{now}] {text}");
        }
    }

    /// Writes a command's output, indented.
    fn output(&mut self, out: &Output) {
        if let Some(f) = &mut self.file {
            for chunk in [&out.stdout, &out.stderr] {
                for l in String::from_utf8_lossy(chunk).lines() {
                    let _ = writeln!(f, "    {l}");
                }
            }
            let _ = writeln!(f, "    (exit {})", code(out));
        }
    }
}

fn log_error(path: &Path, e: std::io::Error) -> CondaError {
    CondaError::new(
        ErrorKind::DeployError,
        format!(
            "cannot write the log file {}: {e}\n  Pass --log-file PATH to put it elsewhere.",
            path.display()
        ),
    )
}

/// The exit code as a number (-1 when killed by a signal).
pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

/// Runs `cmd`, logging it as `shown` with its output. A command that can't start is an error
/// naming it; a non-zero exit is left to the caller.
pub fn run(log: &mut Log, mut cmd: Command, shown: &str) -> Result<Output> {
    log.line(&format!("$ {shown}"));
    let out = cmd.output().map_err(|e| {
        log.line(&format!("    cannot run: {e}"));
        CondaError::new(ErrorKind::DeployError, format!("cannot run `{shown}`: {e}"))
    })?;
    log.output(&out);
    Ok(out)
}

/// Runs `cmd` and fails with its last lines of output when it exits non-zero.
pub fn run_ok(log: &mut Log, cmd: Command, shown: &str, hint: &str) -> Result<Output> {
    let out = run(log, cmd, shown)?;
    if out.status.success() {
        return Ok(out);
    }
    Err(CondaError::new(
        ErrorKind::DeployError,
        format!(
            "`{shown}` failed (exit {}):\n{}\n  {hint}",
            code(&out),
            tail(&out, 12)
        ),
    ))
}

/// The last `n` lines of a command's stdout and stderr, indented.
pub fn tail(out: &Output, n: usize) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(n);
    lines[start..]
        .iter()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether `program` is found on PATH.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|d| {
            let p = d.join(program);
            std::fs::metadata(&p).is_ok_and(|m| {
                use std::os::unix::fs::PermissionsExt;
                m.is_file() && m.permissions().mode() & 0o111 != 0
            })
        })
    })
}
