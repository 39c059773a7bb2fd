//! Why `conda config` refused a change, with conda's exception classes; shared by the rc
//! file editor and `--set`'s typing.

/// Why `conda config` refused a change; each variant is a conda exception class.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EditError {
    /// `CondaKeyError`: `'key': message`.
    #[error("{}: {message}", py_repr(key))]
    Key {
        /// The key as given.
        key: String,
        /// `unknown parameter`, `invalid parameter`, `undefined in config`, …
        message: String,
    },
    /// `CondaValueError`.
    #[error("{0}")]
    Value(String),
    /// `CustomValidationError`: a value that does not fit the parameter's type.
    #[error(
        "Parameter {name} = {} declared in {source_name} is invalid.\n{reason}",
        py_repr(value)
    )]
    Validation {
        /// The parameter.
        name: String,
        /// The value as given.
        value: String,
        /// Where it came from (`--set parameter`).
        source_name: String,
        /// Why it does not fit.
        reason: String,
    },
    /// `CondaError` (conda's `CouldntParseError` and write failures are reported as it).
    #[error("{0}")]
    Generic(String),
    /// `ParseError`: `--stdin` that is not YAML.
    #[error("invalid yaml content:\n{0}")]
    Parse(String),
}

impl EditError {
    /// conda's exception class name.
    pub fn class(&self) -> &'static str {
        match self {
            EditError::Key { .. } => "CondaKeyError",
            EditError::Value(_) => "CondaValueError",
            EditError::Validation { .. } => "CustomValidationError",
            EditError::Generic(_) => "CondaError",
            EditError::Parse(_) => "ParseError",
        }
    }

    pub(crate) fn key(key: &str, message: impl Into<String>) -> Self {
        EditError::Key {
            key: key.to_string(),
            message: message.into(),
        }
    }
}

/// Python's `repr` of a string: single quotes unless the text has one and no double quote.
pub fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}
