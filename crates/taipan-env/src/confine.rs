//! Keeping packages inside their prefix.
//!
//! A package names paths in `info/paths.json`, symbolic-link targets in its archive and entry
//! points in `info/link.json`; a conda-meta record written by an older version names the
//! paths an unlink removes. None of them may reach outside the prefix: every path must be
//! relative with plain components, and nothing is written, moved or deleted through a
//! directory whose real location is outside the prefix (a link inside it, such as
//! `lib64 -> lib`, stays legal).

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use crate::layout::JOURNAL_DIR;

/// Why a path a package names is refused, as a phrase for error messages.
pub fn check_package_path(path: &Path) -> Result<(), &'static str> {
    if path.as_os_str().is_empty() {
        return Err("is empty");
    }
    if path.as_os_str().as_encoded_bytes().contains(&0) {
        return Err("contains a NUL byte");
    }
    for (i, component) in path.components().enumerate() {
        match component {
            Component::Normal(name) => {
                if i == 0 && (name == "conda-meta" || name == JOURNAL_DIR) {
                    return Err("is inside conda-meta/, which only conda writes");
                }
            }
            Component::ParentDir => return Err("leads out of the prefix with '..'"),
            Component::RootDir | Component::Prefix(_) => return Err("is an absolute path"),
            Component::CurDir => return Err("is not a normalized path ('.')"),
        }
    }
    Ok(())
}

/// Checks the target of a symbolic link a package ships: it must be relative, and `..` may
/// only come first (`../lib/libz.so`), so that where it leads does not depend on other links
/// it passes through. Returns the number of leading `..`.
pub fn check_link_target(target: &Path) -> Result<usize, &'static str> {
    if target.as_os_str().is_empty() {
        return Err("has an empty target");
    }
    let mut ups = 0;
    let mut named = false;
    for component in target.components() {
        match component {
            Component::ParentDir if !named => ups += 1,
            Component::ParentDir => return Err("has a target with '..' after a name"),
            Component::Normal(_) => named = true,
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => {
                return Err("points to an absolute path outside the prefix")
            }
        }
    }
    Ok(ups)
}

/// Answers "does this lead outside the prefix?" for one transaction, remembering the real
/// location of every existing directory it looked at.
#[derive(Debug)]
pub struct Fence {
    prefix: PathBuf,
    real: PathBuf,
    known: HashMap<PathBuf, Option<PathBuf>>,
}

impl Fence {
    /// A fence around an existing prefix.
    pub fn new(prefix: &Path) -> std::io::Result<Self> {
        Ok(Self {
            prefix: prefix.to_path_buf(),
            real: std::fs::canonicalize(prefix)?,
            known: HashMap::new(),
        })
    }

    /// The prefix as given.
    pub fn prefix(&self) -> &Path {
        &self.prefix
    }

    /// Forgets what it learned: links created since may change where paths lead.
    pub fn forget(&mut self) {
        self.known.clear();
    }

    /// Where a path (absolute, without `..`) really is: its deepest existing ancestor resolved
    /// through every link, the missing rest appended (directories that will be created are
    /// plain ones). `None` when it cannot be resolved (a dangling or looping link).
    pub fn real_dir(&mut self, dir: &Path) -> Option<PathBuf> {
        if let Some(known) = self.known.get(dir) {
            return known.clone();
        }
        let mut existing = dir;
        let mut missing = Vec::new();
        let base = loop {
            if let Some(known) = self.known.get(existing) {
                break known.clone();
            }
            if std::fs::symlink_metadata(existing).is_ok() {
                let resolved = std::fs::canonicalize(existing).ok();
                self.known.insert(existing.to_path_buf(), resolved.clone());
                break resolved;
            }
            missing.push(existing);
            existing = existing.parent()?;
        };
        // Missing directories will be plain ones below their parent: remember them too, so
        // thousands of files in a new directory cost one look. (A link created meanwhile
        // makes the caller call `forget`.)
        let mut real = base;
        for m in missing.into_iter().rev() {
            real = real.and_then(|r| m.file_name().map(|n| r.join(n)));
            self.known.insert(m.to_path_buf(), real.clone());
        }
        real
    }

    /// Whether a directory resolves inside the prefix, so files may be written, moved or
    /// deleted in it.
    pub fn dir_inside(&mut self, dir: &Path) -> bool {
        if !dir.starts_with(&self.prefix) {
            return false;
        }
        self.real_dir(dir)
            .is_some_and(|real| real.starts_with(&self.real))
    }

    /// Whether the parent directory of a path resolves inside the prefix.
    pub fn parent_inside(&mut self, path: &Path) -> bool {
        path.parent().is_some_and(|dir| self.dir_inside(dir))
    }

    /// Whether a symbolic link at `link` pointing to `target` stays inside the prefix: its
    /// leading `..` may not climb above the prefix from the link's real directory, and if the
    /// target exists, its real location is inside.
    pub fn link_inside(&mut self, link: &Path, target: &Path) -> Result<(), &'static str> {
        let ups = check_link_target(target)?;
        let dir = link.parent().ok_or("has no directory")?;
        let mut base = self
            .real_dir(dir)
            .ok_or("is in a directory that cannot be resolved")?;
        for _ in 0..ups {
            base.pop();
        }
        if !base.starts_with(&self.real) {
            return Err("points outside the prefix");
        }
        // The named part may pass through links that exist already: resolve what exists.
        base.extend(target.components().filter_map(|c| match c {
            Component::Normal(name) => Some(name),
            _ => None,
        }));
        match self.real_dir(&base) {
            Some(real) if real.starts_with(&self.real) => Ok(()),
            _ => Err("points outside the prefix"),
        }
    }

    /// A path below the prefix made relative to it, for journals and messages.
    pub fn relative<'a>(&self, path: &'a Path) -> Option<&'a Path> {
        path.strip_prefix(&self.prefix).ok()
    }

    /// The real location of a path (its directory resolved), expressed below the prefix as
    /// given; `None` if it is not inside.
    pub fn resolved(&mut self, path: &Path) -> Option<PathBuf> {
        let name = path.file_name()?;
        let real = self.real_dir(path.parent()?)?;
        let rel = real.strip_prefix(&self.real).ok()?;
        Some(self.prefix.join(rel).join(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_paths() {
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "conda-meta/x.json",
            "./a",
        ] {
            assert!(check_package_path(Path::new(bad)).is_err(), "{bad:?}");
        }
        for good in [
            "bin/x",
            "lib/python3.11/site-packages/a.py",
            "conda-meta-x/y",
            "a..b",
        ] {
            assert!(check_package_path(Path::new(good)).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn link_targets() {
        assert_eq!(check_link_target(Path::new("libz.so.1")), Ok(0));
        assert_eq!(check_link_target(Path::new("../../lib/libz.so")), Ok(2));
        assert_eq!(check_link_target(Path::new("./a")), Ok(0));
        for bad in ["", "/usr/lib/x", "sub/../../x", "a/.."] {
            assert!(check_link_target(Path::new(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn fence_follows_links() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tmp.path().join("outside");
        let prefix = tmp.path().join("prefix");
        std::fs::create_dir_all(prefix.join("lib")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink("lib", prefix.join("lib64")).unwrap();
        std::os::unix::fs::symlink(&outside, prefix.join("lib/out")).unwrap();
        std::os::unix::fs::symlink(".", prefix.join("lib/here")).unwrap();
        let mut fence = Fence::new(&prefix).unwrap();
        assert!(fence.dir_inside(&prefix.join("lib64/new/deeper")));
        assert!(!fence.dir_inside(&prefix.join("lib/out")));
        assert!(!fence.dir_inside(&prefix.join("lib/out/x")));
        assert!(!fence.dir_inside(&tmp.path().join("elsewhere")));
        assert!(fence
            .link_inside(&prefix.join("lib/a"), Path::new("../bin/a"))
            .is_ok());
        assert!(fence
            .link_inside(&prefix.join("lib/a"), Path::new("../../x"))
            .is_err());
        // `lib/here` is `lib`: one `..` from inside it reaches the prefix, two leave it.
        assert!(fence
            .link_inside(&prefix.join("lib/here/a"), Path::new("../x"))
            .is_ok());
        assert!(fence
            .link_inside(&prefix.join("lib/here/a"), Path::new("../../x"))
            .is_err());
        assert!(fence
            .link_inside(&prefix.join("lib/a"), Path::new("out/f"))
            .is_err());
        assert_eq!(
            fence.resolved(&prefix.join("lib64/f")),
            Some(prefix.join("lib/f"))
        );
    }
}
