//! The cold scan: every record of a repodata file located in one pass, for the index.

use std::borrow::Cow;
use std::collections::HashMap;

use rattler_repodata_gateway::GatewayError;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::bad;
use super::json_walk::record_name;

#[derive(Deserialize)]
struct Info {
    base_url: Option<String>,
}

/// One record's place in the repodata: (name's range in the scan's name arena, key offset,
/// key len, value offset, value len, is `.conda`).
pub(super) type Located = ((u32, u32), usize, usize, usize, usize, bool);

/// Bytes of repodata behind the scan that are handed back at a time (see [`Found::release`]).
const RELEASE_EVERY: usize = 16 << 20;

/// Finds every record of a repodata file, and its `info.base_url`, in one pass: the
/// top-level object is walked by a visitor, so no map of the (possibly 500 000) records is
/// built; names are copied into one arena. Takes a file map (not any byte slice): the pages
/// it has passed are handed back to the file ([`Found::release`]).
pub(super) fn scan(
    repodata: &memmap2::Mmap,
) -> Result<(Vec<Located>, String, Option<String>), GatewayError> {
    let mut found = Found {
        base: repodata.as_ptr() as usize,
        released: 0,
        entries: Vec::new(),
        names: String::new(),
        interned: HashMap::new(),
        lower: String::new(),
        base_url: None,
    };
    let mut de = serde_json::Deserializer::from_slice(&repodata[..]);
    serde::Deserializer::deserialize_map(&mut de, Top(&mut found)).map_err(bad)?;
    de.end().map_err(bad)?;
    let Found {
        mut entries,
        names,
        interned,
        base_url,
        ..
    } = found;
    // The distinct names sorted once; the records then by their name's rank, an integer
    // (comparing the names themselves for half a million records was 9% of a cold run).
    let mut distinct: Vec<(&str, u32)> = interned.iter().map(|(n, r)| (n.as_str(), r.0)).collect();
    distinct.sort_unstable();
    let rank: HashMap<u32, u32> = distinct
        .iter()
        .enumerate()
        .map(|(i, (_, at))| (*at, i as u32))
        .collect();
    // By name; within a name `.conda` first, so the `.tar.bz2` of the same build is skipped.
    entries.sort_by_cached_key(|e| (rank.get(&e.0 .0).copied().unwrap_or(u32::MAX), !e.5, e.1));
    Ok((entries, names, base_url))
}

/// What the scan collects.
struct Found {
    base: usize,
    /// Offset below which the repodata's pages were handed back.
    released: usize,
    entries: Vec<Located>,
    /// Each distinct (lower-cased) name once; entries point into it.
    names: String,
    /// Where each name is in `names`.
    interned: HashMap<String, (u32, u32)>,
    /// Reused for lower-casing a record's name.
    lower: String,
    base_url: Option<String>,
}

impl Found {
    /// The range of `name`, lower-cased, in the name arena (added the first time it is seen).
    fn intern(&mut self, name: &str) -> (u32, u32) {
        self.lower.clear();
        self.lower
            .extend(name.chars().map(|c| c.to_ascii_lowercase()));
        if let Some(range) = self.interned.get(self.lower.as_str()) {
            return *range;
        }
        let range = (self.names.len() as u32, self.lower.len() as u32);
        self.names.push_str(&self.lower);
        self.interned.insert(self.lower.clone(), range);
        range
    }

    /// Hands back the pages of the (memory-mapped) repodata the scan has passed, so a 250 MB
    /// file does not stay resident while it is scanned; the few records a solve needs are
    /// read back from the page cache later.
    fn release(&mut self, upto: usize) {
        const PAGE: usize = 4096;
        let end = upto / PAGE * PAGE;
        if end < self.released + RELEASE_EVERY {
            return;
        }
        let start = self.released.div_ceil(PAGE) * PAGE;
        if end > start {
            // SAFETY: the range lies inside the caller's mapping, a read-only map of a file
            // whose dropped pages read back the same bytes; MADV_DONTNEED changes no
            // content. A failure only keeps the pages resident.
            unsafe {
                libc::madvise(
                    (self.base + start) as *mut libc::c_void,
                    end - start,
                    libc::MADV_DONTNEED,
                );
            }
        }
        self.released = end;
    }
}

/// The repodata's top-level object: `info`, `packages`, `packages.conda`; the rest skipped.
struct Top<'f>(&'f mut Found);

impl<'de> serde::de::Visitor<'de> for Top<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a repodata object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "info" => {
                    let info: Option<Info> = map.next_value()?;
                    self.0.base_url = info.and_then(|i| i.base_url);
                }
                "packages" => map.next_value_seed(Records(self.0, false))?,
                "packages.conda" => map.next_value_seed(Records(self.0, true))?,
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// One of the two package maps: each record's key and value located, its name read.
struct Records<'f>(&'f mut Found, bool);

impl<'de> serde::de::DeserializeSeed<'de> for Records<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Records<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a map of package records")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        use serde::de::Error;
        let found = self.0;
        while let Some(key) = map.next_key::<&'de str>()? {
            let raw: &'de RawValue = map.next_value()?;
            let name =
                record_name(raw.get()).map_err(|e| A::Error::custom(format!("{key}: {e}")))?;
            let name = found.intern(&name);
            let start = raw.get().as_ptr() as usize - found.base;
            found.entries.push((
                name,
                key.as_ptr() as usize - found.base,
                key.len(),
                start,
                raw.get().len(),
                self.1,
            ));
            found.release(start);
        }
        Ok(())
    }
}
