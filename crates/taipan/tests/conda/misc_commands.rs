//! `conda commands`, `conda package --which/--untracked/--reset`, `conda notices`.

use std::path::{Path, PathBuf};

use crate::common::{output, TestContext};

#[test]
fn commands_lists_the_subcommands_sorted_without_a_final_newline() {
    let ctx = TestContext::new();
    let (code, stdout, _) = output(ctx.cmd().args(["commands"]));
    assert_eq!(code, 0);
    assert!(!stdout.ends_with('\n'));
    let names: Vec<&str> = stdout.lines().collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    for name in [
        "clean",
        "commands",
        "notices",
        "package",
        "uninstall",
        "upgrade",
    ] {
        assert!(names.contains(&name), "{name}");
    }
    assert!(!names.contains(&"help"));
    insta::assert_snapshot!("commands", stdout);
}

fn env_with_extra_files(ctx: &TestContext) -> PathBuf {
    let prefix = ctx.create("env", &["leaf"]);
    std::fs::write(prefix.join("share/mine.txt"), "x").unwrap();
    std::fs::create_dir_all(prefix.join("notes/deep")).unwrap();
    std::fs::write(prefix.join("notes/deep/n.txt"), "x").unwrap();
    prefix
}

#[test]
fn package_which_names_the_owning_package() {
    let ctx = TestContext::new();
    env_with_extra_files(&ctx);
    // Paths as given (relative to the current directory), padded as conda pads them; a
    // file no package owns prints nothing.
    let (code, stdout, stderr) = output(ctx.cmd().args([
        "package",
        "--which",
        "env/share/leaf",
        "env/share/mine.txt",
        "env/share/dep/v2",
    ]));
    assert_eq!(code, 0, "{stderr}");
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!("package_which", stdout);
    });
    let (code, _, stderr) = output(ctx.cmd().args(["package", "-w", "/"]));
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        "\nCondaVerificationError: could not determine conda prefix from: /\n\n"
    );
}

#[test]
fn package_untracked_lists_and_reset_removes_unowned_files() {
    let ctx = TestContext::new();
    let prefix = env_with_extra_files(&ctx);
    let (code, stdout, stderr) = output(
        ctx.cmd()
            .args(["package", "--untracked", "-p"])
            .arg(&prefix),
    );
    assert_eq!(code, 0, "{stderr}");
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!("package_untracked", stdout);
    });
    let (code, stdout, _) = output(ctx.cmd().args(["package", "-r", "-p"]).arg(&prefix));
    assert_eq!(code, 0);
    assert_eq!(stdout, format!("# prefix: {}\n", prefix.display()));
    assert!(!prefix.join("share/mine.txt").exists());
    assert!(!prefix.join("notes/deep").exists());
    assert!(prefix.join("share/leaf").is_file());
    let (_, stdout, _) = output(ctx.cmd().args(["package", "-u", "-p"]).arg(&prefix));
    assert!(stdout.ends_with("# untracked files: 0\n"), "{stdout}");
    // A missing environment is an error, not a crash.
    let (code, _, stderr) = output(ctx.cmd().args(["package", "-u", "-n", "nope"]));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("EnvironmentNameNotFound")
            || stderr.contains("EnvironmentLocationNotFound"),
        "{stderr}"
    );
}

fn notices_channel(ctx: &TestContext, name: &str, body: &str) -> String {
    let dir = ctx.path(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notices.json"), body).unwrap();
    url::Url::from_directory_path(&dir).unwrap().to_string()
}

const NOTICES: &str = r#"{"notices": [
 {"id": "n1", "message": "MESSAGE", "level": "warning", "created_at": "2026-01-02T03:04:05+00:00", "expired_at": "EXPIRES", "interval": 604800},
 {"id": "n2", "message": "Second notice.", "level": "bogus", "created_at": "2026-02-03T04:05:06Z", "expired_at": "2099-01-01T00:00:00+00:00"}
]}"#;

fn notices_body(message: &str, expires: &str) -> String {
    NOTICES
        .replace("MESSAGE", message)
        .replace("EXPIRES", expires)
}

fn cache_dir(ctx: &TestContext) -> PathBuf {
    ctx.home.join(".cache/conda/notices")
}

fn notices(ctx: &TestContext, channel: &str, json: bool) -> (i32, String, String) {
    let mut cmd = ctx.cmd();
    cmd.args(["notices", "--override-channels", "-c", channel]);
    if json {
        cmd.arg("--json");
    }
    output(&mut cmd)
}

#[test]
fn notices_of_a_channel_in_condas_text_and_json() {
    let ctx = TestContext::new();
    let ch = notices_channel(
        &ctx,
        "news",
        &notices_body("Hello.", "2099-01-01T00:00:00+00:00"),
    );
    let (code, stdout, stderr) = notices(&ctx, &ch, false);
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("notices_text", stdout);
    let (code, stdout, _) = notices(&ctx, &ch, true);
    assert_eq!(code, 0);
    insta::assert_snapshot!("notices_json", stdout);
    // conda's cache: the response under the URL's sha256, the ids shown in notices.cache.
    let viewed = std::fs::read_to_string(cache_dir(&ctx).join("notices.cache")).unwrap();
    assert_eq!(viewed, "n1\nn2");
    let cached: Vec<PathBuf> = std::fs::read_dir(cache_dir(&ctx))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert_eq!(cached.len(), 1);
    let key = format!("{ch}notices.json");
    let digest = rattler_digest::compute_bytes_digest::<rattler_digest::Sha256>(key.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(cached[0], cache_dir(&ctx).join(format!("{hex}.json")));
}

#[test]
fn notices_are_cached_for_a_day_unless_one_expired() {
    let ctx = TestContext::new();
    let dir_of = |ch: &str| PathBuf::from(ch.trim_start_matches("file://"));
    let fresh = notices_channel(
        &ctx,
        "fresh",
        &notices_body("Old.", "2099-01-01T00:00:00+00:00"),
    );
    let (_, stdout, _) = notices(&ctx, &fresh, false);
    assert!(stdout.contains("Old."));
    write(
        &dir_of(&fresh),
        &notices_body("New.", "2099-01-01T00:00:00+00:00"),
    );
    let (_, stdout, _) = notices(&ctx, &fresh, false);
    assert!(
        stdout.contains("Old."),
        "the cached response is used: {stdout}"
    );

    let stale = notices_channel(
        &ctx,
        "stale",
        &notices_body("Old.", "2000-01-01T00:00:00+00:00"),
    );
    let (_, stdout, _) = notices(&ctx, &stale, false);
    assert!(stdout.contains("Old."));
    write(
        &dir_of(&stale),
        &notices_body("New.", "2099-01-01T00:00:00+00:00"),
    );
    let (_, stdout, _) = notices(&ctx, &stale, false);
    assert!(
        stdout.contains("New."),
        "an expired notice refetches: {stdout}"
    );
}

fn write(dir: &Path, body: &str) {
    std::fs::write(dir.join("notices.json"), body).unwrap();
}

#[test]
fn notices_missing_or_unreachable_print_nothing() {
    let ctx = TestContext::new();
    let (code, stdout, stderr) = notices(&ctx, &ctx.channel, false);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "Retrieving notices: ...working... done\n");
    let (code, stdout, _) = notices(&ctx, &ctx.channel, true);
    assert_eq!(code, 0);
    assert_eq!(stdout.trim(), "[]");
    // Nothing listens on port 9: no notices, no failure.
    let (code, stdout, _) = notices(&ctx, "http://127.0.0.1:9/chan", true);
    assert_eq!(code, 0);
    assert_eq!(stdout.trim(), "[]");
    // Not JSON: no notices either.
    let bad = notices_channel(&ctx, "bad", "<html>not json</html>");
    let (code, stdout, _) = notices(&ctx, &bad, true);
    assert_eq!(code, 0);
    assert_eq!(stdout.trim(), "[]");
}
