//! conda's commands through the CLI: create, install, update, remove, list, search, info,
//! errors and flags, channels over HTTP, transactions (rollback, crashes, concurrency), and
//! hostile or damaged packages.
//!
//! Every test builds the packages and channels it needs with the test kit and runs the
//! real binary in an isolated HOME, root prefix and package cache.

mod bad_input;
mod clean;
#[path = "../common/mod.rs"]
mod common;
mod concurrency;
mod conda_flags;
mod config;
mod config_cmd;
mod crash;
mod create;
mod doctor;
mod env_file;
mod errors;
mod flags;
mod hostile;
mod http;
mod install;
mod integrity;
mod interrupt;
mod linking;
mod list_search_info;
mod misc_commands;
mod pip_kit;
mod pip_section;
mod remote_index;
mod remote_shards;
mod remove;
mod revision;
mod root_prefix;
mod settings_keys;
mod shapes;
mod solver_rules;
mod solver_rules_2;
mod solver_rules_3;
mod solver_rules_4;
mod transaction;
