//! `conda notices`.

use taipan_env::ops::notices::notices;
use taipan_env::Result;

use super::helpers::Load;
use crate::cli::NoticesArgs;
use crate::output::prompt::Step;
use crate::output::Printer;

/// Runs `conda notices`: the configured channels' notices, or nothing.
pub async fn run(a: NoticesArgs, argv: &[String]) -> Result<u8> {
    let ctx = Load {
        channels: Some(&a.channels),
        ..Load::new(argv, &a.output)
    }
    .context()?;
    let printer = Printer::new(&a.output);
    // conda shows this line even with -q.
    let step = Step::start("Retrieving notices", !printer.json);
    let found = notices(&ctx).await?;
    step.finish(true);
    if printer.json {
        printer.json(&serde_json::json!(found
            .iter()
            .map(|n| n.to_json())
            .collect::<Vec<_>>()));
        return Ok(0);
    }
    let mut current: Option<&str> = None;
    for n in &found {
        if current != Some(n.channel_name.as_str()) {
            println!(
                "\nChannel \"{}\" has the following notices:",
                n.channel_name
            );
            current = Some(&n.channel_name);
        }
        let when = n.created_at.map(|t| t.ctime()).unwrap_or_default();
        println!(
            "  [{}] -- {when}\n  {}",
            n.level,
            n.message.as_deref().unwrap_or("None")
        );
        println!();
    }
    Ok(0)
}
