//! The user a deployment is for: their home, ids and shell, and running commands as them.

use std::ffi::{CStr, CString};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;
use taipan_env::error::ErrorKind;

use serde::Serialize;
use taipan_env::{CondaError, Result};

/// A system account, from the password database.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    /// Login name.
    pub name: String,
    /// Numeric user id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Home directory.
    pub home: PathBuf,
    /// Login shell.
    pub shell: String,
}

/// Looks `name` up (`getpwnam`).
pub fn lookup(name: &str) -> Result<User> {
    let missing = || {
        CondaError::new(
            ErrorKind::DeployError,
            format!("user `{name}` does not exist on this system.\n  Create it first (useradd -m {name}) or pass another --user."),
        )
    };
    let c_name = CString::new(name).map_err(|_| missing())?;
    let mut buf = vec![0u8; 16 * 1024];
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer refers to live, correctly sized storage owned by this frame.
    let rc = unsafe {
        libc::getpwnam_r(
            c_name.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 || result.is_null() {
        return Err(missing());
    }
    // SAFETY: getpwnam_r succeeded, so these are NUL-terminated strings inside `buf`.
    let text = |p: *const libc::c_char| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
    Ok(User {
        name: name.to_owned(),
        uid: pwd.pw_uid,
        gid: pwd.pw_gid,
        home: PathBuf::from(text(pwd.pw_dir)),
        shell: text(pwd.pw_shell),
    })
}

/// The id of group `name` (`getgrnam`).
pub fn group_id(name: &str) -> Result<u32> {
    let missing = || {
        CondaError::new(
            ErrorKind::DeployError,
            format!("group `{name}` does not exist.\n  Create it first (groupadd {name}) or pass another --shared group."),
        )
    };
    let c_name = CString::new(name).map_err(|_| missing())?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut grp: libc::group = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::group = std::ptr::null_mut();
    // SAFETY: as in `lookup`.
    let rc = unsafe {
        libc::getgrnam_r(
            c_name.as_ptr(),
            &mut grp,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 || result.is_null() {
        return Err(missing());
    }
    Ok(grp.gr_gid)
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

impl User {
    /// A command run as this user, in their home, with a login-like environment (HOME, USER,
    /// LOGNAME, SHELL) so `conda init` writes their rc files and files they create are theirs.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(&self.home)
            .env("HOME", &self.home)
            .env("USER", &self.name)
            .env("LOGNAME", &self.name)
            .env("SHELL", &self.shell)
            // conda variables of the deploying shell must not leak into the user's setup.
            .env_remove("CONDA_PREFIX")
            .env_remove("CONDA_SHLVL")
            .env_remove("CONDA_DEFAULT_ENV")
            .env_remove("CONDA_EXE")
            .env_remove("CONDARC")
            .env_remove("CONDA_ROOT_PREFIX")
            .env_remove("CONDA_PKGS_DIRS")
            .env_remove("CONDA_ENVS_PATH");
        if is_root() && self.uid != 0 {
            let groups = self.groups();
            let (uid, gid) = (self.uid, self.gid);
            // Groups first, then gid, then uid: each needs the privileges the next one drops
            // (std's own uid()/gid() would run before this hook and make setgroups fail).
            // SAFETY: only async-signal-safe syscalls; the group list was computed before fork.
            unsafe {
                cmd.pre_exec(move || {
                    if libc::setgroups(groups.len(), groups.as_ptr()) != 0
                        || libc::setgid(gid) != 0
                        || libc::setuid(uid) != 0
                    {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        cmd
    }

    /// The user's groups (primary and supplementary), from the group database.
    fn groups(&self) -> Vec<libc::gid_t> {
        let Ok(name) = CString::new(self.name.clone()) else {
            return vec![self.gid];
        };
        let mut n: libc::c_int = 64;
        loop {
            let mut groups = vec![0 as libc::gid_t; n as usize];
            let before = n;
            // SAFETY: `groups` holds `n` entries; getgrouplist updates `n`.
            let rc =
                unsafe { libc::getgrouplist(name.as_ptr(), self.gid, groups.as_mut_ptr(), &mut n) };
            if rc >= 0 {
                groups.truncate(n as usize);
                return groups;
            }
            if n <= before {
                n = before * 2;
            }
        }
    }

    /// Gives `path` to this user (no-op when not root).
    pub fn chown(&self, path: &std::path::Path) -> Result<()> {
        if is_root() {
            std::os::unix::fs::lchown(path, Some(self.uid), Some(self.gid)).map_err(|e| {
                CondaError::new(
                    ErrorKind::DeployError,
                    format!("cannot give {} to {}: {e}", path.display(), self.name),
                )
            })?;
        }
        Ok(())
    }
}
