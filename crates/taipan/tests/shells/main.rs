//! Shell integration in real shells: activation, hooks, `conda init`, `conda run`.
//!
//! Every test builds the packages and channels it needs with the test kit and runs the
//! real binary in an isolated HOME, root prefix and package cache.

#[path = "../common/mod.rs"]
mod common;
mod shell;
