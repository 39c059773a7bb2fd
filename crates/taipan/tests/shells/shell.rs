//! Shell integration, in real shells: bash, zsh, dash, fish, tcsh.

use std::path::{Path, PathBuf};
use std::process::Command;

use taipan_testkit::{ArchiveFormat, ChannelBuilder, PackageBuilder};

use crate::common::{output, TestContext};

/// A root prefix (with `bin/conda`, activation files) and an env `work` holding a package with
/// activate.d/deactivate.d scripts that log their order.
fn installation(ctx: &TestContext) -> PathBuf {
    let mut ch = ChannelBuilder::new(&ctx.path("shellch"));
    ch.add(
        &PackageBuilder::new("hooks", "1.0")
            .noarch_generic()
            .file("etc/conda/activate.d/a.sh", "echo act-a >> \"$HOOK_LOG\"\n")
            .file("etc/conda/activate.d/b.sh", "echo act-b >> \"$HOOK_LOG\"\n")
            .file(
                "etc/conda/deactivate.d/a.sh",
                "echo deact-a >> \"$HOOK_LOG\"\n",
            )
            .file(
                "etc/conda/deactivate.d/b.sh",
                "echo deact-b >> \"$HOOK_LOG\"\n",
            )
            .file(
                "etc/conda/activate.d/a.ps1",
                "Add-Content $Env:HOOK_LOG 'act-ps'\n",
            )
            .file(
                "etc/conda/deactivate.d/a.ps1",
                "Add-Content $Env:HOOK_LOG 'deact-ps'\n",
            )
            .executable("bin/hooks-tool", "#!/bin/sh\necho tool-ok\n"),
        ArchiveFormat::Conda,
    );
    ch.index().unwrap();
    let url = ch.url().to_string();
    ctx.cmd()
        .args(["create", "-y", "-q", "-c", &ctx.channel, "-p"])
        .arg(&ctx.root)
        .arg("dep")
        .assert()
        .success();
    ctx.cmd()
        .args(["create", "-y", "-q", "-n", "work", "-c", &url, "hooks"])
        .assert()
        .success();
    ctx.root.clone()
}

/// Runs `script` in `shell` with an isolated environment; returns (code, stdout, stderr).
fn sh(ctx: &TestContext, shell: &str, script: &str) -> (i32, String, String) {
    let file = ctx.path(&format!("script.{shell}"));
    std::fs::write(&file, script).unwrap();
    let mut cmd = Command::new(shell);
    match shell {
        "bash" => cmd.args(["--norc", "--noprofile"]),
        "zsh" => cmd.arg("-f"),
        "fish" => cmd.arg("-N"),
        "tcsh" => cmd.arg("-f"),
        _ => &mut cmd,
    };
    cmd.arg(&file)
        .env_clear()
        .env("HOME", &ctx.home)
        .env("PATH", "/usr/bin:/bin")
        .env("HOOK_LOG", ctx.path("hooks.log"))
        .env("TERM", "dumb");
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("{shell} is required for shell tests (.ci/run installs it): {e}")
    });
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn source_bin_activate_in_bash() {
    let ctx = TestContext::new();
    let root = installation(&ctx);
    let (code, out, err) = sh(&ctx, "bash", &format!(
        "PS1='$ '\nsource {r}/bin/activate\necho \"$CONDA_PREFIX|$CONDA_SHLVL|$CONDA_DEFAULT_ENV|$CONDA_PROMPT_MODIFIER|$PS1|$CONDA_EXE\"\nsource {r}/bin/activate work\necho \"$CONDA_DEFAULT_ENV $CONDA_SHLVL $CONDA_PREFIX_1\"\nhooks-tool\nsource {r}/bin/deactivate\necho \"$CONDA_DEFAULT_ENV $CONDA_SHLVL\"\n",
        r = root.display()
    ));
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "{r}|1|base|(base) |(base) $ |{r}/bin/conda",
            r = root.display()
        )
    );
    assert_eq!(lines[1], format!("work 2 {}", root.display()));
    assert_eq!(lines[2], "tool-ok");
    assert_eq!(lines[3], "base 1");
    assert!(
        err.contains("DeprecationWarning: 'source deactivate' is deprecated"),
        "{err}"
    );
}

/// After `source bin/activate` (sh shells) or the hook, and after `conda activate`, a bare
/// `deactivate` leaves the environment, as a venv's does.
#[test]
fn bare_deactivate_leaves_the_environment_in_every_shell() {
    let ctx = TestContext::new();
    let root = installation(&ctx);
    let r = root.display();
    for shell in ["bash", "zsh", "dash", "fish", "tcsh"] {
        let script = match shell {
            "fish" => format!("source {r}/etc/fish/conf.d/conda.fish\nconda activate work\ndeactivate\necho \"$CONDA_DEFAULT_ENV:$CONDA_SHLVL\"\ndeactivate\necho \"$CONDA_SHLVL\"\n"),
            "tcsh" => format!("source {r}/etc/profile.d/conda.csh\nconda activate work\ndeactivate\necho \":${{CONDA_SHLVL}}\"\ndeactivate\necho \"${{CONDA_SHLVL}}\"\n"),
            "dash" => format!(". {r}/bin/activate\nconda activate work\ndeactivate\necho \"$CONDA_DEFAULT_ENV:$CONDA_SHLVL\"\ndeactivate\necho \"$CONDA_SHLVL\"\n"),
            _ => format!("source {r}/bin/activate\nconda activate work\ndeactivate\necho \"$CONDA_DEFAULT_ENV:$CONDA_SHLVL\"\ndeactivate\necho \"$CONDA_SHLVL\"\n"),
        };
        let (code, out, err) = sh(&ctx, shell, &script);
        let lines: Vec<&str> = out.lines().collect();
        // fish and tcsh load the hook only (base not activated): work, then nothing.
        let expected = if matches!(shell, "fish" | "tcsh") {
            vec![":0", "0"]
        } else {
            vec!["base:1", "0"]
        };
        assert_eq!(
            lines, expected,
            "{shell}: code {code}\nstdout:\n{out}\nstderr:\n{err}"
        );
        assert!(!err.contains("DeprecationWarning"), "{shell}: {err}");
    }
}

fn nest_script(shell: &str, root: &Path) -> String {
    let r = root.display();
    let (load, echo) = match shell {
        "fish" => (format!("source {r}/etc/fish/conf.d/conda.fish"), "echo \"$CONDA_DEFAULT_ENV:$CONDA_SHLVL\""),
        "tcsh" => (format!("source {r}/etc/profile.d/conda.csh"), "if ( $?CONDA_DEFAULT_ENV ) then\necho \"${CONDA_DEFAULT_ENV}:${CONDA_SHLVL}\"\nelse\necho \":${CONDA_SHLVL}\"\nendif"),
        // `set -u`: the shell functions must work in strict scripts too.
        _ => (format!("set -u\n. {r}/etc/profile.d/conda.sh"), "echo \"${CONDA_DEFAULT_ENV:-}:$CONDA_SHLVL\""),
    };
    let steps = [
        "conda activate",
        "conda activate work",
        "hooks-tool",
        "conda activate --stack base",
        "conda deactivate",
        "conda deactivate",
        "conda deactivate",
        "conda activate nope",
    ];
    let mut s = format!("{load}\n");
    for step in steps {
        s.push_str(step);
        s.push('\n');
        s.push_str(echo);
        s.push('\n');
    }
    s
}

#[test]
fn activate_nest_stack_deactivate_in_every_shell() {
    let ctx = TestContext::new();
    let root = installation(&ctx);
    for shell in ["bash", "zsh", "dash", "fish", "tcsh"] {
        let (code, out, err) = sh(&ctx, shell, &nest_script(shell, &root));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines,
            vec!["base:1", "work:2", "tool-ok", "work:2", "base:3", "work:2", "base:1", ":0", ":0"],
            "{shell}: code {code}\nstdout:\n{out}\nstderr:\n{err}"
        );
        assert!(err.contains("EnvironmentNameNotFound"), "{shell}: {err}");
    }
}

#[test]
fn activate_d_runs_sorted_and_deactivate_d_reversed() {
    let ctx = TestContext::new();
    let root = installation(&ctx);
    let (code, _, err) = sh(
        &ctx,
        "bash",
        &format!(
            ". {}/etc/profile.d/conda.sh\nconda activate work\nconda deactivate\n",
            root.display()
        ),
    );
    assert_eq!(code, 0, "{err}");
    let log = std::fs::read_to_string(ctx.path("hooks.log")).unwrap();
    assert_eq!(log, "act-a\nact-b\ndeact-b\ndeact-a\n");
}

#[test]
fn env_config_vars_are_set_and_unset() {
    let ctx = TestContext::new();
    let root = installation(&ctx);
    ctx.cmd()
        .args([
            "env",
            "config",
            "vars",
            "set",
            "-n",
            "work",
            "greeting=hello",
            "OTHER=x",
        ])
        .assert()
        .success();
    ctx.cmd()
        .args(["env", "config", "vars", "unset", "-n", "work", "other"])
        .assert()
        .success();
    let (_, list, _) = output(
        ctx.cmd()
            .args(["env", "config", "vars", "list", "-n", "work"]),
    );
    assert_eq!(list, "GREETING = hello\n");
    let (code, out, err) = sh(&ctx, "bash", &format!(
        ". {}/etc/profile.d/conda.sh\nconda activate work\necho \"[$GREETING]\"\nconda deactivate\necho \"[${{GREETING-unset}}]\"\n",
        root.display()
    ));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "[hello]\n[unset]\n");
}

#[test]
fn init_then_interactive_shells_have_conda_activate_and_reverse_restores_bytes() {
    let ctx = TestContext::new();
    let root = installation(&ctx);
    let original = "# my bashrc\nalias ll='ls -l'\n";
    std::fs::write(ctx.home.join(".bashrc"), original).unwrap();
    let conda = root.join("bin/conda");
    let mut cmd = assert_cmd::Command::new(&conda);
    ctx.isolate(&mut cmd);
    let (code, out, _) = output(cmd.args(["init", "bash", "zsh", "fish"]));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!(
            "modified      {}",
            ctx.home.join(".bashrc").display()
        )),
        "{out}"
    );
    assert!(
        out.contains("==> For changes to take effect, close and re-open your current shell. <=="),
        "{out}"
    );
    // Idempotent: a second run changes nothing.
    let mut again = assert_cmd::Command::new(&conda);
    ctx.isolate(&mut again);
    let (_, out2, _) = output(again.args(["init", "bash"]));
    assert!(
        out2.contains(&format!(
            "no change     {}",
            ctx.home.join(".bashrc").display()
        )),
        "{out2}"
    );
    assert_eq!(
        std::fs::read_to_string(ctx.home.join(".bashrc"))
            .unwrap()
            .matches("# >>> conda initialize >>>")
            .count(),
        1
    );
    for (shell, args) in [
        ("bash", vec!["-i", "-c"]),
        ("zsh", vec!["-i", "-c"]),
        ("fish", vec!["-i", "-c"]),
    ] {
        let out = Command::new(shell)
            .args(&args)
            .arg("conda activate work; echo \"ENV=$CONDA_DEFAULT_ENV\"")
            .env_clear()
            .env("HOME", &ctx.home)
            .env("PATH", "/usr/bin:/bin")
            .env("HOOK_LOG", ctx.path("hooks.log"))
            .env("TERM", "dumb")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("ENV=work"),
            "{shell}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut rev = assert_cmd::Command::new(&conda);
    ctx.isolate(&mut rev);
    rev.args(["init", "--reverse", "bash", "zsh", "fish"])
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(ctx.home.join(".bashrc")).unwrap(),
        original
    );
    assert_eq!(
        std::fs::read_to_string(ctx.home.join(".zshrc")).unwrap(),
        ""
    );
}

#[test]
fn init_dry_run_and_read_only_rc_file() {
    let ctx = TestContext::new();
    installation(&ctx);
    let (code, out, _) = output(ctx.cmd().args(["init", "--dry-run", "bash"]));
    assert_eq!(code, 0);
    assert!(
        out.contains("DRY RUN: The above changes would have been made"),
        "{out}"
    );
    assert!(!ctx.home.join(".bashrc").exists());
    let rc = ctx.home.join(".bashrc");
    std::fs::write(&rc, "keep\n").unwrap();
    std::fs::create_dir_all(ctx.home.join(".bashrc.d")).unwrap();
    // A read-only rc file: its owner's mode leaves no one else writing it. Root ignores
    // modes, so as root the command runs as `nobody`.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o444)).unwrap();
    let (code, out, err) = ctx
        .as_nobody(["init", "bash"])
        .unwrap_or_else(|| output(ctx.cmd().args(["init", "bash"])));
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("needs sudo") && err.contains("Operation failed."),
        "{out}{err}"
    );
    assert_eq!(std::fs::read_to_string(&rc).unwrap(), "keep\n");
}

#[test]
fn run_passes_output_exit_code_and_cwd() {
    let ctx = TestContext::new();
    installation(&ctx);
    let (code, out, _) = output(ctx.cmd().args(["run", "-n", "work", "hooks-tool"]));
    assert_eq!(code, 0);
    assert_eq!(out, "tool-ok\n");
    let (code, _, _) = output(ctx.cmd().args(["run", "-n", "work", "sh", "-c", "exit 7"]));
    assert_eq!(code, 7);
    let dir = ctx.path("somewhere");
    std::fs::create_dir_all(&dir).unwrap();
    let (_, out, _) = output(
        ctx.cmd()
            .args(["run", "-n", "work", "--cwd"])
            .arg(&dir)
            .args(["sh", "-c", "pwd; echo $CONDA_DEFAULT_ENV"]),
    );
    assert_eq!(out, format!("{}\nwork\n", dir.display()));
    let (code, _, err) = output(ctx.cmd().args(["run", "-n", "nope", "true"]));
    assert_eq!(code, 1);
    assert!(err.contains("EnvironmentLocationNotFound"), "{err}");
    // The program's own flags are its own, even those conda does not implement (`-k`).
    let (code, out, err) = output(
        ctx.cmd()
            .args(["run", "-n", "work", "--cwd"])
            .arg(&dir)
            .args([
                "sh",
                "-c",
                "echo \"$@\"",
                "sh",
                "-k",
                "x",
                "--revision",
                "3",
            ]),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "-k x --revision 3\n");
    // Before the program they are still refused.
    let (code, _, err) = output(ctx.cmd().args(["run", "-k", "-n", "work", "true"]));
    assert_eq!(code, 2, "{err}");
}

#[test]
fn activation_errors_and_unhooked_activate() {
    let ctx = TestContext::new();
    let root = installation(&ctx);
    let not_env = ctx.path("plain-dir");
    std::fs::create_dir_all(&not_env).unwrap();
    let (code, out, err) = output(ctx.cmd().arg("shell.bash").arg("activate").arg(&not_env));
    assert_eq!(code, 1);
    assert!(out.is_empty(), "nothing to evaluate: {out}");
    assert!(
        err.contains("EnvironmentLocationNotFound: Not a conda environment"),
        "{err}"
    );
    let (code, _, err) = output(ctx.cmd().args(["shell.nushell", "hook"]));
    assert_eq!(code, 1);
    assert!(err.contains("nushell is not a supported shell"), "{err}");
    let (code, _, err) = output(ctx.cmd().args(["activate", "work"]));
    assert_eq!(code, 1);
    assert!(
        err.contains("CommandNotFoundError") && err.contains("conda init"),
        "{err}"
    );
    // JSON form of the activation.
    let (code, out, _) = output(ctx.cmd().args(["shell.posix+json", "activate", "work"]));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["vars"]["export"]["CONDA_DEFAULT_ENV"], "work");
    assert_eq!(
        v["path"]["PATH"][0],
        root.join("envs/work/bin").display().to_string()
    );
}

#[test]
fn posix_activate_output_format() {
    let ctx = TestContext::new();
    let root = installation(&ctx);
    let mut cmd = ctx.cmd();
    cmd.env("PATH", "/usr/bin:/bin")
        .env("PS1", "$ ")
        .args(["shell.bash", "activate", "work"]);
    let (code, out, _) = output(&mut cmd);
    assert_eq!(code, 0);
    let mut filters = ctx.filters();
    let exe = crate::common::bin().display().to_string();
    filters.push((Box::leak(regex::escape(&exe).into_boxed_str()), "[EXE]"));
    let _ = root;
    insta::with_settings!({filters => filters}, {
        insta::assert_snapshot!(out);
    });
}

/// No PowerShell can be installed here (not in Debian; PyPI and npm only wrap an existing
/// one), so its code is checked as text: the hook, activate/deactivate, the module and init.
#[test]
fn powershell_hook_activate_deactivate_files_and_init() {
    let ctx = TestContext::new();
    let root = installation(&ctx);
    let mut filters = ctx.filters();
    let exe = crate::common::bin().display().to_string();
    filters.push((Box::leak(regex::escape(&exe).into_boxed_str()), "[EXE]"));
    let (code, hook, _) = output(
        ctx.cmd()
            .env("PATH", "/usr/bin:/bin")
            .args(["shell.powershell", "hook"]),
    );
    assert_eq!(code, 0);
    ctx.cmd()
        .args([
            "env",
            "config",
            "vars",
            "set",
            "-n",
            "work",
            "GREETING=it's $HOME",
        ])
        .assert()
        .success();
    let (code, activate, _) =
        output(
            ctx.cmd()
                .env("PATH", "/usr/bin:/bin")
                .args(["shell.pwsh", "activate", "work"]),
        );
    assert_eq!(code, 0);
    let work = root.join("envs/work");
    let (code, deactivate, _) = output(
        ctx.cmd()
            .env(
                "PATH",
                format!(
                    "{}/bin:{}/condabin:/usr/bin:/bin",
                    work.display(),
                    root.display()
                ),
            )
            .env("CONDA_PREFIX", &work)
            .env("CONDA_SHLVL", "1")
            .env("CONDA_DEFAULT_ENV", "work")
            .env("CONDA_PROMPT_MODIFIER", "(work) ")
            .env("GREETING", "it's $HOME")
            .args(["shell.powershell", "deactivate"]),
    );
    assert_eq!(code, 0);
    insta::with_settings!({filters => filters}, {
        insta::assert_snapshot!(format!("--- hook\n{hook}--- activate work\n{activate}--- deactivate\n{deactivate}"));
    });
    // The hook imports the module the root prefix carries.
    let module = std::fs::read_to_string(root.join("shell/condabin/Conda.psm1")).unwrap();
    assert!(
        module.contains("function Invoke-Conda") && module.contains("-Alias conda"),
        "{module}"
    );
    let hook_file = std::fs::read_to_string(root.join("shell/condabin/conda-hook.ps1")).unwrap();
    assert!(
        hook_file
            .contains("Import-Module (Join-Path $Env:_CONDA_ROOT 'shell/condabin/Conda.psm1')"),
        "{hook_file}"
    );
    // init writes the CurrentUserAllHosts profile; again: no change; --reverse: the same bytes.
    let profile = ctx.home.join(".config/powershell/profile.ps1");
    std::fs::create_dir_all(profile.parent().unwrap()).unwrap();
    std::fs::write(&profile, "Set-Alias ll Get-ChildItem\n").unwrap();
    let conda = root.join("bin/conda");
    let run = |args: &[&str]| {
        let mut cmd = assert_cmd::Command::new(&conda);
        ctx.isolate(&mut cmd);
        output(cmd.args(args))
    };
    let (code, out, _) = run(&["init", "powershell"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("modified      {}", profile.display())),
        "{out}"
    );
    let text = std::fs::read_to_string(&profile).unwrap();
    assert!(
        text.starts_with("Set-Alias ll Get-ChildItem\n\n#region conda initialize\n"),
        "{text}"
    );
    assert!(text.contains(&format!("(& '{}/bin/conda' 'shell.powershell' 'hook') | Out-String | ?{{$_}} | Invoke-Expression", root.display())), "{text}");
    assert!(text.ends_with("#endregion\n"), "{text}");
    let (_, out, _) = run(&["init", "powershell"]);
    assert!(
        out.contains(&format!("no change     {}", profile.display())),
        "{out}"
    );
    let (_, out, _) = run(&["init", "--reverse", "powershell"]);
    assert!(out.contains("modified"), "{out}");
    assert_eq!(
        std::fs::read_to_string(&profile).unwrap(),
        "Set-Alias ll Get-ChildItem\n"
    );
}

#[test]
fn hook_auto_activates_base_unless_disabled() {
    let ctx = TestContext::new();
    let root = installation(&ctx);
    let script = format!(
        "eval \"$({}/bin/conda shell.bash hook)\"\necho \"[${{CONDA_DEFAULT_ENV:-none}}]\"\n",
        root.display()
    );
    let (_, out, err) = sh(&ctx, "bash", &script);
    assert_eq!(out, "[base]\n", "{err}");
    std::fs::write(ctx.home.join(".condarc"), "auto_activate_base: false\n").unwrap();
    let (_, out, _) = sh(&ctx, "bash", &script);
    assert_eq!(out, "[none]\n");
    std::fs::write(ctx.home.join(".condarc"), "auto_activate: false\n").unwrap();
    let (_, out, _) = sh(&ctx, "bash", &script);
    assert_eq!(out, "[none]\n");
}

#[test]
fn prompt_settings_and_auto_stack() {
    let ctx = TestContext::new();
    let root = installation(&ctx);
    let load = format!("PS1='$ '\n. {}/etc/profile.d/conda.sh\n", root.display());
    std::fs::write(ctx.home.join(".condarc"), "env_prompt: '[{name}] '\n").unwrap();
    let (_, out, _) = sh(
        &ctx,
        "bash",
        &format!("{load}conda activate work\necho \"$PS1\"\n"),
    );
    assert_eq!(out, "[work] $ \n");
    std::fs::write(ctx.home.join(".condarc"), "changeps1: false\n").unwrap();
    let (_, out, _) = sh(
        &ctx,
        "bash",
        &format!("{load}conda activate work\necho \"$PS1|$CONDA_PROMPT_MODIFIER|\"\n"),
    );
    assert_eq!(out, "$ ||\n");
    std::fs::write(ctx.home.join(".condarc"), "auto_stack: 1\n").unwrap();
    let (_, out, _) = sh(&ctx, "bash", &format!("{load}conda activate\nconda activate work\necho \"${{CONDA_STACKED_2:-no}}\"\necho \"$PATH\"\n"));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "true");
    assert!(
        lines[1].starts_with(&format!("{r}/envs/work/bin:{r}/bin:", r = root.display())),
        "{out}"
    );
}

#[test]
fn tcsh_prompt_gets_the_env_name_and_loses_it_on_deactivate() {
    let ctx = TestContext::new();
    let root = installation(&ctx);
    let script = format!(
        "set prompt='%n> '\nsource {}/etc/profile.d/conda.csh\nconda activate work\necho \"$prompt\"\nconda activate --stack base\necho \"$prompt\"\nconda deactivate\nconda deactivate\necho \"$prompt\"\n",
        root.display()
    );
    let (code, out, err) = sh(&ctx, "tcsh", &script);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out, "(work) %n> \n(base) %n> \n%n> \n", "{err}");
}

#[test]
fn init_condabin_and_system() {
    let ctx = TestContext::new();
    let root = installation(&ctx);
    ctx.cmd()
        .args(["init", "--condabin", "bash"])
        .assert()
        .success();
    let rc = std::fs::read_to_string(ctx.home.join(".bashrc")).unwrap();
    assert!(
        rc.contains(&format!(
            "export PATH=\"{}/condabin:$PATH\"",
            root.display()
        )),
        "{rc}"
    );
    let (_, out, _) = sh(
        &ctx,
        "bash",
        &format!("source {}/.bashrc\ncommand -v conda\n", ctx.home.display()),
    );
    assert_eq!(
        out.trim(),
        root.join("condabin/conda").display().to_string()
    );
    let system = ctx.path("profile.d");
    std::fs::create_dir_all(&system).unwrap();
    ctx.cmd()
        .env("TAIPAN_SYSTEM_PROFILE_DIR", &system)
        .args(["init", "--system", "bash"])
        .assert()
        .success();
    let text = std::fs::read_to_string(system.join("conda.sh")).unwrap();
    assert!(text.contains("'shell.posix' 'hook'"), "{text}");
    ctx.cmd()
        .env("TAIPAN_SYSTEM_PROFILE_DIR", &system)
        .args(["init", "--system", "--reverse", "bash"])
        .assert()
        .success();
    assert!(!system.join("conda.sh").exists());
}

#[test]
fn env_vars_d_from_packages_and_no_capture_output() {
    let ctx = TestContext::new();
    installation(&ctx);
    let env = ctx.root.join("envs/work");
    std::fs::create_dir_all(env.join("etc/conda/env_vars.d")).unwrap();
    std::fs::write(
        env.join("etc/conda/env_vars.d/pkg.json"),
        r#"{"FROM_PKG": "pkg", "BOTH": "pkg"}"#,
    )
    .unwrap();
    ctx.cmd()
        .args(["env", "config", "vars", "set", "-n", "work", "BOTH=state"])
        .assert()
        .success();
    let (code, out, _) = output(ctx.cmd().args([
        "run",
        "--no-capture-output",
        "-n",
        "work",
        "sh",
        "-c",
        "echo $FROM_PKG $BOTH",
    ]));
    assert_eq!(code, 0);
    assert_eq!(out, "pkg state\n");
}

#[test]
fn install_in_the_active_env_reactivates() {
    let ctx = TestContext::new();
    let root = installation(&ctx);
    let script = format!(
        ". {r}/etc/profile.d/conda.sh\nconda activate work\nconda install -y -q -c {ch} leaf >/dev/null\necho \"$CONDA_DEFAULT_ENV $CONDA_SHLVL\"\necho \"$PATH\" | tr ':' '\\n' | grep -c envs/work/bin\n",
        r = root.display(),
        ch = ctx.channel
    );
    let (code, out, err) = sh(&ctx, "bash", &script);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "work 1\n1\n");
    assert!(root.join("envs/work/share/leaf").exists());
}

/// xonsh comes from PyPI: `.ci/run` installs it into a venv and sets `TAIPAN_TEST_XONSH`.
fn xonsh() -> PathBuf {
    std::env::var_os("TAIPAN_TEST_XONSH")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                .map(|d| d.join("xonsh"))
                .find(|p| p.is_file())
        })
        .expect("xonsh is required for shell tests: set TAIPAN_TEST_XONSH (.ci/run does)")
}

#[test]
fn xonsh_hook_activate_deactivate_and_init() {
    let ctx = TestContext::new();
    let root = installation(&ctx);
    let script = ctx.path("t.xsh");
    std::fs::write(
        &script,
        format!(
            "execx($(\"{r}/bin/conda\" \"shell.xonsh\" \"hook\"))\nprint($CONDA_DEFAULT_ENV, $CONDA_SHLVL)\nconda activate work\nprint($CONDA_DEFAULT_ENV, $CONDA_SHLVL)\ndeactivate\nprint($CONDA_DEFAULT_ENV, $CONDA_SHLVL)\n",
            r = root.display()
        ),
    )
    .unwrap();
    let out = Command::new(xonsh())
        .arg("--no-rc")
        .arg(&script)
        .env_clear()
        .env("HOME", &ctx.home)
        .env("PATH", "/usr/bin:/bin")
        .env("HOOK_LOG", ctx.path("hooks.log"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout,
        "base 1\nwork 2\nbase 1\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Package activate.d/deactivate.d (.sh) scripts ran through source-bash.
    let log = std::fs::read_to_string(ctx.path("hooks.log")).unwrap();
    assert_eq!(log, "act-a\nact-b\ndeact-b\ndeact-a\n");
    ctx.cmd().args(["init", "xonsh"]).assert().success();
    let rc = std::fs::read_to_string(ctx.home.join(".xonshrc")).unwrap();
    assert!(
        rc.contains("shell.xonsh") && rc.contains("# >>> conda initialize >>>"),
        "{rc}"
    );
    let out = Command::new(xonsh())
        .args(["-i", "-c", "conda activate work; print($CONDA_DEFAULT_ENV)"])
        .env_clear()
        .env("HOME", &ctx.home)
        .env("PATH", "/usr/bin:/bin")
        .env("HOOK_LOG", ctx.path("hooks2.log"))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("work"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn shadowed_variable_is_restored_in_bash() {
    let ctx = TestContext::new();
    let root = installation(&ctx);
    ctx.cmd()
        .args(["env", "config", "vars", "set", "-n", "work", "EDITOR=nano"])
        .assert()
        .success();
    let (code, out, err) = sh(&ctx, "bash", &format!(
        "export EDITOR=vim\n. {}/etc/profile.d/conda.sh\nconda activate work\necho $EDITOR\nconda deactivate\necho $EDITOR\n",
        root.display()
    ));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "nano\nvim\n");
}
