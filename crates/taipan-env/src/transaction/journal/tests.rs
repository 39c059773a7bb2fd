//! Unit tests of the journal: rollback, resumed rollback, torn lines, the commit point.

use super::*;

/// A prefix with a history, a file a transaction will replace and one it will remove.
fn prefix() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let prefix = tmp.path().join("env");
    std::fs::create_dir_all(prefix.join("conda-meta")).unwrap();
    std::fs::create_dir_all(prefix.join("bin")).unwrap();
    std::fs::write(prefix.join("conda-meta/history"), "==> old <==\n").unwrap();
    std::fs::write(prefix.join("bin/a"), "old a\n").unwrap();
    std::fs::write(prefix.join("bin/gone"), "old gone\n").unwrap();
    (tmp, prefix)
}

/// Appends raw bytes to the journal's log, as a process killed mid-write would leave them.
fn append_to_log(prefix: &Path, bytes: &[u8]) {
    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(prefix.join(JOURNAL_DIR).join(LOG))
        .unwrap();
    log.write_all(bytes).unwrap();
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// Runs a transaction's steps and stops where a `kill -9` would: after the changes,
/// before the commit (the journal value is leaked like a dead process's memory).
fn interrupted(prefix: &Path) {
    let mut j = Journal::begin(prefix, "conda install b", false, false).unwrap();
    let targets = [prefix.join("bin/a"), prefix.join("lib/new/b")];
    j.before_link(&targets, &HashSet::new()).unwrap();
    j.stash_all(
        &[prefix.join("bin/gone")],
        Stash::ForUnlink,
        &HashSet::new(),
    )
    .unwrap();
    std::fs::write(prefix.join("bin/a"), "new a\n").unwrap();
    std::fs::create_dir_all(prefix.join("lib/new")).unwrap();
    std::fs::write(prefix.join("lib/new/b"), "b\n").unwrap();
    let mut h = std::fs::OpenOptions::new()
        .append(true)
        .open(prefix.join("conda-meta/history"))
        .unwrap();
    h.write_all(b"==> new <==\n").unwrap();
    j.flush().unwrap();
    std::mem::forget(j);
}

fn assert_old_state(prefix: &Path) {
    assert_eq!(read(&prefix.join("bin/a")).as_deref(), Some("old a\n"));
    assert_eq!(
        read(&prefix.join("bin/gone")).as_deref(),
        Some("old gone\n")
    );
    assert!(!prefix.join("lib").exists(), "a created directory stays");
    assert_eq!(
        read(&prefix.join("conda-meta/history")).as_deref(),
        Some("==> old <==\n")
    );
    assert!(!prefix.join(JOURNAL_DIR).exists());
}

#[test]
fn recovery_rolls_back_an_interrupted_transaction() {
    let (_tmp, prefix) = prefix();
    interrupted(&prefix);
    assert!(pending(&prefix));
    assert!(Journal::begin(&prefix, "x", false, false).is_err());
    let got = recover(&prefix).unwrap();
    assert_eq!(
        got,
        Some(Recovered::RolledBack {
            cmd: "conda install b".into(),
            pid: std::process::id()
        })
    );
    assert_old_state(&prefix);
    assert_eq!(recover(&prefix).unwrap(), None, "recovery is done once");
}

/// A rollback killed after `undone` (created files removed, one file restored) is
/// finished by the next: the restored file is not removed again though it was also
/// "created" (replaced) by the transaction.
#[test]
fn a_killed_rollback_is_finished_without_removing_what_it_restored() {
    let (_tmp, prefix) = prefix();
    interrupted(&prefix);
    let dir = prefix.join(JOURNAL_DIR);
    std::fs::remove_file(prefix.join("bin/a")).unwrap();
    std::fs::remove_dir_all(prefix.join("lib")).unwrap();
    append_to_log(&prefix, b"{\"op\":\"undone\"}\n");
    // The restore of bin/a (stash 1) happened; bin/gone (stash 2) did not.
    std::fs::rename(dir.join("stash/1"), prefix.join("bin/a")).unwrap();
    recover(&prefix).unwrap();
    assert_old_state(&prefix);
}

#[test]
fn a_torn_last_line_is_ignored() {
    let (_tmp, prefix) = prefix();
    interrupted(&prefix);
    append_to_log(&prefix, b"{\"op\":\"commi");
    recover(&prefix).unwrap();
    assert_old_state(&prefix);
}

#[test]
fn commit_keeps_the_new_state_and_clears_the_stash() {
    let (_tmp, prefix) = prefix();
    let mut j = Journal::begin(&prefix, "conda install b", false, false).unwrap();
    j.before_link(&[prefix.join("bin/a")], &HashSet::new())
        .unwrap();
    j.stash_all(
        &[prefix.join("bin/gone")],
        Stash::ForUnlink,
        &HashSet::new(),
    )
    .unwrap();
    std::fs::write(prefix.join("bin/a"), "new a\n").unwrap();
    j.commit().unwrap();
    assert_eq!(read(&prefix.join("bin/a")).as_deref(), Some("new a\n"));
    assert!(!prefix.join("bin/gone").exists());
    assert!(!prefix.join(JOURNAL_DIR).exists());
    assert!(!pending(&prefix));
}

/// Killed after the commit line, before clean-up: recovery completes, never undoes.
#[test]
fn recovery_after_the_commit_point_completes() {
    let (_tmp, prefix) = prefix();
    interrupted(&prefix);
    append_to_log(&prefix, b"{\"op\":\"commit\"}\n");
    let got = recover(&prefix).unwrap();
    assert!(matches!(got, Some(Recovered::Completed { .. })), "{got:?}");
    assert_eq!(read(&prefix.join("bin/a")).as_deref(), Some("new a\n"));
    assert_eq!(read(&prefix.join("lib/new/b")).as_deref(), Some("b\n"));
    assert!(!prefix.join("bin/gone").exists());
    assert!(!prefix.join(JOURNAL_DIR).exists());
}

/// A created prefix goes entirely on rollback; a journal without its `begin` line
/// (killed while writing it) changed nothing.
#[test]
fn a_created_prefix_is_removed_and_an_empty_journal_is_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let prefix = tmp.path().join("new");
    std::fs::create_dir_all(prefix.join("conda-meta")).unwrap();
    let mut j = Journal::begin(&prefix, "conda create", true, true).unwrap();
    j.before_link(&[prefix.join("share/x")], &HashSet::new())
        .unwrap();
    std::fs::create_dir_all(prefix.join("share")).unwrap();
    std::fs::write(prefix.join("share/x"), "x").unwrap();
    std::mem::forget(j);
    recover(&prefix).unwrap();
    assert!(!prefix.exists());

    let (_tmp, prefix) = prefix_only_journal();
    assert_eq!(recover(&prefix).unwrap(), None);
    assert!(!prefix.join(JOURNAL_DIR).exists());
    assert_eq!(read(&prefix.join("bin/a")).as_deref(), Some("old a\n"));
}

fn prefix_only_journal() -> (tempfile::TempDir, PathBuf) {
    let (tmp, prefix) = prefix();
    std::fs::create_dir_all(prefix.join(JOURNAL_DIR)).unwrap();
    std::fs::write(prefix.join(JOURNAL_DIR).join(LOG), "").unwrap();
    (tmp, prefix)
}

/// What a `create` killed before its journal began leaves: a marked, empty `conda-meta`.
#[test]
fn an_abandoned_create_is_removed_but_a_real_environment_is_not() {
    let tmp = tempfile::tempdir().unwrap();
    let prefix = tmp.path().join("new");
    std::fs::create_dir_all(prefix.join("conda-meta")).unwrap();
    std::fs::write(prefix.join("conda-meta").join(CREATING), "").unwrap();
    assert!(pending(&prefix));
    assert_eq!(recover(&prefix).unwrap(), Some(Recovered::Abandoned));
    assert!(!prefix.exists());

    std::fs::create_dir_all(prefix.join("conda-meta")).unwrap();
    std::fs::write(prefix.join("conda-meta").join(CREATING), "").unwrap();
    std::fs::write(prefix.join("conda-meta/a-1-0.json"), "{}").unwrap();
    assert!(!pending(&prefix));
    assert_eq!(recover(&prefix).unwrap(), None);
    assert!(prefix.join("conda-meta/a-1-0.json").exists());
    assert!(!prefix.join("conda-meta").join(CREATING).exists());
}

#[test]
fn a_directory_in_the_way_of_a_link_is_an_error() {
    let (_tmp, prefix) = prefix();
    std::fs::create_dir_all(prefix.join("bin/dir")).unwrap();
    let mut j = Journal::begin(&prefix, "conda install", false, false).unwrap();
    let err = j
        .before_link(&[prefix.join("bin/dir")], &HashSet::new())
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::LinkError);
    assert!(j.rollback().is_empty());
    assert!(prefix.join("bin/dir").is_dir());
    assert!(!prefix.join(JOURNAL_DIR).exists());
}
