//! The HTTP client every download goes through: timeouts, retries, proxies, TLS and auth
//! from the configuration (`remote_*`, `proxy_servers`, `ssl_verify`, `~/.netrc` / keyring).

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
        crate::history::CONDA_COMPAT_VERSION,
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

/// Builds the client, honouring timeouts, proxies and `ssl_verify`.
pub fn client(ctx: &Context) -> Result<LazyClient> {
    let mut builder = reqwest::Client::builder()
        .user_agent(user_agent())
        .connect_timeout(secs(ctx.config.remote_connect_timeout_secs))
        .read_timeout(secs(ctx.config.remote_read_timeout_secs));
    for (scheme, proxy) in &ctx.config.proxy_servers {
        let p = match scheme.as_str() {
            "http" => reqwest::Proxy::http(proxy),
            "https" => reqwest::Proxy::https(proxy),
            _ => reqwest::Proxy::all(proxy),
        }
        .map_err(|e| {
            CondaError::new(
                "CondaValueError",
                format!("invalid proxy_servers entry '{scheme}: {proxy}': {e}"),
            )
        })?;
        builder = builder.proxy(p);
    }
    builder = apply_ssl_verify(builder, &ctx.config.ssl_verify)?;
    let inner = builder
        .build()
        .map_err(|e| CondaError::generic(format!("cannot set up the HTTP client: {e}")))?;
    let auth = AuthenticationMiddleware::from_env_and_defaults()
        .map_err(|e| CondaError::generic(format!("cannot read stored credentials: {e}")))?;
    let client = ClientBuilder::new(inner)
        .with(RetryTransientMiddleware::new_with_policy(retry_policy(ctx)))
        .with_arc(std::sync::Arc::new(auth))
        .build();
    Ok(LazyClient::from(client))
}

fn secs(v: f64) -> Duration {
    Duration::from_secs_f64(if v.is_finite() && v > 0.0 { v } else { 60.0 })
}

fn apply_ssl_verify(
    builder: reqwest::ClientBuilder,
    verify: &taipan_config::SslVerify,
) -> Result<reqwest::ClientBuilder> {
    use taipan_config::SslVerify;
    Ok(match verify {
        SslVerify::Enabled | SslVerify::Truststore => builder,
        SslVerify::Disabled => builder.danger_accept_invalid_certs(true),
        SslVerify::CaPath(path) => {
            let pem = std::fs::read(path).map_err(|e| {
                CondaError::new(
                    "CondaValueError",
                    format!("ssl_verify: cannot read CA bundle {}: {e}", path.display()),
                )
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                CondaError::new(
                    "CondaValueError",
                    format!("ssl_verify: {} is not a PEM bundle: {e}", path.display()),
                )
            })?;
            certs
                .into_iter()
                .fold(builder, |b, c| b.add_root_certificate(c))
        }
    })
}
