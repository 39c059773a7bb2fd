//! `conda config`: reading (`--show`, `--show-sources`, `--get`, `--describe`,
//! `--validate`) and writing (`--set`, `--add`/`--prepend`, `--append`, `--remove`,
//! `--remove-key`, `--stdin`) a `.condarc`, with conda's texts, JSON, errors and exit codes.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::common::{output, TestContext};

/// Runs `taipan config ARGS` (optionally with stdin); returns (code, stdout, stderr).
fn config(ctx: &TestContext, args: &[&str]) -> (i32, String, String) {
    output(ctx.cmd().arg("config").args(args))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A `.condarc` in the layout conda (ruamel) writes, with a user's comments.
const CONDA_WRITTEN: &str = "\
# site settings
channels:  #!final
  - conda-forge  # first
  - defaults
always_yes: true  # no prompts
proxy_servers:
  http: http://p:8080

# network
ssl_verify: false
";

#[test]
fn config_set_writes_what_conda_writes() {
    let ctx = TestContext::new();
    for args in [
        ["--set", "always_yes", "yes"],
        ["--add", "channels", "a"],
        ["--add", "channels", "b"],
        ["--add", "channels", "a"],
        ["--append", "channels", "b"],
        ["--set", "proxy_servers.http", "http://p:8080"],
        ["--set", "channel_priority", "strict"],
        ["--set", "remote_connect_timeout_secs", "3"],
        ["--set", "ssl_verify", "false"],
        ["--set", "env_prompt", "({name}) "],
        ["--set", "default_python", "3.10"],
    ] {
        let (code, _, err) = config(&ctx, &args);
        assert_eq!(code, 0, "{args:?}: {err}");
    }
    // Byte for byte what conda 26.7 wrote for the same commands.
    assert_eq!(
        read(&ctx.home.join(".condarc")),
        "always_yes: true\nchannels:\n  - a\n  - b\nproxy_servers:\n  http: http://p:8080\n\
         channel_priority: strict\nremote_connect_timeout_secs: 3.0\nssl_verify: false\n\
         env_prompt: '({name}) '\ndefault_python: '3.10'\n"
    );
    let (code, out, _) = config(&ctx, &["--get"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!("config_get_text", out);
    let (_, out, _) = config(&ctx, &["--get", "channels", "nokey", "--json"]);
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!("config_get_json", out);
    });
}

#[test]
fn config_add_moves_an_existing_entry_with_a_warning() {
    let ctx = TestContext::new();
    config(&ctx, &["--add", "channels", "a"]);
    config(&ctx, &["--add", "channels", "b"]);
    let (code, _, err) = config(&ctx, &["--add", "channels", "a"]);
    assert_eq!(code, 0);
    assert_eq!(
        err,
        "Warning: 'a' already in 'channels' list, moving to the top\n"
    );
    let (code, out, err) = config(&ctx, &["--append", "channels", "a", "--json"]);
    assert_eq!((code, err.as_str()), (0, ""));
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!("config_append_json", out);
    });
    assert_eq!(
        read(&ctx.home.join(".condarc")),
        "channels:\n  - b\n  - a\n"
    );
}

#[test]
fn config_edits_keep_comments_key_order_and_mode() {
    let ctx = TestContext::new();
    let rc = ctx.home.join(".condarc");
    std::fs::write(&rc, CONDA_WRITTEN).unwrap();
    std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o600)).unwrap();
    for args in [
        ["--add", "channels", "bioconda"],
        ["--set", "always_yes", "false"],
        ["--set", "proxy_servers.https", "https://q:1"],
    ] {
        let (code, _, err) = config(&ctx, &args);
        assert_eq!(code, 0, "{err}");
    }
    let (code, _, _) = config(&ctx, &["--remove", "channels", "defaults"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!("config_edited_file", read(&rc));
    assert_eq!(mode(&rc), 0o600);
    // no temporary file left beside it
    let names: Vec<_> = std::fs::read_dir(&ctx.home)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from(".condarc")]);
}

#[test]
fn config_remove_key_and_remove() {
    let ctx = TestContext::new();
    let rc = ctx.home.join(".condarc");
    std::fs::write(&rc, CONDA_WRITTEN).unwrap();
    assert_eq!(config(&ctx, &["--remove-key", "proxy_servers.http"]).0, 0);
    assert_eq!(config(&ctx, &["--remove-key", "ssl_verify"]).0, 0);
    assert_eq!(config(&ctx, &["--remove", "channels", "conda-forge"]).0, 0);
    insta::assert_snapshot!("config_removed_file", read(&rc));
}

/// Every refused change: conda's error, exit code, and the file untouched (bytes and mode).
#[test]
fn config_errors_write_nothing() {
    let ctx = TestContext::new();
    let rc = ctx.home.join(".condarc");
    std::fs::write(&rc, CONDA_WRITTEN).unwrap();
    std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o640)).unwrap();
    let mut report = String::new();
    for args in [
        vec!["--set", "nokey", "1"],
        vec!["--set", "nokey", "1", "--json"],
        vec!["--set", "channels", "x"],
        vec!["--add", "always_yes", "x"],
        vec!["--set", "auto_stack", "notanint", "--json"],
        vec!["--set", "channel_priority", "bogus"],
        vec!["--remove", "channels", "zz", "--json"],
        vec!["--remove", "pinned_packages", "zz"],
        vec!["--remove-key", "nokey"],
        vec!["--add", "ssl_verify", "x"],
    ] {
        let (code, out, err) = config(&ctx, &args);
        report.push_str(&format!(
            "$ conda config {}\nexit {code}\n{out}{err}\n",
            args.join(" ")
        ));
        assert_eq!(read(&rc), CONDA_WRITTEN, "{args:?} changed the file");
        assert_eq!(mode(&rc), 0o640);
    }
    insta::assert_snapshot!("config_errors", report);
}

#[test]
fn config_stdin_merges_top_level_keys() {
    let ctx = TestContext::new();
    let rc = ctx.home.join(".condarc");
    std::fs::write(&rc, CONDA_WRITTEN).unwrap();
    let out = ctx
        .cmd()
        .args(["config", "--stdin"])
        .write_stdin("pinned_packages:\n  - x\nalways_yes: false\n")
        .output()
        .unwrap();
    assert!(out.status.success());
    insta::assert_snapshot!("config_stdin_file", read(&rc));
    let bad = ctx
        .cmd()
        .args(["config", "--stdin"])
        .write_stdin("a: [\n")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&bad.stderr),
        "\nParseError: invalid yaml content:\na: [\n\n"
    );
}

#[test]
fn config_targets_system_env_file_and_not_condarc() {
    let ctx = TestContext::new();
    let file = ctx.path("custom/.condarc");
    let env = ctx.path("envs/e");
    std::fs::create_dir_all(env.join("conda-meta")).unwrap();
    let condarc = ctx.path("elsewhere.yml");
    let (code, _, err) = config(&ctx, &["--system", "--set", "changeps1", "no"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(read(&ctx.root.join(".condarc")), "changeps1: false\n");
    config(
        &ctx,
        &["--file", file.to_str().unwrap(), "--add", "channels", "x"],
    );
    // A new file starts from the system file's content, as in conda.
    assert_eq!(read(&file), "changeps1: false\nchannels:\n  - x\n");
    let out = ctx
        .cmd()
        .args(["config", "--env", "--set", "auto_stack", "1"])
        .env("CONDA_PREFIX", &env)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        read(&env.join(".condarc")),
        "changeps1: false\nauto_stack: 1\n"
    );
    // conda reads $CONDARC but writes the user file.
    let out = ctx
        .cmd()
        .args(["config", "--set", "offline", "true"])
        .env("CONDARC", &condarc)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!condarc.exists());
    // The user file starts from the system file's content when it does not exist yet.
    assert_eq!(
        read(&ctx.home.join(".condarc")),
        "changeps1: false\noffline: true\n"
    );
}

#[test]
fn config_show_and_show_sources() {
    let ctx = TestContext::new();
    std::fs::write(ctx.home.join(".condarc"), CONDA_WRITTEN).unwrap();
    let (code, out, _) = config(
        &ctx,
        &[
            "--show",
            "channels",
            "always_yes",
            "custom_multichannels",
            "remote_read_timeout_secs",
            "auto_activate_base",
        ],
    );
    assert_eq!(code, 0);
    insta::assert_snapshot!("config_show_text", out);
    let (_, out, _) = config(
        &ctx,
        &["--show", "proxy_servers", "channel_alias", "--json"],
    );
    insta::assert_snapshot!("config_show_json", out);
    let (code, out, _) = config(&ctx, &["--show"]);
    assert_eq!(code, 0);
    assert_eq!(
        out.lines().filter(|l| !l.starts_with(' ')).count(),
        115,
        "{out}"
    );
    let (code, out, err) = config(&ctx, &["--show-sources"]);
    assert_eq!(code, 0, "{err}");
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!("config_show_sources", out);
    });
    let (code, out, _) = config(&ctx, &["--show-sources", "--json"]);
    assert_eq!(code, 0);
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!("config_show_sources_json", out);
    });
    let (code, out, _) = config(&ctx, &["--show", "nokey", "--json"]);
    assert_eq!(code, 2);
    insta::assert_snapshot!("config_show_unknown", out);
}

#[test]
fn config_describe_prints_condas_descriptions() {
    let ctx = TestContext::new();
    let (code, out, _) = config(&ctx, &["--describe", "channel_priority", "channels"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!("config_describe_text", out);
    let (_, out, _) = config(&ctx, &["--describe", "ssl_verify", "--json"]);
    insta::assert_snapshot!("config_describe_json", out);
    let (code, out, _) = config(&ctx, &["--describe"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("# ######################################################\n# ##              Channel Configuration               ##\n"), "{out}");
    assert!(out.ends_with("# environment_specifier:\n\n\n\n"));
}

#[test]
fn config_validate_reports_bad_files() {
    let ctx = TestContext::new();
    let rc = ctx.home.join(".condarc");
    std::fs::write(&rc, CONDA_WRITTEN).unwrap();
    let (code, out, err) = config(&ctx, &["--validate"]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    std::fs::write(&rc, "auto_stack: lots\n").unwrap();
    let (code, _, err) = config(&ctx, &["--validate"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("auto_stack"), "{err}");
}

/// A file taipan wrote reads back (taipan's loader, the one every command uses) as the
/// values that were set, and a conda-written file is read as conda reads it.
#[test]
fn config_round_trips_through_the_reader() {
    let ctx = TestContext::new();
    let rc = ctx.home.join(".condarc");
    std::fs::write(&rc, CONDA_WRITTEN).unwrap();
    config(&ctx, &["--add", "channels", "bioconda"]);
    config(&ctx, &["--set", "env_prompt", "({name}) "]);
    let (code, out, err) = config(
        &ctx,
        &[
            "--show",
            "channels",
            "env_prompt",
            "ssl_verify",
            "proxy_servers",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["channels"],
        serde_json::json!(["bioconda", "conda-forge", "defaults"])
    );
    assert_eq!(v["env_prompt"], "({name}) ");
    assert_eq!(v["ssl_verify"], false);
    assert_eq!(v["proxy_servers"]["http"], "http://p:8080");
}
