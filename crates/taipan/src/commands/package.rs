//! `conda package`: `--which FILE…`, `--untracked`, `--reset`.

use taipan_env::ops::package;
use taipan_env::{CondaError, Result};

use super::helpers::Load;
use crate::cli::{Output, PackageArgs};

/// Runs `conda package`.
pub fn run(a: PackageArgs, argv: &[String]) -> Result<u8> {
    let output = Output {
        json: false,
        quiet: false,
        verbose: a.verbose,
    };
    let ctx = Load {
        target: Some(&a.target),
        ..Load::new(argv, &output)
    }
    .context()?;
    if let Some(paths) = &a.which {
        for path in paths {
            for dist in package::which(path)? {
                println!("{:<50}  {dist}", path.display());
            }
        }
        return Ok(0);
    }
    let prefix = ctx.target_prefix(a.target.name.as_deref(), a.target.prefix.as_deref())?;
    if !(a.reset || a.untracked) {
        return Err(CondaError::argument(
            "conda package without --which, --untracked or --reset builds a package from the untracked files; taipan does not support that.\n  Use conda-build or rattler-build to make packages.",
        ));
    }
    ctx.require_env(&prefix, a.target.name.as_deref())?;
    println!("# prefix: {}", prefix.display());
    if a.reset {
        package::reset(&prefix)?;
        return Ok(0);
    }
    let files = package::untracked(&prefix)?;
    println!("# untracked files: {}", files.len());
    for f in files {
        println!("{}", f.display());
    }
    Ok(0)
}
