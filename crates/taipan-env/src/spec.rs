//! Match specs as users type them.

use rattler_conda_types::{MatchSpec, ParseStrictness};

use crate::error::{CondaError, ErrorKind, Result};

/// Parses a user spec string, with a clear error naming it.
pub fn parse_spec(text: &str) -> Result<MatchSpec> {
    MatchSpec::from_str(text.trim(), ParseStrictness::Lenient).map_err(|e| {
        CondaError::new(
            ErrorKind::InvalidMatchSpec,
            format!("Invalid spec '{text}': {e}\n  Write specs like `numpy`, `numpy=1.26`, `numpy>=1.20,<2` or `conda-forge::numpy`."),
        )
    })
}

/// A match spec whose name may be a pattern (`*ssl*`, `*[track_features=mkl]`), as
/// `search` and `remove --features`-style requests take it.
pub fn parse_query(text: &str) -> Result<MatchSpec> {
    let options =
        rattler_conda_types::ParseMatchSpecOptions::lenient().with_exact_names_only(false);
    MatchSpec::from_str(text.trim(), options).map_err(|e| {
        CondaError::new(
            ErrorKind::InvalidMatchSpec,
            format!("Invalid spec '{text}': {e}\n  Write specs like `numpy`, `num*`, `numpy>=1.20,<2` or `conda-forge::numpy`."),
        )
    })
}

/// A match spec as conda prints it (`MatchSpec.__str__`): `dependent=1.0` for `dependent 1.0.*`,
/// `dependent[version='>=1.0']` for `dependent >=1.0`, `python==3.12.0=h0` for an exact
/// version with a build. This is what conda records as `requested_spec`.
pub fn conda_str(spec: &MatchSpec) -> String {
    let mut builder = String::new();
    let mut brackets: Vec<String> = Vec::new();
    if let Some(channel) = &spec.channel {
        builder.push_str(channel.name.as_deref().unwrap_or(channel.base_url.as_str()));
        if let Some(subdir) = &spec.subdir {
            builder.push('/');
            builder.push_str(subdir);
        }
        builder.push_str("::");
    } else if let Some(subdir) = &spec.subdir {
        brackets.push(format!("subdir={subdir}"));
    }
    match spec.name.as_exact() {
        Some(name) => builder.push_str(name.as_source()),
        None => builder.push('*'),
    }
    let mut version_exact = false;
    if let Some(version) = &spec.version {
        let v = version.to_string();
        if v.contains(['>', '<', '$', '^', '|', ',']) {
            brackets.push(format!("version='{v}'"));
        } else if v.starts_with("!=") || v.starts_with("~=") {
            if spec.build.is_some() {
                brackets.push(format!("version='{v}'"));
            } else {
                builder.push_str(&v);
            }
        } else if let Some(prefix) = v.strip_suffix(".*") {
            builder.push('=');
            builder.push_str(prefix);
        } else if v == "*" {
        } else if let Some(prefix) = v.strip_suffix('*') {
            builder.push('=');
            builder.push_str(prefix);
        } else if v.starts_with("==") {
            builder.push_str(&v);
            version_exact = true;
        } else {
            builder.push_str("==");
            builder.push_str(&v);
            version_exact = true;
        }
    }
    if let Some(build) = &spec.build {
        let b = build.to_string();
        if b.contains(['>', '<', '$', '^', '|', ',']) {
            brackets.push(format!("build='{b}'"));
        } else if b.contains('*') || !version_exact {
            brackets.push(format!("build={b}"));
        } else {
            builder.push('=');
            builder.push_str(&b);
        }
    }
    if let Some(n) = spec.build_number.as_ref() {
        brackets.push(format!("build_number={n}"));
    }
    if let Some(md5) = &spec.md5 {
        brackets.push(format!("md5={}", crate::hex(md5)));
    }
    if let Some(sha) = &spec.sha256 {
        brackets.push(format!("sha256={}", crate::hex(sha)));
    }
    if !brackets.is_empty() {
        builder.push('[');
        builder.push_str(&brackets.join(","));
        builder.push(']');
    }
    builder
}

/// A spec the user typed, as conda records it in the history's `update specs` and shows as
/// "added / updated specs" (`dependency 1.*` → `dependency=1`); text that does not parse is
/// kept as typed.
pub fn conda_text(text: &str) -> String {
    parse_spec(text)
        .map(|s| conda_str(&s))
        .unwrap_or_else(|_| text.trim().to_string())
}

#[cfg(test)]
mod conda_str_tests {
    use super::*;

    #[test]
    fn specs_print_as_conda_prints_them() {
        for (text, conda) in [
            ("dependent=1.0", "dependent=1.0"),
            ("dependent 1.0.*", "dependent=1.0"),
            ("dependency 1.*", "dependency=1"),
            ("dependent >=1.0", "dependent[version='>=1.0']"),
            ("dependent", "dependent"),
            ("python==3.12.0=h0", "python==3.12.0=h0"),
            ("python=3.12=h0", "python==3.12=h0"),
            ("dependent 1.0", "dependent==1.0"),
            ("x 1.0 h0", "x==1.0=h0"),
            ("x >=1,<2", "x[version='>=1,<2']"),
        ] {
            assert_eq!(conda_str(&parse_spec(text).unwrap()), conda, "{text}");
        }
    }
}
