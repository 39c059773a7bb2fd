//! `__archspec` without archspec's CPU database on every run.
//!
//! Detecting the host's microarchitecture makes rattler parse the archspec database embedded
//! in the binary: more than half the instructions of a small solve. The answer depends only on
//! this build (the database is part of it) and on the CPU's description in `/proc/cpuinfo`. So
//! the name found is remembered in `<pkgs>/cache/taipan-index/archspec-<key>` (of the first
//! package cache that exists), keyed by exactly those, and later runs use it.
//!
//! An override (`CONDA_OVERRIDE_ARCHSPEC`, or `override_virtual_packages`) is taken as given,
//! as conda does: it needs neither the database nor a memo.

use std::io::Read;
use std::path::PathBuf;

use rattler_conda_types::package::BuildString;
use rattler_conda_types::{GenericVirtualPackage, PackageName, Subdir, Version};

use crate::context::Context;

/// Where the answer for this build and this question is (or will be) remembered.
pub(crate) struct Memo {
    path: PathBuf,
}

impl Memo {
    /// The memo for this run's `__archspec`, when it can have one: the native platform on
    /// Linux, with no override.
    pub(crate) fn for_run(ctx: &Context) -> Option<Memo> {
        if Some(ctx.subdir) != Subdir::current() {
            return None;
        }
        let question = host_question()?;
        let build = build_identity()?;
        let mut hasher = rattler_digest::Sha256::default();
        rattler_digest::digest::Digest::update(&mut hasher, build.as_bytes());
        rattler_digest::digest::Digest::update(&mut hasher, question.as_bytes());
        let digest = rattler_digest::digest::Digest::finalize(hasher);
        let key = crate::hex(&digest[..12]);
        // Only a package cache already in use: reading `info` must not create one.
        let cache = ctx
            .pkgs_dirs
            .iter()
            .map(|d| d.join("cache"))
            .find(|c| c.is_dir())?;
        let dir = cache.join("taipan-index");
        Some(Memo {
            path: dir.join(format!("archspec-{key}")),
        })
    }

    /// The remembered `__archspec`, if this question was answered before.
    pub(crate) fn recall(&self) -> Option<GenericVirtualPackage> {
        let name = std::fs::read_to_string(&self.path).ok()?;
        if !plausible_name(&name) {
            return None;
        }
        Some(GenericVirtualPackage {
            name: PackageName::new_unchecked("__archspec"),
            version: Version::major(1),
            build_string: name.parse().ok()?,
        })
    }

    /// Remembers the `__archspec` rattler detected (a cache: failing only costs a detection).
    pub(crate) fn remember(&self, detected: &[GenericVirtualPackage]) {
        let Some(archspec) = detected
            .iter()
            .find(|p| p.name.as_normalized() == "__archspec")
        else {
            return;
        };
        let name = archspec.build_string.as_str();
        if !plausible_name(name) {
            return;
        }
        if let Some(dir) = self.path.parent() {
            if std::fs::create_dir_all(dir).is_ok()
                && crate::fsutil::write_atomic(&self.path, name.as_bytes()).is_ok()
            {
                crate::fsutil::follow_umask(&self.path);
            }
        }
    }
}

/// The `__archspec` override in effect: `CONDA_OVERRIDE_ARCHSPEC`, else `configured`
/// (`override_virtual_packages`' `archspec`).
pub(crate) fn override_value(configured: Option<&str>) -> Option<String> {
    std::env::var("CONDA_OVERRIDE_ARCHSPEC")
        .ok()
        .or_else(|| configured.map(str::to_string))
        .map(|v| v.trim().to_string())
}

/// `__archspec=1=<name>` for an override naming a microarchitecture. conda takes the name as
/// given, known to archspec or not (so its build string is not held to CEP-26's characters);
/// empty (no `__archspec`) and `0` (unknown) stay rattler's.
pub(crate) fn overridden(value: &str) -> Option<GenericVirtualPackage> {
    if value.is_empty() || value == "0" {
        return None;
    }
    Some(GenericVirtualPackage {
        name: PackageName::new_unchecked("__archspec"),
        version: Version::major(1),
        build_string: BuildString::new_unchecked(value.to_string()),
    })
}

/// The host's CPU as archspec sees it on Linux: the first processor's block of
/// `/proc/cpuinfo` (vendor, family, model, flags), with the machine's architecture.
fn host_question() -> Option<String> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let mut text = String::new();
    // Only the first block is needed; /proc generates the file as it is read.
    std::fs::File::open("/proc/cpuinfo")
        .ok()?
        .take(64 * 1024)
        .read_to_string(&mut text)
        .ok()?;
    let first = text.split("\n\n").next().filter(|b| !b.trim().is_empty())?;
    // Lines that change from run to run (the clock, the bogus MIPS) are not the CPU's identity.
    let stable: Vec<&str> = first
        .lines()
        .filter(|l| !l.starts_with("cpu MHz") && !l.starts_with("bogomips"))
        .collect();
    Some(format!(
        "host\n{}\n{}",
        std::env::consts::ARCH,
        stable.join("\n")
    ))
}

/// This build: another build may carry another database.
fn build_identity() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let meta = std::fs::metadata(exe).ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!(
        "{}\n{}\n{}\n",
        env!("CARGO_PKG_VERSION"),
        meta.len(),
        mtime.as_nanos()
    ))
}

fn plausible_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_memos_are_checked() {
        assert!(plausible_name("x86_64_v3"));
        assert!(!plausible_name("../x"));
        assert!(!plausible_name(""));
    }
}
