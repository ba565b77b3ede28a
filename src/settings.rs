//! One typed `Settings`, loaded in layers: defaults < config file (`--config`) < `.env` file
//! (`--env-file`) < process environment < command-line flags.
//!
//! Langflow's variable names are honoured unchanged. Every setting is declared once, in the
//! `settings!` table below (field, type, name, default, parser); [`vars`], [`KNOWN`] and
//! [`Options`] are generated from it, and a test checks the README's configuration table against
//! [`KNOWN`]. A malformed value of a known variable refuses start-up with a message naming it; unknown
//! `LANGFLOW_*` names are collected so start-up can warn about them once. Secrets never appear in
//! `Debug` output or logs.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _};

/// Declares every setting once: its field, type, environment name, default and parser. From
/// this one table come the [`vars`] names, [`KNOWN`] (the unknown-variable warning and the
/// README check use it) and [`Options`], the typed values.
macro_rules! settings {
    ($($(#[doc = $doc:literal])* $field:ident: $ty:ty = $konst:ident $name:literal, $default:expr, $parse:path;)*) => {
        /// Environment variable names (Langflow's, plus flowactor's own `FLOWACTOR_*`).
        pub mod vars {
            pub const PREFIX: &str = "LANGFLOW_";
            pub const OWN_PREFIX: &str = "FLOWACTOR_";
            $(pub const $konst: &str = $name;)*
        }

        /// One declared setting.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct Known {
            pub name: &'static str,
            /// `None`: unset unless configured (or a default computed at load time).
            pub default: Option<&'static str>,
        }

        /// Every setting, in declaration order.
        pub const KNOWN: &[Known] = &[$(Known { name: $name, default: $default },)*];

        /// The typed value of every setting (reached through [`Settings`] by `Deref`).
        #[derive(Debug, Clone)]
        pub struct Options {
            $($(#[doc = $doc])* pub $field: $ty,)*
        }

        impl Options {
            /// Parses every setting from `get` (the layered sources), applying its default.
            fn parse(get: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
                Ok(Self {
                    $($field: $parse($name, get($name).or_else(|| Option::<&str>::from($default).map(str::to_owned)))?,)*
                })
            }
        }
    };
}

settings! {
    /// Address to bind (`LANGFLOW_HOST`, default 127.0.0.1).
    host: String = HOST "LANGFLOW_HOST", Some("127.0.0.1"), parse::text;
    /// Port to bind (`LANGFLOW_PORT`, default 7860; 0 picks a free port).
    port: u16 = PORT "LANGFLOW_PORT", Some("7860"), parse::num;
    /// Where the database, the generated secret and runtime files live (`LANGFLOW_CONFIG_DIR`).
    config_dir: PathBuf = CONFIG_DIR "LANGFLOW_CONFIG_DIR", None, parse::config_dir;
    /// Single-user mode: `/auto_login` hands out superuser tokens (`LANGFLOW_AUTO_LOGIN`, default false as in 1.13).
    auto_login: bool = AUTO_LOGIN "LANGFLOW_AUTO_LOGIN", Some("false"), parse::boolean;
    /// With auto-login, lets key-less requests act as the superuser (`LANGFLOW_SKIP_AUTH_AUTO_LOGIN`).
    skip_auth_auto_login: bool = SKIP_AUTH_AUTO_LOGIN "LANGFLOW_SKIP_AUTH_AUTO_LOGIN", Some("false"), parse::boolean;
    /// Bootstrap superuser name (`LANGFLOW_SUPERUSER`, default `langflow`).
    superuser: String = SUPERUSER "LANGFLOW_SUPERUSER", Some("langflow"), parse::opt_text_or_empty;
    /// Bootstrap superuser password (`LANGFLOW_SUPERUSER_PASSWORD`); `langflow` is refused.
    superuser_password: Option<Secret> = SUPERUSER_PASSWORD "LANGFLOW_SUPERUSER_PASSWORD", None, parse::secret;
    /// A superuser's access token or API key for `flowactor superuser` (`LANGFLOW_SUPERUSER_TOKEN`).
    superuser_token: Option<Secret> = SUPERUSER_TOKEN "LANGFLOW_SUPERUSER_TOKEN", None, parse::secret;
    /// Root of every derived key, the JWT signing key included (`LANGFLOW_SECRET_KEY`, at least
    /// 32 bytes; generated and persisted when unset).
    secret_key: Option<Secret> = SECRET_KEY "LANGFLOW_SECRET_KEY", None, parse::secret;
    /// Whether public sign-ups are active at once (`LANGFLOW_NEW_USER_IS_ACTIVE`, default false).
    new_user_is_active: bool = NEW_USER_IS_ACTIVE "LANGFLOW_NEW_USER_IS_ACTIVE", Some("false"), parse::boolean;
    /// Whether `flowactor superuser` may run (`LANGFLOW_ENABLE_SUPERUSER_CLI`, default true).
    enable_superuser_cli: bool = ENABLE_SUPERUSER_CLI "LANGFLOW_ENABLE_SUPERUSER_CLI", Some("true"), parse::boolean;
    /// Whether anonymous `POST /api/v1/users/` is allowed (`LANGFLOW_ENABLE_SIGNUP`, default true; never with auto-login).
    enable_signup: bool = ENABLE_SIGNUP "LANGFLOW_ENABLE_SIGNUP", Some("true"), parse::boolean;
    /// Access JWT lifetime in seconds (default 3600).
    access_token_expire_seconds: u64 = ACCESS_TOKEN_EXPIRE_SECONDS "LANGFLOW_ACCESS_TOKEN_EXPIRE_SECONDS", Some("3600"), parse::num;
    /// Refresh JWT lifetime in seconds (default 604800).
    refresh_token_expire_seconds: u64 = REFRESH_TOKEN_EXPIRE_SECONDS "LANGFLOW_REFRESH_TOKEN_EXPIRE_SECONDS", Some("604800"), parse::num;
    /// Allowed CORS origins (`*` = any origin, never combined with credentials).
    cors_origins: Vec<String> = CORS_ORIGINS "LANGFLOW_CORS_ORIGINS", Some("*"), parse::list;
    /// Whether CORS responses allow credentials for listed origins.
    cors_allow_credentials: bool = CORS_ALLOW_CREDENTIALS "LANGFLOW_CORS_ALLOW_CREDENTIALS", Some("true"), parse::boolean;
    /// Login brute-force limit on/off (`LANGFLOW_RATE_LIMIT_ENABLED`, default true).
    rate_limit_enabled: bool = RATE_LIMIT_ENABLED "LANGFLOW_RATE_LIMIT_ENABLED", Some("true"), parse::boolean;
    /// Login attempts per minute per client IP (`LANGFLOW_RATE_LIMIT_PER_MINUTE`, default 5).
    rate_limit_per_minute: u32 = RATE_LIMIT_PER_MINUTE "LANGFLOW_RATE_LIMIT_PER_MINUTE", Some("5"), parse::num;
    /// Webhooks need the flow owner's API key (`LANGFLOW_WEBHOOK_AUTH_ENABLE`, default true).
    webhook_auth_enable: bool = WEBHOOK_AUTH_ENABLE "LANGFLOW_WEBHOOK_AUTH_ENABLE", Some("true"), parse::boolean;
    /// Skip `total_uses`/`last_used_at` bookkeeping.
    disable_track_apikey_usage: bool = DISABLE_TRACK_APIKEY_USAGE "LANGFLOW_DISABLE_TRACK_APIKEY_USAGE", Some("false"), parse::boolean;
    /// Environment names copied into the superuser's Credential variables at start-up.
    variables_to_get_from_environment: Vec<String> = VARIABLES_TO_GET_FROM_ENVIRONMENT "LANGFLOW_VARIABLES_TO_GET_FROM_ENVIRONMENT", None, parse::environment_names;
    /// Whether that copy happens (`LANGFLOW_STORE_ENVIRONMENT_VARIABLES`, default true).
    store_environment_variables: bool = STORE_ENVIRONMENT_VARIABLES "LANGFLOW_STORE_ENVIRONMENT_VARIABLES", Some("true"), parse::boolean;
    /// Access-token cookie `SameSite` (`LANGFLOW_ACCESS_SAME_SITE`, default lax).
    access_same_site: SameSite = ACCESS_SAME_SITE "LANGFLOW_ACCESS_SAME_SITE", Some("lax"), parse::same_site;
    /// Access-token cookie `Secure` (`LANGFLOW_ACCESS_SECURE`, default false).
    access_secure: bool = ACCESS_SECURE "LANGFLOW_ACCESS_SECURE", Some("false"), parse::boolean;
    /// Access-token cookie `HttpOnly` (`LANGFLOW_ACCESS_HTTPONLY`, default true).
    access_httponly: bool = ACCESS_HTTPONLY "LANGFLOW_ACCESS_HTTPONLY", Some("true"), parse::boolean;
    /// Refresh-token cookie `SameSite` (`LANGFLOW_REFRESH_SAME_SITE`, default lax).
    refresh_same_site: SameSite = REFRESH_SAME_SITE "LANGFLOW_REFRESH_SAME_SITE", Some("lax"), parse::same_site;
    /// Refresh-token cookie `Secure` (`LANGFLOW_REFRESH_SECURE`, default false).
    refresh_secure: bool = REFRESH_SECURE "LANGFLOW_REFRESH_SECURE", Some("false"), parse::boolean;
    /// Refresh-token cookie `HttpOnly` (`LANGFLOW_REFRESH_HTTPONLY`, default true).
    refresh_httponly: bool = REFRESH_HTTPONLY "LANGFLOW_REFRESH_HTTPONLY", Some("true"), parse::boolean;
    /// Cookie `Domain` attribute.
    cookie_domain: Option<String> = COOKIE_DOMAIN "LANGFLOW_COOKIE_DOMAIN", None, parse::opt_text;
    /// Upload limit in MB (`LANGFLOW_MAX_FILE_SIZE_UPLOAD`, reported by `/api/v1/config`).
    max_file_size_upload: u64 = MAX_FILE_SIZE_UPLOAD "LANGFLOW_MAX_FILE_SIZE_UPLOAD", Some("1024"), parse::num;
    /// Default event delivery reported to clients (`LANGFLOW_EVENT_DELIVERY`).
    event_delivery: String = EVENT_DELIVERY "LANGFLOW_EVENT_DELIVERY", Some("streaming"), parse::event_delivery;
    /// Log filter (`LANGFLOW_LOG_LEVEL`, default info).
    log_level: String = LOG_LEVEL "LANGFLOW_LOG_LEVEL", Some("info"), parse::lower;
    /// API only: no web console (`LANGFLOW_BACKEND_ONLY`, default false).
    backend_only: bool = BACKEND_ONLY "LANGFLOW_BACKEND_ONLY", Some("false"), parse::boolean;
    /// HTTP worker threads (`LANGFLOW_WORKERS`; 0 = one per core).
    workers: usize = WORKERS "LANGFLOW_WORKERS", Some("0"), parse::num;
    /// Largest JSON request body in MB (`FLOWACTOR_MAX_BODY_MB`, default 32).
    max_body_mb: u64 = MAX_BODY_MB "FLOWACTOR_MAX_BODY_MB", Some("32"), parse::num;
    /// Largest graph accepted, in vertices (`FLOWACTOR_MAX_GRAPH_VERTICES`, default 10000).
    max_graph_vertices: usize = MAX_GRAPH_VERTICES "FLOWACTOR_MAX_GRAPH_VERTICES", Some(concat!(flowactor_actors::runtime_default!(max_graph_vertices))), parse::num;
    /// Deadline of one build or run in seconds (`FLOWACTOR_BUILD_DEADLINE_SECONDS`, default 300).
    build_deadline_seconds: u64 = BUILD_DEADLINE_SECONDS "FLOWACTOR_BUILD_DEADLINE_SECONDS", Some(concat!(flowactor_actors::runtime_default!(build_deadline_seconds))), parse::num;
    /// How long finished build jobs stay readable (`FLOWACTOR_JOB_EXPIRE_SECONDS`, default 300).
    job_expire_seconds: u64 = JOB_EXPIRE_SECONDS "FLOWACTOR_JOB_EXPIRE_SECONDS", Some("300"), parse::num;
    /// Background flush interval for chat messages in ms (`FLOWACTOR_MESSAGE_FLUSH_MS`, default 50).
    message_flush_ms: u64 = MESSAGE_FLUSH_MS "FLOWACTOR_MESSAGE_FLUSH_MS", Some("50"), parse::num;
    /// Free disk space in MB below which writes are refused with 507 (`FLOWACTOR_MIN_FREE_DISK_MB`,
    /// default 64; 0 disables the check).
    min_free_disk_mb: u64 = MIN_FREE_DISK_MB "FLOWACTOR_MIN_FREE_DISK_MB", Some("64"), parse::num;
    /// Anonymous sign-ups per client IP per minute (`FLOWACTOR_SIGNUP_RATE_LIMIT_PER_MINUTE`,
    /// default 10); applies while `LANGFLOW_RATE_LIMIT_ENABLED` is true.
    signup_rate_limit_per_minute: u32 = SIGNUP_RATE_LIMIT_PER_MINUTE "FLOWACTOR_SIGNUP_RATE_LIMIT_PER_MINUTE", Some("10"), parse::num;
    /// Engine arbiters (`FLOWACTOR_ENGINE_THREADS`; 0 = one per core).
    engine_threads: usize = ENGINE_THREADS "FLOWACTOR_ENGINE_THREADS", Some("0"), parse::num;
    /// Silence after which an event stream writes a heartbeat newline, so a vanished client is
    /// noticed and its build cancelled (`FLOWACTOR_HEARTBEAT_MS`, default 5000).
    heartbeat_ms: u64 = HEARTBEAT_MS "FLOWACTOR_HEARTBEAT_MS", Some("5000"), parse::num;
    /// Per-request bound on model provider calls in seconds (`FLOWACTOR_LLM_TIMEOUT_SECONDS`, default 120).
    llm_timeout_seconds: u64 = LLM_TIMEOUT_SECONDS "FLOWACTOR_LLM_TIMEOUT_SECONDS", Some(concat!(flowactor_actors::runtime_default!(llm_timeout_seconds))), parse::num;
    /// Retries after 429 / 5xx / connection failures (`FLOWACTOR_LLM_MAX_RETRIES`, default 3).
    llm_max_retries: u32 = LLM_MAX_RETRIES "FLOWACTOR_LLM_MAX_RETRIES", Some(concat!(flowactor_actors::runtime_default!(llm_max_retries))), parse::num;
    /// First retry pause in ms, doubled per retry (`FLOWACTOR_LLM_RETRY_BASE_DELAY_MS`, default 500).
    llm_retry_base_delay_ms: u64 = LLM_RETRY_BASE_DELAY_MS "FLOWACTOR_LLM_RETRY_BASE_DELAY_MS", Some(concat!(flowactor_actors::runtime_default!(llm_retry_base_delay_ms))), parse::num;
    /// Provider calls in flight per provider (`FLOWACTOR_LLM_CONCURRENCY_PER_PROVIDER`, default 16).
    llm_concurrency_per_provider: usize = LLM_CONCURRENCY_PER_PROVIDER "FLOWACTOR_LLM_CONCURRENCY_PER_PROVIDER", Some(concat!(flowactor_actors::runtime_default!(llm_concurrency_per_provider))), parse::num;
    /// Also allow link-local / cloud-metadata destinations (`FLOWACTOR_LLM_ALLOW_LINK_LOCAL`, default
    /// false; the same as listing 169.254.0.0/16, fe80::/10 and fd00:ec2::254 in `LANGFLOW_SSRF_ALLOWED_HOSTS`).
    llm_allow_link_local: bool = LLM_ALLOW_LINK_LOCAL "FLOWACTOR_LLM_ALLOW_LINK_LOCAL", Some("false"), parse::boolean;
    /// On SIGTERM/SIGINT, how long running requests may finish before they are answered 503 and
    /// streams get an `error` event (`FLOWACTOR_SHUTDOWN_GRACE_SECONDS`, default 20).
    shutdown_grace_seconds: u64 = SHUTDOWN_GRACE_SECONDS "FLOWACTOR_SHUTDOWN_GRACE_SECONDS", Some("20"), parse::num;
    /// Longest silence while a request body is arriving before the request is answered 408
    /// (`FLOWACTOR_BODY_TIMEOUT_SECONDS`, default 30).
    body_timeout_seconds: u64 = BODY_TIMEOUT_SECONDS "FLOWACTOR_BODY_TIMEOUT_SECONDS", Some("30"), parse::num;
    /// Whether flows may use the `Delay` and `Burn` test components (`FLOWACTOR_ENABLE_TEST_COMPONENTS`, default false).
    enable_test_components: bool = ENABLE_TEST_COMPONENTS "FLOWACTOR_ENABLE_TEST_COMPONENTS", Some("false"), parse::boolean;
    /// Largest chat message text in bytes (`FLOWACTOR_MAX_MESSAGE_BYTES`, default 1 MiB).
    max_message_bytes: usize = MAX_MESSAGE_BYTES "FLOWACTOR_MAX_MESSAGE_BYTES", Some(concat!(flowactor_actors::runtime_default!(max_message_bytes))), parse::num;
    /// Largest value one component may output, in bytes of text (`FLOWACTOR_MAX_OUTPUT_BYTES`, default 4 MiB).
    max_output_bytes: usize = MAX_OUTPUT_BYTES "FLOWACTOR_MAX_OUTPUT_BYTES", Some(concat!(flowactor_actors::runtime_default!(max_output_bytes))), parse::num;
    /// Whether a `load_from_db` field whose variable the owner does not have may read the
    /// environment (`LANGFLOW_FALLBACK_TO_ENV_VAR`, default true). Only names listed in
    /// `LANGFLOW_VARIABLES_TO_GET_FROM_ENVIRONMENT` and not reserved are ever read.
    fallback_to_env_var: bool = FALLBACK_TO_ENV_VAR "LANGFLOW_FALLBACK_TO_ENV_VAR", Some("true"), parse::boolean;
    /// Outbound-request (SSRF) policy on (`LANGFLOW_SSRF_PROTECTION_ENABLED`, default true).
    ssrf_protection_enabled: bool = SSRF_PROTECTION_ENABLED "LANGFLOW_SSRF_PROTECTION_ENABLED", Some("true"), parse::boolean;
    /// Hosts, wildcard domains, IPs and CIDRs exempt from that policy (`LANGFLOW_SSRF_ALLOWED_HOSTS`).
    ssrf_allowed_hosts: Vec<String> = SSRF_ALLOWED_HOSTS "LANGFLOW_SSRF_ALLOWED_HOSTS", None, parse::list;
    /// Hosts besides the provider's default endpoint that may receive a credential from the
    /// server's environment (`LANGFLOW_PROVIDER_CREDENTIAL_ALLOWED_HOSTS`).
    provider_credential_allowed_hosts: Vec<String> = PROVIDER_CREDENTIAL_ALLOWED_HOSTS "LANGFLOW_PROVIDER_CREDENTIAL_ALLOWED_HOSTS", None, parse::list;
}

/// A secret string: usable, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Cookie `SameSite` policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    Lax,
    Strict,
    None,
}

/// Cookie attributes for one family of cookies (access or refresh).
#[derive(Debug, Clone)]
pub struct CookiePolicy {
    pub same_site: SameSite,
    pub secure: bool,
    pub http_only: bool,
}

/// Everything the server reads from its environment: the declared [`Options`] plus what is
/// derived from them at load time.
#[derive(Debug, Clone)]
pub struct Settings {
    options: Options,
    /// Access-token cookie attributes.
    pub access_cookie: CookiePolicy,
    /// Refresh-token cookie attributes.
    pub refresh_cookie: CookiePolicy,
    /// The values the environment fallback may read, captured at start-up (empty when it is off).
    pub environment_fallback: BTreeMap<String, Secret>,
    /// Values of non-`LANGFLOW_` names read from the `.env` file (component keys such as `OPENAI_API_KEY`).
    pub dotenv_values: BTreeMap<String, Secret>,
    /// `LANGFLOW_*` / `FLOWACTOR_*` names that were set but are not known to flowactor.
    pub unknown_variables: Vec<String>,
}

impl std::ops::Deref for Settings {
    type Target = Options;
    fn deref(&self) -> &Options {
        &self.options
    }
}

impl std::ops::DerefMut for Settings {
    fn deref_mut(&mut self) -> &mut Options {
        &mut self.options
    }
}

/// Langflow's default list of component keys read from the environment.
pub const DEFAULT_VARIABLES_FROM_ENVIRONMENT: &[&str] = &[
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GOOGLE_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_API_VERSION",
    "AZURE_OPENAI_API_INSTANCE_NAME",
    "AZURE_OPENAI_API_DEPLOYMENT_NAME",
    "AZURE_OPENAI_API_EMBEDDINGS_DEPLOYMENT_NAME",
    "ASTRA_DB_APPLICATION_TOKEN",
    "ASTRA_DB_API_ENDPOINT",
    "COHERE_API_KEY",
    "GROQ_API_KEY",
    "HUGGINGFACEHUB_API_TOKEN",
    "MISTRAL_API_KEY",
    "NVIDIA_API_KEY",
    "OLLAMA_BASE_URL",
    "PINECONE_API_KEY",
    "SEARCHAPI_API_KEY",
    "SERPAPI_API_KEY",
    "TAVILY_API_KEY",
    "UPSTASH_VECTOR_REST_URL",
    "UPSTASH_VECTOR_REST_TOKEN",
    "VECTARA_CUSTOMER_ID",
    "VECTARA_CORPUS_ID",
    "VECTARA_API_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
];

/// Prefixes of names the environment fallback never reads: the server's own configuration
/// and cloud credentials.
const RESERVED_PREFIXES: &[&str] = &["LANGFLOW_", "LFX_", "FLOWACTOR_", "AWS_"];

/// Fragments that mark a name as a server secret wherever they appear.
const RESERVED_FRAGMENTS: &[&str] = &["SECRET", "PASSWORD", "PASSWD", "DATABASE_URL", "CONNECTION_STRING"];

/// Names of process, database, cloud, token-signing and source-control settings that are never
/// flow values (Langflow 1.13's deny-list plus the process environment's own names).
const RESERVED_NAMES: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "PWD",
    "OLDPWD",
    "HOSTNAME",
    "TMPDIR",
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "SSH_AUTH_SOCK",
    "KUBECONFIG",
    "DOCKER_HOST",
    "SECRET_KEY",
    "PGPASSWORD",
    "MYSQL_PWD",
    "PGVECTOR_CONNECTION_STRING",
    "REDIS_URL",
    "MONGODB_URI",
    "MONGO_URL",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GCP_SA_KEY",
    "SESSION_SECRET",
    "SIGNING_KEY",
    "ENCRYPTION_KEY",
    "JWT_SECRET_KEY",
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "GITLAB_TOKEN",
    "CI_JOB_TOKEN",
    "ACTIONS_RUNTIME_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "NPM_TOKEN",
    "CARGO_REGISTRY_TOKEN",
];

/// Whether the environment fallback must never read `name`, even when it is listed in
/// `LANGFLOW_VARIABLES_TO_GET_FROM_ENVIRONMENT` (case-insensitive; an empty name is reserved).
#[must_use]
pub fn is_reserved_environment_name(name: &str) -> bool {
    let upper = name.trim().to_ascii_uppercase();
    upper.is_empty()
        || RESERVED_NAMES.contains(&upper.as_str())
        || RESERVED_PREFIXES.iter().any(|p| upper.starts_with(p))
        || RESERVED_FRAGMENTS.iter().any(|f| upper.contains(f))
}

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

/// The value parsers named in the settings table: each gets the variable's name (for error
/// messages) and its layered value, the default applied (`None`: unset).
mod parse {
    use std::path::PathBuf;

    use anyhow::{anyhow, bail};

    use super::{default_config_dir, SameSite, Secret, DEFAULT_VARIABLES_FROM_ENVIRONMENT};

    type R<T> = anyhow::Result<T>;

    pub fn text(name: &str, raw: Option<String>) -> R<String> {
        raw.ok_or_else(|| anyhow!("{name} must not be empty"))
    }

    pub fn lower(name: &str, raw: Option<String>) -> R<String> {
        text(name, raw).map(|v| v.to_lowercase())
    }

    pub fn opt_text_or_empty(_: &str, raw: Option<String>) -> R<String> {
        Ok(raw.unwrap_or_default())
    }

    pub fn opt_text(_: &str, raw: Option<String>) -> R<Option<String>> {
        Ok(raw)
    }

    pub fn secret(_: &str, raw: Option<String>) -> R<Option<Secret>> {
        Ok(raw.map(Secret::new))
    }

    pub fn boolean(name: &str, raw: Option<String>) -> R<bool> {
        let raw = text(name, raw)?;
        match raw.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" | "t" | "y" => Ok(true),
            "0" | "false" | "no" | "off" | "f" | "n" => Ok(false),
            _ => bail!("invalid value for {name}: expected true or false, got {raw:?}"),
        }
    }

    pub fn num<T: std::str::FromStr>(name: &str, raw: Option<String>) -> R<T> {
        let raw = text(name, raw)?;
        raw.trim()
            .parse()
            .map_err(|_| anyhow!("invalid value for {name}: expected a non-negative integer, got {raw:?}"))
    }

    /// A JSON list of strings or a comma-separated list; unset is empty.
    pub fn list(name: &str, raw: Option<String>) -> R<Vec<String>> {
        let Some(raw) = raw else { return Ok(Vec::new()) };
        let t = raw.trim();
        if t.starts_with('[') {
            return serde_json::from_str::<Vec<String>>(t).map_err(|_| {
                anyhow!("invalid value for {name}: expected a JSON list of strings or a comma-separated list")
            });
        }
        Ok(t.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
    }

    /// [`list`], defaulting to Langflow's list of component keys.
    pub fn environment_names(name: &str, raw: Option<String>) -> R<Vec<String>> {
        match raw {
            Some(raw) => list(name, Some(raw)),
            None => Ok(DEFAULT_VARIABLES_FROM_ENVIRONMENT.iter().map(|s| (*s).to_owned()).collect()),
        }
    }

    pub fn same_site(name: &str, raw: Option<String>) -> R<SameSite> {
        let raw = text(name, raw)?;
        match raw.trim().to_ascii_lowercase().as_str() {
            "lax" => Ok(SameSite::Lax),
            "strict" => Ok(SameSite::Strict),
            "none" => Ok(SameSite::None),
            _ => bail!("invalid value for {name}: expected lax, strict or none, got {raw:?}"),
        }
    }

    pub fn event_delivery(name: &str, raw: Option<String>) -> R<String> {
        let v = lower(name, raw)?;
        if !["streaming", "polling", "direct"].contains(&v.as_str()) {
            bail!("invalid value for {name}: expected streaming, polling or direct, got {v:?}");
        }
        Ok(v)
    }

    pub fn config_dir(_: &str, raw: Option<String>) -> R<PathBuf> {
        Ok(raw.map_or_else(default_config_dir, PathBuf::from))
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

fn default_config_dir() -> PathBuf {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn load(env: &[(&str, &str)]) -> anyhow::Result<Settings> {
        Settings::load(&Sources {
            env: env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            ..Sources::default()
        })
    }

    #[test]
    fn defaults_follow_langflow_1_13() {
        let s = load(&[]).expect("defaults");
        assert!(!s.auto_login);
        assert_eq!(s.port, 7860);
        assert_eq!(s.superuser, "langflow");
        assert_eq!(s.access_token_expire_seconds, 3600);
        assert_eq!(s.rate_limit_per_minute, 5);
        assert_eq!((s.min_free_disk_mb, s.signup_rate_limit_per_minute), (64, 10));
        assert!(s.variables_to_get_from_environment.contains(&"OPENAI_API_KEY".to_owned()));
        assert!(!s.enable_test_components);
        assert_eq!((s.max_message_bytes, s.max_output_bytes), (1 << 20, 4 << 20));
        let err = load(&[(vars::MAX_OUTPUT_BYTES, "0")]).expect_err("must refuse").to_string();
        assert!(err.contains("FLOWACTOR_MAX_OUTPUT_BYTES"), "{err}");
    }

    /// The README's configuration table and [`KNOWN`] agree: every setting is documented with
    /// its default, and the table names no setting that does not exist.
    #[test]
    fn the_readme_documents_exactly_the_known_settings() {
        let readme = include_str!("../README.md");
        let start = readme.find("## Configuration").expect("configuration section");
        let section = &readme[start..];
        let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
        let rows: Vec<&str> = section.lines().filter(|l| l.starts_with("| `")).collect();
        let mut problems = Vec::new();
        for known in KNOWN {
            let quoted = format!("`{}`", known.name);
            let Some(row) = rows.iter().find(|r| r.contains(&quoted)) else {
                problems.push(format!("{} is not in the README's configuration table", known.name));
                continue;
            };
            if let Some(default) = known.default {
                let shown = format!("`{default}`");
                if !row.contains(&shown) {
                    problems.push(format!("the README row of {} does not show its default {shown}", known.name));
                }
            }
        }
        for row in rows {
            let names = row.split('|').nth(1).unwrap_or_default();
            for word in names.split('`').filter(|w| w.starts_with(vars::PREFIX) || w.starts_with(vars::OWN_PREFIX)) {
                if !KNOWN.iter().any(|k| k.name == word) {
                    problems.push(format!("the README documents {word}, which is not a setting"));
                }
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn malformed_values_name_the_variable() {
        let err = load(&[(vars::AUTO_LOGIN, "maybe")]).expect_err("must refuse").to_string();
        assert!(err.contains("LANGFLOW_AUTO_LOGIN"), "{err}");
        let err = load(&[(vars::PORT, "http")]).expect_err("must refuse").to_string();
        assert!(err.contains("LANGFLOW_PORT"), "{err}");
    }

    #[test]
    fn unknown_langflow_names_are_collected_and_secrets_redacted() {
        let s = load(&[
            ("LANGFLOW_DATABASE_URL", "sqlite://x"),
            (vars::SECRET_KEY, "topsecret-0123456789-0123456789-0123"),
        ])
        .expect("load");
        assert_eq!(s.unknown_variables, vec!["LANGFLOW_DATABASE_URL".to_owned()]);
        assert!(!format!("{s:?}").contains("topsecret"));
        assert!(!s.security_summary().join(" ").contains("topsecret"));
    }

    #[test]
    fn the_environment_fallback_reads_only_listed_unreserved_names() {
        let s = load(&[
            (
                vars::VARIABLES_TO_GET_FROM_ENVIRONMENT,
                "MY_KEY,PATH,LANGFLOW_SECRET_KEY,AWS_SECRET_ACCESS_KEY,lfx_x,db_password",
            ),
            ("MY_KEY", "v1"),
            ("OTHER_KEY", "v2"),
            ("PATH", "/bin"),
            ("LFX_X", "x"),
            ("DB_PASSWORD", "pw"),
            ("AWS_SECRET_ACCESS_KEY", "aws"),
            (vars::SECRET_KEY, &"k".repeat(32)),
        ])
        .expect("load");
        assert_eq!(s.environment_fallback.keys().collect::<Vec<_>>(), ["MY_KEY"]);
        let off = load(&[
            (vars::VARIABLES_TO_GET_FROM_ENVIRONMENT, "MY_KEY"),
            ("MY_KEY", "v1"),
            (vars::FALLBACK_TO_ENV_VAR, "false"),
        ])
        .expect("load");
        assert!(off.environment_fallback.is_empty());
        for reserved in [
            "PATH",
            "home",
            "LANGFLOW_SUPERUSER_PASSWORD",
            "LFX_KEY",
            "FLOWACTOR_X",
            "DATABASE_URL",
            "AWS_ACCESS_KEY_ID",
            "MY_CLIENT_SECRET",
            "GITHUB_TOKEN",
            "",
        ] {
            assert!(is_reserved_environment_name(reserved), "{reserved}");
        }
        for allowed in ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "HUGGINGFACEHUB_API_TOKEN", "OLLAMA_BASE_URL"] {
            assert!(!is_reserved_environment_name(allowed), "{allowed}");
        }
    }

    #[test]
    fn short_secret_keys_are_refused() {
        let err = load(&[(vars::SECRET_KEY, "short-secret")]).expect_err("must refuse").to_string();
        assert!(err.contains("LANGFLOW_SECRET_KEY") && err.contains("32 bytes"), "{err}");
        assert!(!err.contains("short-secret"), "{err}");
        assert!(load(&[(vars::SECRET_KEY, &"k".repeat(32))]).is_ok());
    }

    #[test]
    fn env_file_sits_between_file_and_process_env() {
        let dir = tempfile::tempdir().expect("dir");
        let env_file = dir.path().join(".env");
        std::fs::write(&env_file, "LANGFLOW_AUTO_LOGIN=true\nLANGFLOW_PORT=9000\nOPENAI_API_KEY=sk-x\n")
            .expect("write");
        let cfg_file = dir.path().join("flowactor.toml");
        std::fs::write(&cfg_file, "langflow_port = 8000\nlangflow_superuser = \"admin\"\n").expect("write");
        let sources = Sources {
            config_file: Some(cfg_file),
            env_file: Some(env_file),
            env: [(vars::PORT.to_owned(), "9100".to_owned())].into_iter().collect(),
        };
        let s = Settings::load(&sources).expect("load");
        assert!(s.auto_login);
        assert_eq!(s.port, 9100);
        assert_eq!(s.superuser, "admin");
        assert_eq!(s.environment_value(&HashMap::new(), "OPENAI_API_KEY").as_deref(), Some("sk-x"));
    }
}
