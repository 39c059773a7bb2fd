//! `taipan deploy` over a server's lifetime: shared installs, uninstalling, installers from
//! a URL, the default distribution.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::Command;

use crate::common::{output, TestContext};
use crate::deploy::*;

#[test]
fn shared_install_is_group_readable_and_users_get_their_own_envs() {
    if !require_root() {
        return;
    }
    let ctx = TestContext::new();
    let fx = shared_fixture();
    let homes = open_dir();
    let group = TempGroup::new();
    let owner = TempUser::new(homes.path(), &[]);
    let member = TempUser::new(homes.path(), &[&group.0]);
    let opt = homes.path().join("opt");
    std::fs::create_dir(&opt).unwrap();
    std::os::unix::fs::chown(&opt, Some(owner.uid), Some(owner.gid)).unwrap();
    let prefix = opt.join("demo3");
    let args = [
        "--user",
        &owner.name,
        "--no-upgrade",
        "--shared",
        &group.0,
        "--json",
        "--prefix",
        prefix.to_str().unwrap(),
        "--installer",
    ];
    let (code, out, err) = output(deploy(&ctx, &args).arg(&fx.installer));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(status_of(&json_of(&out), "shared"), "done");
    for p in walk(&prefix) {
        let meta = std::fs::symlink_metadata(&p).unwrap();
        if meta.is_symlink() {
            continue;
        }
        let mode = meta.permissions().mode();
        assert_eq!(meta.gid(), crate_gid(&group.0), "{}", p.display());
        if meta.is_dir() {
            assert_eq!(mode & 0o2050, 0o2050, "{} {mode:o}", p.display());
        } else {
            assert_eq!(mode & 0o040, 0o040, "{} {mode:o}", p.display());
        }
    }
    let (code, out, err) = member.bash_i(&format!(
        "source {}/bin/activate && conda create -n mine -y -q --offline && conda env list",
        prefix.display()
    ));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        member
            .home
            .join(".conda/envs/mine/conda-meta/history")
            .is_file(),
        "{out}"
    );
    let (code, out, _) = output(deploy(&ctx, &args).arg(&fx.installer));
    assert_eq!(code, 0);
    assert_eq!(status_of(&json_of(&out), "shared"), "already-done");
}

fn crate_gid(group: &str) -> u32 {
    let (_, out, _) = sys(Command::new("getent").args(["group", group]));
    out.split(':').nth(2).unwrap().trim().parse().unwrap()
}

#[test]
fn uninstall_reverses_init_and_removes_the_prefix_after_confirmation() {
    if !require_root() {
        return;
    }
    let ctx = TestContext::new();
    let fx = shared_fixture();
    let homes = open_dir();
    let user = TempUser::new(homes.path(), &[]);
    let bashrc = std::fs::read(user.home.join(".bashrc")).unwrap();
    let (code, out, err) = output(
        deploy(&ctx, &["--user", &user.name, "--no-upgrade", "--installer"]).arg(&fx.installer),
    );
    assert_eq!(code, 0, "{out}{err}");
    let prefix = user.home.join("demo3");
    // Without a terminal, --yes is required; nothing is removed.
    let (code, _, err) = output(
        deploy(&ctx, &["--user", &user.name, "--uninstall", "--installer"]).arg(&fx.installer),
    );
    assert_eq!(code, 1);
    assert!(err.contains("pass --yes"), "{err}");
    assert!(prefix.join("conda-meta/history").is_file());
    let uninstall = || {
        output(
            deploy(
                &ctx,
                &[
                    "--user",
                    &user.name,
                    "--uninstall",
                    "--yes",
                    "--json",
                    "--installer",
                ],
            )
            .arg(&fx.installer),
        )
    };
    let (code, out, err) = uninstall();
    assert_eq!(code, 0, "{out}{err}");
    let report = json_of(&out);
    assert_eq!(status_of(&report, "init-reverse"), "done", "{report}");
    assert_eq!(status_of(&report, "remove-prefix"), "done");
    assert!(!prefix.exists());
    assert_eq!(
        std::fs::read(user.home.join(".bashrc")).unwrap(),
        bashrc,
        "rc file restored byte for byte"
    );
    let registry =
        std::fs::read_to_string(user.home.join(".conda/environments.txt")).unwrap_or_default();
    assert!(
        !registry.contains(&prefix.display().to_string()),
        "{registry}"
    );
    // Again: nothing left to do. A directory that is not an installation is never removed.
    let (code, out, _) = uninstall();
    assert_eq!(code, 0);
    assert_eq!(status_of(&json_of(&out), "remove-prefix"), "already-done");
    let (code, _, err) = output(&mut deploy(
        &ctx,
        &[
            "--user",
            &user.name,
            "--uninstall",
            "--yes",
            "--prefix",
            user.home.to_str().unwrap(),
        ],
    ));
    assert_eq!(code, 1);
    assert!(err.contains("is not a conda installation"), "{err}");
    assert!(user.home.join(".bashrc").exists());
}

#[test]
fn installer_from_url_is_downloaded_and_checked() {
    if !require_root() {
        return;
    }
    let ctx = TestContext::new();
    let fx = shared_fixture();
    let homes = open_dir();
    let user = TempUser::new(homes.path(), &[]);
    let server = taipan_testkit::http::TestServer::serve(&fx.dir.path().join("out")).unwrap();
    let url = format!("{}Demo3-1.0.0-Linux-x86_64.sh", server.url());
    let before = crate::common::tree(&user.home);
    let wrong = "1".repeat(64);
    let base = [
        "--user",
        user.name.as_str(),
        "--no-upgrade",
        "--installer",
        url.as_str(),
    ];
    let (code, out, err) = output(deploy(&ctx, &base).args(["--sha256", &wrong]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("ChecksumMismatchError") && err.contains(&url),
        "{err}"
    );
    assert!(out.contains("installer        FAILED"), "{out}");
    assert_eq!(
        crate::common::tree(&user.home),
        before,
        "nothing placed, nothing installed"
    );
    let missing = format!("{}Nope-1.0-Linux-x86_64.sh", server.url());
    let (code, _, err) = output(&mut deploy(
        &ctx,
        &[
            "--user",
            &user.name,
            "--no-upgrade",
            "--installer",
            &missing,
        ],
    ));
    assert_eq!(code, 1);
    assert!(
        err.contains("CondaHTTPError") && err.contains("404"),
        "{err}"
    );
    let (code, out, err) = output(deploy(&ctx, &base).args(["--sha256", &fx.sha256(), "--json"]));
    assert_eq!(code, 0, "{out}{err}");
    let report = json_of(&out);
    assert_eq!(report["distribution"]["name"], "Demo3");
    assert!(user.home.join("demo3/conda-meta/history").is_file());
    assert!(!user.home.join("Demo3-1.0.0-Linux-x86_64.sh").exists());
    assert!(server.requests("/Demo3-1.0.0-Linux-x86_64.sh") >= 2);
}

#[test]
fn default_distribution_deploys_offline_and_update_is_skipped_without_channels() {
    if !require_root() {
        return;
    }
    let ctx = TestContext::new();
    let homes = open_dir();
    let user = TempUser::new(homes.path(), &[]);
    let binary = crate::common::embedded_binary(homes.path());
    let args = [
        "--user",
        user.name.as_str(),
        "--no-upgrade",
        "--json",
        "--taipan-binary",
        binary.to_str().unwrap(),
    ];
    let (code, out, err) = output(&mut deploy(&ctx, &args));
    assert_eq!(code, 0, "{out}{err}");
    let report = json_of(&out);
    assert_eq!(
        report["distribution"],
        serde_json::json!({"name": "Taipan3", "version": "0.1.0"})
    );
    assert_eq!(
        report["prefix"],
        user.home.join("taipan3").display().to_string()
    );
    let update = &report["steps"].as_array().unwrap()[5];
    assert_eq!(update["name"], "update");
    assert_eq!(
        update["status"], "skipped",
        "conda-forge is not reachable here: {report}"
    );
    assert!(
        update["note"]
            .as_str()
            .unwrap()
            .contains("once the channels are reachable"),
        "{update}"
    );
    assert!(user
        .home
        .join("taipan3/conda-meta/taipan-0.1.0-0.json")
        .is_file());
    let (code, out, err) = user.bash_i("conda activate && conda list --json");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("\"name\": \"taipan\""), "{out}");
    // Second run: no rebuild, nothing to do.
    let (code, out, _) = output(&mut deploy(&ctx, &args));
    assert_eq!(code, 0);
    let report = json_of(&out);
    assert_eq!(status_of(&report, "installer"), "already-done");
    assert_eq!(status_of(&report, "init"), "already-done");
}
