//! `conda doctor` / `conda check` through the CLI: conda 26's health report, and `--fix`
//! re-linking deleted and altered files (keeping the altered one aside) and dropping stale
//! `environments.txt` entries.

use crate::common::{output, tree, TestContext};

/// `doctor ARGS` without `REQUESTS_CA_BUNDLE` (its check would go to the network).
fn doctor(ctx: &TestContext, args: &[&str]) -> (i32, String, String) {
    output(
        ctx.cmd()
            .env_remove("REQUESTS_CA_BUNDLE")
            .arg("doctor")
            .args(args),
    )
}

fn registry(ctx: &TestContext) -> String {
    std::fs::read_to_string(ctx.home.join(".conda/environments.txt")).unwrap_or_default()
}

#[test]
fn doctor_reports_a_healthy_environment_and_lists_its_checks() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["app=1.0"]);
    let p = prefix.to_str().unwrap();
    let (code, stdout, stderr) = doctor(&ctx, &["-p", p]);
    assert_eq!(code, 0, "{stderr}");
    let (code, list, _) = doctor(&ctx, &["--list"]);
    assert_eq!(code, 0);
    // `check` is conda's alias.
    let (code, again, _) = output(
        ctx.cmd()
            .env_remove("REQUESTS_CA_BUNDLE")
            .args(["check", "-p", p]),
    );
    assert_eq!(code, 0);
    assert_eq!(again, stdout);
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!("healthy", stdout);
        insta::assert_snapshot!("list", list);
    });
    let (code, _, stderr) = doctor(&ctx, &["-p", &ctx.path("nothing").display().to_string()]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("EnvironmentLocationNotFound: Not a conda environment:"),
        "{stderr}"
    );
}

#[test]
fn doctor_finds_a_deleted_and_an_altered_file_and_fixes_both() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["app=1.0"]);
    let p = prefix.to_str().unwrap();
    let app_file = prefix.join("share/app/v1");
    let dep_file = prefix.join("share/dep/v1");
    std::fs::remove_file(&app_file).unwrap();
    // Written as editors do (a new file), and appended in place (which, through a hard
    // link, also changes the package cache's copy).
    std::fs::remove_file(&dep_file).unwrap();
    std::fs::write(&dep_file, "my own notes\n").unwrap();

    let (code, stdout, _) = doctor(&ctx, &["-p", p]);
    assert_eq!(code, 0);
    let (_, verbose, _) = doctor(&ctx, &["-p", p, "-v", "altered-files", "missing-files"]);
    let (_, json, _) = doctor(&ctx, &["-p", p, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["checks"]["missing-files"]["packages"]["app-1.0-0"][0],
        "share/app/v1"
    );
    assert_eq!(
        v["checks"]["altered-files"]["packages"]["dep-1.0-0"][0],
        "share/dep/v1"
    );
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!("broken", stdout);
        insta::assert_snapshot!("broken_verbose", verbose);
        insta::assert_snapshot!("broken_json", json);
    });

    // --dry-run and "no" change nothing.
    let before = tree(&prefix);
    let (code, stdout, stderr) = doctor(&ctx, &["-p", p, "--fix", "--dry-run"]);
    assert_eq!(code, 0);
    assert_eq!(stderr.matches("Dry run. Exiting.").count(), 2, "{stderr}");
    assert!(
        stdout.contains("Found 1 package(s) with missing files:\n  app-1.0-0: 1 missing file(s)"),
        "{stdout}"
    );
    assert_eq!(tree(&prefix), before);
    let (code, _, _) = output(
        ctx.cmd()
            .env_remove("REQUESTS_CA_BUNDLE")
            .args(["doctor", "-p", p, "--fix"])
            .write_stdin("n\nn\n"),
    );
    assert_eq!(code, 0);
    assert_eq!(tree(&prefix), before);

    let (code, stdout, stderr) = doctor(&ctx, &["-p", p, "--fix", "-y"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(std::fs::read_to_string(&app_file).unwrap(), "app 1\n");
    assert_eq!(std::fs::read_to_string(&dep_file).unwrap(), "dep 1\n");
    // The user's version is kept, and the output says where.
    let kept = prefix.join("share/dep/v1.~doctor");
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "my own notes\n");
    assert!(
        stdout.contains("Keeping your version of share/dep/v1 as share/dep/v1.~doctor"),
        "{stdout}"
    );
    let history = std::fs::read_to_string(prefix.join("conda-meta/history")).unwrap();
    assert!(history.contains(" doctor -p "), "{history}");
    let (_, after, _) = doctor(&ctx, &["-p", p, "altered-files", "missing-files"]);
    assert!(
        after.contains("✅ There are no packages with altered files."),
        "{after}"
    );
    assert!(
        after.contains("✅ There are no packages with missing files."),
        "{after}"
    );
}

#[test]
fn doctor_fix_restores_a_file_altered_in_place_through_the_cache_link() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["leaf"]);
    let p = prefix.to_str().unwrap();
    let file = prefix.join("share/leaf");
    // Appending changes the file in place: with a hard link, the cache's copy too.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&file)
        .unwrap();
    std::io::Write::write_all(&mut f, b"appended\n").unwrap();
    drop(f);
    let (code, stdout, stderr) = doctor(&ctx, &["-p", p, "--fix", "-y", "altered-files"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("leaf-1.0-0: 1 altered file(s)"), "{stdout}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "leaf\n");
    assert_eq!(
        std::fs::read_to_string(prefix.join("share/leaf.~doctor")).unwrap(),
        "leaf\nappended\n"
    );
}

#[test]
fn doctor_drops_a_stale_registration() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["dep=1.0"]);
    let p = prefix.to_str().unwrap();
    let gone = ctx.path("gone-env");
    std::fs::create_dir_all(gone.join("conda-meta")).unwrap();
    let registry_file = ctx.home.join(".conda/environments.txt");
    std::fs::write(
        &registry_file,
        format!("{}\n{}\n", gone.display(), prefix.display()),
    )
    .unwrap();
    std::fs::remove_dir_all(&gone).unwrap();
    let (code, stdout, _) = doctor(&ctx, &["-p", p, "environment-txt"]);
    assert_eq!(code, 0);
    let (code, fixed, stderr) = doctor(&ctx, &["-p", p, "environment-txt", "--fix", "-y"]);
    assert_eq!(code, 0, "{stderr}");
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!("stale", stdout);
        insta::assert_snapshot!("stale_fixed", fixed);
    });
    assert_eq!(registry(&ctx), format!("{}\n", prefix.display()));

    // An environment missing from the registry is registered again, as conda does.
    std::fs::write(&registry_file, "").unwrap();
    let (code, _, _) = doctor(&ctx, &["-p", p, "environment-txt", "--fix", "-y"]);
    assert_eq!(code, 0);
    assert_eq!(registry(&ctx), format!("{}\n", prefix.display()));
}

#[test]
fn doctor_pinned_specs_of_missing_packages_are_reported_and_removed() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["dep=1.0"]);
    let p = prefix.to_str().unwrap();
    let pinned = prefix.join("conda-meta/pinned");
    std::fs::write(&pinned, "# pins\nnosuch\ndep 1.*\n").unwrap();
    let (code, stdout, _) = doctor(&ctx, &["-p", p, "pinned"]);
    assert_eq!(code, 0);
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!("pinned", stdout);
    });
    let (code, _, stderr) = doctor(&ctx, &["-p", p, "pinned", "--fix", "-y"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&pinned).unwrap(),
        "# pins\ndep 1.*\n"
    );
}
