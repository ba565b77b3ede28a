//! Loading: the layered sources (`--config` file, `.env` file, process environment) merged
//! through `config`, every declared setting parsed, and the values derived from them.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _};

use super::{is_reserved_environment_name, vars, CookiePolicy, Options, Secret, Settings, KNOWN};

/// Where settings come from; tests pass an explicit environment instead of the process's.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    pub config_file: Option<PathBuf>,
    pub env_file: Option<PathBuf>,
    /// The process environment (or a test's stand-in).
    pub env: HashMap<String, String>,
}

impl Sources {
    /// The real process environment plus optional files.
    #[must_use]
    pub fn from_process(config_file: Option<PathBuf>, env_file: Option<PathBuf>) -> Self {
        Self { config_file, env_file, env: std::env::vars().collect() }
    }
}

fn is_ours(name: &str) -> bool {
    name.starts_with(vars::PREFIX) || name.starts_with(vars::OWN_PREFIX)
}

/// `config` source for the `.env` file's recognised-prefix entries (keys lower-cased as config does).
#[derive(Debug, Clone)]
struct MapSource(HashMap<String, String>);

impl config::Source for MapSource {
    fn clone_into_box(&self) -> Box<dyn config::Source + Send + Sync> {
        Box::new(self.clone())
    }
    fn collect(&self) -> Result<config::Map<String, config::Value>, config::ConfigError> {
        Ok(self
            .0
            .iter()
            .map(|(k, v)| (k.to_lowercase(), config::Value::new(Some(&"env file".to_owned()), v.clone())))
            .collect())
    }
}

/// Refuses a secret shorter than [`flowactor_actors::crypto::MIN_SECRET_LEN`] bytes: every key
/// (JWT, API-key hash, credential encryption) is derived from it.
///
/// # Errors
/// The message names `source` and the required length (never the secret).
pub fn check_secret_length(source: &str, secret: &str) -> anyhow::Result<()> {
    let min = flowactor_actors::crypto::MIN_SECRET_LEN;
    if secret.len() < min {
        bail!(
            "invalid value for {source}: the secret key must be at least {min} bytes long (it has {}); \
             use a long random value, or unset it to have one generated and kept in the config dir",
            secret.len()
        );
    }
    Ok(())
}

pub(super) fn default_config_dir() -> PathBuf {
    match std::env::var_os("HOME") {
        Some(home) if !home.is_empty() => Path::new(&home).join(".cache").join("flowactor"),
        _ => PathBuf::from("flowactor-data"),
    }
}

impl Settings {
    /// Loads and validates settings from `sources`.
    ///
    /// # Errors
    /// A missing config or env file, or a malformed value of a known variable (the message names it).
    pub fn load(sources: &Sources) -> anyhow::Result<Self> {
        let mut builder = config::Config::builder();
        if let Some(file) = &sources.config_file {
            if !file.exists() {
                bail!("config file {} does not exist", file.display());
            }
            builder = builder.add_source(config::File::from(file.as_path()).required(true));
        }
        let mut dotenv_values = BTreeMap::new();
        let mut seen: Vec<String> = Vec::new();
        if let Some(env_file) = &sources.env_file {
            let entries = dotenvy::from_path_iter(env_file)
                .with_context(|| format!("cannot read env file {}", env_file.display()))?;
            let mut ours = HashMap::new();
            for entry in entries {
                let (k, v) = entry.with_context(|| format!("malformed line in env file {}", env_file.display()))?;
                if is_ours(&k) {
                    seen.push(k.clone());
                    ours.insert(k, v);
                } else {
                    dotenv_values.insert(k, Secret::new(v));
                }
            }
            builder = builder.add_source(MapSource(ours));
        }
        let env: HashMap<String, String> =
            sources.env.iter().filter(|(k, _)| is_ours(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
        seen.extend(env.keys().cloned());
        builder = builder.add_source(MapSource(env));
        let cfg = builder.build().context("cannot assemble settings")?;

        let mut unknown: Vec<String> =
            seen.into_iter().filter(|k| !KNOWN.iter().any(|known| known.name == k.as_str())).collect();
        unknown.sort();
        unknown.dedup();

        // An empty value means unset: the default applies.
        let get =
            |name: &str| -> Option<String> { cfg.get_string(&name.to_lowercase()).ok().filter(|v| !v.is_empty()) };
        let options = Options::parse(&get)?;
        let cookie = |same_site, secure, http_only| CookiePolicy { same_site, secure, http_only };
        let mut environment_fallback = BTreeMap::new();
        if options.fallback_to_env_var {
            for name in options.variables_to_get_from_environment.iter().filter(|n| !is_reserved_environment_name(n)) {
                let value = sources
                    .env
                    .get(name)
                    .filter(|v| !v.is_empty())
                    .cloned()
                    .or_else(|| dotenv_values.get(name).map(|s: &Secret| s.expose().to_owned()));
                if let Some(value) = value {
                    environment_fallback.insert(name.clone(), Secret::new(value));
                }
            }
        }
        let settings = Self {
            access_cookie: cookie(options.access_same_site, options.access_secure, options.access_httponly),
            refresh_cookie: cookie(options.refresh_same_site, options.refresh_secure, options.refresh_httponly),
            options,
            environment_fallback,
            dotenv_values,
            unknown_variables: unknown,
        };
        if let Some(secret) = &settings.secret_key {
            check_secret_length(vars::SECRET_KEY, secret.expose())?;
        }
        settings.outbound_policy()?;
        if settings.rate_limit_per_minute == 0 {
            bail!("invalid value for {}: must be at least 1", vars::RATE_LIMIT_PER_MINUTE);
        }
        if settings.llm_timeout_seconds == 0 || settings.llm_concurrency_per_provider == 0 {
            bail!("{} and {} must be at least 1", vars::LLM_TIMEOUT_SECONDS, vars::LLM_CONCURRENCY_PER_PROVIDER);
        }
        if settings.body_timeout_seconds == 0 {
            bail!("invalid value for {}: must be at least 1", vars::BODY_TIMEOUT_SECONDS);
        }
        if settings.signup_rate_limit_per_minute == 0 {
            bail!("invalid value for {}: must be at least 1", vars::SIGNUP_RATE_LIMIT_PER_MINUTE);
        }
        if settings.heartbeat_ms == 0 {
            bail!("invalid value for {}: must be at least 1", vars::HEARTBEAT_MS);
        }
        if settings.max_message_bytes == 0 || settings.max_output_bytes == 0 {
            bail!("{} and {} must be at least 1", vars::MAX_MESSAGE_BYTES, vars::MAX_OUTPUT_BYTES);
        }
        if settings.max_body_mb == 0 {
            bail!("invalid value for {}: must be at least 1", vars::MAX_BODY_MB);
        }
        if settings.access_token_expire_seconds == 0 || settings.refresh_token_expire_seconds == 0 {
            bail!("token lifetimes must be at least 1 second");
        }
        Ok(settings)
    }

    /// A value for a component-key name: process environment first, then the `.env` file.
    #[must_use]
    pub fn environment_value(&self, env: &HashMap<String, String>, name: &str) -> Option<String> {
        env.get(name)
            .filter(|v| !v.is_empty())
            .cloned()
            .or_else(|| self.dotenv_values.get(name).map(|s| s.expose().to_owned()))
    }

    /// The outbound-request policy: Langflow's SSRF protection and allow-list, plus link-local
    /// addresses when `FLOWACTOR_LLM_ALLOW_LINK_LOCAL` is set.
    ///
    /// # Errors
    /// A malformed `LANGFLOW_SSRF_ALLOWED_HOSTS` entry.
    pub fn outbound_policy(&self) -> anyhow::Result<flowactor_actors::llm::address::OutboundPolicy> {
        use flowactor_actors::llm::address::OutboundPolicy;
        if !self.ssrf_protection_enabled {
            return Ok(OutboundPolicy::disabled());
        }
        let policy = OutboundPolicy::new(true, &self.ssrf_allowed_hosts).map_err(|e| anyhow!(e))?;
        Ok(if self.llm_allow_link_local { policy.with_link_local() } else { policy })
    }

    /// Number of HTTP workers to start.
    #[must_use]
    pub fn worker_count(&self) -> usize {
        if self.workers == 0 {
            std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
        } else {
            self.workers
        }
    }

    /// Number of engine arbiters to start.
    #[must_use]
    pub fn engine_thread_count(&self) -> usize {
        if self.engine_threads == 0 {
            std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
        } else {
            self.engine_threads
        }
    }

    /// Largest accepted request body in bytes.
    #[must_use]
    pub fn max_body_bytes(&self) -> usize {
        usize::try_from(self.max_body_mb.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX)
    }

    /// Whether anonymous sign-up is open (1.13: never with auto-login).
    #[must_use]
    pub fn public_signup_open(&self) -> bool {
        self.enable_signup && !self.auto_login
    }

    /// One line per security-relevant setting, safe to log (no secret values).
    #[must_use]
    pub fn security_summary(&self) -> Vec<String> {
        vec![
            format!("{}={}", vars::AUTO_LOGIN, self.auto_login),
            format!("{}={}", vars::SKIP_AUTH_AUTO_LOGIN, self.skip_auth_auto_login),
            format!("{}={}", vars::SUPERUSER, self.superuser),
            format!(
                "{}={}",
                vars::SUPERUSER_PASSWORD,
                if self.superuser_password.is_some() { "<set>" } else { "<unset>" }
            ),
            format!(
                "{}={}",
                vars::SECRET_KEY,
                if self.secret_key.is_some() { "<set>" } else { "<generated, persisted in config dir>" }
            ),
            format!("{}={}", vars::NEW_USER_IS_ACTIVE, self.new_user_is_active),
            format!("{}={}", vars::ENABLE_SIGNUP, self.enable_signup),
            format!("{}={}", vars::ENABLE_SUPERUSER_CLI, self.enable_superuser_cli),
            format!("{}={}", vars::WEBHOOK_AUTH_ENABLE, self.webhook_auth_enable),
            format!(
                "{}={} (readable names: {})",
                vars::FALLBACK_TO_ENV_VAR,
                self.fallback_to_env_var,
                self.environment_fallback.keys().cloned().collect::<Vec<_>>().join(",")
            ),
            format!("{}={}", vars::SSRF_PROTECTION_ENABLED, self.ssrf_protection_enabled),
            format!("{}={}", vars::SSRF_ALLOWED_HOSTS, self.ssrf_allowed_hosts.join(",")),
            format!("{}={}", vars::PROVIDER_CREDENTIAL_ALLOWED_HOSTS, self.provider_credential_allowed_hosts.join(",")),
            format!("{}={} ({}/min)", vars::RATE_LIMIT_ENABLED, self.rate_limit_enabled, self.rate_limit_per_minute),
            format!("{}={}", vars::SIGNUP_RATE_LIMIT_PER_MINUTE, self.signup_rate_limit_per_minute),
            format!("{}={}", vars::CORS_ORIGINS, self.cors_origins.join(",")),
            format!("{}={}", vars::ACCESS_TOKEN_EXPIRE_SECONDS, self.access_token_expire_seconds),
            format!("{}={}", vars::REFRESH_TOKEN_EXPIRE_SECONDS, self.refresh_token_expire_seconds),
        ]
    }
}
