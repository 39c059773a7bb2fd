//! [`Changes`] as code each shell evaluates.

use crate::activate::Changes;
use crate::Shell;

/// Renders the changes for `shell`.
pub fn render(shell: Shell, c: &Changes) -> String {
    let lines = match shell {
        Shell::Posix => lines(c, &Posix),
        Shell::Csh => lines(c, &Csh),
        Shell::Fish => lines(c, &Fish),
        Shell::Xonsh => lines(c, &Xonsh),
        Shell::PowerShell => lines(c, &PowerShell),
    };
    let mut out = lines.join(match shell {
        Shell::Csh => ";\n",
        _ => "\n",
    });
    if !out.is_empty() {
        out.push(if shell == Shell::Csh { ';' } else { '\n' });
        if shell == Shell::Csh {
            out.push('\n');
        }
    }
    out
}

trait Syntax {
    fn export(&self, name: &str, value: &str) -> String;
    fn path(&self, value: &str) -> String {
        self.export("PATH", value)
    }
    fn unset(&self, name: &str) -> String;
    fn set(&self, name: &str, value: &str) -> Option<String>;
    fn source(&self, script: &str) -> String;
}

fn lines(c: &Changes, syn: &dyn Syntax) -> Vec<String> {
    let mut out = Vec::new();
    if c.path_first {
        out.extend(c.path.as_deref().map(|p| syn.path(p)));
    }
    out.extend(
        c.deactivate_scripts
            .iter()
            .map(|s| syn.source(&s.display().to_string())),
    );
    out.extend(c.unset.iter().map(|n| syn.unset(n)));
    out.extend(c.set.iter().filter_map(|(n, v)| syn.set(n, v)));
    if !c.path_first {
        out.extend(c.path.as_deref().map(|p| syn.path(p)));
    }
    out.extend(c.export.iter().map(|(n, v)| syn.export(n, v)));
    out.extend(
        c.activate_scripts
            .iter()
            .map(|s| syn.source(&s.display().to_string())),
    );
    out
}

/// Single-quoted for POSIX shells: `'` becomes `'"'"'`.
pub fn sh_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\"'\"'"))
}

fn dq(value: &str) -> String {
    let mut out = String::from("\"");
    for ch in value.chars() {
        if matches!(ch, '\\' | '"' | '$' | '`') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('"');
    out
}

struct Posix;
impl Syntax for Posix {
    fn export(&self, name: &str, value: &str) -> String {
        format!("export {name}={}", sh_quote(value))
    }
    fn unset(&self, name: &str) -> String {
        format!("unset {name}")
    }
    fn set(&self, name: &str, value: &str) -> Option<String> {
        Some(format!("{name}={}", sh_quote(value)))
    }
    fn source(&self, script: &str) -> String {
        format!(". {}", dq(script))
    }
}

struct Csh;
impl Syntax for Csh {
    fn export(&self, name: &str, value: &str) -> String {
        format!("setenv {name} {}", dq(value))
    }
    fn unset(&self, name: &str) -> String {
        format!("unsetenv {name}")
    }
    fn set(&self, name: &str, value: &str) -> Option<String> {
        (name == "PS1").then(|| format!("set prompt='{}'", value.replace('\'', "'\\''")))
    }
    fn source(&self, script: &str) -> String {
        format!("source {}", dq(script))
    }
}

struct Fish;
impl Syntax for Fish {
    fn export(&self, name: &str, value: &str) -> String {
        format!("set -gx {name} {}", dq(value))
    }
    fn path(&self, value: &str) -> String {
        let parts: Vec<String> = value.split(':').filter(|p| !p.is_empty()).map(dq).collect();
        format!("set -gx PATH {}", parts.join(" "))
    }
    fn unset(&self, name: &str) -> String {
        format!("set -e {name} || true")
    }
    fn set(&self, _: &str, _: &str) -> Option<String> {
        // fish's prompt reads CONDA_PROMPT_MODIFIER through the hook's fish_prompt wrapper.
        None
    }
    fn source(&self, script: &str) -> String {
        format!("source {}", dq(script))
    }
}

/// A Python string literal (JSON's escaping is valid Python).
fn py(value: &str) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| format!("{value:?}"))
}

struct Xonsh;
impl Syntax for Xonsh {
    fn export(&self, name: &str, value: &str) -> String {
        format!("${name} = {}", py(value))
    }
    fn unset(&self, name: &str) -> String {
        format!("${{...}}.pop({}, None)", py(name))
    }
    fn set(&self, _: &str, _: &str) -> Option<String> {
        // xonsh's prompt is $PROMPT; conda leaves it to CONDA_PROMPT_MODIFIER.
        None
    }
    fn source(&self, script: &str) -> String {
        format!("source-bash --suppress-skip-message -n {}", py(script))
    }
}

/// A PowerShell verbatim string: single quotes, with every kind of single quote PowerShell
/// accepts (also U+2018..U+201B) doubled.
pub fn ps_quote(value: &str) -> String {
    let mut out = String::from("'");
    for c in value.chars() {
        out.push(c);
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// A variable name PowerShell reads as-is after `$Env:`.
fn plain_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

struct PowerShell;
impl Syntax for PowerShell {
    fn export(&self, name: &str, value: &str) -> String {
        if plain_name(name) {
            return format!("$Env:{name} = {}", ps_quote(value));
        }
        // `$Env:A.B` would not parse; Set-Item takes any name.
        format!(
            "Set-Item -LiteralPath {} -Value {}",
            ps_quote(&format!("Env:{name}")),
            ps_quote(value)
        )
    }
    fn unset(&self, name: &str) -> String {
        format!(
            "Remove-Item -LiteralPath {} -ErrorAction SilentlyContinue",
            ps_quote(&format!("Env:{name}"))
        )
    }
    fn set(&self, _: &str, _: &str) -> Option<String> {
        // The Conda module's prompt function shows CONDA_PROMPT_MODIFIER.
        None
    }
    fn source(&self, script: &str) -> String {
        format!(". {}", ps_quote(script))
    }
}

/// conda's `shell.<x>+json` shape.
pub fn to_json(c: &Changes) -> serde_json::Value {
    let path: Vec<&str> = c
        .path
        .as_deref()
        .map(|p| p.split(':').collect())
        .unwrap_or_default();
    serde_json::json!({
        "path": {"PATH": path},
        "vars": {
            "export": c.export.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(v.clone()))).collect::<serde_json::Map<_, _>>(),
            "unset": c.unset,
            "set": c.set.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(v.clone()))).collect::<serde_json::Map<_, _>>(),
        },
        "scripts": {"activate": c.activate_scripts, "deactivate": c.deactivate_scripts},
    })
}

#[cfg(test)]
mod tests {
    use super::ps_quote;

    #[test]
    fn powershell_quotes_every_single_quote_kind() {
        assert_eq!(ps_quote("it's $HOME"), "'it''s $HOME'");
        assert_eq!(ps_quote("John\u{2019}s"), "'John\u{2019}\u{2019}s'");
        assert_eq!(ps_quote(""), "''");
    }
}
