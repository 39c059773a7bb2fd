//! The installer's payload: one uncompressed tar holding `_conda`, the package cache the
//! install works from (`pkgs/`: packages extracted when that is about as small as their
//! archive, archives otherwise), and `.taipan-installer/` (locks, histories, scripts).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use taipan_env::error::ErrorKind;

use rattler_conda_types::RepoDataRecord;
use taipan_env::{CondaError, Result};

/// One environment of the installer: the base (`name: None`) or `extra_envs.NAME`.
pub struct EnvPlan {
    /// `None` for the base.
    pub name: Option<String>,
    /// Solved records, in install order.
    pub records: Vec<RepoDataRecord>,
    /// Specs recorded as user-requested in the env's history.
    pub requested: Vec<String>,
}

/// Size and sha256 of a file, to recognise copies of it.
pub type FileId = (u64, rattler_digest::Sha256Hash);

/// The size and sha256 of `path`.
pub fn file_id(path: &Path) -> Result<FileId> {
    let len = std::fs::metadata(path)?.len();
    Ok((
        len,
        rattler_digest::compute_file_digest::<rattler_digest::Sha256>(path)?,
    ))
}

/// Puts one verified archive into the payload's package cache, in one of two forms:
///
/// - extracted, as rattler's cache lays it out (the directory with
///   `info/repodata_record.json`, and `<dir>.lock` holding the archive's sha256, which lets
///   an offline install use the entry as it is), when that costs at most a quarter more
///   bytes than the archive: nothing to decompress at install time. Files identical to the
///   embedded binary (`binary`) cost nothing, `write_tar` stores them as hard links;
/// - else the archive itself, which the install extracts (and records with its original
///   URL and channel, like the extracted form).
pub fn add_package(
    pkgs: &Path,
    record: &RepoDataRecord,
    archive: &Path,
    binary: &FileId,
) -> Result<()> {
    let dir = pkgs.join(dist_dir(record));
    let archive_copy = pkgs.join(record.identifier.to_string());
    if dir.exists() || archive_copy.exists() {
        return Ok(());
    }
    let extracted = rattler_package_streaming::fs::extract(archive, &dir).map_err(|e| {
        CondaError::new(
            ErrorKind::CondaVerificationError,
            format!(
                "cannot extract {}: {e}\n  The package in the channel is damaged; rebuild or re-fetch it.",
                record.url
            ),
        )
    })?;
    let archive_len = std::fs::metadata(archive)?.len();
    if new_bytes(&dir, binary)? > archive_len + archive_len / 4 {
        std::fs::remove_dir_all(&dir)?;
        std::fs::copy(archive, &archive_copy)?;
        return Ok(());
    }
    let json = serde_json::to_string_pretty(record).map_err(|e| {
        CondaError::generic(format!("cannot write the record of {}: {e}", record.url))
    })?;
    std::fs::write(dir.join("info/repodata_record.json"), json)?;
    // rattler_cache's entry metadata: a big-endian revision, then the archive's sha256.
    let mut lock = 1u64.to_be_bytes().to_vec();
    lock.extend_from_slice(extracted.sha256.as_slice());
    std::fs::write(pkgs.join(format!("{}.lock", dist_dir(record))), lock)?;
    Ok(())
}

/// Bytes of the regular files under `dir`, not counting copies of `binary`.
fn new_bytes(dir: &Path, binary: &FileId) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let meta = std::fs::symlink_metadata(&path)?;
        if meta.is_dir() {
            total += new_bytes(&path, binary)?;
        } else if meta.is_file() {
            // Only a file of the binary's exact size is worth hashing.
            let copy = meta.len() == binary.0 && file_id(&path)? == *binary;
            if !copy {
                total += meta.len();
            }
        }
    }
    Ok(total)
}

/// `name-version-build`, the cache directory of a record.
fn dist_dir(r: &RepoDataRecord) -> String {
    let p = &r.package_record;
    format!("{}-{}-{}", p.name.as_normalized(), p.version, p.build)
}

/// Writes an env's `lock.txt` (`@EXPLICIT`, original URLs with sha256), `records.json` (the
/// solved records of the lock, so the install knows them before extracting), `history.in` and
/// `initial-state.explicit.txt`.
pub fn write_env_files(env: &EnvPlan, files: &crate::layout::EnvFiles) -> Result<()> {
    std::fs::create_dir_all(files.dir())?;
    let mut lock = String::from("@EXPLICIT\n");
    let mut initial = String::from("# This file may be used to create an environment using:\n# $ conda create --name <env> --file <this file>\n# platform: linux-64\n@EXPLICIT\n");
    let mut history = String::from("# cmd: taipan installer build\n# conda version: 25.11.0\n");
    for r in &env.records {
        let hash = match (r.package_record.sha256, r.package_record.md5) {
            (Some(sha), _) => format!("#sha256:{}", hex(&sha)),
            (None, Some(md5)) => format!("#{}", hex(&md5)),
            (None, None) => String::new(),
        };
        lock.push_str(&format!("{}{hash}\n", r.url));
        let md5 = r
            .package_record
            .md5
            .map(|h| format!("#{}", hex(&h)))
            .unwrap_or_default();
        initial.push_str(&format!("{}{md5}\n", r.url));
        history.push_str(&format!("+{}\n", taipan_env::dist::Dist::of(r)));
    }
    history.push_str(&format!(
        "# update specs: {}\n",
        taipan_env::history::format_spec_list(&env.requested)
    ));
    std::fs::write(files.lock(), lock)?;
    let records = serde_json::to_string(&env.records)
        .map_err(|e| CondaError::generic(format!("cannot write the lock's records: {e}")))?;
    std::fs::write(files.records(), records)?;
    std::fs::write(files.initial_state(), initial)?;
    std::fs::write(files.history(), history)?;
    Ok(())
}

/// Lower-case hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `stage` as an uncompressed tar (sorted, deterministic). A file whose content and
/// mode equal an earlier one's is stored as a hard link to it: the embedded `_conda` and a
/// `taipan` package's `bin/conda` are then one copy, which halves the default distribution.
pub fn write_tar(stage: &Path, out: &Path) -> Result<()> {
    let file = std::fs::File::create(out)?;
    let mut tar = tar::Builder::new(std::io::BufWriter::new(file));
    tar.follow_symlinks(false);
    let mut seen: HashMap<(u64, u32, Vec<u8>), PathBuf> = HashMap::new();
    for rel in walk(stage)? {
        let path = stage.join(&rel);
        let meta = std::fs::symlink_metadata(&path)?;
        if meta.is_file() && meta.len() >= 4096 {
            use std::os::unix::fs::PermissionsExt;
            let sha = rattler_digest::compute_file_digest::<rattler_digest::Sha256>(&path)?;
            let key = (meta.len(), meta.permissions().mode(), sha.to_vec());
            if let Some(first) = seen.get(&key) {
                let mut header = tar::Header::new_gnu();
                header.set_metadata(&meta);
                header.set_entry_type(tar::EntryType::Link);
                header.set_size(0);
                tar.append_link(&mut header, &rel, first)?;
                continue;
            }
            seen.insert(key, rel.clone());
        }
        tar.append_path_with_name(&path, &rel)?;
    }
    tar.into_inner()?.flush()?;
    Ok(())
}

/// Every path under `root`, relative and sorted, each directory before its contents (so a
/// top-level file such as `_conda` comes before any package file that links to it).
fn walk(root: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let mut children: Vec<PathBuf> = std::fs::read_dir(root.join(&rel))?
            .map(|e| e.map(|e| rel.join(e.file_name())))
            .collect::<std::io::Result<_>>()?;
        children.sort();
        for child in children.iter().rev() {
            if std::fs::symlink_metadata(root.join(child))?.is_dir() {
                stack.push(child.clone());
            }
        }
        out.extend(children);
    }
    Ok(out)
}
