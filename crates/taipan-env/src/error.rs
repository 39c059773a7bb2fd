//! Errors carrying conda's exception names, so `--json` output and messages match conda.

use serde_json::{Map, Value};

/// An error as conda reports it: an exception name (`PackagesNotFoundError`, …), a message,
/// optional extra JSON fields, and the process exit code.
#[derive(Debug, Clone)]
pub struct CondaError {
    /// conda's exception class name, e.g. `PackagesNotFoundError`.
    pub name: String,
    /// The human message (without the `Name: ` prefix).
    pub message: String,
    /// Extra keys for the JSON error object (`packages`, `channel_urls`, …).
    pub extra: Box<Map<String, Value>>,
    /// Exit code: 1 for errors, 2 for usage errors.
    pub exit_code: i32,
}

impl CondaError {
    /// A generic error with exit code 1.
    pub fn new(name: &str, message: impl Into<String>) -> Self {
        Self {
            name: name.to_string(),
            message: message.into(),
            extra: Box::default(),
            exit_code: 1,
        }
    }

    /// A usage error (`ArgumentError`, exit code 2).
    pub fn argument(message: impl Into<String>) -> Self {
        Self {
            exit_code: 2,
            ..Self::new("ArgumentError", message)
        }
    }

    /// `CondaError` for anything without a more specific class.
    pub fn generic(message: impl Into<String>) -> Self {
        Self::new("CondaError", message)
    }

    /// Adds an extra JSON field.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_string(), value.into());
        self
    }

    /// The JSON object conda prints for this error.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("caused_by".into(), Value::from("None"));
        map.insert(
            "error".into(),
            Value::from(format!("{}: {}", self.name, self.message)),
        );
        map.insert("exception_name".into(), Value::from(self.name.clone()));
        map.insert(
            "exception_type".into(),
            Value::from(format!("<class 'conda.exceptions.{}'>", self.name)),
        );
        map.insert("message".into(), Value::from(self.message.clone()));
        for (k, v) in self.extra.iter() {
            map.insert(k.clone(), v.clone());
        }
        map.insert("success".into(), Value::from(false));
        let mut sorted: Vec<_> = map.into_iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        Value::Object(sorted.into_iter().collect())
    }
}

impl std::fmt::Display for CondaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.name, self.message)
    }
}

impl std::error::Error for CondaError {}

impl From<std::io::Error> for CondaError {
    fn from(err: std::io::Error) -> Self {
        CondaError::generic(err.to_string())
    }
}

/// Result alias used across taipan.
pub type Result<T, E = CondaError> = std::result::Result<T, E>;

/// Formats a conda "dashlist": each item on its own line prefixed by `  - `.
pub fn dashlist<I: IntoIterator<Item = S>, S: std::fmt::Display>(items: I) -> String {
    items
        .into_iter()
        .map(|i| format!("\n  - {i}"))
        .collect::<String>()
}
