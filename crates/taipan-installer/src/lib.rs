//! taipan's distribution installer: `taipan installer build SPEC.yaml` writes a
//! self-extracting `.sh` (POSIX header + tar payload) that installs a root prefix offline.

pub mod build;
pub mod default_dist;
pub mod finish;
pub mod header;
pub mod layout;
pub mod payload;
pub mod spec;

pub use build::{build, Built};
