//! pip in conda environments: the `- pip:` section of an environment file is installed by
//! the environment's own `python -m pip`, as conda does it, and the distributions pip put in
//! `site-packages` (those no conda record owns) are what `env export` lists under `- pip:`.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use rattler_conda_types::PrefixRecord;

use crate::error::{CondaError, ErrorKind, Result};

/// A finished pip run.
#[derive(Debug, Clone, Default)]
pub struct PipRun {
    /// The command line, as conda prints it.
    pub args: Vec<String>,
    /// pip's standard output.
    pub stdout: String,
    /// What pip reported installing (`Successfully installed a-1.0 b-2.0`), for `--json`'s
    /// `actions.PIP`.
    pub installed: Vec<String>,
}

/// A pip distribution in `site-packages`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PipDist {
    /// Its name as conda shows it (lower case, `-` for `_`).
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its metadata directory (`NAME-VERSION.dist-info`).
    pub dir: PathBuf,
}

/// `lib/python3.X/site-packages` of a prefix, if it has one.
pub fn site_packages(prefix: &Path) -> Option<PathBuf> {
    let lib = std::fs::read_dir(prefix.join("lib")).ok()?;
    let mut found: Vec<PathBuf> = lib
        .flatten()
        .filter(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            n.starts_with("python3") || n.starts_with("python2")
        })
        .map(|e| e.path().join("site-packages"))
        .filter(|p| p.is_dir())
        .collect();
    found.sort();
    found.pop()
}

/// The distributions in `site-packages` that no conda record owns: what pip installed.
pub fn installed_dists(prefix: &Path, records: &[PrefixRecord]) -> Vec<PipDist> {
    let Some(site) = site_packages(prefix) else {
        return Vec::new();
    };
    let owned: HashSet<PathBuf> = records
        .iter()
        .flat_map(|r| r.files.iter())
        .filter_map(|f| f.parent().map(|p| prefix.join(p)))
        .collect();
    let Ok(entries) = std::fs::read_dir(&site) else {
        return Vec::new();
    };
    let mut dists: Vec<PipDist> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| is_metadata_dir(p) && !owned.contains(p))
        .filter_map(|p| read_metadata(&p))
        .collect();
    dists.sort();
    dists.dedup();
    dists
}

fn is_metadata_dir(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    path.is_dir() && name.is_some_and(|n| n.ends_with(".dist-info") || n.ends_with(".egg-info"))
}

/// Name and version from a `.dist-info/METADATA` (or `.egg-info/PKG-INFO`).
fn read_metadata(dir: &Path) -> Option<PipDist> {
    // conda reads a wheel's files from RECORD and skips a .dist-info without one.
    if dir.extension().is_some_and(|e| e == "dist-info") && !dir.join("RECORD").is_file() {
        return None;
    }
    let text = std::fs::read_to_string(dir.join("METADATA"))
        .or_else(|_| std::fs::read_to_string(dir.join("PKG-INFO")))
        .ok()?;
    let field = |key: &str| {
        text.lines()
            .take_while(|l| !l.is_empty())
            .find_map(|l| l.strip_prefix(key).map(|v| v.trim().to_string()))
    };
    Some(PipDist {
        name: field("Name:")?
            .to_ascii_lowercase()
            .replace(['_', '.'], "-"),
        version: field("Version:")?,
        dir: dir.to_path_buf(),
    })
}

/// A failed pip run: the error, and pip's standard error for the user.
#[derive(Debug)]
pub struct PipFailed {
    /// `CondaEnvException: Pip failed`, saying the conda part is kept.
    pub error: CondaError,
    /// What pip wrote to standard error.
    pub stderr: String,
}

impl From<CondaError> for PipFailed {
    fn from(error: CondaError) -> Self {
        PipFailed {
            error,
            stderr: String::new(),
        }
    }
}

impl From<std::io::Error> for PipFailed {
    fn from(e: std::io::Error) -> Self {
        CondaError::from(e).into()
    }
}

/// Installs `requirements` with the prefix's `python -m pip`, as conda does: a temporary
/// requirements file in `workdir` (the environment file's directory, so relative paths in
/// it work; else the system's temporary directory), `install -U -r FILE
/// --exists-action=b`, run in `workdir` (else in the prefix).
pub fn install(
    prefix: &Path,
    requirements: &[String],
    workdir: Option<&Path>,
) -> std::result::Result<PipRun, PipFailed> {
    let python = prefix.join("bin").join("python");
    if !python.exists() {
        return Err(PipFailed {
            error: pip_failed(),
            stderr: format!("{}: No such file or directory", python.display()),
        });
    }
    let reqs = requirements_file(workdir, requirements)?;
    let cwd = workdir.unwrap_or(prefix);
    let mut args: Vec<String> = vec![
        python.display().to_string(),
        "-m".into(),
        "pip".into(),
        "install".into(),
        "-U".into(),
        "-r".into(),
        reqs.path().display().to_string(),
        "--exists-action=b".into(),
    ];
    let output = Command::new(&args[0])
        .args(&args[1..])
        .current_dir(cwd)
        .env("PATH", prefixed_path(prefix))
        .env("CONDA_PREFIX", prefix)
        .env_remove("PYTHONHOME")
        .env_remove("PYTHONPATH")
        .output()
        .map_err(|e| PipFailed {
            error: pip_failed(),
            stderr: format!("cannot run {}: {e}", args[0]),
        })?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    // The file name is random; keep the line as conda prints it, with the path it used.
    args.truncate(8);
    if !output.status.success() {
        let mut shown = stderr;
        if !stdout.trim().is_empty() {
            shown = format!("{}\n{}", stdout.trim_end(), shown);
        }
        return Err(PipFailed {
            error: pip_failed(),
            stderr: shown,
        });
    }
    Ok(PipRun {
        installed: installed_names(&stdout),
        args,
        stdout,
    })
}

/// `condaenv.XXXX.requirements.txt` beside the environment file (removed when dropped).
fn requirements_file(
    workdir: Option<&Path>,
    requirements: &[String],
) -> Result<tempfile::NamedTempFile> {
    let dir = workdir.map_or_else(std::env::temp_dir, Path::to_path_buf);
    let mut file = tempfile::Builder::new()
        .prefix("condaenv.")
        .suffix(".requirements.txt")
        .tempfile_in(&dir)
        .map_err(|e| {
            CondaError::new(
                ErrorKind::CondaFileIOError,
                format!(
                    "cannot write pip's requirements file in {}: {e}\n  Make that directory writable.",
                    dir.display()
                ),
            )
        })?;
    file.write_all(requirements.join("\n").as_bytes())?;
    file.flush()?;
    Ok(file)
}

fn prefixed_path(prefix: &Path) -> std::ffi::OsString {
    let bin = prefix.join("bin");
    let rest = std::env::var_os("PATH").unwrap_or_default();
    let paths = std::iter::once(bin).chain(std::env::split_paths(&rest));
    std::env::join_paths(paths).unwrap_or_default()
}

/// conda's `CondaEnvException: Pip failed`, with what became of the conda part.
fn pip_failed() -> CondaError {
    CondaError::new(
        ErrorKind::CondaEnvException,
        "Pip failed\n  The conda packages were installed and are kept. Fix the pip requirements, then run\n  `conda env update -f <file>` to install them.",
    )
}

/// The names after `Successfully installed` in pip's output.
fn installed_names(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("Successfully installed "))
        .map(|rest| rest.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_pip_installed() {
        let out = "Looking in links: /w\nProcessing ./tpdemo-1.0-py3-none-any.whl\nInstalling collected packages: tpdemo\nSuccessfully installed tpdemo-1.0 other-2\n";
        assert_eq!(installed_names(out), ["tpdemo-1.0", "other-2"]);
        assert!(installed_names("nothing").is_empty());
    }

    #[test]
    fn lists_only_unowned_dists() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("lib/python3.11/site-packages");
        for (d, name) in [
            ("Tp_Demo-1.0.dist-info", "Tp_Demo"),
            ("pip-23.2.dist-info", "pip"),
        ] {
            std::fs::create_dir_all(site.join(d)).unwrap();
            std::fs::write(site.join(d).join("RECORD"), "").unwrap();
            std::fs::write(
                site.join(d).join("METADATA"),
                format!(
                    "Metadata-Version: 2.1\nName: {name}\nVersion: {}\n\nbody",
                    &d[d.find('-').unwrap() + 1..d.find(".dist").unwrap()]
                ),
            )
            .unwrap();
        }
        let record: PrefixRecord = serde_json::from_value(serde_json::json!({
            "name": "pip", "version": "23.2", "build": "0", "build_number": 0, "subdir": "noarch",
            "depends": [], "fn": "pip-23.2-0.conda", "url": "file:///c/noarch/pip-23.2-0.conda", "channel": "file:///c",
            "files": ["lib/python3.11/site-packages/pip-23.2.dist-info/METADATA"],
            "paths_data": {"paths_version": 1, "paths": []}
        }))
        .unwrap();
        let dists = installed_dists(dir.path(), std::slice::from_ref(&record));
        let got: Vec<(&str, &str)> = dists
            .iter()
            .map(|d| (d.name.as_str(), d.version.as_str()))
            .collect();
        assert_eq!(got, [("tp-demo", "1.0")]);
        // Without RECORD conda does not list a wheel's metadata.
        std::fs::remove_file(site.join("Tp_Demo-1.0.dist-info/RECORD")).unwrap();
        assert!(installed_dists(dir.path(), &[record]).is_empty());
    }
}
