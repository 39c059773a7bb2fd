//! The activation files a root prefix carries, (re)written by `taipan shell install-files`,
//! `conda init` and the installer.

use std::path::{Path, PathBuf};

use crate::hook::{csh_dispatcher, hook, powershell_module};
use crate::render::sh_quote;
use crate::Shell;

/// One file and its content.
pub struct File {
    /// Path relative to the root prefix.
    pub path: PathBuf,
    /// Content.
    pub content: String,
    /// Whether it is executable.
    pub executable: bool,
}

/// Every activation file for `root`, whose conda executable is `root/bin/conda`.
pub fn files(root: &Path) -> Vec<File> {
    let exe = root.join("bin/conda");
    let q = sh_quote(&root.display().to_string());
    vec![
        File {
            path: "bin/activate".into(),
            content: format!(
                "#!/bin/sh\n# Source this file: `source {root}/bin/activate [ENV]` activates base or ENV.\n_CONDA_ROOT={q}\n. \"$_CONDA_ROOT/etc/profile.d/conda.sh\" || return $?\nconda activate \"$@\"\n",
                root = root.display()
            ),
            executable: true,
        },
        File {
            path: "bin/deactivate".into(),
            content: format!(
                "#!/bin/sh\n_CONDA_ROOT={q}\n. \"$_CONDA_ROOT/etc/profile.d/conda.sh\" || return $?\necho \"DeprecationWarning: 'source deactivate' is deprecated. Use 'conda deactivate'.\" 1>&2\nconda deactivate\n"
            ),
            executable: true,
        },
        File { path: "etc/profile.d/conda.sh".into(), content: hook(Shell::Posix, root, &exe, None), executable: false },
        File { path: "etc/profile.d/conda.csh".into(), content: hook(Shell::Csh, root, &exe, None), executable: false },
        File { path: "etc/profile.d/conda-dispatch.csh".into(), content: csh_dispatcher().to_string(), executable: false },
        File { path: "etc/fish/conf.d/conda.fish".into(), content: hook(Shell::Fish, root, &exe, None), executable: false },
        File { path: "etc/profile.d/conda.xsh".into(), content: hook(Shell::Xonsh, root, &exe, None), executable: false },
        File { path: "shell/condabin/conda-hook.ps1".into(), content: hook(Shell::PowerShell, root, &exe, None), executable: false },
        File { path: "shell/condabin/Conda.psm1".into(), content: powershell_module().to_string(), executable: false },
    ]
}

/// What happened to one file, as `conda init` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Written (new or different).
    Modified,
    /// Already as it should be.
    NoChange,
    /// Could not be written (permissions).
    NeedsSudo,
}

impl Outcome {
    /// conda's word for it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Modified => "modified",
            Outcome::NoChange => "no change",
            Outcome::NeedsSudo => "needs sudo",
        }
    }
}

/// Writes the activation files (and `condabin/conda`) unless `dry_run`; reports per path.
pub fn install(root: &Path, dry_run: bool) -> Vec<(PathBuf, Outcome)> {
    let mut report = Vec::new();
    for f in files(root) {
        let path = root.join(&f.path);
        let outcome = if std::fs::read_to_string(&path).ok().as_deref() == Some(f.content.as_str())
        {
            Outcome::NoChange
        } else if dry_run {
            Outcome::Modified
        } else {
            write(&path, &f.content, f.executable)
        };
        report.push((path, outcome));
    }
    report.push(condabin(root, dry_run));
    report
}

fn write(path: &Path, content: &str, executable: bool) -> Outcome {
    let ok = path
        .parent()
        .is_none_or(|d| std::fs::create_dir_all(d).is_ok())
        && std::fs::write(path, content).is_ok()
        && (!executable || {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).is_ok()
        });
    if ok {
        Outcome::Modified
    } else {
        Outcome::NeedsSudo
    }
}

/// `condabin/conda`, a link to `bin/conda`: with only condabin on PATH, `conda` is the one
/// command exposed.
fn condabin(root: &Path, dry_run: bool) -> (PathBuf, Outcome) {
    let link = root.join("condabin/conda");
    let target = Path::new("../bin/conda");
    if std::fs::read_link(&link).ok().as_deref() == Some(target) {
        return (link, Outcome::NoChange);
    }
    if dry_run {
        return (link, Outcome::Modified);
    }
    let _ = std::fs::create_dir_all(root.join("condabin"));
    let _ = std::fs::remove_file(&link);
    let outcome = match std::os::unix::fs::symlink(target, &link) {
        Ok(()) => Outcome::Modified,
        Err(_) => Outcome::NeedsSudo,
    };
    (link, outcome)
}
