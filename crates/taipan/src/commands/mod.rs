//! One module per command; each builds a [`Context`] and calls the `taipan_env` library.

use taipan_env::error::ErrorKind;
mod compare;
mod config;
mod create;
mod deploy;
mod env;
mod export;
pub mod helpers;
mod info;
mod init;
mod install;
mod installer;
mod list;
mod remove;
mod rename;
mod run;
mod search;
pub mod shell;

mod clean;
mod doctor;
mod notices;
mod package;
mod subcommands;
mod update;

use taipan_env::{CondaError, Result};

use crate::cli::Command;

/// Runs a parsed command; returns the exit code.
pub fn run(command: Command, argv: &[String]) -> Result<u8> {
    // Commands that do no I/O through the async runtime (reading a prefix, the configuration,
    // printing) run without one: starting and stopping it (two worker threads, the blocking
    // pool) took ~0.9 ms, a fifth of `conda list` or `conda info` (paired runs, 60 each).
    let command = match run_sync(command, argv) {
        Ok(code) => return code,
        Err(command) => command,
    };
    // Worker threads run the async tasks (downloads, the cache's extraction tasks) while
    // the command's own future does synchronous work such as recording a linked package:
    // with a single thread driving both, extractions waited for it to yield. Two are
    // enough; CPU-bound work runs on the blocking pool and rayon.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 2));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .map_err(|e| CondaError::generic(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async move { dispatch(*command, argv).await })
}

/// Runs `command` if it is one of the synchronous ones; gives it back otherwise.
fn run_sync(command: Command, argv: &[String]) -> std::result::Result<Result<u8>, Box<Command>> {
    Ok(match command {
        Command::List(a) => list::run(a),
        Command::Info(a) => info::run(a),
        Command::Config(a) => config::run(a),
        Command::Env(crate::cli::EnvCommand::List(a)) => env::list(a),
        Command::Env(crate::cli::EnvCommand::Export(a)) | Command::Export(a) => export::run(a),
        Command::Compare(a) => compare::run(a),
        Command::Env(crate::cli::EnvCommand::Config(crate::cli::EnvConfigCommand::Vars(v))) => {
            env::vars(v, argv)
        }
        Command::Init(a) => init::run(a, argv),
        Command::Run(a) => run::run(a, argv),
        Command::Clean(a) => clean::run(a, argv),
        Command::Commands => Ok(subcommands::run()),
        Command::Package(a) => package::run(a, argv),
        Command::Activate(_) | Command::Deactivate(_) => Err(CondaError::new(
            ErrorKind::CommandNotFoundError,
            "Your shell has not been properly configured to use 'conda activate'.\nTo initialize your shell, run\n\n    $ conda init <SHELL_NAME>\n\nCurrently supported shells are: bash, zsh, fish, tcsh\n\nOr, for one session: eval \"$(conda shell.bash hook)\"\n",
        )),
        Command::Shell(crate::cli::ShellCommand::InstallFiles {
            prefix,
            dry_run,
            output,
        }) => shell::install_files(prefix, dry_run, argv, &output),
        Command::Completion(a) => {
            use clap::CommandFactory;
            let mut cmd = crate::cli::Cli::command();
            clap_complete::generate(a.shell, &mut cmd, "conda", &mut std::io::stdout());
            Ok(0)
        }
        other => return Err(Box::new(other)),
    })
}

async fn dispatch(command: Command, argv: &[String]) -> Result<u8> {
    match command {
        Command::Create(a) => create::run(a, argv).await,
        Command::Install(a) => install::run(a, argv).await,
        Command::Update(a) => update::run(a, argv).await,
        Command::Remove(a) => remove::run(a, argv).await,
        Command::Search(a) => search::run(a).await,
        Command::Env(crate::cli::EnvCommand::Create(a)) => {
            create::run(env::create_args(a), argv).await
        }
        Command::Env(crate::cli::EnvCommand::Update(a)) => match env::update(a, argv)? {
            env::EnvUpdate::Create(args) => create::run(args, argv).await,
            env::EnvUpdate::Install { args, banner } => {
                let code = install::run_without_plan(args, argv).await?;
                if let Some(name) = banner {
                    crate::output::results::activate_hint(&name);
                }
                Ok(code)
            }
        },
        Command::Env(crate::cli::EnvCommand::Remove(a)) => {
            remove::run(env::remove_args(a), argv).await
        }
        Command::Rename(a) => rename::run(a, argv).await,
        Command::Installer(crate::cli::InstallerCommand::Build {
            spec,
            default,
            output_dir,
            taipan_binary,
            output,
        }) => {
            installer::build(
                spec.as_deref(),
                default,
                &output_dir,
                taipan_binary,
                &output,
            )
            .await
        }
        Command::Installer(crate::cli::InstallerCommand::Finish {
            prefix,
            payload,
            update,
            keep_pkgs,
            skip_scripts,
            register_envs,
        }) => {
            let f = taipan_installer::finish::Finish {
                prefix,
                payload,
                update,
                keep_pkgs,
                skip_scripts,
                register_envs,
                cmd: helpers::history_cmd(argv),
                env: std::env::vars().collect(),
            };
            installer::finish(&f).await
        }
        Command::Deploy(a) => deploy::run(a).await,
        Command::Notices(a) => notices::run(a, argv).await,
        Command::Doctor(a) => doctor::run(a, argv).await,
        // `run` took the synchronous commands before starting the runtime.
        other => run_sync(other, argv).unwrap_or_else(|_| {
            Err(CondaError::generic(
                "internal error: a command reached neither the synchronous nor the async dispatch",
            ))
        }),
    }
}
