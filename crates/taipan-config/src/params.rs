//! The table of every parameter conda knows: canonical name, aliases, value kind and whether
//! `$VAR` expansion applies.

/// The shape and type of a parameter's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    /// `true`/`false` (also boolish strings and numbers).
    Bool,
    /// Like [`Kind::Bool`] but `null` is allowed.
    OptBool,
    /// A non-negative integer.
    UInt,
    /// A floating point number.
    Float,
    /// A string.
    Str,
    /// A string or `null`.
    OptStr,
    /// `local_repodata_ttl`: a bool (`true` = 1, `false` = 0) or a non-negative integer.
    Ttl,
    /// One string out of a fixed set.
    Choice(&'static [&'static str]),
    /// `channel_priority`: strict|flexible|disabled, `true` = flexible, `false` = disabled.
    ChannelPriority,
    /// `ssl_verify`: a bool, `truststore`, or an existing path.
    SslVerify,
    /// `channel_alias`: a URL with a scheme.
    ChannelAlias,
    /// A list of strings; the char splits the value of a `CONDA_*` environment variable.
    Seq(char),
    /// A map of string to string.
    StrMap,
    /// A map of string to string-or-null.
    OptStrMap,
    /// A map of string to a list of strings.
    SeqMap,
    /// Known to conda but not modelled here: any YAML value, merged like a scalar.
    Any,
}

/// One configuration parameter.
#[derive(Debug)]
pub(crate) struct Param {
    /// The canonical name.
    pub name: &'static str,
    /// Other accepted names.
    pub aliases: &'static [&'static str],
    /// Value kind.
    pub kind: Kind,
    /// Whether `$VAR`/`${VAR}` are expanded in the value.
    pub expand: bool,
}

impl Param {
    /// Whether `key` names this parameter (canonical name or alias).
    pub fn matches(&self, key: &str) -> bool {
        self.name == key || self.aliases.contains(&key)
    }
}

const fn p(name: &'static str, aliases: &'static [&'static str], kind: Kind) -> Param {
    Param {
        name,
        aliases,
        kind,
        expand: false,
    }
}

const fn x(name: &'static str, aliases: &'static [&'static str], kind: Kind) -> Param {
    Param {
        name,
        aliases,
        kind,
        expand: true,
    }
}

const SEQ: Kind = Kind::Seq(',');
const AMP_SEQ: Kind = Kind::Seq('&');
const PATH_SEQ: Kind = Kind::Seq(':');

/// Valid `safety_checks` values.
pub(crate) const SAFETY_CHECKS: &[&str] = &["disabled", "warn", "enabled"];
/// Valid `path_conflict` values.
pub(crate) const PATH_CONFLICT: &[&str] = &["clobber", "warn", "prevent"];

/// Every parameter of conda's `Context`, in conda's declaration order.
pub(crate) static PARAMS: &[Param] = &[
    p("add_pip_as_python_dependency", &[], Kind::Bool),
    p("allow_conda_downgrades", &[], Kind::Bool),
    p("allow_cycles", &[], Kind::Bool),
    p("allow_softlinks", &[], Kind::Bool),
    p("auto_update_conda", &["self_update"], Kind::Bool),
    p("auto_activate", &["auto_activate_base"], Kind::Bool),
    p("default_activation_env", &[], Kind::Str),
    p("auto_stack", &[], Kind::UInt),
    p("notify_outdated_conda", &[], Kind::Bool),
    p("clobber", &[], Kind::Bool),
    p("changeps1", &[], Kind::Bool),
    p("env_prompt", &[], Kind::Str),
    p("environment_specifier", &["env_spec"], Kind::OptStr),
    p("create_default_packages", &[], SEQ),
    p("register_envs", &[], Kind::Bool),
    p("protect_frozen_envs", &[], Kind::Bool),
    p("default_python", &[], Kind::OptStr),
    p("download_only", &[], Kind::Bool),
    p("enable_private_envs", &[], Kind::Bool),
    p("force_32bit", &[], Kind::Bool),
    p("non_admin_enabled", &[], Kind::Bool),
    p(
        "prefix_data_interoperability",
        &["pip_interop_enabled"],
        Kind::Bool,
    ),
    p("default_threads", &[], Kind::UInt),
    p("repodata_threads", &[], Kind::UInt),
    p("fetch_threads", &[], Kind::UInt),
    p("verify_threads", &[], Kind::UInt),
    p("execute_threads", &[], Kind::UInt),
    p("aggressive_update_packages", &[], SEQ),
    p("safety_checks", &[], Kind::Choice(SAFETY_CHECKS)),
    p("extra_safety_checks", &[], Kind::Bool),
    p("signing_metadata_url_base", &[], Kind::OptStr),
    p("path_conflict", &[], Kind::Choice(PATH_CONFLICT)),
    p("pinned_packages", &[], AMP_SEQ),
    p("exclude_newer", &["cooldown"], Kind::Any),
    p("exclude_newer_package", &["cooldown_exclude"], Kind::Any),
    p("disallowed_packages", &["disallow"], AMP_SEQ),
    p("rollback_enabled", &[], Kind::Bool),
    p("track_features", &[], SEQ),
    p("use_index_cache", &[], Kind::Bool),
    p("separate_format_cache", &[], Kind::Bool),
    p("root_prefix", &["root_dir"], Kind::Str),
    x("envs_dirs", &["envs_path"], PATH_SEQ),
    x("pkgs_dirs", &[], SEQ),
    p("subdir", &[], Kind::Str),
    p("subdirs", &[], SEQ),
    p("export_platforms", &["extra_platforms"], SEQ),
    p("local_repodata_ttl", &[], Kind::Ttl),
    x("ssl_verify", &["verify_ssl"], Kind::SslVerify),
    x("client_ssl_cert", &["client_cert"], Kind::OptStr),
    x("client_ssl_cert_key", &["client_cert_key"], Kind::OptStr),
    x("proxy_servers", &[], Kind::OptStrMap),
    p("remote_connect_timeout_secs", &[], Kind::Float),
    p("remote_read_timeout_secs", &[], Kind::Float),
    p("remote_max_retries", &[], Kind::UInt),
    p("remote_backoff_factor", &[], Kind::UInt),
    p("add_anaconda_token", &["add_binstar_token"], Kind::Bool),
    p("allow_non_channel_urls", &[], Kind::Bool),
    x("channel_alias", &[], Kind::ChannelAlias),
    p("channel_priority", &[], Kind::ChannelPriority),
    x("channels", &["channel"], SEQ),
    p("channel_settings", &[], Kind::Any),
    x("custom_channels", &[], Kind::StrMap),
    x("custom_multichannels", &[], Kind::SeqMap),
    x("default_channels", &[], SEQ),
    p("migrated_channel_aliases", &[], SEQ),
    x("migrated_custom_channels", &[], Kind::StrMap),
    p("override_channels_enabled", &[], Kind::Bool),
    p("show_channel_urls", &[], Kind::OptBool),
    p("use_local", &[], Kind::Bool),
    x("allowlist_channels", &["whitelist_channels"], SEQ),
    x("denylist_channels", &[], SEQ),
    p("repodata_fns", &[], SEQ),
    p("use_only_tar_bz2", &[], Kind::OptBool),
    p("always_softlink", &["softlink"], Kind::Bool),
    p("always_copy", &["copy"], Kind::Bool),
    p("always_yes", &["yes"], Kind::OptBool),
    p("debug", &[], Kind::Bool),
    p("trace", &[], Kind::Bool),
    p("dev", &[], Kind::Bool),
    p("dry_run", &[], Kind::Bool),
    p("error_upload_url", &[], Kind::Any),
    p("force", &[], Kind::Bool),
    p("json", &[], Kind::Bool),
    p("console", &[], Kind::Any),
    p("list_fields", &[], Kind::Any),
    p("offline", &[], Kind::Bool),
    p("quiet", &[], Kind::Bool),
    p("ignore_pinned", &[], Kind::Bool),
    p("report_errors", &[], Kind::OptBool),
    p("shortcuts", &[], Kind::Bool),
    p("number_channel_notices", &[], Kind::UInt),
    x("shortcuts_only", &[], SEQ),
    p("verbosity", &["verbose"], Kind::UInt),
    p("experimental", &[], SEQ),
    p("preview", &[], SEQ),
    p("no_lock", &[], Kind::Bool),
    p("repodata_use_zst", &[], Kind::Bool),
    p("repodata_use_shards", &[], Kind::Bool),
    p("envvars_force_uppercase", &[], Kind::Bool),
    p("deps_modifier", &[], Kind::Any),
    p("update_modifier", &[], Kind::Any),
    p("sat_solver", &[], Kind::Any),
    p("solver_ignore_timestamps", &[], Kind::Bool),
    p("solver", &["experimental_solver"], Kind::Str),
    p("force_remove", &[], Kind::Bool),
    p("force_reinstall", &[], Kind::Bool),
    p("target_prefix_override", &[], Kind::Any),
    p("unsatisfiable_hints", &[], Kind::Bool),
    p("unsatisfiable_hints_check_depth", &[], Kind::UInt),
    p("bld_path", &[], Kind::Any),
    p("anaconda_upload", &["binstar_upload"], Kind::OptBool),
    p("croot", &[], Kind::Any),
    p("conda_build", &["conda-build"], Kind::Any),
    p(
        "override_virtual_packages",
        &["virtual_packages"],
        Kind::Any,
    ),
    p("no_plugins", &[], Kind::Bool),
    p("plugins", &[], Kind::Any),
    p("reporters", &[], Kind::Any),
];

/// The parameter named `key` (canonical name or alias), if conda knows it.
pub(crate) fn lookup(key: &str) -> Option<&'static Param> {
    PARAMS.iter().find(|p| p.matches(key))
}
