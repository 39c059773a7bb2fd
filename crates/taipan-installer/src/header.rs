//! The installer's POSIX sh header. It takes Anaconda's installer flags (`-b -i -f -u -p -k
//! -s -t -c -h`) and refuses a damaged file before writing anything. After unpacking, the
//! embedded taipan installs the base environment offline from the payload.

/// Values baked into the header.
pub struct HeaderInfo {
    pub name: String,
    pub version: String,
    pub default_prefix: Option<String>,
    pub payload_size: u64,
    pub payload_sha256: String,
    pub keep_pkgs: bool,
    pub min_glibc: Option<String>,
    /// `None`: no init offered; `Some(true)`: condabin only.
    pub init_mode: Option<bool>,
    pub initialize_by_default: bool,
    pub register_envs: bool,
    pub welcome: Option<String>,
    pub conclusion: String,
}

use taipan_shell::render::sh_quote as q;

/// The header text; `HEADER_SIZE` inside it is its own length in bytes.
pub fn render(i: &HeaderInfo) -> String {
    let default_prefix = i
        .default_prefix
        .clone()
        .unwrap_or_else(|| format!("${{HOME:-/opt}}/{}", i.name.to_lowercase()));
    let text = TEMPLATE
        .replace("@NAME@", &q(&i.name))
        .replace("@VERSION@", &q(&i.version))
        .replace("@RAW_NAME@", &i.name)
        .replace("@RAW_VERSION@", &i.version)
        .replace("@DEFAULT_PREFIX@", &default_prefix.replace('"', "\\\""))
        .replace("@PAYLOAD_SIZE@", &i.payload_size.to_string())
        .replace("@PAYLOAD_SHA256@", &i.payload_sha256)
        .replace("@KEEP_PKGS@", if i.keep_pkgs { "1" } else { "0" })
        .replace("@MIN_GLIBC@", &q(i.min_glibc.as_deref().unwrap_or("")))
        .replace(
            "@INIT_MODE@",
            match i.init_mode {
                None => "none",
                Some(true) => "condabin",
                Some(false) => "full",
            },
        )
        .replace(
            "@INIT_DEFAULT@",
            if i.initialize_by_default { "yes" } else { "no" },
        )
        .replace("@REGISTER_ENVS@", if i.register_envs { "1" } else { "0" })
        .replace("@WELCOME@", &q(i.welcome.as_deref().unwrap_or("")))
        .replace("@CONCLUSION@", &q(&i.conclusion))
        .replace("@META_DIR@", crate::layout::META_DIR)
        .replace("@BINARY@", crate::layout::BINARY);
    // The placeholder and the space-padded number have the same width, so the length is
    // stable (no leading zeros: the shell would read them as octal).
    let len = text.len();
    text.replace("HEADER_SIZE=0000000000", &format!("HEADER_SIZE={len:<10}"))
}

/// The header: a POSIX shell script with `@NAME@`-style placeholders (shellcheck reads it
/// as it is, in `.ci/run`).
const TEMPLATE: &str = include_str!("header.sh");
