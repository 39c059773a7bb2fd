//! Certificates for HTTPS tests, made with the `openssl` command: a CA, a server certificate
//! for 127.0.0.1 and a client certificate (for mutual TLS), all signed by the CA.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// The files of a test PKI.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The CA certificate (what clients trust, what nginx checks client certificates with).
    pub ca: PathBuf,
    /// The server's certificate (for `127.0.0.1` and `localhost`).
    pub server_cert: PathBuf,
    /// The server's key.
    pub server_key: PathBuf,
    /// A client certificate the CA signed.
    pub client_cert: PathBuf,
    /// Its key.
    pub client_key: PathBuf,
}

impl TlsFiles {
    /// Makes a CA, a server and a client certificate in `dir`.
    pub fn generate(dir: &Path) -> Result<Self> {
        fs_err::create_dir_all(dir)?;
        let f = |name: &str| dir.join(name);
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=taipan test CA",
            "-keyout",
            path(&f("ca.key")),
            "-out",
            path(&f("ca.pem")),
        ])?;
        fs_err::write(
            f("server.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
        )?;
        fs_err::write(f("client.ext"), "extendedKeyUsage=clientAuth\n")?;
        for (who, cn) in [("server", "127.0.0.1"), ("client", "taipan test client")] {
            openssl(&[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                &format!("/CN={cn}"),
                "-keyout",
                path(&f(&format!("{who}.key"))),
                "-out",
                path(&f(&format!("{who}.csr"))),
            ])?;
            openssl(&[
                "x509",
                "-req",
                "-days",
                "2",
                "-in",
                path(&f(&format!("{who}.csr"))),
                "-CA",
                path(&f("ca.pem")),
                "-CAkey",
                path(&f("ca.key")),
                "-CAcreateserial",
                "-extfile",
                path(&f(&format!("{who}.ext"))),
                "-out",
                path(&f(&format!("{who}.pem"))),
            ])?;
        }
        Ok(Self {
            ca: f("ca.pem"),
            server_cert: f("server.pem"),
            server_key: f("server.key"),
            client_cert: f("client.pem"),
            client_key: f("client.key"),
        })
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}

fn openssl(args: &[&str]) -> Result<()> {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .context("running openssl (apt-get install -y openssl)")?;
    if !out.status.success() {
        bail!(
            "openssl {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}
