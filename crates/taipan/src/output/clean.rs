//! `conda clean`'s text: what each target holds (`Will remove 2 (8 KB) tarball(s).`, or the
//! table with `-v`), the question, and the removals.

use std::io::{BufRead, Write};
use std::path::Path;

use taipan_env::ops::clean::{CleanReporter, Found, NotRemoved, Sized};
use taipan_env::Result;

use super::Printer;

pub use taipan_env::listing::human_bytes;

/// The CLI side of `conda clean`.
pub struct CleanCli {
    /// Output mode.
    pub printer: Printer,
    /// `-v`: tables and `Removed <path>` lines.
    pub verbose: bool,
    /// `-y` / `always_yes`.
    pub yes: bool,
}

impl CleanCli {
    fn quiet(&self) -> bool {
        !self.printer.text()
    }

    fn sized(&self, name: &str, s: &Sized) {
        for w in &s.warnings {
            println!("{w}");
        }
        if s.is_empty() {
            println!("There are no unused {name} to remove.");
            return;
        }
        if self.verbose {
            println!("Will remove the following {name}:");
            for (dir, entries) in &s.pkg_sizes {
                let dir = dir.display().to_string();
                println!("  {dir}");
                println!("  {}", "-".repeat(dir.chars().count()));
                for (pkg, size) in entries {
                    println!("  - {pkg:<40} {:>10}", human_bytes(*size));
                }
                println!();
            }
            println!("{}", "-".repeat(17));
            println!("Total: {:>10}", human_bytes(s.total_size));
            println!();
        } else {
            println!(
                "Will remove {} ({}) {name}.",
                s.count(),
                human_bytes(s.total_size)
            );
        }
    }

    fn items(&self, name: &str, items: &[std::path::PathBuf]) {
        if items.is_empty() {
            println!("There are no {name} to remove.");
            return;
        }
        if self.verbose {
            println!("Will remove the following {name}:");
            for item in items {
                println!("  - {}", item.display());
            }
            println!();
        } else {
            println!("Will remove {} {name}.", items.len());
        }
    }
}

impl CleanReporter for CleanCli {
    fn found(&self, found: &Found) {
        if self.quiet() {
            return;
        }
        match found {
            Found::Tarballs(s) | Found::Packages(s) => self.sized(found.name(), s),
            Found::PkgsDirs(v)
            | Found::IndexCache(v)
            | Found::Tempfiles(v)
            | Found::Logfiles(v) => self.items(found.name(), v),
        }
    }

    /// conda's question here has no blank line before it, and a line break after the answer.
    fn confirm(&self) -> Result<bool> {
        if self.yes || self.printer.json {
            return Ok(true);
        }
        let stdin = std::io::stdin();
        loop {
            print!("Proceed ([y]/n)? ");
            let _ = std::io::stdout().flush();
            let mut line = String::new();
            let n = stdin.lock().read_line(&mut line)?;
            println!();
            if n == 0 {
                // No answer (no terminal): conda takes the default, yes.
                return Ok(true);
            }
            match line.trim().to_ascii_lowercase().as_str() {
                "" | "y" | "yes" => return Ok(true),
                "n" | "no" => return Ok(false),
                other => println!("Invalid choice: {other}"),
            }
        }
    }

    fn removed(&self, path: &Path) {
        if !self.quiet() && self.verbose {
            println!("Removed {}", path.display());
        }
    }

    fn not_removed(&self, path: &Path, why: &NotRemoved) {
        if self.quiet() {
            return;
        }
        match why {
            NotRemoved::InUse => println!(
                "WARNING: {} is in use by another conda process; not removed.",
                path.display()
            ),
            NotRemoved::NowUsed => println!(
                "WARNING: {} is now used by an environment; not removed.",
                path.display()
            ),
            NotRemoved::Failed(e) => println!(
                "WARNING: cannot remove, file permissions: {}\n{e}",
                path.display()
            ),
        }
    }
}
