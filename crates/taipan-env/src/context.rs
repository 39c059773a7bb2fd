//! Where things are: the root prefix, the loaded configuration, package caches, envs dirs,
//! and the target prefix of a command (`-n`/`-p`/`$CONDA_PREFIX`/root), following conda's rules.

use crate::error::ErrorKind;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rattler_conda_types::Subdir;
use taipan_config::{CliOverrides, Config, LoadOptions};

use crate::error::{CondaError, Result};

/// Everything a command needs to know about the installation it runs in.
#[derive(Debug, Clone)]
pub struct Context {
    /// The root ("base") prefix.
    pub root_prefix: PathBuf,
    /// The user's home directory.
    pub home: PathBuf,
    /// The merged configuration.
    pub config: Config,
    /// Warnings from loading the configuration (unknown keys, …).
    pub warnings: Vec<String>,
    /// Whether the root prefix can be written by this user.
    pub root_writable: bool,
    /// Package cache directories, in order.
    pub pkgs_dirs: Vec<PathBuf>,
    /// Environment directories, in order.
    pub envs_dirs: Vec<PathBuf>,
    /// The platform solves target (`CONDA_SUBDIR`, `--platform`, or this machine).
    pub subdir: Subdir,
    /// The process environment the context was built from.
    pub env: HashMap<String, String>,
    /// The package cache, opened once per process: it remembers which entries it extracted
    /// or validated, so a second lookup of the same package (reading an `@EXPLICIT` file,
    /// then linking it) does not check every file again.
    pub package_cache: SharedCache,
    /// The path this program was started as (argv[0] resolved).
    pub exe: Option<PathBuf>,
}

/// The process's package cache, opened on first use (`cache::open`).
#[derive(Clone, Default)]
pub struct SharedCache(Arc<OnceLock<rattler_cache::package_cache::PackageCache>>);

impl SharedCache {
    /// The cache, if opened.
    pub fn get(&self) -> Option<&rattler_cache::package_cache::PackageCache> {
        self.0.get()
    }

    /// The cache, opened with `open` the first time.
    pub fn get_or_init(
        &self,
        open: impl FnOnce() -> rattler_cache::package_cache::PackageCache,
    ) -> &rattler_cache::package_cache::PackageCache {
        self.0.get_or_init(open)
    }
}

impl std::fmt::Debug for SharedCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedCache(PackageCache)")
    }
}

/// Inputs for [`Context::load`].
#[derive(Debug, Clone, Default)]
pub struct ContextOptions {
    /// Path the binary was started as (argv[0] resolved), used to find the root prefix.
    pub exe: Option<PathBuf>,
    /// The process environment.
    pub env: HashMap<String, String>,
    /// Configuration overrides from flags.
    pub cli: CliOverrides,
    /// `-p` as given.
    pub prefix: Option<PathBuf>,
    /// `-n` as given.
    pub name: Option<String>,
    /// `--platform`/`--subdir`.
    pub platform: Option<String>,
}

impl Context {
    /// Finds the root prefix, loads the configuration and computes the directories.
    pub fn load(opts: &ContextOptions) -> Result<Self> {
        let home = home_dir(&opts.env);
        let root_prefix = find_root_prefix(opts.exe.as_deref(), &opts.env, &home);
        let target = opts
            .prefix
            .as_ref()
            .map(|p| absolute(&expand_user(p, &home)))
            .or_else(|| {
                opts.env
                    .get("CONDA_PREFIX")
                    .filter(|s| !s.is_empty())
                    .map(PathBuf::from)
            });
        let mut load = LoadOptions::new(root_prefix.clone(), opts.env.clone());
        load.target_prefix = target;
        load.home = Some(home.clone());
        load.cli = opts.cli.clone();
        // Tests and sandboxed runs point the system config dirs (/etc/conda, /var/lib/conda) elsewhere.
        if let Some(dirs) = opts.env.get("TAIPAN_SYSTEM_CONFIG_DIRS") {
            load.system_dirs = std::env::split_paths(dirs).collect();
        }
        let loaded = Config::load(&load).map_err(CondaError::from)?;
        let root_writable = prefix_writable(&root_prefix);
        let pkgs_dirs = loaded.config.pkgs_dirs(&root_prefix, &home);
        let envs_dirs = loaded.config.envs_dirs(&root_prefix, &home, root_writable);
        let subdir = resolve_subdir(
            opts.platform.as_deref(),
            &opts.env,
            loaded.config.subdir.as_deref(),
        )?;
        crate::naming::install(naming_for(&loaded.config));
        Ok(Self {
            root_prefix,
            home,
            config: loaded.config,
            warnings: loaded.warnings,
            root_writable,
            pkgs_dirs,
            envs_dirs,
            subdir,
            env: opts.env.clone(),
            package_cache: Default::default(),
            exe: opts.exe.clone(),
        })
    }

    /// The prefix a command acts on: `-p` > `-n` > `$CONDA_PREFIX` > root.
    pub fn target_prefix(&self, name: Option<&str>, prefix: Option<&Path>) -> Result<PathBuf> {
        if let Some(p) = prefix {
            let p = absolute(&expand_user(p, &self.home));
            if p.to_str().is_none() {
                return Err(CondaError::new(
                    ErrorKind::CondaValueError,
                    format!(
                        "The environment path '{}' is not valid UTF-8.\n  conda environments need UTF-8 paths (their records name every file); choose another path.",
                        p.display()
                    ),
                ));
            }
            return Ok(p);
        }
        if let Some(n) = name {
            return self.prefix_for_name(n);
        }
        if let Some(p) = self.env.get("CONDA_PREFIX").filter(|s| !s.is_empty()) {
            return Ok(PathBuf::from(p));
        }
        Ok(self.root_prefix.clone())
    }

    /// Resolves an environment name: `base`/`root` is the root prefix, else the first envs dir
    /// holding it, else a new env in the first writable envs dir.
    pub fn prefix_for_name(&self, name: &str) -> Result<PathBuf> {
        if name == "base" || name == "root" {
            return Ok(self.root_prefix.clone());
        }
        validate_env_name(name)?;
        for dir in &self.envs_dirs {
            let candidate = dir.join(name);
            if candidate.join("conda-meta").is_dir() {
                return Ok(candidate);
            }
        }
        let dir = self
            .envs_dirs
            .iter()
            .find(|d| dir_writable(d))
            .ok_or_else(|| {
                CondaError::new(
                    ErrorKind::NoWritableEnvsDirError,
                    format!(
                        "No writeable envs directories configured.{}",
                        crate::error::dashlist(self.envs_dirs.iter().map(|d| d.display()))
                    ),
                )
            })?;
        Ok(dir.join(name))
    }

    /// The first writable package cache; created (with `urls.txt`) if missing.
    pub fn writable_pkgs_dir(&self) -> Result<PathBuf> {
        for dir in &self.pkgs_dirs {
            if pkgs_dir_writable(dir) {
                ensure_pkgs_dir(dir)?;
                return Ok(dir.clone());
            }
        }
        Err(CondaError::new(
            ErrorKind::NoWritablePkgsDirError,
            format!(
                "No writeable pkgs directories configured.{}",
                crate::error::dashlist(self.pkgs_dirs.iter().map(|d| d.display()))
            ),
        ))
    }

    /// The name conda shows for a prefix: `base`, the env's dir name inside an envs dir, or "".
    pub fn env_name(&self, prefix: &Path) -> String {
        if same_path(prefix, &self.root_prefix) {
            return "base".into();
        }
        let in_envs_dir = prefix
            .parent()
            .map(|parent| self.envs_dirs.iter().any(|d| same_path(d, parent)))
            .unwrap_or(false);
        if in_envs_dir {
            return prefix
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
        }
        String::new()
    }

    /// The name to show in "conda activate <x>" hints: the env name or the full path.
    pub fn activate_name(&self, prefix: &Path) -> String {
        let name = self.env_name(prefix);
        if name.is_empty() {
            prefix.display().to_string()
        } else {
            name
        }
    }

    /// The `conda` a shell or script should call: the root prefix's `bin/conda`, else the
    /// path this program was started as.
    pub fn conda_exe(&self) -> PathBuf {
        let in_root = self.root_prefix.join("bin/conda");
        if in_root.exists() {
            return in_root;
        }
        self.exe.clone().unwrap_or_else(|| PathBuf::from("conda"))
    }

    /// An environment named on the command line (`activate X`, `run -n X`): a path if it
    /// has a `/`, else a name (`base` is the root prefix).
    pub fn resolve_env(&self, target: &str) -> Result<PathBuf> {
        if target.contains('/') {
            let path = absolute(&expand_user(Path::new(target), &self.home));
            if !path.join("conda-meta").is_dir() {
                return Err(location_not_found(&path));
            }
            return Ok(path);
        }
        if target == "base" || target == "root" {
            return Ok(self.root_prefix.clone());
        }
        self.envs_dirs
            .iter()
            .map(|d| d.join(target))
            .find(|p| p.join("conda-meta").is_dir())
            .ok_or_else(|| not_found(Some(target), Path::new(target)))
    }

    /// The target of a command that needs an existing environment: conda 26's
    /// `EnvironmentLocationNotFound` naming the prefix, for `-n` and `-p` alike.
    pub fn require_env(&self, prefix: &Path, _name: Option<&str>) -> Result<()> {
        if crate::layout::is_conda_env(prefix) {
            return Ok(());
        }
        Err(location_not_found(prefix))
    }

    /// The active prefix (`$CONDA_PREFIX`), if any.
    pub fn active_prefix(&self) -> Option<PathBuf> {
        self.env
            .get("CONDA_PREFIX")
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
    }
}

fn not_found(name: Option<&str>, prefix: &Path) -> CondaError {
    match name {
        Some(n) => CondaError::new(
            ErrorKind::EnvironmentNameNotFound,
            format!("Could not find conda environment: {n}\nYou can list all discoverable environments with `conda info --envs`."),
        ),
        None => location_not_found(prefix),
    }
}

/// conda's `EnvironmentLocationNotFound` (`Not a conda environment: <prefix>`, with `location`).
pub fn location_not_found(prefix: &Path) -> CondaError {
    CondaError::new(
        ErrorKind::EnvironmentLocationNotFound,
        format!("Not a conda environment: {}", prefix.display()),
    )
    .with("location", prefix.display().to_string())
}

/// Rejects names conda forbids (`/ : # space`).
pub fn validate_env_name(name: &str) -> Result<()> {
    if name.is_empty() || name.contains(['/', ':', '#', ' ']) {
        return Err(CondaError::new(
            ErrorKind::CondaValueError,
            format!("Invalid environment name: '{name}'\n  Characters not allowed: ('/', ' ', ':', '#')"),
        ));
    }
    Ok(())
}

fn resolve_subdir(
    flag: Option<&str>,
    env: &HashMap<String, String>,
    configured: Option<&str>,
) -> Result<Subdir> {
    let chosen = flag
        .map(str::to_string)
        .or_else(|| env.get("CONDA_SUBDIR").filter(|s| !s.is_empty()).cloned())
        .or_else(|| configured.map(str::to_string));
    match chosen {
        Some(s) => s.parse::<Subdir>().map_err(|_| {
            CondaError::new(
                ErrorKind::CondaValueError,
                format!("'{s}' is not a valid platform (subdir); use e.g. linux-64, osx-arm64, win-64, noarch"),
            )
        }),
        None => Subdir::current().ok_or_else(|| CondaError::generic("cannot determine this machine's platform")),
    }
}

/// `$HOME`, else the current directory.
pub fn home_dir(env: &HashMap<String, String>) -> PathBuf {
    env.get("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"))
}

/// The root prefix: the installation holding the binary (`PREFIX/bin/conda` → `PREFIX`),
/// else `$CONDA_ROOT_PREFIX`, else `~/taipan3`.
pub fn find_root_prefix(exe: Option<&Path>, env: &HashMap<String, String>, home: &Path) -> PathBuf {
    if let Some(root) = exe.and_then(installation_of) {
        return root;
    }
    if let Some(root) = env.get("CONDA_ROOT_PREFIX").filter(|s| !s.is_empty()) {
        return absolute(&expand_user(Path::new(root), home));
    }
    home.join("taipan3")
}

fn installation_of(exe: &Path) -> Option<PathBuf> {
    let dir = exe.parent()?;
    let dir_name = dir.file_name()?.to_str()?;
    if dir_name != "bin" && dir_name != "condabin" {
        return None;
    }
    let prefix = dir.parent()?;
    prefix
        .join("conda-meta")
        .is_dir()
        .then(|| prefix.to_path_buf())
}

/// `~` expansion.
pub fn expand_user(p: &Path, home: &Path) -> PathBuf {
    match p.strip_prefix("~") {
        Ok(rest) => home.join(rest),
        Err(_) => p.to_path_buf(),
    }
}

/// Makes a path absolute (against the current directory) and removes `.`/`..` lexically.
pub fn absolute(p: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Compares two paths after canonicalising whatever exists.
pub fn same_path(a: &Path, b: &Path) -> bool {
    let ca = std::fs::canonicalize(a).unwrap_or_else(|_| a.to_path_buf());
    let cb = std::fs::canonicalize(b).unwrap_or_else(|_| b.to_path_buf());
    ca == cb
}

/// conda's "prefix writable": `conda-meta/history` can be opened for append; a prefix that
/// does not exist yet is writable if its nearest existing ancestor is.
pub fn prefix_writable(prefix: &Path) -> bool {
    let history = prefix.join("conda-meta").join("history");
    if history.exists() {
        return std::fs::OpenOptions::new()
            .append(true)
            .open(&history)
            .is_ok();
    }
    if prefix.join("conda-meta").is_dir() {
        return dir_writable(&prefix.join("conda-meta"));
    }
    dir_writable(prefix)
}

/// Whether this user can create entries in `dir` (or in its nearest existing ancestor).
pub fn dir_writable(dir: &Path) -> bool {
    let mut cur = Some(dir);
    while let Some(d) = cur {
        if d.exists() {
            return access_writable(d);
        }
        cur = d.parent();
    }
    false
}

fn access_writable(p: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(p.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a valid NUL-terminated path for the duration of the call.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

/// A package cache is writable iff its `urls.txt` is (or it can be created).
pub fn pkgs_dir_writable(dir: &Path) -> bool {
    let urls = dir.join("urls.txt");
    if urls.exists() {
        return access_writable(&urls);
    }
    dir_writable(dir)
}

/// Creates a package cache directory with the `urls.txt` and `urls` marker files.
pub fn ensure_pkgs_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    for marker in ["urls.txt", "urls"] {
        let p = dir.join(marker);
        if !p.exists() {
            std::fs::write(&p, b"")?;
        }
    }
    Ok(())
}

/// How this configuration names channels: `defaults` is `default_channels` unless
/// `custom_multichannels` redefines it.
fn naming_for(config: &Config) -> crate::naming::Naming {
    let mut multi = vec![(
        "defaults".to_string(),
        config
            .custom_multichannels
            .get("defaults")
            .cloned()
            .unwrap_or_else(|| config.default_channels.clone()),
    )];
    for (name, members) in &config.custom_multichannels {
        if name != "defaults" {
            multi.push((name.clone(), members.clone()));
        }
    }
    crate::naming::Naming::new(
        &config.channel_alias,
        &config.migrated_channel_aliases,
        &config.custom_channels,
        &multi,
    )
}
