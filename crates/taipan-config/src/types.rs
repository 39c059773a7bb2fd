//! Typed values of enumerated parameters.

use std::fmt;
use std::path::PathBuf;

use serde::{Serialize, Serializer};

/// `channel_priority`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelPriority {
    /// Packages in lower-priority channels are not considered if a higher-priority channel
    /// has the package name.
    Strict,
    /// Channel priority is preferred but a lower channel can supply a package (the default;
    /// also what `true` means).
    #[default]
    Flexible,
    /// Channels are ignored for priority (what `false` means).
    Disabled,
}

impl ChannelPriority {
    /// The lower-case name conda uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "strict",
            Self::Flexible => "flexible",
            Self::Disabled => "disabled",
        }
    }

    pub(crate) fn from_name(s: &str) -> Option<Self> {
        match s {
            "strict" => Some(Self::Strict),
            "flexible" => Some(Self::Flexible),
            "disabled" => Some(Self::Disabled),
            _ => None,
        }
    }
}

/// `safety_checks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SafetyChecks {
    /// No verification of package files.
    Disabled,
    /// Verify and warn (the default).
    #[default]
    Warn,
    /// Verify and fail.
    Enabled,
}

impl SafetyChecks {
    /// The lower-case name conda uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disabled => "disabled",
            Self::Warn => "warn",
            Self::Enabled => "enabled",
        }
    }

    pub(crate) fn from_name(s: &str) -> Option<Self> {
        match s {
            "disabled" => Some(Self::Disabled),
            "warn" => Some(Self::Warn),
            "enabled" => Some(Self::Enabled),
            _ => None,
        }
    }
}

/// `path_conflict`: what to do when two packages install the same file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PathConflict {
    /// Overwrite silently (the default).
    #[default]
    Clobber,
    /// Overwrite with a warning.
    Warn,
    /// Fail the transaction.
    Prevent,
}

impl PathConflict {
    /// The lower-case name conda uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clobber => "clobber",
            Self::Warn => "warn",
            Self::Prevent => "prevent",
        }
    }

    pub(crate) fn from_name(s: &str) -> Option<Self> {
        match s {
            "clobber" => Some(Self::Clobber),
            "warn" => Some(Self::Warn),
            "prevent" => Some(Self::Prevent),
            _ => None,
        }
    }
}

macro_rules! display_as_str {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}
display_as_str!(ChannelPriority, SafetyChecks, PathConflict);

/// `ssl_verify`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SslVerify {
    /// Verify against the bundled CA certificates (`true`, the default).
    #[default]
    Enabled,
    /// Do not verify (`false`, or `--insecure`).
    Disabled,
    /// Verify against this CA bundle file or directory of certificates.
    CaPath(PathBuf),
    /// Verify against the operating system's certificate store (`truststore`).
    Truststore,
}

impl SslVerify {
    /// The value as it would be written in a `.condarc`.
    pub fn to_yaml(&self) -> serde_yaml::Value {
        match self {
            Self::Enabled => serde_yaml::Value::Bool(true),
            Self::Disabled => serde_yaml::Value::Bool(false),
            Self::CaPath(p) => serde_yaml::Value::String(p.display().to_string()),
            Self::Truststore => serde_yaml::Value::String("truststore".into()),
        }
    }
}

impl Serialize for SslVerify {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_yaml().serialize(s)
    }
}

impl fmt::Display for SslVerify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Enabled => f.write_str("True"),
            Self::Disabled => f.write_str("False"),
            Self::CaPath(p) => write!(f, "{}", p.display()),
            Self::Truststore => f.write_str("truststore"),
        }
    }
}
