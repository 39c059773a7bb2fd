//! Errors carrying conda's exception names, so `--json` output and messages match conda.

use serde_json::{Map, Value};

/// conda's exception classes that taipan raises (`conda.exceptions.<name>`), plus taipan's
/// own (`DeployError`, `InstallError`). The name is what users and scripts see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    ArgumentError,
    ChannelDenied,
    ChannelError,
    ChannelNotAllowed,
    ChecksumMismatchError,
    ClobberError,
    CommandNotFoundError,
    CondaEnvException,
    CondaEnvironmentError,
    CondaError,
    CondaFileIOError,
    CondaKeyError,
    CondaHTTPError,
    CondaSSLError,
    CondaSystemExit,
    CondaUpdatePackageError,
    CondaValueError,
    CondaVerificationError,
    ConfigurationLoadError,
    CorruptedEnvironmentError,
    OperationNotAllowed,
    MultipleKeysError,
    CustomValidationError,
    DeployError,
    DisallowedPackageError,
    EnvironmentExporterNotDetected,
    EnvironmentFileEmpty,
    EnvironmentFileInvalid,
    EnvironmentFileNotFound,
    EnvironmentIsFrozenError,
    EnvironmentLocationNotFound,
    EnvironmentNameNotFound,
    EnvironmentNotWritableError,
    FileNotFoundError,
    InstallError,
    InvalidMatchSpec,
    InvalidSpecError,
    KeyboardInterrupt,
    LinkError,
    NoChannelsConfiguredError,
    NoWritableEnvsDirError,
    NoWritablePkgsDirError,
    OfflineError,
    PackageNotInstalledError,
    PackagesNotFoundError,
    ParseError,
    ProxyError,
    RemoveError,
    SafetyError,
    SpecsConfigurationConflictError,
    TooManyArgumentsError,
    UnavailableInvalidChannel,
    UnsatisfiableError,
    ValidationError,
    PackagesNotFoundInChannelsError,
    PackagesNotFoundInPrefixError,
    CondaIndexError,
}

impl ErrorKind {
    /// The exception's class name.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::ArgumentError => "ArgumentError",
            ErrorKind::ChannelDenied => "ChannelDenied",
            ErrorKind::ChannelError => "ChannelError",
            ErrorKind::ChannelNotAllowed => "ChannelNotAllowed",
            ErrorKind::ChecksumMismatchError => "ChecksumMismatchError",
            ErrorKind::ClobberError => "ClobberError",
            ErrorKind::CommandNotFoundError => "CommandNotFoundError",
            ErrorKind::CondaEnvException => "CondaEnvException",
            ErrorKind::CondaEnvironmentError => "CondaEnvironmentError",
            ErrorKind::CondaError => "CondaError",
            ErrorKind::CondaFileIOError => "CondaFileIOError",
            ErrorKind::CondaKeyError => "CondaKeyError",
            ErrorKind::CondaHTTPError => "CondaHTTPError",
            ErrorKind::CondaSSLError => "CondaSSLError",
            ErrorKind::CondaSystemExit => "CondaSystemExit",
            ErrorKind::CondaUpdatePackageError => "CondaUpdatePackageError",
            ErrorKind::CondaValueError => "CondaValueError",
            ErrorKind::CondaVerificationError => "CondaVerificationError",
            ErrorKind::ConfigurationLoadError => "ConfigurationLoadError",
            ErrorKind::CorruptedEnvironmentError => "CorruptedEnvironmentError",
            ErrorKind::OperationNotAllowed => "OperationNotAllowed",
            ErrorKind::MultipleKeysError => "MultipleKeysError",
            ErrorKind::CustomValidationError => "CustomValidationError",
            ErrorKind::DeployError => "DeployError",
            ErrorKind::DisallowedPackageError => "DisallowedPackageError",
            ErrorKind::EnvironmentExporterNotDetected => "EnvironmentExporterNotDetected",
            ErrorKind::EnvironmentFileEmpty => "EnvironmentFileEmpty",
            ErrorKind::EnvironmentFileInvalid => "EnvironmentFileInvalid",
            ErrorKind::EnvironmentFileNotFound => "EnvironmentFileNotFound",
            ErrorKind::EnvironmentIsFrozenError => "EnvironmentIsFrozenError",
            ErrorKind::EnvironmentLocationNotFound => "EnvironmentLocationNotFound",
            ErrorKind::EnvironmentNameNotFound => "EnvironmentNameNotFound",
            ErrorKind::EnvironmentNotWritableError => "EnvironmentNotWritableError",
            ErrorKind::FileNotFoundError => "FileNotFoundError",
            ErrorKind::InstallError => "InstallError",
            ErrorKind::InvalidMatchSpec => "InvalidMatchSpec",
            ErrorKind::InvalidSpecError => "InvalidSpecError",
            ErrorKind::KeyboardInterrupt => "KeyboardInterrupt",
            ErrorKind::LinkError => "LinkError",
            ErrorKind::NoChannelsConfiguredError => "NoChannelsConfiguredError",
            ErrorKind::NoWritableEnvsDirError => "NoWritableEnvsDirError",
            ErrorKind::NoWritablePkgsDirError => "NoWritablePkgsDirError",
            ErrorKind::OfflineError => "OfflineError",
            ErrorKind::PackageNotInstalledError => "PackageNotInstalledError",
            ErrorKind::PackagesNotFoundError => "PackagesNotFoundError",
            ErrorKind::ParseError => "ParseError",
            ErrorKind::ProxyError => "ProxyError",
            ErrorKind::RemoveError => "RemoveError",
            ErrorKind::SafetyError => "SafetyError",
            ErrorKind::SpecsConfigurationConflictError => "SpecsConfigurationConflictError",
            ErrorKind::TooManyArgumentsError => "TooManyArgumentsError",
            ErrorKind::UnavailableInvalidChannel => "UnavailableInvalidChannel",
            ErrorKind::ValidationError => "ValidationError",
            ErrorKind::UnsatisfiableError => "UnsatisfiableError",
            ErrorKind::PackagesNotFoundInChannelsError => "PackagesNotFoundInChannelsError",
            ErrorKind::PackagesNotFoundInPrefixError => "PackagesNotFoundInPrefixError",
            ErrorKind::CondaIndexError => "CondaIndexError",
        }
    }

    /// The Python module conda defines the exception in.
    pub fn module(self) -> &'static str {
        match self {
            ErrorKind::CustomValidationError | ErrorKind::MultipleKeysError => {
                "conda.common.configuration"
            }
            ErrorKind::ValidationError => "conda.auxlib.exceptions",
            _ => "conda.exceptions",
        }
    }

    /// The process exit code: 2 for usage errors, 1 for everything else.
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::ArgumentError | ErrorKind::TooManyArgumentsError => 2,
            _ => 1,
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error as conda reports it: an exception kind (`PackagesNotFoundError`, …), a message,
/// and optional extra JSON fields.
#[derive(Debug, Clone)]
pub struct CondaError {
    /// conda's exception class.
    pub kind: ErrorKind,
    /// The human message (without the `Name: ` prefix).
    pub message: String,
    /// Extra keys for the JSON error object (`packages`, `channel_urls`, …).
    pub extra: Box<Map<String, Value>>,
}

impl CondaError {
    /// An error of this kind.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            extra: Box::default(),
        }
    }

    /// A usage error (`ArgumentError`, exit code 2).
    pub fn argument(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ArgumentError, message)
    }

    /// `CondaError` for anything without a more specific class.
    pub fn generic(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::CondaError, message)
    }

    /// The exception's class name.
    pub fn name(&self) -> &'static str {
        self.kind.as_str()
    }

    /// The process exit code.
    pub fn exit_code(&self) -> i32 {
        self.kind.exit_code()
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
            Value::from(format!("{}: {}", self.name(), self.message)),
        );
        map.insert("exception_name".into(), Value::from(self.name()));
        map.insert(
            "exception_type".into(),
            Value::from(format!("<class '{}.{}'>", self.kind.module(), self.name())),
        );
        map.insert("message".into(), Value::from(self.message.clone()));
        for (k, v) in self.extra.iter() {
            map.insert(k.clone(), v.clone());
        }
        let mut sorted: Vec<_> = map.into_iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        Value::Object(sorted.into_iter().collect())
    }
}

impl std::fmt::Display for CondaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.name(), self.message)
    }
}

impl std::error::Error for CondaError {}

/// The configuration loader's errors, as the conda exceptions they are.
impl From<taipan_config::ConfigError> for CondaError {
    fn from(err: taipan_config::ConfigError) -> Self {
        use taipan_config::ConfigError as C;
        let kind = match &err {
            C::Io { .. } | C::InvalidYaml { .. } | C::NotAMapping { .. } => {
                ErrorKind::ConfigurationLoadError
            }
            C::InvalidValue { .. } | C::InvalidEnvVar { .. } | C::InvalidCliValue { .. } => {
                ErrorKind::CustomValidationError
            }
            C::MultipleKeys { .. } => ErrorKind::MultipleKeysError,
            C::OverrideChannelsDisabled => ErrorKind::OperationNotAllowed,
            C::OverrideChannelsWithoutChannel => ErrorKind::ArgumentError,
        };
        CondaError::new(kind, err.to_string())
    }
}

impl From<std::io::Error> for CondaError {
    fn from(err: std::io::Error) -> Self {
        CondaError::generic(err.to_string())
    }
}

/// Result alias used across taipan.
pub type Result<T, E = CondaError> = std::result::Result<T, E>;

/// Formats a conda "dashlist": each item on its own line prefixed by `  - `.
/// conda's `PackagesNotFoundInChannelsError` for `packages` not found in `channel_urls`, with
/// its message and JSON fields (`packages`, `packages_formatted`, `channel_urls`,
/// `channels_formatted`).
pub fn not_in_channels(packages: &[String], channel_urls: &[String]) -> CondaError {
    CondaError::new(
        ErrorKind::PackagesNotFoundInChannelsError,
        format!(
            "The following packages are not available from current channels:\n{}\n\nCurrent channels:\n{}\n\nTo search for alternate channels that may provide the conda package you're\nlooking for, navigate to\n\n    https://anaconda.org\n\nand use the search bar at the top of the page.\n",
            dashlist(packages),
            dashlist(channel_urls)
        ),
    )
    .with("packages", packages.to_vec())
    .with("packages_formatted", dashlist(packages))
    .with("channel_urls", channel_urls.to_vec())
    .with("channels_formatted", dashlist(channel_urls))
}

pub fn dashlist<I: IntoIterator<Item = S>, S: std::fmt::Display>(items: I) -> String {
    items
        .into_iter()
        .map(|i| format!("\n  - {i}"))
        .collect::<String>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_exit_codes_and_json() {
        assert_eq!(
            ErrorKind::PackagesNotFoundError.as_str(),
            "PackagesNotFoundError"
        );
        assert_eq!(CondaError::argument("x").exit_code(), 2);
        assert_eq!(CondaError::generic("x").exit_code(), 1);
        let json = CondaError::new(ErrorKind::LinkError, "boom")
            .with("url", "u")
            .to_json();
        assert_eq!(json["exception_name"], "LinkError");
        assert_eq!(json["error"], "LinkError: boom");
        assert_eq!(
            json["exception_type"],
            "<class 'conda.exceptions.LinkError'>"
        );
        assert_eq!(json["url"], "u");
        // conda's error objects have no `success` key.
        assert!(json.get("success").is_none());
    }

    #[test]
    fn configuration_errors_keep_their_conda_class() {
        let err: CondaError = taipan_config::ConfigError::OverrideChannelsDisabled.into();
        assert_eq!(err.name(), "OperationNotAllowed");
        let err: CondaError = taipan_config::ConfigError::OverrideChannelsWithoutChannel.into();
        assert_eq!(err.exit_code(), 2);
    }
}
