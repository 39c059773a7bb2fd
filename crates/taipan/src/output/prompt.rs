//! Questions and progress lines: `Proceed ([y]/n)?`, `<phase>: done`.

use std::io::{BufRead, IsTerminal, Write};

use taipan_env::CondaError;

/// Asks `Proceed ([y]/n)? `; returns false on `n`. An empty answer, or none at all (no
/// terminal, end of input), takes the default, yes, as conda does.
pub fn confirm(yes: bool, json: bool) -> Result<bool, CondaError> {
    if yes || json {
        return Ok(true);
    }
    let stdin = std::io::stdin();
    loop {
        print!("\nProceed ([y]/n)? ");
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        let n = stdin.lock().read_line(&mut line)?;
        if n == 0 {
            println!();
            return Ok(true);
        }
        match line.trim().to_ascii_lowercase().as_str() {
            "" | "y" | "yes" => return Ok(true),
            "n" | "no" => return Ok(false),
            other => println!("Invalid choice: {other}"),
        }
    }
}

/// Prints `<msg>: done` / `...working... done` style step lines (quiet and json print nothing).
pub struct Step {
    enabled: bool,
}

impl Step {
    /// Starts a step line.
    pub fn start(msg: &str, enabled: bool) -> Self {
        if enabled {
            if std::io::stdout().is_terminal() {
                print!("{msg}: ");
            } else {
                print!("{msg}: ...working... ");
            }
            let _ = std::io::stdout().flush();
        }
        Self { enabled }
    }

    /// Ends it with `done` or `failed`.
    pub fn finish(self, ok: bool) {
        if self.enabled {
            println!("{}", if ok { "done" } else { "failed" });
        }
    }
}

/// Asks `Remove existing environment? (y/[n])`; default no.
pub fn confirm_remove() -> Result<bool, CondaError> {
    print!("Remove existing environment?\nThis will remove ALL directories contained within this specified prefix directory.\n (y/[n])? ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// `remove --all`'s second question: delete the environment directory, with whatever else
/// is in it? Default no (an empty answer or end of input keeps it).
pub fn confirm_delete(prefix: &std::path::Path) -> Result<bool, CondaError> {
    print!(
        "Everything found within the environment ({}), including any conda environment configurations and any non-conda files, will be deleted. Do you wish to continue?\n (y/[n])? ",
        prefix.display()
    );
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    let n = std::io::stdin().lock().read_line(&mut line)?;
    if n == 0 {
        println!();
    }
    Ok(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
