//! conda's description of every parameter (`conda config --describe`), and the parameter
//! facts the write side needs: parameter type (primitive, sequence, map), element types,
//! and which aliases conda resolves.
//!
//! `describe.json` is data recorded from conda 26.7's `Context.describe_parameter` and
//! `parameter_description_builder` (descriptions are conda's own text, so `--describe`
//! prints what conda prints), in conda's category order.

use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value as Json;

/// One parameter as conda describes it.
#[derive(Debug, Deserialize)]
pub struct ParamInfo {
    /// conda's category heading (`Channel Configuration`, `CLI-only`, …).
    pub category: String,
    /// `describe_parameter(name)`: name, aliases, parameter_type, element_types,
    /// default_value, description, string_delimiter — the `--describe --json` object.
    pub describe: Json,
    /// The commented YAML block `--describe NAME` prints, one entry per line.
    pub text: Vec<String>,
    /// The aliases conda's `name_for_alias` resolves (not those of conda's private
    /// parameters such as `channel` or `verbose`).
    pub public_aliases: Vec<String>,
}

/// A parameter's shape, as conda's `parameter_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// A single value.
    Primitive,
    /// A list.
    Sequence,
    /// A mapping.
    Map,
}

impl ParamInfo {
    /// The canonical name.
    pub fn name(&self) -> &str {
        self.describe["name"].as_str().unwrap_or_default()
    }

    /// Every alias, including those conda does not resolve.
    pub fn aliases(&self) -> impl Iterator<Item = &str> {
        self.describe["aliases"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
    }

    /// The parameter's shape.
    pub fn param_type(&self) -> ParamType {
        match self.describe["parameter_type"].as_str() {
            Some("sequence") => ParamType::Sequence,
            Some("map") => ParamType::Map,
            _ => ParamType::Primitive,
        }
    }

    /// conda's element type names (`bool`, `str`, `NoneType`, `ChannelPriority`, …).
    pub fn element_types(&self) -> Vec<&str> {
        self.describe["element_types"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
            .collect()
    }

    /// The default value, as JSON.
    pub fn default_value(&self) -> &Json {
        &self.describe["default_value"]
    }
}

/// Every parameter, in conda's category order.
pub fn all() -> &'static [ParamInfo] {
    static ALL: OnceLock<Vec<ParamInfo>> = OnceLock::new();
    // The data is compiled in and checked by a unit test, so failing to parse it is a
    // build defect; an empty table keeps the binary usable if it ever happens.
    ALL.get_or_init(|| serde_json::from_str(include_str!("describe.json")).unwrap_or_default())
}

/// The parameter with this canonical name.
pub fn by_name(name: &str) -> Option<&'static ParamInfo> {
    all().iter().find(|p| p.name() == name)
}

/// conda's `name_for_alias`: the canonical name a (public) alias stands for.
pub fn name_for_alias(alias: &str) -> Option<&'static str> {
    all()
        .iter()
        .find(|p| p.public_aliases.iter().any(|a| a == alias))
        .map(|p| p.name())
}

/// Whether `key` is a name `--show`/`--describe` accept: a canonical name or any alias.
pub fn is_listed_name(key: &str) -> bool {
    all()
        .iter()
        .any(|p| p.name() == key || p.aliases().any(|a| a == key))
}

/// The canonical parameter names, sorted (conda's `list_parameters()`).
pub fn names_sorted() -> Vec<&'static str> {
    let mut names: Vec<&str> = all().iter().map(ParamInfo::name).collect();
    names.sort_unstable();
    names
}

/// Categories `--describe` (all parameters) leaves out.
const SKIPPED_CATEGORIES: &[&str] = &["CLI-only", "Hidden and Undocumented"];

/// `conda config --describe` with no names: every documented parameter under its
/// category heading.
pub fn describe_all_text() -> String {
    let mut out: Vec<String> = Vec::new();
    let mut category: Option<&str> = None;
    for p in all()
        .iter()
        .filter(|p| !SKIPPED_CATEGORIES.contains(&p.category.as_str()))
    {
        if category != Some(p.category.as_str()) {
            if category.is_some() {
                out.push(String::new());
            }
            category = Some(&p.category);
            out.push("# ######################################################".into());
            out.push(format!("# ## {:^48} ##", p.category));
            out.push("# ######################################################".into());
            out.push(String::new());
        }
        out.extend(p.text.iter().cloned());
    }
    if category.is_some() {
        out.push(String::new());
    }
    out.join("\n")
}

/// `conda config --describe --json` with no names: the documented parameters, sorted.
pub fn describe_all_json() -> Vec<&'static Json> {
    let mut params: Vec<&ParamInfo> = all()
        .iter()
        .filter(|p| !SKIPPED_CATEGORIES.contains(&p.category.as_str()))
        .collect();
    params.sort_by(|a, b| a.name().cmp(b.name()));
    params.iter().map(|p| &p.describe).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_parses_and_covers_the_parameter_table() {
        assert_eq!(all().len(), 115);
        // `plugins` is the section of plugin parameters; `reporters` is not listed by conda.
        for p in crate::params::PARAMS
            .iter()
            .filter(|p| !matches!(p.name, "plugins" | "reporters"))
        {
            assert!(by_name(p.name).is_some(), "{} has no description", p.name);
        }
    }

    #[test]
    fn aliases_resolve_like_conda() {
        assert_eq!(name_for_alias("auto_activate_base"), Some("auto_activate"));
        assert_eq!(name_for_alias("channel"), None);
        assert!(is_listed_name("channel"));
        assert_eq!(
            by_name("channels").map(ParamInfo::param_type),
            Some(ParamType::Sequence)
        );
        assert_eq!(
            by_name("proxy_servers").map(ParamInfo::param_type),
            Some(ParamType::Map)
        );
    }
}
