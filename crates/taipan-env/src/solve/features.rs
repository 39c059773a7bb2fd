//! conda's legacy `features` field (not `track_features`), emulated for resolvo.
//!
//! In conda 26 (classic solver, checked against 26.7.1) a record with `features: nomkl`
//! depends on the feature itself, which only the `track_features` setting provides: without
//! `track_features: [nomkl]` such a build cannot be installed (and an installed one is
//! replaced on the next solve); with it, the featured builds win over featureless builds of
//! the same name (conda's "feature metric"), so `numpy` resolves to `…_nomkl_0` and its
//! `openblas`, with or without the `nomkl` package.
//!
//! resolvo knows neither rule, so before the solve the records it sees are adjusted:
//! featured builds of untracked features are excluded with a reason the error shows, and the
//! featureless builds that compete with a tracked featured build are ranked lower (resolvo's
//! own rule for records with tracked features, applied to a copy). The solution is mapped
//! back to the records as the channels describe them.
//!
//! Nothing is adjusted when no candidate carries the field, the case of every current channel.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rattler_conda_types::{PackageRecord, RepoDataRecord};

/// The tracked feature that ranks a copy lower; it never leaves the solve.
const RANK_LOWER: &str = "taipan-rank-lower";

/// How the records of one solve are adjusted.
pub(super) struct Emulation<'a> {
    /// Featured builds of features nobody tracks, with the reason.
    pub(super) excluded: HashMap<url::Url, Arc<str>>,
    /// The copies ranked lower, and the records they stand for.
    ranked_lower: HashMap<url::Url, (RepoDataRecord, &'a RepoDataRecord)>,
}

/// The legacy features a record declares.
fn features_of(record: &PackageRecord) -> Vec<&str> {
    record
        .features
        .as_deref()
        .map(|f| {
            f.split(|c: char| c.is_whitespace() || c == ',')
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

impl<'a> Emulation<'a> {
    /// `None` when no candidate has legacy features (nothing to do).
    pub(super) fn new(records: &[&'a RepoDataRecord], tracked: &[String]) -> Option<Self> {
        if records.iter().all(|r| r.package_record.features.is_none()) {
            return None;
        }
        let tracked: HashSet<&str> = tracked.iter().map(String::as_str).collect();
        let mut excluded = HashMap::new();
        // One reason per feature, shared by its records.
        let mut reasons: HashMap<&str, Arc<str>> = HashMap::new();
        // Names with a featured build the settings allow.
        let mut favoured: HashSet<&str> = HashSet::new();
        for r in records {
            let features = features_of(&r.package_record);
            if features.is_empty() {
                continue;
            }
            match features.iter().find(|f| !tracked.contains(**f)) {
                Some(f) => {
                    let reason = reasons.entry(f).or_insert_with(|| {
                        Arc::from(format!(
                            "it has the legacy feature '{f}', which is not in track_features (conda config --append track_features {f})"
                        ))
                    });
                    excluded.insert(r.url.clone(), reason.clone());
                }
                None => {
                    favoured.insert(r.package_record.name.as_normalized());
                }
            }
        }
        let ranked_lower = records
            .iter()
            .filter(|r| {
                r.package_record.features.is_none()
                    && favoured.contains(r.package_record.name.as_normalized())
            })
            .map(|r| {
                let mut copy = (*r).clone();
                copy.package_record
                    .track_features
                    .push(RANK_LOWER.to_string());
                (r.url.clone(), (copy, *r))
            })
            .collect();
        Some(Self {
            excluded,
            ranked_lower,
        })
    }

    /// The record the solver sees for `record`.
    pub(super) fn view<'b>(&'b self, record: &'b RepoDataRecord) -> &'b RepoDataRecord {
        self.ranked_lower
            .get(&record.url)
            .map_or(record, |(copy, _)| copy)
    }

    /// The solution as the channels describe it.
    pub(super) fn restore(&self, solved: Vec<RepoDataRecord>) -> Vec<RepoDataRecord> {
        solved
            .into_iter()
            .map(|r| match self.ranked_lower.get(&r.url) {
                Some((_, original)) => (*original).clone(),
                None => r,
            })
            .collect()
    }
}
