//! `taipan deploy` on this machine and pretend systems, and the Ansible role (root only).
//!
//! Every test builds the packages and channels it needs with the test kit and runs the
//! real binary in an isolated HOME, root prefix and package cache.

mod ansible;
#[path = "../common/mod.rs"]
mod common;
mod deploy;
mod lifecycle;
