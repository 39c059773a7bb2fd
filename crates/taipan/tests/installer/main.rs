//! Installers: built from specs, run in batch and interactive mode, damaged ones refused.
//!
//! Every test builds the packages and channels it needs with the test kit and runs the
//! real binary in an isolated HOME, root prefix and package cache.

#[path = "../common/mod.rs"]
mod common;
mod extra_envs;
mod installer;
