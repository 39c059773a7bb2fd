//! Bad input never panics: arguments that are not UTF-8, a damaged history, a prefix the
//! user cannot write. Each gets a clear error (or a warning) and leaves the prefix alone.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use crate::common::{output, tree, TestContext};

#[test]
fn non_utf8_arguments_get_a_clear_error_not_a_panic() {
    let ctx = TestContext::new();
    let bad = OsStr::from_bytes(b"caf\xe9");
    // A name (text) argument: clap's usage error, exit 2.
    let (code, _, err) = output(ctx.cmd().args(["list", "-n"]).arg(bad));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("invalid UTF-8"), "{err}");
    // A path argument: taken as given, then refused with the reason.
    let mut path = ctx.path("").into_os_string();
    path.push(bad);
    let (code, _, err) = output(
        ctx.cmd()
            .args(["create", "-y", "-c", &ctx.channel, "-p"])
            .arg(&path)
            .arg("dep"),
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("is not valid UTF-8") && err.contains("choose another path"),
        "{err}"
    );
    assert!(!std::path::Path::new(&path).exists());
    // A spec: the same usage error.
    let (code, _, err) = output(
        ctx.cmd()
            .args(["install", "-y", "-p"])
            .arg(ctx.path("env"))
            .arg(bad),
    );
    assert!(code == 2 || code == 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_bad_byte_in_history_is_skipped_with_a_warning() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["dep=1"]);
    let history = prefix.join("conda-meta/history");
    let mut bytes = std::fs::read(&history).unwrap();
    bytes.extend_from_slice(b"# a comment with a bad byte \xff here\n");
    std::fs::write(&history, &bytes).unwrap();
    let (code, _, err) = output(
        ctx.cmd()
            .args(["install", "-y", "-q", "-c", &ctx.channel, "-p"])
            .arg(&prefix)
            .arg("leaf"),
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("conda-meta/history line") && err.contains("not valid UTF-8"),
        "{err}"
    );
    assert!(ctx.installed(&prefix).contains(&"leaf-1.0-0".to_string()));
    let (code, out, err) = output(ctx.cmd().args(["list", "--revisions", "-p"]).arg(&prefix));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("rev 1"), "{out}");
}

#[test]
fn a_prefix_the_user_cannot_write_is_refused_before_solving() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["dep=1"]);
    let before = tree(&prefix);
    // A channel that does not exist: a solve would fail with another error first.
    let channel = ["-c", "file:///nonexistent/channel", "--override-channels"];
    let mut install = vec![OsStr::new("install"), OsStr::new("-y")];
    install.extend(channel.iter().map(OsStr::new));
    install.extend([OsStr::new("leaf"), OsStr::new("-p"), prefix.as_os_str()]);
    let Some((code, _, err)) = ctx.as_nobody(&install) else {
        eprintln!("SKIPPED a_prefix_the_user_cannot_write_is_refused_before_solving: needs root to run as another user (CI runs as root)");
        return;
    };
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("EnvironmentNotWritableError"), "{err}");
    assert!(
        !err.contains("Solving") && !err.contains("nonexistent"),
        "{err}"
    );
    assert_eq!(tree(&prefix), before);
    // The same for a new environment in a directory the user cannot write.
    let new = ctx.root.join("envs/new");
    let mut create = vec![OsStr::new("create"), OsStr::new("-y")];
    create.extend(channel.iter().map(OsStr::new));
    create.extend([OsStr::new("leaf"), OsStr::new("-p"), new.as_os_str()]);
    let (code, _, err) = ctx.as_nobody(&create).unwrap_or_default();
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("EnvironmentNotWritableError"), "{err}");
    assert!(!new.exists());
}
