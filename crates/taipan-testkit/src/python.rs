//! A real, working `python` conda package with pip, built offline from the machine's own
//! interpreter: [`HostPython`], [`python_with_pip`] and
//! [`ChannelBuilder::add_python_with_pip`].
//!
//! The package has a venv-like layout, so nothing in it points outside the prefix:
//!
//! * `bin/python3.X`: a copy of the host interpreter binary (plus its `libpython` under
//!   `lib/` when the binary finds it relative to itself, through `$ORIGIN`);
//! * `bin/python3`, `bin/python`: relative symlinks to `python3.X`;
//! * `pyvenv.cfg` with `home = <the host interpreter's directory>`: the standard library
//!   comes from the host, while `sys.prefix` is the install prefix and site-packages is
//!   `<prefix>/lib/python3.X/site-packages` (host site-packages are not visible);
//! * pip, unpacked from the interpreter's bundled wheel (`ensurepip/_bundled/pip-*.whl`)
//!   into site-packages, `.dist-info` included, so the conda record owns it;
//! * `bin/pip`, `bin/pip3`, `bin/pip3.X`: scripts with a `#!<prefix>/bin/python3.X`
//!   shebang, as text prefix files.
//!
//! conda (and taipan) add `pip` to python's dependencies (`add_pip_as_python_dependency`),
//! so a channel also needs a `pip` record: [`HostPython::pip_package`] is an empty
//! metapackage at the bundled pip's version that depends on `python`, because the files
//! of pip belong to the `python` record.

use std::{
    io::Read,
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
};

use anyhow::{anyhow, bail, Context, Result};
use rattler_conda_types::Subdir;

use crate::{
    channel::ChannelBuilder,
    model::{ArchiveFormat, FileKind, PackageBuilder},
};

/// The environment variable naming the interpreter to build the package from (default:
/// `python3` on `PATH`).
pub const PYTHON_ENV_VAR: &str = "TAIPAN_TEST_PYTHON";

/// The build string of the package [`python_with_pip`] builds.
pub const PYTHON_BUILD_STRING: &str = "h_taipan_0";

/// What the test kit needs to know about the machine's Python interpreter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPython {
    /// The real interpreter binary (symlinks and pyenv shims resolved).
    pub executable: PathBuf,
    /// The full version, e.g. `3.11.7`.
    pub version: String,
    /// `major.minor`, e.g. `3.11` (the `python3.X` and `lib/python3.X` names).
    pub short_version: String,
    /// The directory of [`HostPython::executable`], the `home` of `pyvenv.cfg`.
    pub home: PathBuf,
    /// The pip wheel bundled with the interpreter.
    pub pip_wheel: PathBuf,
    /// The version of that pip, from the wheel's name (e.g. `23.2.1`).
    pub pip_version: String,
    /// The shared `libpython` the binary loads relative to itself (`$ORIGIN` in its
    /// run path), which the package must then carry in `lib/`; `None` when the binary
    /// is static or finds `libpython` by an absolute path.
    pub relative_libpython: Option<PathBuf>,
}

/// Asks the interpreter about itself: one `key=value` a line.
const PROBE: &str = r#"
import glob, os, sys, sysconfig
exe = os.path.realpath(sys._base_executable if hasattr(sys, "_base_executable") else sys.executable)
print("executable=" + exe)
print("version=%d.%d.%d" % sys.version_info[:3])
print("short_version=%d.%d" % sys.version_info[:2])
print("implementation=" + sys.implementation.name)
wheels = []
try:
    import ensurepip
    wheels = glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), "_bundled", "pip-*.whl"))
except ImportError:
    pass
wheels += glob.glob("/usr/share/python-wheels/pip-*.whl")
if wheels:
    print("pip_wheel=" + sorted(wheels)[-1])
if sysconfig.get_config_var("Py_ENABLE_SHARED"):
    libdir = sysconfig.get_config_var("LIBDIR") or ""
    soname = sysconfig.get_config_var("INSTSONAME") or sysconfig.get_config_var("LDLIBRARY") or ""
    print("libpython=" + os.path.join(libdir, soname))
"#;

impl HostPython {
    /// Finds the interpreter named by [`PYTHON_ENV_VAR`], else `python3` on `PATH`.
    ///
    /// Fails with a message saying why when there is none, when it is not CPython 3, or
    /// when it has no bundled pip wheel.
    pub fn detect() -> Result<Self> {
        let program = std::env::var_os(PYTHON_ENV_VAR).unwrap_or_else(|| "python3".into());
        Self::from_interpreter(Path::new(&program))
    }

    /// Describes the interpreter `program` (a path, or a name looked up on `PATH`).
    pub fn from_interpreter(program: &Path) -> Result<Self> {
        let shown = program.display();
        let out = Command::new(program)
            .args(["-I", "-c", PROBE])
            .output()
            .with_context(|| {
                format!(
                    "the test kit's python package needs a Python 3 interpreter: \
                     running `{shown}` failed (set {PYTHON_ENV_VAR} to pick one)"
                )
            })?;
        if !out.status.success() {
            bail!(
                "probing the interpreter `{shown}` failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let text = String::from_utf8(out.stdout).context("the interpreter's answer is UTF-8")?;
        let get = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .map(str::to_owned)
        };
        let need = |key: &str| get(key).ok_or_else(|| anyhow!("`{shown}` did not report {key}"));
        if need("implementation")? != "cpython" {
            bail!("`{shown}` is not CPython; the test kit's python package copies CPython");
        }
        let short_version = need("short_version")?;
        if !short_version.starts_with("3.") {
            bail!("`{shown}` is Python {short_version}, not Python 3");
        }
        let executable = PathBuf::from(need("executable")?);
        let home = executable
            .parent()
            .ok_or_else(|| anyhow!("{} has no parent directory", executable.display()))?
            .to_path_buf();
        let pip_wheel = get("pip_wheel").map(PathBuf::from).ok_or_else(|| {
            anyhow!(
                "`{shown}` has no bundled pip wheel (ensurepip/_bundled/pip-*.whl); \
                 on Debian install python3-venv or python3-pip-whl"
            )
        })?;
        let pip_version = pip_wheel
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("pip-"))
            .and_then(|n| n.split('-').next())
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("{} is not named pip-<version>-…", pip_wheel.display()))?;
        let binary = fs_err::read(&executable)?;
        let origin_relative = binary.windows(7).any(|w| w == b"$ORIGIN");
        let relative_libpython = get("libpython")
            .map(PathBuf::from)
            .filter(|lib| origin_relative && lib.is_file());
        Ok(Self {
            executable,
            version: need("version")?,
            short_version,
            home,
            pip_wheel,
            pip_version,
            relative_libpython,
        })
    }

    /// `python3.X`.
    pub fn exe_name(&self) -> String {
        format!("python{}", self.short_version)
    }

    /// `lib/python3.X/site-packages`, relative to a prefix.
    pub fn site_packages(&self) -> String {
        format!("lib/python{}/site-packages", self.short_version)
    }

    /// The conda package: `python` at the host's version, build [`PYTHON_BUILD_STRING`],
    /// for the platform the tests run on (see the module docs for its layout).
    pub fn package(&self) -> Result<PackageBuilder> {
        let exe = self.exe_name();
        let interpreter = fs_err::read(&self.executable)?;
        let home = self
            .home
            .to_str()
            .ok_or_else(|| anyhow!("{} is not UTF-8", self.home.display()))?;
        let cfg = format!(
            "home = {home}\ninclude-system-site-packages = false\nversion = {}\n",
            self.version
        );
        let mut pkg = PackageBuilder::new("python", &self.version)
            .build(PYTHON_BUILD_STRING)
            .subdir(host_subdir())
            .license("PSF-2.0")
            .summary("The host's CPython with pip, repackaged by taipan's test kit")
            .executable(&format!("bin/{exe}"), interpreter)
            .symlink("bin/python3", &exe)
            .symlink("bin/python", &exe)
            .file("pyvenv.cfg", cfg);
        if let Some(lib) = &self.relative_libpython {
            let name = lib
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| anyhow!("bad libpython path {}", lib.display()))?;
            pkg = pkg.executable(&format!("lib/{name}"), fs_err::read(lib)?);
        }
        let script = pip_script(&exe);
        for name in ["pip", "pip3", &format!("pip{}", self.short_version)] {
            let path = format!("bin/{name}");
            pkg = pkg.file_with(&path, script.as_str(), FileKind::TextPrefix, true);
        }
        add_wheel_contents(pkg, &self.pip_wheel, &self.site_packages())
    }
}

impl HostPython {
    /// The `pip` conda package to go with [`HostPython::package`]: `noarch: generic`, at
    /// [`HostPython::pip_version`], build [`PYTHON_BUILD_STRING`], depending on
    /// `python`, with no files (pip itself is in the `python` package).
    pub fn pip_package(&self) -> PackageBuilder {
        PackageBuilder::new("pip", &self.pip_version)
            .build(PYTHON_BUILD_STRING)
            .noarch_generic()
            .depends("python")
            .license("MIT")
            .summary("pip's record; its files ship in the test kit's python package")
    }
}

/// pip's console script, as pip itself writes it, for `python3.X`.
fn pip_script(exe: &str) -> String {
    format!(
        "#!@PREFIX@/bin/{exe}\n\
         # -*- coding: utf-8 -*-\n\
         import re\n\
         import sys\n\
         from pip._internal.cli.main import main\n\
         if __name__ == '__main__':\n    \
         sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n    \
         sys.exit(main())\n"
    )
}

/// Adds every file of the wheel at `wheel` below `site_packages`, marking the
/// `.dist-info` as installed by conda.
fn add_wheel_contents(
    mut pkg: PackageBuilder,
    wheel: &Path,
    site_packages: &str,
) -> Result<PackageBuilder> {
    let file = fs_err::File::open(wheel)?;
    let mut archive =
        zip::ZipArchive::new(file).with_context(|| format!("reading {}", wheel.display()))?;
    let mut dist_info = None;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i)?;
        if entry.is_dir() {
            continue;
        }
        let name = entry
            .enclosed_name()
            .and_then(|p| p.to_str().map(str::to_owned))
            .ok_or_else(|| anyhow!("unsafe member name {:?} in the pip wheel", entry.name()))?;
        if let Some((dir, _)) = name.split_once(".dist-info/") {
            dist_info = Some(format!("{dir}.dist-info"));
        }
        let mut contents = Vec::new();
        entry.read_to_end(&mut contents)?;
        pkg = pkg.file(&format!("{site_packages}/{name}"), contents);
    }
    let dist_info = dist_info.ok_or_else(|| anyhow!("{} has no .dist-info", wheel.display()))?;
    Ok(pkg.file(&format!("{site_packages}/{dist_info}/INSTALLER"), "conda\n"))
}

/// The `python` package built by [`python_with_pip`], once per test process.
#[derive(Debug)]
pub struct PythonPackage {
    /// The interpreter it was built from.
    pub host: HostPython,
    /// The `.conda` archive (in a temporary directory removed when the process exits).
    pub archive: PathBuf,
    /// The `.conda` archive of [`HostPython::pip_package`], next to it.
    pub pip_archive: PathBuf,
}

impl PythonPackage {
    /// The archive's file name, e.g. `python-3.11.7-h_taipan_0.conda`.
    pub fn file_name(&self) -> &str {
        self.archive
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
    }

    /// The subdir the package belongs to (the platform the tests run on).
    pub fn subdir(&self) -> &'static str {
        host_subdir()
    }
}

/// The conda subdir of the machine the tests run on (`linux-64` when it has none).
fn host_subdir() -> &'static str {
    Subdir::current().map_or("linux-64", Subdir::as_str)
}

/// The `python` package with pip, built from [`HostPython::detect`] the first time it is
/// asked for in this process and reused afterwards. Fails (every time, with the same
/// message) when the machine has no usable Python 3.
pub fn python_with_pip() -> Result<&'static PythonPackage> {
    static BUILT: OnceLock<std::result::Result<PythonPackage, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| build_once().map_err(|e| format!("{e:#}")))
        .as_ref()
        .map_err(|e| anyhow!("building the test kit's python package: {e}"))
}

fn build_once() -> Result<PythonPackage> {
    let host = HostPython::detect()?;
    let dir = tempfile::Builder::new()
        .prefix("taipan-testkit-python-")
        .tempdir()?
        .keep();
    crate::cli::remove_at_exit(&dir);
    let archive = host.package()?.write(&dir, ArchiveFormat::Conda)?;
    let pip_archive = host.pip_package().write(&dir, ArchiveFormat::Conda)?;
    Ok(PythonPackage {
        host,
        archive,
        pip_archive,
    })
}

/// `program` (an installed `bin/python`, `bin/pip` or console script) as a command
/// isolated from the user's pip and Python configuration: `PIP_*`, `PYTHON*` and proxy
/// variables removed, `HOME` and the working directory set to `home`, no pip config
/// file, no cache, no version check, no prompts, and no proxy for any host (so a local
/// [`crate::http::TestServer`] index is reached directly).
pub fn python_command(program: &Path, home: &Path) -> Command {
    let mut cmd = Command::new(program);
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let lower = key.to_ascii_lowercase();
        if key.starts_with("PIP_") || key.starts_with("PYTHON") || lower.ends_with("_proxy") {
            cmd.env_remove(key);
        }
    }
    cmd.env("HOME", home)
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env("PIP_NO_CACHE_DIR", "1")
        .env("PIP_NO_INPUT", "1")
        .env("NO_PROXY", "*")
        .current_dir(home);
    cmd
}

impl ChannelBuilder {
    /// Copies the `python` package of [`python_with_pip`] (built once per process) into
    /// `<root>/<platform>/`, and its `pip` metapackage into `<root>/noarch/`; returns the
    /// path of the `python` copy.
    pub fn add_python_with_pip(&mut self) -> Result<PathBuf> {
        let built = python_with_pip()?;
        let python = self.copy_in(&built.archive, built.subdir())?;
        self.copy_in(&built.pip_archive, "noarch")?;
        Ok(python)
    }

    fn copy_in(&mut self, archive: &Path, subdir: &str) -> Result<PathBuf> {
        let dir = self.root().join(subdir);
        fs_err::create_dir_all(&dir)?;
        let name = archive
            .file_name()
            .ok_or_else(|| anyhow!("{} has no file name", archive.display()))?;
        let dest = dir.join(name);
        fs_err::copy(archive, &dest)?;
        self.push_package(dest.clone());
        Ok(dest)
    }
}
