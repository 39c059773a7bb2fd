//! Integration tests: every test builds the packages and channels it needs with the test kit,
//! runs the real binary in an isolated HOME/root/cache, and checks outputs and prefix state.

mod ansible;
mod bad_input;
mod common;
mod concurrency;
mod crash;
mod create;
mod deploy;
mod errors;
mod flags;
mod gaps;
mod hostile;
mod http;
mod install;
mod installer;
mod integrity;
mod list_search_info;
mod remove;
mod shell;
mod transaction;
