//! `conda init`: the `# >>> conda initialize >>>` block in each shell's rc file.

use std::path::{Path, PathBuf};

use crate::files::Outcome;
use crate::render::ps_quote;

const START: &str = "# >>> conda initialize >>>";
const END: &str = "# <<< conda initialize <<<";
/// PowerShell's block markers (`#` comments, folded by editors as a region).
const PS_START: &str = "#region conda initialize";
const PS_END: &str = "#endregion";
const MANAGED: &str = "# !! Contents within this block are managed by 'conda init' !!";

/// Shells `conda init` configures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitShell {
    /// `~/.bashrc`.
    Bash,
    /// `$ZDOTDIR/.zshrc` or `~/.zshrc`.
    Zsh,
    /// `~/.config/fish/config.fish`.
    Fish,
    /// `~/.tcshrc`.
    Tcsh,
    /// `~/.xonshrc`.
    Xonsh,
    /// `~/.config/powershell/profile.ps1` (PowerShell's CurrentUserAllHosts profile on Linux).
    PowerShell,
}

impl InitShell {
    /// Parses a shell name given to `conda init`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "bash" => Some(Self::Bash),
            "zsh" => Some(Self::Zsh),
            "fish" => Some(Self::Fish),
            "tcsh" => Some(Self::Tcsh),
            "xonsh" => Some(Self::Xonsh),
            "powershell" | "pwsh" => Some(Self::PowerShell),
            _ => None,
        }
    }

    /// All shells, for `--all`.
    pub fn all() -> [Self; 6] {
        [
            Self::Bash,
            Self::Zsh,
            Self::Fish,
            Self::Tcsh,
            Self::Xonsh,
            Self::PowerShell,
        ]
    }

    /// The user's rc file for this shell.
    pub fn rc_file(self, home: &Path, zdotdir: Option<&Path>) -> PathBuf {
        match self {
            Self::Bash => home.join(".bashrc"),
            Self::Zsh => zdotdir.unwrap_or(home).join(".zshrc"),
            Self::Fish => home.join(".config/fish/config.fish"),
            Self::Tcsh => home.join(".tcshrc"),
            Self::Xonsh => home.join(".xonshrc"),
            Self::PowerShell => xdg_config(home).join("powershell/profile.ps1"),
        }
    }
}

/// `$XDG_CONFIG_HOME` when set and not empty (as PowerShell reads it), else `~/.config`.
fn xdg_config(home: &Path) -> PathBuf {
    std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".config"))
}

/// The block for `shell`; with `condabin_only`, it only puts `<root>/condabin` on PATH.
pub fn block(shell: InitShell, root: &Path, condabin_only: bool) -> String {
    let r = root.display();
    let body = match (shell, condabin_only) {
        (InitShell::Fish, true) => format!("set -gx PATH \"{r}/condabin\" $PATH"),
        (InitShell::Tcsh, true) => format!("setenv PATH \"{r}/condabin:$PATH\""),
        (InitShell::Xonsh, true) => format!("$PATH.insert(0, \"{r}/condabin\")"),
        (InitShell::PowerShell, true) => format!(
            "$Env:PATH = {} + [IO.Path]::PathSeparator + $Env:PATH",
            ps_quote(&format!("{r}/condabin"))
        ),
        (InitShell::PowerShell, false) => {
            // Verbatim strings: a `$` or backtick in the path is not expanded.
            let exe = ps_quote(&format!("{r}/bin/conda"));
            format!(
                "If (Test-Path {exe}) {{\n    (& {exe} 'shell.powershell' 'hook') | Out-String | ?{{$_}} | Invoke-Expression\n}}"
            )
        }
        (InitShell::Xonsh, false) => format!(
            "if __import__(\"os\").path.isfile(\"{r}/bin/conda\"):\n    execx($(\"{r}/bin/conda\" \"shell.xonsh\" \"hook\"))\nelse:\n    $PATH.insert(0, \"{r}/bin\")"
        ),
        (_, true) => format!("export PATH=\"{r}/condabin:$PATH\""),
        (InitShell::Bash | InitShell::Zsh, false) => {
            let token = if shell == InitShell::Zsh { "zsh" } else { "bash" };
            format!(
                "__conda_setup=\"$('{r}/bin/conda' 'shell.{token}' 'hook' 2> /dev/null)\"\nif [ $? -eq 0 ]; then\n    eval \"$__conda_setup\"\nelse\n    if [ -f \"{r}/etc/profile.d/conda.sh\" ]; then\n        . \"{r}/etc/profile.d/conda.sh\"\n    else\n        export PATH=\"{r}/bin:$PATH\"\n    fi\nfi\nunset __conda_setup"
            )
        }
        (InitShell::Fish, false) => format!(
            "if test -f {r}/bin/conda\n    eval {r}/bin/conda \"shell.fish\" \"hook\" $argv | source\nelse\n    if test -f \"{r}/etc/fish/conf.d/conda.fish\"\n        . \"{r}/etc/fish/conf.d/conda.fish\"\n    else\n        set -x PATH \"{r}/bin\" $PATH\n    end\nend"
        ),
        (InitShell::Tcsh, false) => format!(
            "if ( -f \"{r}/etc/profile.d/conda.csh\" ) then\n    source \"{r}/etc/profile.d/conda.csh\"\nelse\n    setenv PATH \"{r}/bin:$PATH\"\nendif"
        ),
    };
    let (start, end) = match shell {
        InitShell::PowerShell => (PS_START, PS_END),
        _ => (START, END),
    };
    format!("{start}\n{MANAGED}\n{body}\n{end}")
}

/// The rc file's text with the block added (or replaced in place), or removed (`reverse`).
pub fn apply(text: &str, block: &str, reverse: bool) -> String {
    let existing = find_block(text, block);
    match (existing, reverse) {
        (Some((a, b)), false) => format!("{}{block}{}", &text[..a], &text[b..]),
        // One newline before the block: a blank line after a complete last line, a line break
        // after an unterminated one. `remove_block` takes exactly that newline away again.
        (None, false) => format!("{text}\n{block}\n"),
        (Some((a, b)), true) => remove_block(text, a, b),
        (None, true) => text.to_string(),
    }
}

/// Byte range of an existing block like `block` (start marker to end of end marker).
fn find_block(text: &str, block: &str) -> Option<(usize, usize)> {
    let (start, end) = if block.starts_with(PS_START) {
        (PS_START, PS_END)
    } else {
        (START, END)
    };
    let a = text.find(start)?;
    let b = text[a..].find(end)? + a + end.len();
    Some((a, b))
}

/// Removes the block and exactly what `apply` added around it, so that init then
/// `init --reverse` gives back the original bytes.
fn remove_block(text: &str, a: usize, b: usize) -> String {
    let before = &text[..a];
    let mut after = &text[b..];
    if let Some(rest) = after.strip_prefix('\n') {
        after = rest;
    }
    let before = before
        .strip_suffix('\n')
        .filter(|_| after.is_empty())
        .unwrap_or(before);
    format!("{before}{after}")
}

/// Applies the block to one rc file (unless `dry_run`).
pub fn edit(path: &Path, block: &str, reverse: bool, dry_run: bool) -> Outcome {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let new = apply(&text, block, reverse);
    if new == text {
        return Outcome::NoChange;
    }
    if dry_run {
        return Outcome::Modified;
    }
    let written = path
        .parent()
        .is_none_or(|d| std::fs::create_dir_all(d).is_ok())
        && std::fs::write(path, &new).is_ok();
    if written {
        Outcome::Modified
    } else {
        Outcome::NeedsSudo
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_is_idempotent_and_reverse_restores_bytes() {
        let root = Path::new("/opt/root");
        let b = block(InitShell::Bash, root, false);
        for original in ["", "alias ll='ls -l'\n", "no newline at end"] {
            let once = apply(original, &b, false);
            assert_eq!(apply(&once, &b, false), once, "no duplicate block");
            assert_eq!(
                apply(&once, &b, true),
                original,
                "reverse restores {original:?}"
            );
        }
        let other = block(InitShell::Bash, Path::new("/other"), false);
        let replaced = apply(&apply("x\n", &b, false), &other, false);
        assert!(replaced.contains("/other/bin/conda") && !replaced.contains("/opt/root"));
        assert_eq!(replaced.matches(START).count(), 1);
    }
}
