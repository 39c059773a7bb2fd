//! Normalised parameter values: what one source says about one parameter, after type checking.

use serde_yaml::Value;

use crate::params::Kind;

/// A type-checked value in canonical form (enums as their lower-case names, paths as strings).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Norm {
    /// YAML `null` (only for nullable kinds).
    Null,
    /// A boolean.
    Bool(bool),
    /// A non-negative integer.
    UInt(u64),
    /// A float.
    Float(f64),
    /// A string (also enum names).
    Str(String),
    /// A list of strings.
    Seq(Vec<String>),
    /// A map in document order; values are `Str`/`Null` or `Seq`.
    Map(Vec<(String, Norm)>),
    /// An unmodelled value, kept as YAML.
    Any(Value),
}

impl Norm {
    /// This value as YAML, for `config --show-sources` style output.
    pub fn to_yaml(&self) -> Value {
        match self {
            Norm::Null => Value::Null,
            Norm::Bool(b) => Value::Bool(*b),
            Norm::UInt(n) => Value::Number((*n).into()),
            Norm::Float(f) => Value::Number((*f).into()),
            Norm::Str(s) => Value::String(s.clone()),
            Norm::Seq(items) => Value::Sequence(items.iter().cloned().map(Value::String).collect()),
            Norm::Map(entries) => Value::Mapping(
                entries
                    .iter()
                    .map(|(k, v)| (Value::String(k.clone()), v.to_yaml()))
                    .collect(),
            ),
            Norm::Any(v) => v.clone(),
        }
    }
}

const TRUE_WORDS: &[&str] = &["true", "yes", "on", "y"];
const FALSE_WORDS: &[&str] = &["false", "off", "n", "no", "non", "none", ""];
const NULL_WORDS: &[&str] = &["none", "~", "null"];

/// conda's `boolify` for strings: `yes`/`no`, `true`/`false`, `on`/`off`, numbers.
fn boolify_str(s: &str) -> Option<bool> {
    let v = s.trim().to_ascii_lowercase().replace(',', "");
    if let Ok(n) = v.parse::<f64>() {
        return Some(n != 0.0);
    }
    if TRUE_WORDS.contains(&v.as_str()) {
        Some(true)
    } else if FALSE_WORDS.contains(&v.as_str()) {
        Some(false)
    } else {
        None
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string '{s}'"),
        Value::Sequence(_) => "a list".into(),
        Value::Mapping(_) => "a mapping".into(),
        Value::Tagged(t) => format!("a value tagged {}", t.tag),
    }
}

fn expected(what: &str, v: &Value) -> String {
    format!("expected {what}, found {}", describe(v))
}

fn to_bool(v: &Value) -> Result<bool, String> {
    let got = match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_f64().map(|f| f != 0.0),
        Value::String(s) => boolify_str(s),
        _ => None,
    };
    got.ok_or_else(|| expected("a boolean (true or false)", v))
}

fn is_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => NULL_WORDS.contains(&s.trim().to_ascii_lowercase().as_str()),
        _ => false,
    }
}

fn to_uint(v: &Value) -> Result<u64, String> {
    let got = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    got.ok_or_else(|| expected("a non-negative integer", v))
}

fn to_float(v: &Value) -> Result<f64, String> {
    let got = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    got.ok_or_else(|| expected("a number", v))
}

/// A scalar rendered as a string (numbers and booleans as YAML writes them).
fn to_str(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(expected("a string", v)),
    }
}

fn to_choice(v: &Value, choices: &[&str]) -> Result<String, String> {
    let s = match v {
        Value::String(s) => s.trim().to_ascii_lowercase(),
        _ => String::new(),
    };
    if choices.contains(&s.as_str()) {
        return Ok(s);
    }
    Err(expected(&format!("one of {}", choices.join(", ")), v))
}

fn to_channel_priority(v: &Value) -> Result<String, String> {
    const CHOICES: &[&str] = &["strict", "flexible", "disabled"];
    if let Ok(s) = to_choice(v, CHOICES) {
        return Ok(s);
    }
    match to_bool(v) {
        Ok(true) => Ok("flexible".into()),
        Ok(false) => Ok("disabled".into()),
        Err(_) => to_choice(v, CHOICES),
    }
}

fn to_ssl_verify(v: &Value) -> Result<Norm, String> {
    if let Value::Bool(b) = v {
        return Ok(Norm::Bool(*b));
    }
    let s = to_str(v).map_err(|_| expected("a boolean, a path or 'truststore'", v))?;
    if let Some(b) = boolify_str(&s).filter(|_| !s.trim().is_empty()) {
        return Ok(Norm::Bool(b));
    }
    if s == "truststore" || std::path::Path::new(&s).exists() {
        return Ok(Norm::Str(s));
    }
    Err(format!(
        "ssl_verify value '{s}' must be a boolean, a path to a certificate bundle file, a path to \
         a directory containing certificates of trusted CAs, or 'truststore' to use the operating \
         system certificate store"
    ))
}

/// conda's `has_scheme`: `[a-z][a-z0-9]{0,11}://` at the start.
pub(crate) fn has_scheme(s: &str) -> bool {
    let Some((scheme, _)) = s.split_once("://") else {
        return false;
    };
    let mut chars = scheme.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    first_ok && scheme.len() <= 12 && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

fn to_channel_alias(v: &Value) -> Result<String, String> {
    let s = to_str(v)?;
    if !s.is_empty() && !has_scheme(&s) {
        return Err(format!(
            "channel_alias value '{s}' must have scheme/protocol"
        ));
    }
    Ok(s)
}

fn to_seq(v: &Value) -> Result<Vec<String>, String> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Sequence(items) => items
            .iter()
            .map(|item| to_str(item).map_err(|e| format!("list item: {e}")))
            .collect(),
        _ => Err(expected("a list", v)),
    }
}

fn to_map(v: &Value, value_kind: Kind) -> Result<Vec<(String, Norm)>, String> {
    let map = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Mapping(m) => m,
        _ => return Err(expected("a mapping", v)),
    };
    map.iter()
        .map(|(k, val)| {
            let key = to_str(k).map_err(|e| format!("mapping key: {e}"))?;
            let norm = from_yaml(value_kind, val).map_err(|e| format!("'{key}': {e}"))?;
            Ok((key, norm))
        })
        .collect()
}

fn scalar(kind: Kind, v: &Value) -> Result<Norm, String> {
    Ok(match kind {
        Kind::Bool => Norm::Bool(to_bool(v)?),
        Kind::UInt => Norm::UInt(to_uint(v)?),
        Kind::Float => Norm::Float(to_float(v)?),
        Kind::Str => Norm::Str(to_str(v)?),
        Kind::Ttl => match v {
            Value::Bool(b) => Norm::UInt(u64::from(*b)),
            _ => Norm::UInt(to_uint(v)?),
        },
        Kind::Choice(choices) => Norm::Str(to_choice(v, choices)?),
        Kind::ChannelPriority => Norm::Str(to_channel_priority(v)?),
        Kind::SslVerify => to_ssl_verify(v)?,
        Kind::ChannelAlias => Norm::Str(to_channel_alias(v)?),
        _ => Norm::Any(v.clone()),
    })
}

/// The element type of a map-valued kind.
fn map_value_kind(kind: Kind) -> Option<Kind> {
    match kind {
        Kind::StrMap => Some(Kind::Str),
        Kind::OptStrMap => Some(Kind::OptStr),
        Kind::SeqMap => Some(Kind::Seq(',')),
        _ => None,
    }
}

/// Points at the part of a value that failed type checking.
#[derive(Debug, PartialEq)]
pub(crate) enum BadChild {
    /// The n-th item of a list.
    Index(usize),
    /// The entry with this key of a mapping.
    Key(String),
}

/// The first list item / mapping entry of `v` that does not type-check for `kind`.
pub(crate) fn first_bad_child(kind: Kind, v: &Value) -> Option<BadChild> {
    match (kind, v) {
        (Kind::Seq(_), Value::Sequence(items)) => items
            .iter()
            .position(|i| to_str(i).is_err())
            .map(BadChild::Index),
        (_, Value::Mapping(m)) => {
            let inner = map_value_kind(kind)?;
            m.iter()
                .find(|(k, val)| to_str(k).is_err() || from_yaml(inner, val).is_err())
                .and_then(|(k, _)| to_str(k).ok())
                .map(BadChild::Key)
        }
        _ => None,
    }
}

/// Type-checks a YAML value for a parameter of `kind`.
pub(crate) fn from_yaml(kind: Kind, v: &Value) -> Result<Norm, String> {
    if let Value::Tagged(t) = v {
        return from_yaml(kind, &t.value);
    }
    match kind {
        Kind::OptBool if is_null(v) => Ok(Norm::Null),
        Kind::OptBool => Ok(Norm::Bool(to_bool(v)?)),
        Kind::OptStr if matches!(v, Value::Null) => Ok(Norm::Null),
        Kind::OptStr => Ok(Norm::Str(to_str(v)?)),
        Kind::Seq(_) => Ok(Norm::Seq(to_seq(v)?)),
        Kind::StrMap | Kind::OptStrMap | Kind::SeqMap => {
            let inner = map_value_kind(kind).unwrap_or(Kind::Str);
            Ok(Norm::Map(to_map(v, inner)?))
        }
        Kind::Any => Ok(Norm::Any(v.clone())),
        _ => scalar(kind, v),
    }
}

/// Type-checks the (already `!important`-stripped) value of a `CONDA_*` environment variable.
/// Sequences are split on the kind's delimiter; empty items are dropped.
pub(crate) fn from_env(kind: Kind, raw: &str) -> Result<Norm, String> {
    match kind {
        Kind::Seq(delim) => Ok(Norm::Seq(
            raw.split(delim)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
        )),
        Kind::StrMap | Kind::OptStrMap | Kind::SeqMap => {
            Err("a mapping cannot be set from an environment variable".into())
        }
        Kind::Any => Ok(Norm::Any(Value::String(raw.to_string()))),
        _ => from_yaml(kind, &Value::String(raw.trim().to_string())),
    }
}
