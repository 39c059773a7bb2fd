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
