//! End-to-end tests of `Config::load` against temporary directories (never the real
//! `/etc` or home).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use taipan_config::{
    ChannelPriority, CliOverrides, Config, ConfigError, LoadOptions, Loaded, SourceKind, SslVerify,
};
use tempfile::TempDir;

/// A fake machine: two system dirs, a root prefix, a home and an environment prefix.
struct Fx {
    tmp: TempDir,
}

impl Fx {
    fn new() -> Self {
        let fx = Fx {
            tmp: tempfile::tempdir().expect("tempdir"),
        };
        for d in ["etc", "var", "root", "home", "prefix", "x"] {
            fs::create_dir_all(fx.p(d)).expect("mkdir");
        }
        fx
    }

    fn p(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.p(rel);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(&path, text).expect("write");
        path
    }

    fn opts(&self) -> LoadOptions {
        LoadOptions {
            root_prefix: self.p("root"),
            target_prefix: None,
            home: Some(self.p("home")),
            env: HashMap::new(),
            system_dirs: vec![self.p("etc"), self.p("var")],
            cli: CliOverrides::default(),
        }
    }
}

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn load(opts: &LoadOptions) -> Loaded {
    Config::load(opts).unwrap_or_else(|e| panic!("load failed: {e}"))
}

fn cfg(opts: &LoadOptions) -> Config {
    load(opts).config
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn defaults_without_any_source() {
    let fx = Fx::new();
    let loaded = load(&fx.opts());
    let c = loaded.config;
    assert!(loaded.warnings.is_empty());
    assert!(c.sources.is_empty());
    assert_eq!(c.channels, Vec::<String>::new());
    assert_eq!(
        c.default_channels,
        strs(&[
            "https://repo.anaconda.com/pkgs/main",
            "https://repo.anaconda.com/pkgs/r"
        ])
    );
    assert_eq!(c.channel_alias, "https://conda.anaconda.org");
    assert_eq!(c.channel_priority, ChannelPriority::Flexible);
    assert_eq!(
        c.aggressive_update_packages,
        strs(&["ca-certificates", "certifi", "openssl"])
    );
    assert_eq!(
        c.repodata_fns,
        strs(&["current_repodata.json", "repodata.json"])
    );
    assert_eq!(c.remote_max_retries, 3);
    assert_eq!(c.remote_read_timeout_secs, 60.0);
    assert_eq!(c.remote_connect_timeout_secs, 9.15);
    assert_eq!(c.env_prompt, "({default_env}) ");
    assert_eq!(c.default_activation_env, "base");
    assert!(c.auto_activate && c.changeps1 && c.register_envs && c.auto_update_conda);
    assert_eq!(c.always_yes, None);
    assert_eq!(c.show_channel_urls, None);
    assert_eq!(c.ssl_verify, SslVerify::Enabled);
    assert_eq!(c.solver, "libmamba");
}

#[test]
fn scalar_precedence_system_root_user_prefix_condarc_env_cli() {
    let fx = Fx::new();
    let mut o = fx.opts();
    let steps: [(&str, &str); 8] = [
        ("etc/.condarc", "etc-dot"),
        ("etc/condarc", "etc-plain"),
        ("var/condarc.d/a.yml", "var-d"),
        ("root/.condarc", "root"),
        ("home/.config/conda/condarc", "xdg-default"),
        ("home/.conda/.condarc", "dot-conda"),
        ("home/.condarc", "user"),
        ("prefix/condarc", "prefix"),
    ];
    o.env = env(&[("CONDA_PREFIX", fx.p("prefix").to_str().unwrap())]);
    for (rel, value) in steps {
        fx.write(rel, &format!("solver: {value}\n"));
        assert_eq!(cfg(&o).solver, value, "after writing {rel}");
    }
    let rc = fx.write("x/rc.yaml", "solver: condarc\n");
    o.env.insert("CONDARC".into(), rc.to_str().unwrap().into());
    assert_eq!(cfg(&o).solver, "condarc");
    o.env.insert("CONDA_SOLVER".into(), "envvar".into());
    assert_eq!(cfg(&o).solver, "envvar");
    o.cli.solver = Some("cli".into());
    let c = cfg(&o);
    assert_eq!(c.solver, "cli");
    let kinds: Vec<String> = c.sources.iter().map(|s| s.kind.to_string()).collect();
    assert_eq!(kinds.len(), 11);
    assert_eq!(kinds[0], fx.p("etc/.condarc").display().to_string());
    assert_eq!(kinds[8], rc.display().to_string());
    assert_eq!(&kinds[9..], ["envvars", "cmd_line"]);
}

#[test]
fn target_prefix_replaces_conda_prefix_and_xdg_and_conda_root_are_read() {
    let fx = Fx::new();
    fx.write("prefix/.condarc", "solver: active\n");
    fx.write("other/.condarc", "solver: target\n");
    let mut o = fx.opts();
    o.env = env(&[("CONDA_PREFIX", fx.p("prefix").to_str().unwrap())]);
    assert_eq!(cfg(&o).solver, "active");
    o.target_prefix = Some(fx.p("other"));
    assert_eq!(cfg(&o).solver, "target");

    let fx = Fx::new();
    fx.write("xdg/conda/.condarc", "offline: true\n");
    fx.write("croot/.condarc", "json: true\n");
    let mut o = fx.opts();
    assert!(!cfg(&o).offline);
    o.env = env(&[
        ("XDG_CONFIG_HOME", fx.p("xdg").to_str().unwrap()),
        ("CONDA_ROOT", fx.p("croot").to_str().unwrap()),
    ]);
    let c = cfg(&o);
    assert!(c.offline);
    assert!(c.json);
}

#[test]
fn sequences_concatenate_highest_first_and_dedup() {
    let fx = Fx::new();
    fx.write("etc/.condarc", "channels:\n  - s1\n  - shared\n");
    fx.write("home/.condarc", "channels:\n  - u1\n  - shared\n");
    fx.write("prefix/.condarc", "channels: [p1]\n");
    let mut o = fx.opts();
    o.target_prefix = Some(fx.p("prefix"));
    o.env = env(&[("CONDA_CHANNELS", "e1, u1")]);
    o.cli.channels = strs(&["c1"]);
    assert_eq!(
        cfg(&o).channels,
        strs(&["c1", "e1", "u1", "p1", "shared", "s1"])
    );
}

#[test]
fn final_scalar_in_low_precedence_file_wins() {
    let fx = Fx::new();
    fx.write("etc/.condarc", "always_yes: false  #!final\nsolver: sys\n");
    fx.write("home/.condarc", "always_yes: true\nsolver: user\n");
    let mut o = fx.opts();
    o.env = env(&[("CONDA_ALWAYS_YES", "true")]);
    o.cli.always_yes = Some(true);
    let c = cfg(&o);
    assert_eq!(c.always_yes, Some(false));
    assert_eq!(c.solver, "user");
}

#[test]
fn final_sequence_stops_higher_sources() {
    let fx = Fx::new();
    fx.write("etc/.condarc", "channels:  #!final\n  - locked\n");
    fx.write("root/.condarc", "channels:\n  - rootchan\n");
    fx.write("home/.condarc", "channels:\n  - mine\n");
    let mut o = fx.opts();
    o.cli.channels = strs(&["cli"]);
    assert_eq!(cfg(&o).channels, strs(&["locked"]));

    // A final in the user file keeps lower files but drops env and CLI.
    let fx = Fx::new();
    fx.write("etc/.condarc", "channels: [sys]\n");
    fx.write("home/.condarc", "channels: [mine]  #!final\n");
    let mut o = fx.opts();
    o.env = env(&[("CONDA_CHANNELS", "envchan")]);
    assert_eq!(cfg(&o).channels, strs(&["mine", "sys"]));
}

#[test]
fn top_and_bottom_markers_move_items() {
    let fx = Fx::new();
    fx.write("etc/.condarc", "channels:\n  - a\n  - b  #!bottom\n  - c\n");
    fx.write("home/.condarc", "channels:\n  - d\n  - e  #!top\n  - b\n");
    assert_eq!(cfg(&fx.opts()).channels, strs(&["e", "d", "a", "c", "b"]));
}

#[test]
fn maps_merge_key_wise() {
    let fx = Fx::new();
    fx.write(
        "etc/.condarc",
        "proxy_servers:\n  http: http://sys:1\n  https: http://sys:2\n\
         custom_channels:\n  mine: https://sys.example\n\
         custom_multichannels:\n  team: [a, b]\n",
    );
    fx.write(
        "home/.condarc",
        "proxy_servers:\n  http: http://user:1\n\
         custom_channels:\n  other: https://user.example\n\
         custom_multichannels:\n  team: [c, a]\n",
    );
    let c = cfg(&fx.opts());
    assert_eq!(c.proxy_servers["http"], "http://user:1");
    assert_eq!(c.proxy_servers["https"], "http://sys:2");
    assert_eq!(c.custom_channels["mine"], "https://sys.example");
    assert_eq!(c.custom_channels["other"], "https://user.example");
    assert_eq!(c.custom_multichannels["team"], strs(&["c", "a", "b"]));
}

#[test]
fn final_map_entry_in_low_file_wins() {
    let fx = Fx::new();
    fx.write(
        "etc/.condarc",
        "proxy_servers:\n  http: http://sys  #!final\n",
    );
    fx.write(
        "home/.condarc",
        "proxy_servers:\n  http: http://user\n  https: http://user-s\n",
    );
    let c = cfg(&fx.opts());
    assert_eq!(c.proxy_servers["http"], "http://sys");
    assert_eq!(c.proxy_servers["https"], "http://user-s");
}

#[test]
fn env_vars_split_and_aliases() {
    let fx = Fx::new();
    let mut o = fx.opts();
    o.env = env(&[
        ("CONDA_AUTO_ACTIVATE_BASE", "false"),
        ("CONDA_CHANNELS", "a,b"),
        ("CONDA_PINNED_PACKAGES", "numpy<2&python=3.12"),
        ("CONDA_ENVS_PATH", "/envs/one:/envs/two"),
        ("CONDA_PKGS_DIRS", "/pkgs/one,/pkgs/two"),
        ("CONDA_YES", "yes"),
        ("CONDA_CHANNEL_PRIORITY", "strict"),
        ("CONDA_REMOTE_MAX_RETRIES", "7"),
        ("CONDA_PREFIX_UNRELATED", "ignored"),
        ("CONDA_SHLVL", "2"),
    ]);
    let loaded = load(&o);
    let c = loaded.config;
    assert!(!c.auto_activate);
    assert_eq!(c.channels, strs(&["a", "b"]));
    assert_eq!(c.pinned_packages, strs(&["numpy<2", "python=3.12"]));
    assert_eq!(
        c.envs_dirs,
        vec![PathBuf::from("/envs/one"), PathBuf::from("/envs/two")]
    );
    assert_eq!(
        c.pkgs_dirs,
        vec![PathBuf::from("/pkgs/one"), PathBuf::from("/pkgs/two")]
    );
    assert_eq!(c.always_yes, Some(true));
    assert_eq!(c.channel_priority, ChannelPriority::Strict);
    assert_eq!(c.remote_max_retries, 7);
    assert!(loaded.warnings.is_empty());
    let envvars = c.sources.last().expect("envvars source");
    assert_eq!(envvars.kind, SourceKind::EnvVars);
    assert!(envvars.values.contains_key("auto_activate_base"));
}

#[test]
fn env_important_is_final() {
    let fx = Fx::new();
    let mut o = fx.opts();
    o.env = env(&[("CONDA_OFFLINE", "true!important")]);
    o.cli.offline = Some(false);
    assert!(cfg(&o).offline);
    o.env = env(&[("CONDA_OFFLINE", "true")]);
    assert!(!cfg(&o).offline);
}

#[test]
fn invalid_env_value_is_an_error() {
    let fx = Fx::new();
    let mut o = fx.opts();
    o.env = env(&[("CONDA_ALWAYS_COPY", "maybe")]);
    let err = Config::load(&o).expect_err("must fail");
    assert!(matches!(err, ConfigError::InvalidEnvVar { .. }));
    assert!(err.to_string().contains("CONDA_ALWAYS_COPY"), "{err}");
}

#[test]
fn condarc_variable_needs_a_condarc_or_yaml_name() {
    let fx = Fx::new();
    let bad = fx.write("x/myrc", "solver: myrc\n");
    let good = fx.write("x/my.yml", "solver: my-yml\n");
    let mut o = fx.opts();
    o.env = env(&[("CONDARC", bad.to_str().unwrap())]);
    let c = cfg(&o);
    assert_eq!(c.solver, "libmamba");
    assert!(c.sources.is_empty());
    o.env = env(&[("CONDARC", good.to_str().unwrap())]);
    assert_eq!(cfg(&o).solver, "my-yml");
}

#[test]
fn condarc_d_files_in_name_order_only_yaml() {
    let fx = Fx::new();
    fx.write(
        "home/.conda/condarc.d/10-b.yml",
        "solver: b\nchannels: [b]\n",
    );
    fx.write(
        "home/.conda/condarc.d/02-a.yaml",
        "solver: a\nchannels: [a]\n",
    );
    fx.write("home/.conda/condarc.d/99-z.txt", "solver: txt\n");
    fx.write("home/.conda/condarc.d/condarc", "solver: plain\n");
    let c = cfg(&fx.opts());
    assert_eq!(c.solver, "b");
    assert_eq!(c.channels, strs(&["b", "a"]));
    let files: Vec<PathBuf> = c.config_files().iter().map(|p| p.to_path_buf()).collect();
    assert_eq!(
        files,
        vec![
            fx.p("home/.conda/condarc.d/02-a.yaml"),
            fx.p("home/.conda/condarc.d/10-b.yml")
        ]
    );
}

#[test]
fn duplicate_paths_are_read_once() {
    let fx = Fx::new();
    let rc = fx.write("etc/.condarc", "channels: [a]\n");
    let mut o = fx.opts();
    o.system_dirs = vec![fx.p("etc"), fx.p("etc")];
    o.env = env(&[("CONDARC", rc.to_str().unwrap())]);
    let c = cfg(&o);
    assert_eq!(c.sources.len(), 1);
    assert_eq!(c.channels, strs(&["a"]));
}

#[test]
fn malformed_yaml_names_file_and_line() {
    let fx = Fx::new();
    let rc = fx.write(
        "home/.condarc",
        "channels:\n  - a\nssl_verify: true\nbad: [unclosed\nother: 1\n",
    );
    let err = Config::load(&fx.opts()).expect_err("must fail");
    let ConfigError::InvalidYaml { path, line, .. } = &err else {
        panic!("unexpected error {err:?}");
    };
    assert_eq!(path, &rc);
    assert!(*line >= 4, "line {line}");
    let msg = err.to_string();
    assert!(msg.contains(&rc.display().to_string()), "{msg}");
    assert!(msg.contains(&format!("line {line}")), "{msg}");
    assert!(msg.contains("fix or remove"), "{msg}");
}

#[test]
fn tab_indentation_error_reports_line() {
    let fx = Fx::new();
    fx.write("home/.condarc", "channels:\n\t- a\n");
    let err = Config::load(&fx.opts()).expect_err("must fail");
    assert!(
        matches!(err, ConfigError::InvalidYaml { line: 2, .. }),
        "{err:?}"
    );
}

#[test]
fn wrong_type_names_file_key_and_line() {
    let fx = Fx::new();
    let rc = fx.write("home/.condarc", "# my settings\nalways_yes: [1]\n");
    let err = Config::load(&fx.opts()).expect_err("must fail");
    let msg = err.to_string();
    assert!(
        matches!(&err, ConfigError::InvalidValue { line: 2, key, .. } if key == "always_yes"),
        "{err:?}"
    );
    assert!(
        msg.contains(&rc.display().to_string()) && msg.contains("line 2"),
        "{msg}"
    );
    assert!(msg.contains("fix or remove line 2"), "{msg}");

    fx.write(
        "home/.condarc",
        "channels: [a]\n\nchannel_priority: sometimes\n",
    );
    let err = Config::load(&fx.opts()).expect_err("must fail");
    assert!(
        matches!(&err, ConfigError::InvalidValue { line: 3, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("strict, flexible, disabled"),
        "{err}"
    );

    fx.write("home/.condarc", "channels: conda-forge\n");
    let err = Config::load(&fx.opts()).expect_err("a string is not a list");
    assert!(err.to_string().contains("expected a list"), "{err}");

    fx.write("home/.condarc", "channel_alias: conda.example.com\n");
    let err = Config::load(&fx.opts()).expect_err("alias needs a scheme");
    assert!(err.to_string().contains("must have scheme"), "{err}");
}

#[test]
fn top_level_must_be_a_mapping() {
    let fx = Fx::new();
    fx.write("home/.condarc", "# comment\n- a\n- b\n");
    let err = Config::load(&fx.opts()).expect_err("must fail");
    assert!(
        matches!(
            err,
            ConfigError::NotAMapping {
                line: 2,
                found: "list",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn empty_file_is_a_source_but_not_populated() {
    let fx = Fx::new();
    fx.write("home/.condarc", "# nothing yet\n");
    let c = cfg(&fx.opts());
    assert_eq!(c.sources.len(), 1);
    assert!(c.config_files().is_empty());
}

#[test]
fn unknown_key_warns_with_file() {
    let fx = Fx::new();
    let rc = fx.write("home/.condarc", "channels: [a]\nchanels: [b]\n");
    let loaded = load(&fx.opts());
    assert_eq!(loaded.config.channels, strs(&["a"]));
    assert_eq!(loaded.warnings.len(), 1);
    let w = &loaded.warnings[0];
    assert!(w.starts_with("Unknown key: 'chanels'"), "{w}");
    assert!(
        w.contains(&rc.display().to_string()) && w.contains("line 2"),
        "{w}"
    );
}

#[test]
fn aliases_in_files_and_multiple_alias_error() {
    let fx = Fx::new();
    fx.write(
        "home/.condarc",
        "yes: true\nchannel: [x]\ncopy: true\nroot_dir: ~/base\nself_update: false\n",
    );
    let c = cfg(&fx.opts());
    assert_eq!(c.always_yes, Some(true));
    assert_eq!(c.channels, strs(&["x"]));
    assert!(c.always_copy);
    assert!(!c.auto_update_conda);
    assert_eq!(c.root_prefix, Some(fx.p("home/base")));
    assert_eq!(
        c.sources[0].values.get("yes"),
        Some(&serde_yaml::Value::Bool(true))
    );

    fx.write("home/.condarc", "channels: [a]\nchannel: [b]\n");
    let err = Config::load(&fx.opts()).expect_err("must fail");
    assert!(matches!(err, ConfigError::MultipleKeys { .. }), "{err:?}");
}

#[test]
fn channel_priority_booleans_and_ssl_verify_forms() {
    let fx = Fx::new();
    let cert = fx.write("x/ca.pem", "cert");
    fx.write(
        "home/.condarc",
        "channel_priority: false\nssl_verify: truststore\n",
    );
    let c = cfg(&fx.opts());
    assert_eq!(c.channel_priority, ChannelPriority::Disabled);
    assert_eq!(c.ssl_verify, SslVerify::Truststore);

    fx.write(
        "home/.condarc",
        &format!("channel_priority: true\nssl_verify: {}\n", cert.display()),
    );
    let c = cfg(&fx.opts());
    assert_eq!(c.channel_priority, ChannelPriority::Flexible);
    assert_eq!(c.ssl_verify, SslVerify::CaPath(cert));

    fx.write("home/.condarc", "ssl_verify: /no/such/bundle.pem\n");
    assert!(Config::load(&fx.opts()).is_err());

    let mut o = fx.opts();
    fx.write("home/.condarc", "ssl_verify: false\n");
    assert_eq!(cfg(&o).ssl_verify, SslVerify::Disabled);
    o.cli.ssl_verify = Some(SslVerify::Enabled);
    assert_eq!(cfg(&o).ssl_verify, SslVerify::Enabled);
}

#[test]
fn variable_expansion_in_expandable_keys_only() {
    let fx = Fx::new();
    fx.write(
        "home/.condarc",
        "channels:\n  - ${CHAN_BASE}/main\n  - $UNSET_VAR/x\n\
         pkgs_dirs: [$CACHE/pkgs, ~/cache]\n\
         channel_alias: https://${MIRROR}\n\
         custom_channels:\n  corp: https://$MIRROR/c\n\
         default_channels: [$MIRROR/d]\n\
         proxy_servers:\n  https: ${PROXY}\n\
         env_prompt: '$MIRROR '\n",
    );
    let mut o = fx.opts();
    o.env = env(&[
        ("CHAN_BASE", "https://chan.example"),
        ("CACHE", "/big"),
        ("MIRROR", "mirror.example"),
        ("PROXY", "http://proxy:3128"),
    ]);
    let c = cfg(&o);
    assert_eq!(
        c.channels,
        strs(&["https://chan.example/main", "$UNSET_VAR/x"])
    );
    assert_eq!(
        c.pkgs_dirs,
        vec![PathBuf::from("/big/pkgs"), fx.p("home/cache")]
    );
    assert_eq!(c.channel_alias, "https://mirror.example");
    assert_eq!(c.custom_channels["corp"], "https://mirror.example/c");
    assert_eq!(c.default_channels, strs(&["mirror.example/d"]));
    assert_eq!(c.proxy_servers["https"], "http://proxy:3128");
    assert_eq!(c.env_prompt, "$MIRROR ");
}

#[test]
fn override_channels_and_use_local() {
    let fx = Fx::new();
    fx.write("home/.condarc", "channels: [conda-forge]\n");
    let mut o = fx.opts();
    o.cli.channels = strs(&["bioconda"]);
    assert_eq!(cfg(&o).channels, strs(&["bioconda", "conda-forge"]));
    o.cli.override_channels = true;
    assert_eq!(cfg(&o).channels, strs(&["bioconda"]));
    o.cli.use_local = Some(true);
    assert_eq!(cfg(&o).channels, strs(&["local", "bioconda"]));

    o.cli.channels.clear();
    let err = Config::load(&o).expect_err("needs -c");
    assert!(matches!(err, ConfigError::OverrideChannelsWithoutChannel));

    fx.write("home/.condarc", "override_channels_enabled: false\n");
    o.cli.channels = strs(&["x"]);
    let err = Config::load(&o).expect_err("disabled");
    assert!(
        matches!(err, taipan_config::ConfigError::OverrideChannelsDisabled),
        "{err:?}"
    );
}

#[test]
fn cli_other_overrides_are_validated() {
    let fx = Fx::new();
    let mut o = fx.opts();
    o.cli.other = vec![("ignore_pinned".into(), serde_yaml::Value::Bool(true))];
    assert_eq!(
        cfg(&o).other.get("ignore_pinned"),
        Some(&serde_yaml::Value::Bool(true))
    );
    o.cli.other = vec![("not_a_key".into(), serde_yaml::Value::Bool(true))];
    assert!(matches!(
        Config::load(&o),
        Err(ConfigError::InvalidCliValue { .. })
    ));
}

#[test]
fn envs_dirs_order_depends_on_root_writability() {
    let root = Path::new("/opt/conda");
    let home = Path::new("/home/u");
    let mut c = Config::default();
    assert_eq!(
        c.envs_dirs(root, home, true),
        vec![
            PathBuf::from("/opt/conda/envs"),
            PathBuf::from("/home/u/.conda/envs")
        ]
    );
    assert_eq!(
        c.envs_dirs(root, home, false),
        vec![
            PathBuf::from("/home/u/.conda/envs"),
            PathBuf::from("/opt/conda/envs")
        ]
    );
    c.envs_dirs = vec![
        PathBuf::from("/shared/envs"),
        PathBuf::from("/opt/conda/envs"),
    ];
    assert_eq!(
        c.envs_dirs(root, home, false),
        vec![
            PathBuf::from("/shared/envs"),
            PathBuf::from("/opt/conda/envs"),
            PathBuf::from("/home/u/.conda/envs")
        ]
    );
}

#[test]
fn pkgs_dirs_configured_or_root_then_user() {
    let root = Path::new("/opt/conda");
    let home = Path::new("/home/u");
    let mut c = Config::default();
    assert_eq!(
        c.pkgs_dirs(root, home),
        vec![
            PathBuf::from("/opt/conda/pkgs"),
            PathBuf::from("/home/u/.conda/pkgs")
        ]
    );
    c.pkgs_dirs = vec![PathBuf::from("/cache"), PathBuf::from("/cache")];
    assert_eq!(c.pkgs_dirs(root, home), vec![PathBuf::from("/cache")]);
}

#[test]
fn envs_dirs_from_files_expand_home_and_merge() {
    let fx = Fx::new();
    fx.write("etc/.condarc", "envs_dirs:\n  - /shared/envs\n");
    fx.write("home/.condarc", "envs_path:\n  - ~/my-envs\n");
    let c = cfg(&fx.opts());
    assert_eq!(
        c.envs_dirs,
        vec![fx.p("home/my-envs"), PathBuf::from("/shared/envs")]
    );
    let all = c.envs_dirs(&fx.p("root"), &fx.p("home"), false);
    assert_eq!(all[2], fx.p("home/.conda/envs"));
    assert_eq!(all[3], fx.p("root/envs"));
}

#[test]
fn root_writable_checks_history_file() {
    let fx = Fx::new();
    assert!(!taipan_config::root_writable(&fx.p("root")));
    fx.write("root/conda-meta/history", "");
    assert!(taipan_config::root_writable(&fx.p("root")));
}

#[test]
fn user_and_system_rc_paths() {
    assert_eq!(
        Config::user_rc_path(Path::new("/home/u")),
        PathBuf::from("/home/u/.condarc")
    );
    assert_eq!(
        Config::sys_rc_path(Path::new("/opt/conda")),
        PathBuf::from("/opt/conda/.condarc")
    );
}

#[test]
fn unmodelled_known_keys_are_kept_and_unimplemented_ones_warn() {
    let fx = Fx::new();
    fx.write(
        "home/.condarc",
        "channel_settings:\n  - channel: x\n    param: y\ndry_run: true\n",
    );
    let loaded = load(&fx.opts());
    // taipan acts on dry_run and on channel_settings' exclude_newer; other channel_settings
    // keys it does not implement, and says so.
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    assert!(loaded.warnings[0]
        .starts_with("WARNING: taipan does not implement channel_settings 'param' (set in "));
    assert!(loaded.config.other.contains_key("channel_settings"));
    assert_eq!(
        loaded.config.other.get("dry_run"),
        Some(&serde_yaml::Value::Bool(true))
    );
}

#[test]
fn errors_point_at_the_bad_item_or_entry_line() {
    let fx = Fx::new();
    fx.write("home/.condarc", "channels:\n  - a\n  - [nested]\n");
    let err = Config::load(&fx.opts()).expect_err("must fail");
    assert!(
        matches!(err, ConfigError::InvalidValue { line: 3, .. }),
        "{err:?}"
    );

    fx.write(
        "home/.condarc",
        "proxy_servers:\n  http: ok\n  https: [1]\n",
    );
    let err = Config::load(&fx.opts()).expect_err("must fail");
    assert!(
        matches!(err, ConfigError::InvalidValue { line: 3, .. }),
        "{err:?}"
    );

    fx.write("home/.condarc", "solver: a\nchannels: [x]\nsolver: b\n");
    let err = Config::load(&fx.opts()).expect_err("duplicate key");
    assert!(
        matches!(err, ConfigError::InvalidYaml { line: 3, .. }),
        "{err:?}"
    );
    assert!(!err.to_string().contains("at line 1"), "{err}");
}

#[test]
fn config_serializes_with_conda_names() {
    let fx = Fx::new();
    fx.write("home/.condarc", "channel_priority: strict\ndry_run: true\n");
    let v = serde_yaml::to_value(cfg(&fx.opts())).expect("serialize");
    assert_eq!(v["channel_priority"], serde_yaml::Value::from("strict"));
    assert_eq!(v["ssl_verify"], serde_yaml::Value::Bool(true));
    assert_eq!(v["dry_run"], serde_yaml::Value::Bool(true));
    assert!(v.get("sources").is_none());
}
