//! `conda doctor`'s report in conda 26's text (`✅`/`❌` lines), or as JSON.

use serde_json::{json, Value};
use taipan_env::ops::doctor::{Finding, Report, CHECKS};

const OK: &str = "✅";
const X: &str = "❌";

/// `--list`: the checks and what their fixes do.
pub fn list() -> String {
    let mut out = String::from("Available health checks:\n\n");
    for c in CHECKS {
        match c.fix {
            Some(fix) => out.push_str(&format!("  {}: {} (fix: {fix})\n", c.name, c.summary)),
            None => out.push_str(&format!("  {}: {}\n", c.name, c.summary)),
        }
    }
    out.push('\n');
    out
}

fn per_package(
    out: &mut String,
    title: &str,
    found: &std::collections::BTreeMap<String, Vec<String>>,
    verbose: bool,
    blank_after_list: bool,
) {
    out.push_str(&format!("{X} {title}:\n\n"));
    for (pkg, files) in found {
        if verbose {
            out.push_str(&format!("{pkg}:\n  {}\n", files.join("\n  ")));
            if blank_after_list {
                out.push('\n');
            }
        } else {
            out.push_str(&format!("{pkg}: {}\n\n", files.len()));
        }
    }
}

/// The report as conda prints it (`-v`: the files and dependency problems themselves).
pub fn text(report: &Report, verbose: bool) -> String {
    let mut out = format!(
        "Environment Health Report for: {}\n\n",
        report.prefix.display()
    );
    for (_, finding) in &report.findings {
        match finding {
            Finding::AlteredFiles(found) if found.is_empty() => out.push_str(&format!(
                "{OK} There are no packages with altered files.\n\n"
            )),
            Finding::AlteredFiles(found) => {
                per_package(&mut out, "Altered Files", found, verbose, true)
            }
            Finding::Consistency { issues, .. } if issues.is_empty() => {
                out.push_str(&format!("{OK} The environment is consistent.\n\n"))
            }
            Finding::Consistency { issues, .. } => {
                out.push_str(&format!("{X} The environment is not consistent.\n\n"));
                if verbose {
                    out.push_str(&taipan_env::ops::doctor::issues_yaml(issues));
                    out.push('\n');
                }
            }
            Finding::EnvironmentTxt { listed, stale, .. } => {
                if *listed {
                    out.push_str(&format!(
                        "{OK} The environment is listed in the environments.txt file.\n\n"
                    ));
                } else {
                    out.push_str(&format!(
                        "{X} The environment is not listed in the environments.txt file.\n\n"
                    ));
                }
                if !stale.is_empty() {
                    out.push_str(&format!(
                        "{X} The environments.txt file lists environments that no longer exist:\n"
                    ));
                    for s in stale {
                        out.push_str(&format!("  {}\n", s.display()));
                    }
                    out.push('\n');
                }
            }
            Finding::FileLocking(true) => {
                out.push_str(&format!("{OK} File locking is supported.\n\n"))
            }
            Finding::FileLocking(false) => {
                out.push_str(&format!("{X} File locking is not supported.\n\n"))
            }
            Finding::MissingFiles(found) if found.is_empty() => out.push_str(&format!(
                "{OK} There are no packages with missing files.\n\n"
            )),
            // conda prints no blank line after a package's file list here.
            Finding::MissingFiles(found) => {
                per_package(&mut out, "Missing Files", found, verbose, false)
            }
            Finding::Pinned {
                file,
                error,
                count,
                not_installed,
                violated,
            } => {
                let file = file.display();
                if let Some(e) = error {
                    out.push_str(&format!(
                        "{X} An error occurred trying to read pinned file at {file}:\n\t{e}\n"
                    ));
                } else if *count == 0 {
                    out.push_str(&format!("{OK} No pinned specs found in {file}.\n"));
                } else if !not_installed.is_empty() {
                    out.push_str(&format!(
                        "{X} The following specs in {file} are maybe malformed:\n"
                    ));
                    for n in not_installed {
                        out.push_str(&format!("\n    - {n}"));
                    }
                    out.push('\n');
                } else if violated.is_empty() {
                    out.push_str(&format!(
                        "{OK} The pinned file in {file} seems well formatted.\n"
                    ));
                }
                if error.is_none() && !violated.is_empty() {
                    out.push_str(&format!(
                        "{X} The environment does not satisfy these specs in {file}:\n"
                    ));
                    for (spec, installed) in violated {
                        out.push_str(&format!("\n    - {spec} (installed: {installed})"));
                    }
                    out.push('\n');
                }
            }
            Finding::CaBundle(None) => {}
            Finding::CaBundle(Some(Ok(()))) => {
                out.push_str(&format!("{OK} `REQUESTS_CA_BUNDLE` was verified.\n\n"))
            }
            Finding::CaBundle(Some(Err(e))) if e.is_empty() => out.push_str(&format!(
                "{X} Env var `REQUESTS_CA_BUNDLE` is pointing to a non existent file.\n\n"
            )),
            Finding::CaBundle(Some(Err(e))) => out.push_str(&format!(
                "{X} The following error occured while verifying `REQUESTS_CA_BUNDLE`: {e}\n\n"
            )),
        }
    }
    out
}

/// The report as JSON: per check, `ok` and what it found.
pub fn json(report: &Report) -> Value {
    let mut checks = serde_json::Map::new();
    for (name, finding) in &report.findings {
        let v = match finding {
            Finding::AlteredFiles(f) | Finding::MissingFiles(f) => {
                json!({"ok": f.is_empty(), "packages": f})
            }
            Finding::Consistency {
                issues,
                missing_deps,
            } => {
                json!({"ok": issues.is_empty(), "issues": issues, "missing_dependencies": missing_deps})
            }
            Finding::EnvironmentTxt {
                listed,
                file,
                stale,
            } => {
                json!({"ok": *listed && stale.is_empty(), "listed": listed, "file": file, "stale": stale})
            }
            Finding::FileLocking(ok) => json!({"ok": ok}),
            Finding::Pinned {
                file,
                error,
                count,
                not_installed,
                violated,
            } => json!({
                "ok": error.is_none() && not_installed.is_empty() && violated.is_empty(),
                "file": file, "error": error, "specs": count, "not_installed": not_installed,
                "violated": violated.iter().map(|(s, i)| json!({"spec": s, "installed": i})).collect::<Vec<_>>(),
            }),
            Finding::CaBundle(None) => json!({"ok": true, "set": false}),
            Finding::CaBundle(Some(r)) => json!({
                "ok": r.is_ok(), "set": true,
                "error": r.as_ref().err().map(|e| if e.is_empty() { "the file does not exist".to_string() } else { e.clone() }),
            }),
        };
        checks.insert((*name).to_string(), v);
    }
    json!({"prefix": report.prefix, "checks": checks})
}
