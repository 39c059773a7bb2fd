//! The HTTP client every download goes through: timeouts, retries, proxies, TLS and auth
//! from the configuration (`remote_*`, `proxy_servers`, `ssl_verify`, `~/.netrc` / keyring).

use crate::error::ErrorKind;
use std::time::Duration;

use rattler_networking::{AuthenticationMiddleware, LazyClient};
use reqwest_middleware::ClientBuilder;
use reqwest_retry::{policies::ExponentialBackoff, RetryTransientMiddleware};

use crate::context::Context;
use crate::error::{CondaError, Result};

/// The user agent sent with every request.
pub fn user_agent() -> String {
    format!(
        "conda/{} taipan/{}",
        crate::CONDA_COMPAT_VERSION,
        env!("CARGO_PKG_VERSION")
    )
}

/// Retry policy from `remote_max_retries` and `remote_backoff_factor`.
pub fn retry_policy(ctx: &Context) -> ExponentialBackoff {
    let factor = ctx.config.remote_backoff_factor as f64;
    let base = Duration::from_millis((100.0 * factor.max(0.1)) as u64);
    ExponentialBackoff::builder()
        .retry_bounds(base, base * 20)
        .build_with_max_retries(ctx.config.remote_max_retries as u32)
}

/// Builds the client, honouring timeouts, proxies and `ssl_verify`. Settings are checked now
/// (so a bad proxy or CA bundle is an error up front); the client itself, which loads the
/// system's CA certificates, is built on first use, so `file://` channels never pay for it.
pub fn client(ctx: &Context) -> Result<LazyClient> {
    let proxies = proxies(ctx)?;
    let ca_certs = ca_certs(&ctx.config.ssl_verify)?;
    let identity = client_identity(&ctx.config)?;
    let insecure = matches!(ctx.config.ssl_verify, taipan_config::SslVerify::Disabled);
    let connect = secs(ctx.config.remote_connect_timeout_secs);
    let read = secs(ctx.config.remote_read_timeout_secs);
    let policy = retry_policy(ctx);
    Ok(LazyClient::new(move || {
        let mut builder = reqwest::Client::builder()
            .user_agent(user_agent())
            .connect_timeout(connect)
            .read_timeout(read)
            .danger_accept_invalid_certs(insecure);
        for p in proxies {
            builder = builder.proxy(p);
        }
        for c in ca_certs {
            builder = builder.add_root_certificate(c);
        }
        if let Some(id) = identity {
            builder = builder.identity(id);
        }
        let inner = builder.build().unwrap_or_else(|e| {
            tracing::error!("cannot set up the HTTP client ({e}); using defaults");
            reqwest::Client::new()
        });
        let mut client =
            ClientBuilder::new(inner).with(RetryTransientMiddleware::new_with_policy(policy));
        match AuthenticationMiddleware::from_env_and_defaults() {
            Ok(auth) => client = client.with_arc(std::sync::Arc::new(auth)),
            Err(e) => tracing::warn!("stored credentials are not available: {e}"),
        }
        client.build()
    }))
}

fn proxies(ctx: &Context) -> Result<Vec<reqwest::Proxy>> {
    ctx.config
        .proxy_servers
        .iter()
        .map(|(scheme, proxy)| {
            match scheme.as_str() {
                "http" => reqwest::Proxy::http(proxy),
                "https" => reqwest::Proxy::https(proxy),
                _ => reqwest::Proxy::all(proxy),
            }
            .map_err(|e| {
                CondaError::new(
                    ErrorKind::CondaValueError,
                    format!("invalid proxy_servers entry '{scheme}: {proxy}': {e}\n  Fix it in your .condarc."),
                )
            })
        })
        .collect()
}

/// `client_ssl_cert` (a PEM with the certificate, and the key unless `client_ssl_cert_key`
/// names it): the client certificate every HTTPS request presents (mutual TLS), as conda.
fn client_identity(config: &taipan_config::Config) -> Result<Option<reqwest::Identity>> {
    let (cert, key) = (&config.client_ssl_cert, &config.client_ssl_cert_key);
    let Some(cert) = cert else {
        if key.is_some() {
            return Err(CondaError::new(
                ErrorKind::ValidationError,
                "'client_ssl_cert' is required when 'client_ssl_cert_key' is defined",
            ));
        }
        return Ok(None);
    };
    let read = |key: &str, path: &str| {
        let path = expand_vars(path);
        std::fs::read(&path).map_err(|e| {
            CondaError::new(
                ErrorKind::CondaValueError,
                format!("{key}: cannot read {path}: {e}\n  Point {key} at a PEM file, or remove the setting."),
            )
        })
    };
    let mut pem = read("client_ssl_cert", cert)?;
    if let Some(key) = key {
        pem.push(b'\n');
        pem.extend(read("client_ssl_cert_key", key)?);
    }
    reqwest::Identity::from_pem(&pem).map(Some).map_err(|e| {
        CondaError::new(
            ErrorKind::CondaValueError,
            format!("client_ssl_cert: {cert} (with its key) is not a usable PEM certificate and key: {e}"),
        )
    })
}

/// `$VAR` and `${VAR}` from the environment, as conda expands these settings.
fn expand_vars(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, tail) = if let Some(inner) = after.strip_prefix('{') {
            match inner.find('}') {
                Some(end) => (&inner[..end], &inner[end + 1..]),
                None => ("", after),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        match std::env::var(name) {
            Ok(v) if !name.is_empty() => out.push_str(&v),
            _ => {
                out.push('$');
                rest = after;
                continue;
            }
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

fn ca_certs(verify: &taipan_config::SslVerify) -> Result<Vec<reqwest::Certificate>> {
    let taipan_config::SslVerify::CaPath(path) = verify else {
        return Ok(Vec::new());
    };
    let files: Vec<std::path::PathBuf> = if path.is_dir() {
        std::fs::read_dir(path)?
            .flatten()
            .map(|e| e.path())
            .collect()
    } else {
        vec![path.clone()]
    };
    let mut out = Vec::new();
    for f in files {
        let pem = std::fs::read(&f).map_err(|e| {
            CondaError::new(
                ErrorKind::CondaValueError,
                format!("ssl_verify: cannot read CA bundle {}: {e}", f.display()),
            )
        })?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
            CondaError::new(
                ErrorKind::CondaValueError,
                format!("ssl_verify: {} is not a PEM bundle: {e}", f.display()),
            )
        })?;
        out.extend(certs);
    }
    Ok(out)
}

/// `remote_read_timeout_secs`: the longest wait for the next bytes of a response.
pub fn read_timeout(ctx: &Context) -> Duration {
    secs(ctx.config.remote_read_timeout_secs)
}

fn secs(v: f64) -> Duration {
    Duration::from_secs_f64(if v.is_finite() && v > 0.0 { v } else { 60.0 })
}
