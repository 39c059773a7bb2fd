//! taipan's conda engine: environments and transactions on top of the rattler crates.
//!
//! - [`context`]: root prefix, configuration, caches, target prefix.
//! - [`channels`], [`repodata`], [`net`]: where packages come from.
//! - [`solve`]: conda's solver rules over resolvo.
//! - [`cache`], [`transaction`]: fetching and linking with rollback, crash recovery.
//! - [`confine`]: no package reaches outside its prefix; [`prefix_lock`]: one command at a
//!   time per prefix.
//! - [`history`], [`prefix`], [`registry`]: what an environment records about itself.

mod archspec_memo;
pub mod cache;
pub mod channels;
pub mod confine;
pub mod context;
pub mod crashpoint;
pub mod cutoff;
pub mod dist;
pub mod envfile;
pub mod error;
pub mod export;
pub mod fsutil;
pub mod history;
pub mod index;
pub mod layout;
pub mod listing;
pub mod naming;
pub mod net;
pub mod ops;
pub mod outdated;
pub mod pip;
pub mod prefix;
pub mod prefix_lock;
pub mod registry;
mod remote;
pub mod repodata;
pub mod reporter;
mod shards;
pub mod solve;
pub mod spec;
pub mod transaction;

pub use error::{CondaError, ErrorKind, Result};

/// The conda version taipan is compatible with; written to history and reported by `--version`.
pub const CONDA_COMPAT_VERSION: &str = "25.11.0";

/// Bytes as lowercase hex, the form conda writes hashes in.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}
