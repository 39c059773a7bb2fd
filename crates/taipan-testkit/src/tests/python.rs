//! The `python` package of [`python_with_pip`], installed into a prefix the way an
//! installer links it (placeholder replaced), runs with that prefix and its pip installs
//! wheels from [`WheelBuilder`], from a find-links directory and from a simple index
//! served over HTTP.

use std::{
    fs,
    os::unix::fs::{symlink, PermissionsExt},
    path::{Path, PathBuf},
};

use rattler_conda_types::package::{FileMode, IndexJson, PackageFile, PathType, PathsJson};
use rattler_package_streaming::fs::extract;

use crate::{
    http::TestServer, python_command, python_with_pip, write_simple_index, ChannelBuilder,
    WheelBuilder, PLACEHOLDER, PYTHON_BUILD_STRING,
};

/// Links the package at `archive` into `prefix` as conda does: files copied with their
/// mode, symlinks recreated, the placeholder of text prefix files replaced by `prefix`.
pub(crate) fn install_like_conda(archive: &Path, prefix: &Path) {
    let extracted = tempfile::tempdir().unwrap();
    extract(archive, extracted.path()).unwrap();
    let paths = PathsJson::from_package_directory(extracted.path()).unwrap();
    let prefix_str = prefix.to_str().unwrap();
    for entry in &paths.paths {
        let src = extracted.path().join(&entry.relative_path);
        let dest = prefix.join(&entry.relative_path);
        fs::create_dir_all(dest.parent().unwrap()).unwrap();
        if entry.path_type == PathType::SoftLink {
            symlink(fs::read_link(&src).unwrap(), &dest).unwrap();
            continue;
        }
        let mut contents = fs::read(&src).unwrap();
        if let Some(placeholder) = &entry.prefix_placeholder {
            assert_eq!(placeholder.file_mode, FileMode::Text, "{:?}", entry);
            assert_eq!(placeholder.placeholder, PLACEHOLDER);
            let text = String::from_utf8(contents).unwrap();
            contents = text.replace(PLACEHOLDER, prefix_str).into_bytes();
        }
        fs::write(&dest, contents).unwrap();
        let mode = fs::metadata(&src).unwrap().permissions().mode();
        fs::set_permissions(&dest, fs::Permissions::from_mode(mode)).unwrap();
    }
}

/// A prefix with the python package installed, inside a fresh temp dir.
pub(crate) fn installed_python() -> (tempfile::TempDir, PathBuf) {
    let built = python_with_pip().unwrap();
    let temp = tempfile::tempdir().unwrap();
    let prefix = temp.path().join("env");
    install_like_conda(&built.archive, &prefix);
    (temp, prefix)
}

/// `program ARGS` isolated from the user's pip configuration and proxies; returns stdout,
/// panicking with both streams on failure.
pub(crate) fn run(program: &Path, args: &[&str], home: &Path) -> String {
    let mut cmd = python_command(program, home);
    cmd.args(args);
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{} {args:?} failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
        program.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn demo_wheels(dir: &Path) -> Vec<PathBuf> {
    vec![
        WheelBuilder::new("tpdemo", "1.0")
            .module(
                "tpdemo/__init__.py",
                "import tpdep\n\ndef main():\n    print('tpdemo says', tpdep.WORD)\n",
            )
            .requires("tpdep>=1.0")
            .entry_point("tpdemo", "tpdemo:main")
            .write(dir)
            .unwrap(),
        WheelBuilder::new("tpdep", "1.2")
            .module("tpdep.py", "WORD = 'hello'\n")
            .write(dir)
            .unwrap(),
    ]
}

#[test]
fn python_package_is_indexed_with_the_host_version() {
    let built = python_with_pip().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut channel = ChannelBuilder::new(dir.path());
    let archive = channel.add_python_with_pip().unwrap();
    channel.index().unwrap();
    let name = format!("python-{}-{PYTHON_BUILD_STRING}.conda", built.host.version);
    assert_eq!(archive, dir.path().join(built.subdir()).join(&name));
    let pip_name = format!("pip-{}-{PYTHON_BUILD_STRING}.conda", built.host.pip_version);
    assert_eq!(
        channel.packages(),
        [archive.clone(), dir.path().join("noarch").join(&pip_name)]
    );

    let repodata: serde_json::Value = serde_json::from_slice(
        &fs::read(dir.path().join(built.subdir()).join("repodata.json")).unwrap(),
    )
    .unwrap();
    let record = &repodata["packages.conda"][&name];
    assert_eq!(record["name"], "python");
    assert_eq!(record["version"], built.host.version.as_str());
    assert_eq!(record["build"], PYTHON_BUILD_STRING);
    assert_eq!(record["subdir"], built.subdir());

    let extracted = tempfile::tempdir().unwrap();
    extract(&archive, extracted.path()).unwrap();
    let index = IndexJson::from_package_directory(extracted.path()).unwrap();
    assert_eq!(index.name.as_normalized(), "python");
    assert!(index.depends.is_empty());

    // conda makes python depend on pip: the channel has a pip record, without files.
    let noarch: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("noarch/repodata.json")).unwrap())
            .unwrap();
    let pip = &noarch["packages.conda"][&pip_name];
    assert_eq!(pip["name"], "pip");
    assert_eq!(pip["depends"], serde_json::json!(["python"]));
    let extracted = tempfile::tempdir().unwrap();
    extract(&built.pip_archive, extracted.path()).unwrap();
    let paths = PathsJson::from_package_directory(extracted.path()).unwrap();
    assert!(paths.paths.is_empty());
}

#[test]
fn python_package_owns_pip_and_carries_no_host_links() {
    let built = python_with_pip().unwrap();
    let extracted = tempfile::tempdir().unwrap();
    extract(&built.archive, extracted.path()).unwrap();
    let paths = PathsJson::from_package_directory(extracted.path()).unwrap();
    let site = built.host.site_packages();
    let exe = built.host.exe_name();
    let names: Vec<String> = paths
        .paths
        .iter()
        .map(|p| p.relative_path.to_str().unwrap().to_owned())
        .collect();
    for wanted in [
        format!("bin/{exe}"),
        "bin/python".to_owned(),
        "bin/python3".to_owned(),
        "bin/pip".to_owned(),
        "pyvenv.cfg".to_owned(),
        format!("{site}/pip/__init__.py"),
        format!("{site}/pip/__main__.py"),
    ] {
        assert!(names.contains(&wanted), "{wanted} missing from paths.json");
    }
    let dist_info: Vec<_> = names
        .iter()
        .filter(|n| n.starts_with(&format!("{site}/pip-")) && n.contains(".dist-info/"))
        .collect();
    for file in ["METADATA", "RECORD", "INSTALLER"] {
        assert!(
            dist_info.iter().any(|n| n.ends_with(&format!("/{file}"))),
            "pip's .dist-info/{file} missing: {dist_info:?}"
        );
    }
    for entry in &paths.paths {
        let path = extracted.path().join(&entry.relative_path);
        if entry.path_type == PathType::SoftLink {
            let target = fs::read_link(&path).unwrap();
            assert!(target.is_relative(), "{path:?} -> {target:?}");
            assert!(!target.to_str().unwrap().contains(".."), "{target:?}");
        }
    }
    let pip = paths
        .paths
        .iter()
        .find(|p| p.relative_path == Path::new("bin/pip"))
        .unwrap();
    let placeholder = pip
        .prefix_placeholder
        .as_ref()
        .expect("bin/pip has a prefix");
    assert_eq!(placeholder.file_mode, FileMode::Text);
    let script = fs::read_to_string(extracted.path().join("bin/pip")).unwrap();
    assert!(
        script.starts_with(&format!("#!{PLACEHOLDER}/bin/{exe}\n")),
        "{script}"
    );
}

#[test]
fn installed_python_has_its_prefix_and_site_packages() {
    let (temp, prefix) = installed_python();
    let built = python_with_pip().unwrap();
    let exe = built.host.exe_name();
    let site = prefix.join(built.host.site_packages());
    for name in ["python", "python3", exe.as_str()] {
        let out = run(
            &prefix.join("bin").join(name),
            &[
                "-c",
                "import sys, site, sysconfig; print(sys.prefix); \
                 print(sysconfig.get_paths()['purelib']); print(sys.version.split()[0])",
            ],
            temp.path(),
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            prefix.to_str().unwrap(),
            "sys.prefix of bin/{name}"
        );
        assert_eq!(lines[1], site.to_str().unwrap(), "purelib of bin/{name}");
        assert_eq!(lines[2], built.host.version);
    }
    let out = run(
        &prefix.join("bin/python"),
        &["-m", "pip", "--version"],
        temp.path(),
    );
    assert!(
        out.contains(site.join("pip").to_str().unwrap()),
        "pip must come from the prefix: {out}"
    );
    let out = run(&prefix.join("bin/pip"), &["--version"], temp.path());
    assert!(out.contains(site.join("pip").to_str().unwrap()), "{out}");
}

#[test]
fn installed_pip_installs_wheels_from_find_links() {
    let (temp, prefix) = installed_python();
    let built = python_with_pip().unwrap();
    let wheels = temp.path().join("wheels");
    demo_wheels(&wheels);
    let python = prefix.join("bin/python");
    let find_links = wheels.to_str().unwrap();
    run(
        &python,
        &[
            "-m",
            "pip",
            "install",
            "--no-index",
            "--find-links",
            find_links,
            "tpdemo",
        ],
        temp.path(),
    );
    let site = prefix.join(built.host.site_packages());
    let installer = site.join("tpdemo-1.0.dist-info/INSTALLER");
    assert_eq!(fs::read_to_string(&installer).unwrap().trim(), "pip");
    assert!(site.join("tpdep-1.2.dist-info/RECORD").is_file());
    let out = run(
        &python,
        &[
            "-c",
            "import tpdemo, tpdep; print(tpdemo.__file__); print(tpdep.WORD)",
        ],
        temp.path(),
    );
    assert_eq!(
        out,
        format!("{}\nhello\n", site.join("tpdemo/__init__.py").display())
    );
    let out = run(&prefix.join("bin/tpdemo"), &[], temp.path());
    assert_eq!(out, "tpdemo says hello\n");
    let out = run(
        &python,
        &["-m", "pip", "list", "--format=freeze"],
        temp.path(),
    );
    assert!(
        out.contains("tpdemo==1.0") && out.contains("tpdep==1.2"),
        "{out}"
    );
    run(
        &python,
        &["-m", "pip", "uninstall", "-y", "tpdemo"],
        temp.path(),
    );
    assert!(
        !site.join("tpdemo").exists(),
        "pip uninstall follows RECORD"
    );
}

#[test]
fn installed_pip_installs_from_a_simple_index_over_http() {
    let (temp, prefix) = installed_python();
    let root = temp.path().join("index");
    let wheels = demo_wheels(&root);
    let simple = write_simple_index(&root, &wheels).unwrap();
    assert!(simple.join("tpdemo/index.html").is_file());
    let server = TestServer::serve(&root).unwrap();
    let index_url = format!("{}simple/", server.url());
    run(
        &prefix.join("bin/python"),
        &["-m", "pip", "install", "--index-url", &index_url, "tpdemo"],
        temp.path(),
    );
    let out = run(&prefix.join("bin/tpdemo"), &[], temp.path());
    assert_eq!(out, "tpdemo says hello\n");
    assert!(server.requests("/simple/tpdemo/") >= 1);
    assert!(server.requests("/tpdep-1.2-py3-none-any.whl") >= 1);
}
