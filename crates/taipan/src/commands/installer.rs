//! `taipan installer build SPEC.yaml | --default`, and the hidden `installer finish` an
//! installer's embedded binary runs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use taipan_env::Result;

use super::helpers;
use crate::cli::Output;

/// Builds the installer of `spec`, or the embedded default distribution.
pub async fn build(
    spec: Option<&Path>,
    default: bool,
    out: &Path,
    binary: Option<PathBuf>,
    output: &Output,
) -> Result<u8> {
    helpers::init_logging(output.verbose);
    let binary = match binary {
        Some(b) => b,
        None => std::env::current_exe()?,
    };
    let env: HashMap<String, String> = std::env::vars().collect();
    let built = match spec {
        Some(spec) if !default => taipan_installer::build(spec, out, &binary, &env).await?,
        _ => taipan_installer::default_dist::build_default(out, &binary, &env).await?,
    };
    if output.is_json() {
        let v = serde_json::json!({
            "success": true,
            "installer": built.installer,
            "sha256_file": built.checksum,
            "packages": built.packages,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        println!(
            "Wrote {} ({} packages)",
            built.installer.display(),
            built.packages.len()
        );
        println!("Checksum in {}", built.checksum.display());
    }
    Ok(0)
}

/// The installer's last step (see [`taipan_installer::finish`]).
pub async fn finish(f: &taipan_installer::finish::Finish) -> Result<u8> {
    taipan_installer::finish::finish(f).await?;
    Ok(0)
}
