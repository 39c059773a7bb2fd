//! conda's shell integration for taipan.
//!
//! - [`activate`]: what `conda activate`/`deactivate`/`reactivate` change (PATH, `CONDA_*`
//!   variables, prompt, package scripts), computed from the current environment.
//! - [`render`]: that change as code for a given shell.
//! - [`hook`]: the `conda` shell function each shell evaluates (`conda shell.bash hook`).
//! - [`files`]: the activation files a root prefix carries (`bin/activate`, `etc/profile.d/…`).
//! - [`init`]: the `# >>> conda initialize >>>` block in users' rc files.
//! - [`wrap`]: scripts that run something inside an activated environment (`conda run`,
//!   link scripts).

pub mod activate;
pub mod files;
pub mod hook;
pub mod init;
pub mod render;
pub mod wrap;

/// Shells taipan speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shell {
    /// `posix`, `sh`, `ash`, `dash`, `bash`, `zsh`.
    Posix,
    /// `csh`, `tcsh`.
    Csh,
    /// `fish`.
    Fish,
    /// `xonsh`.
    Xonsh,
    /// `powershell`, `pwsh`.
    PowerShell,
}

impl Shell {
    /// Parses conda's shell names (`shell.<name>`).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "posix" | "sh" | "ash" | "dash" | "bash" | "zsh" => Some(Shell::Posix),
            "csh" | "tcsh" => Some(Shell::Csh),
            "fish" => Some(Shell::Fish),
            "xonsh" => Some(Shell::Xonsh),
            "powershell" | "pwsh" => Some(Shell::PowerShell),
            _ => None,
        }
    }

    /// File extension of package activation scripts for this shell.
    pub fn script_extension(self) -> &'static str {
        match self {
            Shell::Posix => "sh",
            Shell::Csh => "csh",
            Shell::Fish => "fish",
            // conda runs `.sh` package scripts in xonsh too (through `source-bash`).
            Shell::Xonsh => "sh",
            Shell::PowerShell => "ps1",
        }
    }
}
