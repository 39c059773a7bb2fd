//! `conda compare`.

use taipan_env::ops::compare::{compare, SUCCESS};
use taipan_env::Result;

use super::helpers::Load;
use crate::cli::CompareArgs;
use crate::output::Printer;

/// Runs `conda compare`: exit 1 on a mismatch.
pub fn run(a: CompareArgs) -> Result<u8> {
    let argv = super::helpers::argv();
    let ctx = Load {
        target: Some(&a.target),
        ..Load::new(&argv, &a.output)
    }
    .context()?;
    let prefix = ctx.target_prefix(a.target.name.as_deref(), a.target.prefix.as_deref())?;
    ctx.require_env(&prefix, a.target.name.as_deref())?;
    let file = taipan_env::envfile::read(&taipan_env::context::absolute(&a.file))?;
    let errors = compare(&prefix, &file)?;
    let (code, lines) = if errors.is_empty() {
        (0, vec![SUCCESS.to_string()])
    } else {
        (1, errors)
    };
    let printer = Printer::new(&a.output);
    if printer.json {
        printer.json(&serde_json::json!(lines));
    } else {
        println!("{}", lines.join("\n"));
    }
    Ok(code)
}
