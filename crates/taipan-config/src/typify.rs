//! `conda config --set`: turning the text given on the command line into a parameter's
//! type, with conda's coercion rules (conda's `typify`/`boolify`) and error texts.

use serde_yaml::Value;

use crate::describe::ParamInfo;
use crate::edit_error::{py_repr, EditError};

/// The value `text` gives the primitive parameter `info`, or conda's validation error.
pub(crate) fn typify(info: &ParamInfo, text: &str, source: &str) -> Result<Value, EditError> {
    let types = info.element_types();
    let has = |t: &str| types.contains(&t);
    let invalid = |reason: String| EditError::Validation {
        name: error_name(info.name()).to_string(),
        value: text.to_string(),
        source_name: source.to_string(),
        reason,
    };
    if let Some(choices) = enum_choices(info.name()) {
        return enum_value(info.name(), text, choices).map_err(invalid);
    }
    match types.as_slice() {
        ["int"] => py_int(text).map(Value::from).map_err(invalid),
        ["float"] => py_float(text).map(Value::from).map_err(invalid),
        ["bool"] => boolify(text, false).map(Value::Bool).map_err(invalid),
        _ if has("bool") && has("NoneType") => match boolify_nullable(text) {
            Ok(Some(b)) => Ok(Value::Bool(b)),
            Ok(None) => Ok(Value::Null),
            Err(e) => Err(invalid(e)),
        },
        _ if has("str") && has("bool") => {
            Ok(boolify(text, false).map_or_else(|_| Value::String(text.into()), Value::Bool))
        }
        _ if has("str") && has("NoneType") => Ok(if text.to_lowercase() == "none" {
            Value::Null
        } else {
            Value::String(text.into())
        }),
        _ if has("bool") && has("int") => Ok(str_no_hint(text)),
        _ => Ok(Value::String(text.into())),
    }
}

/// conda names a few parameters by their private attribute in validation errors.
fn error_name(name: &str) -> String {
    const PRIVATE: &[&str] = &[
        "default_threads",
        "repodata_threads",
        "fetch_threads",
        "verify_threads",
        "execute_threads",
        "verbosity",
        "root_prefix",
        "subdir",
        "channel_alias",
        "default_activation_env",
        "console",
        "croot",
        "report_errors",
        "use_only_tar_bz2",
        "signing_metadata_url_base",
        "error_upload_url",
        "trace",
        "debug",
    ];
    if PRIVATE.contains(&name) {
        format!("_{name}")
    } else {
        name.to_string()
    }
}

/// The enumerations conda's `--set` checks: (value names, member names) per parameter.
fn enum_choices(name: &str) -> Option<(&'static str, &'static [&'static str], bool)> {
    // (conda's enum class, values, whether members are named in upper case)
    match name {
        "channel_priority" => Some(("ChannelPriority", &["strict", "flexible", "disabled"], true)),
        "safety_checks" => Some(("SafetyChecks", &["disabled", "warn", "enabled"], false)),
        "path_conflict" => Some(("PathConflict", &["clobber", "warn", "prevent"], false)),
        _ => None,
    }
}

fn enum_value(
    name: &str,
    text: &str,
    (class, values, upper): (&str, &[&str], bool),
) -> Result<Value, String> {
    let text = text.trim();
    let by_member = |t: &str| {
        values.iter().find(|v| {
            if upper {
                v.to_uppercase() == t
            } else {
                **v == t
            }
        })
    };
    let found = values
        .iter()
        .find(|v| **v == text)
        .or_else(|| by_member(text));
    let found = found
        .copied()
        .or(match (name, text.to_lowercase().as_str()) {
            ("channel_priority", "true") => Some("flexible"),
            ("channel_priority", "false") => Some("disabled"),
            _ => None,
        });
    found.map(|v| Value::String(v.into())).ok_or_else(|| {
        let choices: Vec<String> = values.iter().map(|v| format!("'{v}'")).collect();
        format!(
            "{} is not a valid {class}\nValid choices for {name}: {}",
            py_repr(text),
            choices.join(", ")
        )
    })
}

/// Python's `int()` of a string: optional sign, digits, single `_` between digits.
fn py_int(text: &str) -> Result<i64, String> {
    let err = || format!("invalid literal for int() with base 10: {}", py_repr(text));
    let t = text.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    let ok = !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_');
    if !ok {
        return Err(err());
    }
    t.replace('_', "").parse::<i64>().map_err(|_| err())
}

/// Python's `float()` of a string.
fn py_float(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let lower = t.to_lowercase();
    let bare = lower.trim_start_matches(['+', '-']);
    let word = matches!(bare, "inf" | "infinity" | "nan");
    let ok = word
        || (!t.is_empty()
            && t.chars()
                .all(|c| c.is_ascii_digit() || "+-.eE_".contains(c)));
    ok.then(|| t.replace('_', "").parse::<f64>().ok())
        .flatten()
        .ok_or_else(|| format!("could not convert string to float: {}", py_repr(text)))
}

const TRUE_WORDS: &[&str] = &["true", "yes", "on", "y"];
const FALSE_WORDS: &[&str] = &["false", "off", "n", "no", "non", "none", ""];
const NULL_WORDS: &[&str] = &["none", "~", "null", "\0"];

/// conda's `boolify`: numbers by value, yes/no words, else an error.
fn boolify(text: &str, _nullable: bool) -> Result<bool, String> {
    let val = text.trim().to_lowercase().replacen('.', "", 1);
    if !val.is_empty() && val.chars().all(|c| c.is_numeric()) {
        return Ok(val.chars().any(|c| c != '0'));
    }
    if TRUE_WORDS.contains(&val.as_str()) {
        return Ok(true);
    }
    if FALSE_WORDS.contains(&val.as_str()) {
        return Ok(false);
    }
    Err(format!("The value {} cannot be boolified.", py_repr(text)))
}

/// `boolify(nullable=True)`: null words give `None` (before the false words).
fn boolify_nullable(text: &str) -> Result<Option<bool>, String> {
    let val = text.trim().to_lowercase();
    if !val.replacen('.', "", 1).chars().all(|c| c.is_numeric()) || val.is_empty() {
        if TRUE_WORDS.contains(&val.as_str()) {
            return Ok(Some(true));
        }
        if NULL_WORDS.contains(&val.as_str()) {
            return Ok(None);
        }
    }
    boolify(text, true).map(Some)
}

/// conda's `typify_str_no_hint` for bool-or-int parameters: `true`/`false` words,
/// integers, else the string.
fn str_no_hint(text: &str) -> Value {
    match text.trim().to_lowercase().as_str() {
        "true" | "yes" | "on" => Value::Bool(true),
        "false" | "no" | "off" => Value::Bool(false),
        t => t
            .parse::<i64>()
            .map_or_else(|_| Value::String(text.into()), Value::from),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::describe::by_name;

    fn set(name: &str, text: &str) -> Result<Value, String> {
        typify(by_name(name).unwrap(), text, "--set parameter").map_err(|e| e.to_string())
    }

    /// Results recorded from conda 26.7's `Context.typify_parameter`.
    #[test]
    fn coercion_matches_conda() {
        assert_eq!(set("always_yes", "yes"), Ok(Value::Bool(true)));
        assert_eq!(set("always_yes", "0"), Ok(Value::Bool(false)));
        assert_eq!(set("always_yes", "null"), Ok(Value::Null));
        assert_eq!(set("always_yes", ""), Ok(Value::Bool(false)));
        assert_eq!(set("changeps1", "None"), Ok(Value::Bool(false)));
        assert_eq!(set("changeps1", "2"), Ok(Value::Bool(true)));
        assert_eq!(set("auto_stack", " 3"), Ok(Value::from(3)));
        assert_eq!(set("auto_stack", "1_0"), Ok(Value::from(10)));
        assert_eq!(
            set("remote_connect_timeout_secs", "3"),
            Ok(Value::from(3.0))
        );
        assert_eq!(set("default_python", "None"), Ok(Value::Null));
        assert_eq!(
            set("default_python", "null"),
            Ok(Value::String("null".into()))
        );
        assert_eq!(set("ssl_verify", "false"), Ok(Value::Bool(false)));
        assert_eq!(set("ssl_verify", "/x"), Ok(Value::String("/x".into())));
        assert_eq!(
            set("channel_priority", "STRICT"),
            Ok(Value::String("strict".into()))
        );
        assert_eq!(
            set("channel_priority", "true"),
            Ok(Value::String("flexible".into()))
        );
        assert_eq!(set("local_repodata_ttl", "7"), Ok(Value::from(7)));
        assert_eq!(
            set("env_prompt", " a b "),
            Ok(Value::String(" a b ".into()))
        );
    }

    #[test]
    fn errors_match_conda() {
        assert_eq!(
            set("auto_stack", "notanint").unwrap_err(),
            "Parameter auto_stack = 'notanint' declared in --set parameter is invalid.\n\
             invalid literal for int() with base 10: 'notanint'"
        );
        assert_eq!(
            set("safety_checks", "WARN").unwrap_err(),
            "Parameter safety_checks = 'WARN' declared in --set parameter is invalid.\n\
             'WARN' is not a valid SafetyChecks\nValid choices for safety_checks: 'disabled', 'warn', 'enabled'"
        );
        assert_eq!(
            set("changeps1", "maybe").unwrap_err(),
            "Parameter changeps1 = 'maybe' declared in --set parameter is invalid.\n\
             The value 'maybe' cannot be boolified."
        );
        assert!(set("default_threads", "abc")
            .unwrap_err()
            .starts_with("Parameter _default_threads = 'abc'"));
        assert!(set("remote_connect_timeout_secs", "x")
            .unwrap_err()
            .ends_with("could not convert string to float: 'x'"));
    }
}
