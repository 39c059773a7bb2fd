//! `conda commands`: the subcommands, one a line, sorted (aliases included), as conda's
//! tab-completion reads them.

use clap::CommandFactory;

/// Runs `conda commands`.
pub fn run() -> u8 {
    let cmd = crate::cli::Cli::command();
    let mut names: Vec<String> = cmd
        .get_subcommands()
        .flat_map(|s| {
            std::iter::once(s.get_name().to_string()).chain(s.get_all_aliases().map(str::to_string))
        })
        .filter(|n| n != "help")
        .collect();
    names.sort();
    names.dedup();
    // conda prints them without a final newline.
    print!("{}", names.join("\n"));
    0
}
