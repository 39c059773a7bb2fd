//! conda's merge rules (`conda.common.configuration.*LoadedParameter.merge`).
//!
//! `matches` are always ordered lowest precedence first (search path order, then
//! environment variables, then the command line).

use std::collections::HashSet;

use crate::params::Kind;
use crate::scan::Flag;
use crate::value::Norm;

/// One source's value for one parameter, with its priority markers.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The key as written in the source (may be an alias).
    pub key: String,
    /// The type-checked value.
    pub value: Norm,
    /// The key is marked `#!final` (or `!important` in an environment variable).
    pub is_final: bool,
    /// Per-item markers of a sequence value, parallel to its items (empty = none).
    pub item_flags: Vec<Option<Flag>>,
    /// Sub-keys of a map value marked `#!final`.
    pub final_entries: Vec<String>,
}

/// The matches up to and including the first one marked final (all, if none is).
fn relevant<'a>(matches: &'a [&'a Entry]) -> &'a [&'a Entry] {
    match matches.iter().position(|m| m.is_final) {
        Some(idx) => &matches[..=idx],
        None => matches,
    }
}

/// Merges the matches of one parameter of `kind`. `matches` must not be empty.
pub(crate) fn merge(kind: Kind, matches: &[&Entry]) -> Norm {
    match kind {
        Kind::Seq(_) => Norm::Seq(merge_seq(relevant(matches))),
        Kind::StrMap | Kind::OptStrMap | Kind::SeqMap => Norm::Map(merge_map(relevant(matches))),
        _ => merge_scalar(matches),
    }
}

/// Scalars: the first (lowest-precedence) final match wins, else the last match.
fn merge_scalar(matches: &[&Entry]) -> Norm {
    let winner = matches
        .iter()
        .find(|m| m.is_final)
        .or_else(|| matches.last());
    winner.map_or(Norm::Null, |m| m.value.clone())
}

fn items(value: &Norm) -> &[String] {
    match value {
        Norm::Seq(items) => items,
        _ => &[],
    }
}

fn marked(entry: &Entry, flag: Flag) -> impl Iterator<Item = &String> {
    items(&entry.value)
        .iter()
        .enumerate()
        .filter(move |(i, _)| entry.item_flags.get(*i).copied().flatten() == Some(flag))
        .map(|(_, item)| item)
}

fn unique<'a>(iter: impl Iterator<Item = &'a String>) -> Vec<&'a String> {
    let mut seen = HashSet::new();
    iter.filter(|s| seen.insert(*s)).collect()
}

/// Sequences: highest precedence first, de-duplicated keeping the first occurrence;
/// `#!top` items first (in search-path order), `#!bottom` items last.
fn merge_seq(matches: &[&Entry]) -> Vec<String> {
    let top_lines = matches.iter().flat_map(|m| marked(m, Flag::Top));
    let bottom_lines: Vec<&String> = matches
        .iter()
        .rev()
        .flat_map(|m| marked(m, Flag::Bottom))
        .collect();
    let all_lines = matches.iter().rev().flat_map(|m| items(&m.value));
    let top_deduped = unique(top_lines.chain(all_lines));
    let bottom_deduped = unique(
        bottom_lines
            .iter()
            .rev()
            .copied()
            .chain(top_deduped.iter().rev().copied()),
    );
    bottom_deduped.into_iter().rev().cloned().collect()
}

fn map_entries(value: &Norm) -> &[(String, Norm)] {
    match value {
        Norm::Map(entries) => entries,
        _ => &[],
    }
}

/// Merges the values one map key has across sources: lists are merged like sequences,
/// scalars take the last value.
fn merge_map_values(values: &[&Norm]) -> Norm {
    if values.iter().all(|v| matches!(v, Norm::Seq(_))) {
        let entries: Vec<Entry> = values
            .iter()
            .map(|v| Entry {
                key: String::new(),
                value: (*v).clone(),
                is_final: false,
                item_flags: Vec::new(),
                final_entries: Vec::new(),
            })
            .collect();
        let refs: Vec<&Entry> = entries.iter().collect();
        return Norm::Seq(merge_seq(&refs));
    }
    values.last().map_or(Norm::Null, |v| (*v).clone())
}

/// Maps: merged key-wise, higher precedence wins per key, except that a sub-key marked
/// `#!final` keeps its lowest-precedence final value.
fn merge_map(matches: &[&Entry]) -> Vec<(String, Norm)> {
    let mut grouped: Vec<(&String, Vec<&Norm>)> = Vec::new();
    for m in matches {
        for (k, v) in map_entries(&m.value) {
            match grouped.iter_mut().find(|(gk, _)| *gk == k) {
                Some((_, vals)) => vals.push(v),
                None => grouped.push((k, vec![v])),
            }
        }
    }
    let mut merged: Vec<(String, Norm)> = grouped
        .iter()
        .map(|(k, vals)| ((*k).clone(), merge_map_values(vals)))
        .collect();
    for m in matches.iter().rev() {
        for (k, v) in map_entries(&m.value) {
            if m.final_entries.contains(k) {
                if let Some(slot) = merged.iter_mut().find(|(mk, _)| mk == k) {
                    slot.1 = v.clone();
                }
            }
        }
    }
    merged
}
