//! taipan: the Anaconda distribution rebuilt in Rust. Started as `conda` it is the conda CLI.

mod cli;
mod commands;
mod output;
mod settings;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use taipan_env::CondaError;

// A warm solve allocates and frees some hundred thousand small strings and vectors (records,
// versions, match specs); glibc's malloc and free were a quarter of its instructions, mimalloc
// takes ~20% fewer instructions in all (bench/README.md §1). It was dropped once because cold
// sharded runs, then rattler's shard client, got slower; taipan's own shard reader
// (`taipan_env::shards`) allocates far less, and cold sharded runs take the same time with it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc keeps freed memory for a while (1 s) and backs its arenas with transparent huge
/// pages, which on a cold download of a large channel doubled peak RSS (92 → 200 MB). Normal
/// pages (the `no_thp` feature: it must hold before the first allocation, so it is compiled
/// in), memory committed only when used and returned 10 ms after it is freed bring it back:
/// a cold ×100 run peaks at 104 MB. Returning it at once (0 ms) saved 2–3 MB of that peak but
/// made warm solves 3–6% slower (the same pages freed, returned and faulted in again); never
/// returning it took the cold peak to 137–170 MB.
fn tune_allocator() {
    use libmimalloc_sys::{mi_option_set, mi_option_t};
    // `mi_option_e` of mimalloc 3.3 as vendored by libmimalloc-sys 0.1.49 (pinned exactly);
    // the sys crate names only the options that kept their numbers across versions.
    const ARENA_EAGER_COMMIT: mi_option_t = 4;
    const PURGE_DELAY: mi_option_t = 15;
    // SAFETY: setting options is allowed at any time; these only change when memory is
    // committed and returned to the system.
    unsafe {
        mi_option_set(ARENA_EAGER_COMMIT, 0);
        mi_option_set(PURGE_DELAY, 10);
    }
}

/// conda flags taipan knows but does not implement; rejected with a clear message instead of
/// being silently ignored.
const UNSUPPORTED_FLAGS: &[&str] = &[
    "--shortcuts",
    "--shortcuts-only",
    "--channel-priority",
    "--debug",
    "--trace",
    "--console",
];

fn main() -> ExitCode {
    tune_allocator();
    // Like other CLI tools, die quietly when the reader of our output goes away
    // (`conda list | head`) instead of panicking on a failed write.
    // SAFETY: setting a signal disposition to the default before any threads start.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    std::panic::set_hook(Box::new(report_panic));
    // Arguments may hold any bytes (paths are not always UTF-8): clap reads them as they
    // are; the text form is only for messages and history.
    let args_os: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let args = commands::helpers::argv();
    let json = args.iter().any(|a| a == "--json");
    if let Some(flag) = refused_revision(&args) {
        // conda's argparse: only `install` has --revision.
        eprintln!("usage: conda [-h] [-v] [--no-plugins] [-V] COMMAND ...\nconda: error: unrecognized arguments: {flag}");
        return ExitCode::from(2);
    }
    if let Some(flag) = unsupported_flag(&args) {
        let err = CondaError::argument(format!(
            "conda's '{flag}' option is not supported by taipan yet.\n  Remove it from the command line; see `conda <command> --help` for the supported options."
        ));
        output::print_error(&err, json);
        return ExitCode::from(2);
    }
    // `conda shell.<shell> …` is not a subcommand: conda handles it before parsing arguments.
    if args.get(1).is_some_and(|a| a.starts_with("shell.")) {
        return match commands::shell::run(&args) {
            Ok(code) => ExitCode::from(code),
            Err(err) => {
                output::print_error(&err, false);
                ExitCode::from(err.exit_code().clamp(1, 255) as u8)
            }
        };
    }
    let cli = match cli::Cli::try_parse_from(&args_os) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    if cli.version {
        println!("{}", version_line());
        return ExitCode::SUCCESS;
    }
    let Some(command) = cli.command else {
        let _ = cli::Cli::command().print_help();
        return ExitCode::from(2);
    };
    match commands::run(command, &args) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            output::print_error(&err, json || output::mode::config_json());
            ExitCode::from(err.exit_code().clamp(1, 255) as u8)
        }
    }
}

/// A bug, not a user's mistake: one line that says so, instead of Rust's panic text.
fn report_panic(info: &std::panic::PanicHookInfo<'_>) {
    let what = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown".to_string());
    let place = info
        .location()
        .map(|l| format!(" at {}:{}", l.file(), l.line()))
        .unwrap_or_default();
    eprintln!(
        "taipan: internal error: {what}{place}.\nThis is a bug in taipan, not in what you typed; please report it with the command line."
    );
}

/// The first conda flag taipan does not implement, among taipan's own arguments: not after
/// `--`, and not among the arguments of the program `conda run` starts (`conda run -n e
/// pytest -k x`: `-k` is pytest's).
fn unsupported_flag(args: &[String]) -> Option<String> {
    let mut command: Option<&str> = None;
    let mut args = args.iter().skip(1);
    while let Some(a) = args.next() {
        if a == "--" {
            break;
        }
        if !a.starts_with('-') {
            match command {
                None => command = Some(a),
                // `conda run`'s first operand is the program: the rest is its own.
                Some("run") => break,
                Some(_) => {}
            }
            continue;
        }
        let flag = a.split('=').next().unwrap_or(a);
        if UNSUPPORTED_FLAGS.contains(&flag) {
            return Some(flag.to_string());
        }
        // Before its program, `conda run` takes its own options only (the program's start
        // after it): anything else is a usage error, as with conda's argparse.
        if command == Some("run") && !RUN_FLAGS.contains(&flag) && !is_verbose(flag) {
            return Some(flag.to_string());
        }
        if command == Some("run") && RUN_VALUE_FLAGS.contains(&a.as_str()) {
            args.next();
        }
    }
    None
}

/// `conda run`'s own options.
const RUN_FLAGS: &[&str] = &[
    "-n",
    "--name",
    "-p",
    "--prefix",
    "--cwd",
    "--live-stream",
    "-s",
    "--no-capture-output",
    "--no-capture-outputs",
    "--json",
    "-q",
    "--quiet",
    "-h",
    "--help",
];

fn is_verbose(flag: &str) -> bool {
    flag == "--verbose"
        || (flag.len() > 1 && flag.starts_with('-') && flag[1..].chars().all(|c| c == 'v'))
}

/// `conda run`'s options that take a value as the next argument.
const RUN_VALUE_FLAGS: &[&str] = &["-n", "--name", "-p", "--prefix", "--cwd"];

/// `--version`: as `conda`, what conda prints; as `taipan`, taipan's own version and the
/// conda version it follows.
fn version_line() -> String {
    let conda = taipan_env::history::CONDA_COMPAT_VERSION;
    let started_as = std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    if started_as == "conda" {
        format!("conda {conda}")
    } else {
        format!(
            "taipan {} (conda {conda} compatible)",
            env!("CARGO_PKG_VERSION")
        )
    }
}

/// `--revision` given to `update` or `remove`, which conda's parser does not know.
fn refused_revision(args: &[String]) -> Option<String> {
    let command = args.get(1)?;
    if !["update", "upgrade", "remove", "uninstall"].contains(&command.as_str()) {
        return None;
    }
    args.iter()
        .skip(2)
        .take_while(|a| *a != "--")
        .find(|a| *a == "--revision" || a.starts_with("--revision="))
        .cloned()
}
