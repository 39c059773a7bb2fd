//! Unpacking a verified archive into a cache directory, member by member, with the checks
//! conda's `safety_checks` names and a bound on what may be written.
//!
//! rattler's extractors stream an archive to disk without knowing what it should contain;
//! here `info/paths.json` is read first (a `.conda`'s info part is read before its payload,
//! a `.tar.bz2` carries `info/` first), so every member is checked before a byte of it is
//! written:
//! - member paths are relative and plain (no `..`, not absolute), and nothing is written
//!   through a directory that resolves outside the destination;
//! - the payload may not unpack to more than `paths.json` declares (plus an allowance for
//!   `info/` and undeclared files): a small archive cannot fill a disk;
//! - a file whose size differs from `paths.json`, or whose sha256 differs with
//!   `extra_safety_checks`, or a declared file that is missing, is a `SafetyError` handled
//!   as `safety_checks` says (disabled, warn, enabled).

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use rattler_conda_types::package::{PathType, PathsJson};
use rattler_digest::{HashingWriter, Sha256, Sha256Hash};

/// `safety_checks`: what a mismatch between a package's files and its manifest does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Safety {
    /// Not checked.
    Disabled,
    /// Reported as a warning (conda's default).
    #[default]
    Warn,
    /// An error: the package is not used.
    Enabled,
}

/// What to check while unpacking.
#[derive(Debug, Clone, Copy, Default)]
pub struct Checks {
    /// `safety_checks`.
    pub safety: Safety,
    /// `extra_safety_checks`: also compare every file's sha256.
    pub extra: bool,
}

/// Undeclared bytes allowed on top of what `paths.json` declares: `info/` (recipes, tests,
/// licences) and files the manifest does not list. At least this much...
const ALLOWANCE_MIN: u64 = 256 * 1024 * 1024;
/// ...or this many times the archive's own size, whichever is more (packages without a
/// `paths.json`, which declare no sizes at all, still unpack).
const ALLOWANCE_RATIO: u64 = 20;

/// Why unpacking stopped.
#[derive(Debug)]
pub enum Failure {
    /// The archive is malformed or hostile (`CondaVerificationError`).
    Refused(String),
    /// A `safety_checks: enabled` mismatch (`SafetyError`).
    Safety(String),
    /// The file system failed (disk full, permissions).
    Io(std::io::Error),
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Io(e)
    }
}

/// Unpacks `archive` (`.conda` or `.tar.bz2`) into `dest` (an empty directory). Returns the
/// warnings of `safety_checks: warn`.
pub fn extract(archive: &Path, dest: &Path, checks: Checks) -> Result<Vec<String>, Failure> {
    let size = std::fs::metadata(archive)?.len();
    std::fs::create_dir_all(dest)?;
    let mut unpacker = Unpacker::new(dest, checks, size)?;
    let name = archive
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.ends_with(".conda") {
        let info =
            rattler_package_streaming::seek::stream_conda_info(std::fs::File::open(archive)?);
        unpacker.unpack(&mut info.map_err(refused_by)?)?;
        unpacker.load_manifest()?;
        let content =
            rattler_package_streaming::seek::stream_conda_content(std::fs::File::open(archive)?);
        unpacker.unpack(&mut content.map_err(refused_by)?)?;
    } else if name.ends_with(".tar.bz2") {
        let file = std::io::BufReader::with_capacity(256 * 1024, std::fs::File::open(archive)?);
        let mut tar = rattler_package_streaming::read::stream_tar_bz2(file);
        unpacker.unpack(&mut tar)?;
        // A tar stream cut short in its trailer is damaged, too.
        std::io::copy(&mut tar.into_inner(), &mut std::io::sink()).map_err(|e| {
            Failure::Refused(format!(
                "the archive is truncated or damaged: {}",
                sanitize(&e.to_string())
            ))
        })?;
    } else {
        return Err(Failure::Refused(format!(
            "'{name}' is neither a .conda nor a .tar.bz2 archive"
        )));
    }
    unpacker.finish()
}

fn refused_by(e: rattler_package_streaming::ExtractError) -> Failure {
    Failure::Refused(format!(
        "the archive is damaged: {}",
        sanitize(&crate::transaction::error_chain(&e))
    ))
}

/// What `paths.json` says about one payload file.
struct Declared {
    size: Option<u64>,
    sha256: Option<Sha256Hash>,
    kind: PathType,
    seen: bool,
}

struct Unpacker {
    dest: PathBuf,
    checks: Checks,
    /// `None` until `info/paths.json` is unpacked.
    manifest: Option<HashMap<PathBuf, Declared>>,
    declared_total: u64,
    allowance: u64,
    written: u64,
    /// Payload files unpacked before the manifest was known: path, size.
    early: Vec<(PathBuf, u64)>,
    /// Directories known to resolve inside `dest`; cleared after every link member.
    inside: HashSet<PathBuf>,
    warnings: Vec<String>,
}

impl Unpacker {
    fn new(dest: &Path, checks: Checks, archive_size: u64) -> std::io::Result<Self> {
        let dest = std::fs::canonicalize(dest)?;
        Ok(Self {
            inside: HashSet::from([dest.clone()]),
            dest,
            checks,
            manifest: None,
            declared_total: 0,
            allowance: ALLOWANCE_MIN.max(archive_size.saturating_mul(ALLOWANCE_RATIO)),
            written: 0,
            early: Vec::new(),
            warnings: Vec::new(),
        })
    }

    fn unpack<R: Read>(&mut self, archive: &mut tar::Archive<R>) -> Result<(), Failure> {
        let entries = archive.entries().map_err(|e| {
            Failure::Refused(format!(
                "the archive is damaged: {}",
                sanitize(&e.to_string())
            ))
        })?;
        for entry in entries {
            let mut entry = entry.map_err(|e| {
                Failure::Refused(format!(
                    "the archive is damaged: {}",
                    sanitize(&e.to_string())
                ))
            })?;
            self.member(&mut entry)?;
        }
        Ok(())
    }

    fn member<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<(), Failure> {
        use tar::EntryType;
        let kind = entry.header().entry_type();
        if matches!(
            kind,
            EntryType::XGlobalHeader
                | EntryType::XHeader
                | EntryType::GNULongName
                | EntryType::GNULongLink
        ) {
            return Ok(());
        }
        let raw = entry
            .path()
            .map_err(|e| {
                Failure::Refused(format!(
                    "a member has an unreadable name: {}",
                    sanitize(&e.to_string())
                ))
            })?
            .into_owned();
        let Some(rel) = member_path(&raw)? else {
            return Ok(());
        };
        let full = self.dest.join(&rel);
        match kind {
            EntryType::Directory => self.make_dir(&full, &rel),
            EntryType::Regular | EntryType::Continuous => self.file(entry, &full, &rel),
            EntryType::Symlink => {
                let target = entry
                    .link_name()
                    .map_err(|e| {
                        Failure::Refused(format!(
                            "the link '{}' has an unreadable target: {}",
                            rel.display(),
                            sanitize(&e.to_string())
                        ))
                    })?
                    .ok_or_else(|| {
                        Failure::Refused(format!("the link '{}' has no target", rel.display()))
                    })?;
                self.parent(&full, &rel)?;
                replace(&full)?;
                std::os::unix::fs::symlink(&target, &full)?;
                self.inside.clear();
                self.inside.insert(self.dest.clone());
                Ok(())
            }
            EntryType::Link => self.hard_link(entry, &full, &rel),
            other => Err(Failure::Refused(format!(
                "the member '{}' has an unsupported type ({other:?})",
                rel.display()
            ))),
        }
    }

    fn make_dir(&mut self, full: &Path, rel: &Path) -> Result<(), Failure> {
        self.parent(full, rel)?;
        match std::fs::create_dir(full) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if !std::fs::symlink_metadata(full)?.is_dir() {
                    return Err(Failure::Refused(format!(
                        "the directory '{}' is also a file or link in the archive",
                        rel.display()
                    )));
                }
            }
            Err(e) => return Err(e.into()),
        }
        self.inside.insert(full.to_path_buf());
        Ok(())
    }

    /// Makes sure `full`'s directory exists and resolves inside the destination.
    fn parent(&mut self, full: &Path, rel: &Path) -> Result<(), Failure> {
        let Some(dir) = full.parent() else {
            return Ok(());
        };
        if self.inside.contains(dir) {
            return Ok(());
        }
        let mut existing = dir;
        let mut missing = Vec::new();
        while std::fs::symlink_metadata(existing).is_err() {
            missing.push(existing);
            existing = match existing.parent() {
                Some(p) => p,
                None => break,
            };
        }
        let real = std::fs::canonicalize(existing)?;
        if !real.starts_with(&self.dest) {
            return Err(Failure::Refused(format!(
                "the member '{}' would be written through a link that leads outside the package",
                rel.display()
            )));
        }
        for d in missing.into_iter().rev() {
            match std::fs::create_dir(d) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.inside.insert(dir.to_path_buf());
        Ok(())
    }

    fn file<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        full: &Path,
        rel: &Path,
    ) -> Result<(), Failure> {
        let size = entry.size();
        self.charge(rel, size)?;
        self.parent(full, rel)?;
        let file = create(full)?;
        let want_hash = self.checks.extra
            && self.checks.safety != Safety::Disabled
            && self.manifest.is_some()
            && !rel.starts_with("info");
        let capacity = usize::try_from(size)
            .unwrap_or(usize::MAX)
            .clamp(1, 128 * 1024);
        let writer = std::io::BufWriter::with_capacity(capacity, file);
        // Files are hashed only when the hash is compared (`extra_safety_checks`): hashing
        // every file was 7.5% of `installer finish` (perf samples, 100 packages x 40 files).
        let (copied, file, hash) = if want_hash {
            let mut writer = HashingWriter::<_, Sha256>::new(writer);
            let copied = copy_member(entry, &mut writer, rel)?;
            let (writer, hash) = writer.finalize();
            (copied, into_file(writer)?, Some(hash))
        } else {
            let mut writer = writer;
            let copied = copy_member(entry, &mut writer, rel)?;
            (copied, into_file(writer)?, None)
        };
        if copied != size {
            return Err(Failure::Refused(format!(
                "the archive is truncated at '{}'",
                rel.display()
            )));
        }
        if let Ok(mode) = entry.header().mode() {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(mode & 0o777))?;
        }
        if let Ok(mtime) = entry.header().mtime() {
            // conda-build stamps members; keeping them lets tools compare times. Some file
            // systems cannot store early times: not worth failing for.
            let time =
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(mtime.max(315_532_800));
            let _ = file.set_modified(time);
        }
        if let Some(hash) = hash {
            self.check_hash(rel, hash)?;
        }
        if rel == Path::new("info/paths.json") && self.manifest.is_none() {
            self.load_manifest()?;
        }
        Ok(())
    }

    fn hard_link<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        full: &Path,
        rel: &Path,
    ) -> Result<(), Failure> {
        let name = entry
            .link_name()
            .map_err(|e| {
                Failure::Refused(format!(
                    "the hard link '{}' has an unreadable source: {}",
                    rel.display(),
                    sanitize(&e.to_string())
                ))
            })?
            .ok_or_else(|| {
                Failure::Refused(format!("the hard link '{}' has no source", rel.display()))
            })?;
        let source_rel = match member_path(&name) {
            Ok(Some(p)) => p,
            _ => {
                return Err(Failure::Refused(format!(
                    "the hard link '{}' points to '{}', outside the package",
                    rel.display(),
                    name.display()
                )))
            }
        };
        let source = self.dest.join(&source_rel);
        let real = std::fs::canonicalize(&source).ok();
        let is_file = std::fs::symlink_metadata(&source).is_ok_and(|m| m.is_file());
        if !is_file || !real.is_some_and(|r| r.starts_with(&self.dest)) {
            return Err(Failure::Refused(format!(
                "the hard link '{}' points to '{}', which is not a file of the package",
                rel.display(),
                source_rel.display()
            )));
        }
        let size = std::fs::metadata(&source)?.len();
        self.charge(rel, size)?;
        self.parent(full, rel)?;
        replace(full)?;
        std::fs::hard_link(&source, full)?;
        self.inside.clear();
        self.inside.insert(self.dest.clone());
        Ok(())
    }

    /// Counts a file's bytes against what the package declares, before it is written.
    fn charge(&mut self, rel: &Path, size: u64) -> Result<(), Failure> {
        self.written = self.written.saturating_add(size);
        let limit = self.declared_total.saturating_add(self.allowance);
        if self.written > limit {
            return Err(Failure::Refused(format!(
                "it unpacks to more than its info/paths.json declares ({} bytes declared, {} allowed for info/ and undeclared files); stopped at '{}' ({size} bytes)",
                self.declared_total,
                self.allowance,
                rel.display()
            )));
        }
        if rel.starts_with("info") {
            return Ok(());
        }
        match &mut self.manifest {
            None => self.early.push((rel.to_path_buf(), size)),
            Some(manifest) => {
                if let Some(declared) = manifest.get_mut(rel) {
                    declared.seen = true;
                    if let Some(expected) = declared.size {
                        if expected != size && declared.kind == PathType::HardLink {
                            let text = incorrect_size(rel, expected, size);
                            self.safety(text)?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Reads `info/paths.json` (or the older `info/files`) once it is unpacked, and checks
    /// the payload files unpacked before it.
    fn load_manifest(&mut self) -> Result<(), Failure> {
        if self.manifest.is_some() {
            return Ok(());
        }
        let paths = match PathsJson::from_package_directory_with_deprecated_fallback(&self.dest) {
            Ok(p) => p,
            // Judged when the package is linked (and by the cache's validation).
            Err(_) => {
                self.manifest = Some(HashMap::new());
                return Ok(());
            }
        };
        let mut manifest = HashMap::new();
        let mut total: u64 = 0;
        for entry in paths.paths {
            total = total.saturating_add(entry.size_in_bytes.unwrap_or(0));
            manifest.insert(
                entry.relative_path,
                Declared {
                    size: entry.size_in_bytes,
                    sha256: entry.sha256,
                    kind: entry.path_type,
                    seen: false,
                },
            );
        }
        self.declared_total = total;
        self.manifest = Some(manifest);
        let early = std::mem::take(&mut self.early);
        self.written = self
            .written
            .saturating_sub(early.iter().map(|(_, s)| s).sum());
        for (rel, size) in early {
            self.charge(&rel, size)?;
            if self.checks.extra && self.checks.safety != Safety::Disabled {
                let full = self.dest.join(&rel);
                if let Ok(hash) = rattler_digest::compute_file_digest::<Sha256>(&full) {
                    self.check_hash(&rel, hash)?;
                }
            }
        }
        Ok(())
    }

    fn check_hash(&mut self, rel: &Path, hash: Sha256Hash) -> Result<(), Failure> {
        let Some(declared) = self.manifest.as_ref().and_then(|m| m.get(rel)) else {
            return Ok(());
        };
        let (Some(expected), PathType::HardLink) = (declared.sha256, declared.kind) else {
            return Ok(());
        };
        if expected == hash {
            return Ok(());
        }
        let text = format!(
            "The path '{}' has a sha256 mismatch.\n  reported sha256: {}\n  actual sha256: {}",
            rel.display(),
            crate::hex(&expected),
            crate::hex(&hash)
        );
        self.safety(text)
    }

    /// A `SafetyError`: an error, a warning or nothing, as `safety_checks` says.
    fn safety(&mut self, text: String) -> Result<(), Failure> {
        match self.checks.safety {
            Safety::Disabled => Ok(()),
            Safety::Warn => {
                self.warnings.push(text);
                Ok(())
            }
            Safety::Enabled => Err(Failure::Safety(text)),
        }
    }

    fn finish(mut self) -> Result<Vec<String>, Failure> {
        let missing: Vec<PathBuf> = self
            .manifest
            .as_ref()
            .map(|m| {
                m.iter()
                    .filter(|(_, d)| !d.seen && d.kind == PathType::HardLink)
                    .map(|(p, _)| p.clone())
                    .collect()
            })
            .unwrap_or_default();
        let mut missing = missing;
        missing.sort();
        for path in missing {
            // A hard link member or a file written before `info/` is `seen` too; anything
            // else listed but absent is what conda's verification reports.
            if std::fs::symlink_metadata(self.dest.join(&path)).is_ok() {
                continue;
            }
            self.safety(format!(
                "The path '{}' specified in the package manifest cannot be found.",
                path.display()
            ))?;
        }
        Ok(self.warnings)
    }
}

fn incorrect_size(rel: &Path, expected: u64, actual: u64) -> String {
    format!(
        "The path '{}' has an incorrect size.\n  reported size: {expected} bytes\n  actual size: {actual} bytes",
        rel.display()
    )
}

/// A member's path made relative and plain; `None` for the archive's root (`./`). A `..`
/// or an absolute path is refused.
fn member_path(raw: &Path) -> Result<Option<PathBuf>, Failure> {
    let mut out = PathBuf::new();
    for (i, component) in raw.components().enumerate() {
        match component {
            Component::Normal(name) => out.push(name),
            Component::CurDir => {}
            Component::ParentDir => {
                return Err(Failure::Refused(format!(
                    "the member '{}' leads out of the package with '..'",
                    raw.display()
                )))
            }
            Component::RootDir | Component::Prefix(_) if i == 0 => {
                return Err(Failure::Refused(format!(
                    "the member '{}' is an absolute path",
                    raw.display()
                )))
            }
            Component::RootDir | Component::Prefix(_) => {}
        }
    }
    Ok((!out.as_os_str().is_empty()).then_some(out))
}

/// Creates a new file, replacing whatever is at the path without following it.
fn create(path: &Path) -> std::io::Result<std::fs::File> {
    let open = || {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
    };
    match open() {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            replace(path)?;
            open()
        }
        other => other,
    }
}

/// Removes a file or link at `path` (never a directory's contents) so it can be recreated.
fn replace(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir(path),
        Ok(_) => std::fs::remove_file(path),
        Err(_) => Ok(()),
    }
}

/// Error text from a parser made printable: control bytes (as a damaged tar header yields)
/// are shown escaped.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push(c);
        }
    }
    if out.len() > 400 {
        let cut = (0..=400)
            .rev()
            .find(|i| out.is_char_boundary(*i))
            .unwrap_or(0);
        out.truncate(cut);
        out.push('…');
    }
    out
}

/// Copies a member's bytes out of the archive; a short or undecodable member is refused.
fn copy_member<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    writer: &mut impl std::io::Write,
    rel: &Path,
) -> Result<u64, Failure> {
    std::io::copy(entry, writer).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::InvalidData => {
            Failure::Refused(format!(
                "the archive is truncated or damaged at '{}': {}",
                rel.display(),
                sanitize(&e.to_string())
            ))
        }
        _ => Failure::Io(e),
    })
}

/// The file behind a buffered writer, its buffer flushed.
fn into_file(writer: std::io::BufWriter<std::fs::File>) -> Result<std::fs::File, Failure> {
    writer.into_inner().map_err(|e| Failure::Io(e.into_error()))
}

/// The sha256, md5 and size of a file, in one pass.
pub fn digest_file(path: &Path) -> std::io::Result<(Sha256Hash, rattler_digest::Md5Hash, u64)> {
    let (sha256, md5, size) = digest_file_with(path, true)?;
    Ok((sha256, md5.unwrap_or_default(), size))
}

/// The archive's sha256 and size, and its md5 only when `md5` is asked for (md5 takes
/// longer than sha256 on CPUs with SHA instructions).
pub fn digest_file_with(
    path: &Path,
    md5: bool,
) -> std::io::Result<(Sha256Hash, Option<rattler_digest::Md5Hash>, u64)> {
    use rattler_digest::digest::Digest;
    let mut file = std::fs::File::open(path)?;
    let mut sha = Sha256::new();
    let mut md5 = md5.then(rattler_digest::Md5::new);
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        sha.update(&buf[..n]);
        if let Some(md5) = md5.as_mut() {
            md5.update(&buf[..n]);
        }
        total += n as u64;
    }
    Ok((sha.finalize(), md5.map(Digest::finalize), total))
}
