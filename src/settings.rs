//! One typed `Settings`, loaded in layers: defaults < config file (`--config`) < `.env` file
//! (`--env-file`) < process environment < command-line flags.
//!
//! Langflow's variable names are honoured unchanged; every name is written once, in [`vars`].
//! A malformed value of a known variable refuses start-up with a message naming it; unknown
//! `LANGFLOW_*` names are collected so start-up can warn about them once. Secrets never appear in
//! `Debug` output or logs.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _};

/// Environment variable names (Langflow's, plus flowactor's own `FLOWACTOR_*`).
pub mod vars {
    pub const PREFIX: &str = "LANGFLOW_";
    pub const OWN_PREFIX: &str = "FLOWACTOR_";
    pub const HOST: &str = "LANGFLOW_HOST";
    pub const PORT: &str = "LANGFLOW_PORT";
    pub const CONFIG_DIR: &str = "LANGFLOW_CONFIG_DIR";
    pub const AUTO_LOGIN: &str = "LANGFLOW_AUTO_LOGIN";
    pub const SKIP_AUTH_AUTO_LOGIN: &str = "LANGFLOW_SKIP_AUTH_AUTO_LOGIN";
    pub const SUPERUSER: &str = "LANGFLOW_SUPERUSER";
    pub const SUPERUSER_PASSWORD: &str = "LANGFLOW_SUPERUSER_PASSWORD";
    pub const SUPERUSER_TOKEN: &str = "LANGFLOW_SUPERUSER_TOKEN";
    pub const SECRET_KEY: &str = "LANGFLOW_SECRET_KEY";
    pub const NEW_USER_IS_ACTIVE: &str = "LANGFLOW_NEW_USER_IS_ACTIVE";
    pub const ENABLE_SUPERUSER_CLI: &str = "LANGFLOW_ENABLE_SUPERUSER_CLI";
    pub const ENABLE_SIGNUP: &str = "LANGFLOW_ENABLE_SIGNUP";
    pub const ACCESS_TOKEN_EXPIRE_SECONDS: &str = "LANGFLOW_ACCESS_TOKEN_EXPIRE_SECONDS";
    pub const REFRESH_TOKEN_EXPIRE_SECONDS: &str = "LANGFLOW_REFRESH_TOKEN_EXPIRE_SECONDS";
    pub const CORS_ORIGINS: &str = "LANGFLOW_CORS_ORIGINS";
    pub const CORS_ALLOW_CREDENTIALS: &str = "LANGFLOW_CORS_ALLOW_CREDENTIALS";
    pub const RATE_LIMIT_ENABLED: &str = "LANGFLOW_RATE_LIMIT_ENABLED";
    pub const RATE_LIMIT_PER_MINUTE: &str = "LANGFLOW_RATE_LIMIT_PER_MINUTE";
    pub const WEBHOOK_AUTH_ENABLE: &str = "LANGFLOW_WEBHOOK_AUTH_ENABLE";
    pub const DISABLE_TRACK_APIKEY_USAGE: &str = "LANGFLOW_DISABLE_TRACK_APIKEY_USAGE";
    pub const VARIABLES_TO_GET_FROM_ENVIRONMENT: &str = "LANGFLOW_VARIABLES_TO_GET_FROM_ENVIRONMENT";
    pub const STORE_ENVIRONMENT_VARIABLES: &str = "LANGFLOW_STORE_ENVIRONMENT_VARIABLES";
    pub const ACCESS_SAME_SITE: &str = "LANGFLOW_ACCESS_SAME_SITE";
    pub const ACCESS_SECURE: &str = "LANGFLOW_ACCESS_SECURE";
    pub const ACCESS_HTTPONLY: &str = "LANGFLOW_ACCESS_HTTPONLY";
    pub const REFRESH_SAME_SITE: &str = "LANGFLOW_REFRESH_SAME_SITE";
    pub const REFRESH_SECURE: &str = "LANGFLOW_REFRESH_SECURE";
    pub const REFRESH_HTTPONLY: &str = "LANGFLOW_REFRESH_HTTPONLY";
    pub const COOKIE_DOMAIN: &str = "LANGFLOW_COOKIE_DOMAIN";
    pub const MAX_FILE_SIZE_UPLOAD: &str = "LANGFLOW_MAX_FILE_SIZE_UPLOAD";
    pub const EVENT_DELIVERY: &str = "LANGFLOW_EVENT_DELIVERY";
    pub const LOG_LEVEL: &str = "LANGFLOW_LOG_LEVEL";
    pub const BACKEND_ONLY: &str = "LANGFLOW_BACKEND_ONLY";
    pub const WORKERS: &str = "LANGFLOW_WORKERS";
    pub const MAX_BODY_MB: &str = "FLOWACTOR_MAX_BODY_MB";
    pub const MAX_GRAPH_VERTICES: &str = "FLOWACTOR_MAX_GRAPH_VERTICES";
    pub const BUILD_DEADLINE_SECONDS: &str = "FLOWACTOR_BUILD_DEADLINE_SECONDS";
    pub const JOB_EXPIRE_SECONDS: &str = "FLOWACTOR_JOB_EXPIRE_SECONDS";
    pub const MESSAGE_FLUSH_MS: &str = "FLOWACTOR_MESSAGE_FLUSH_MS";
    pub const MIN_FREE_DISK_MB: &str = "FLOWACTOR_MIN_FREE_DISK_MB";
    pub const SIGNUP_RATE_LIMIT_PER_MINUTE: &str = "FLOWACTOR_SIGNUP_RATE_LIMIT_PER_MINUTE";
    pub const ENGINE_THREADS: &str = "FLOWACTOR_ENGINE_THREADS";
    pub const HEARTBEAT_MS: &str = "FLOWACTOR_HEARTBEAT_MS";
    pub const LLM_TIMEOUT_SECONDS: &str = "FLOWACTOR_LLM_TIMEOUT_SECONDS";
    pub const LLM_MAX_RETRIES: &str = "FLOWACTOR_LLM_MAX_RETRIES";
    pub const LLM_RETRY_BASE_DELAY_MS: &str = "FLOWACTOR_LLM_RETRY_BASE_DELAY_MS";
    pub const LLM_CONCURRENCY_PER_PROVIDER: &str = "FLOWACTOR_LLM_CONCURRENCY_PER_PROVIDER";
    pub const LLM_ALLOW_LINK_LOCAL: &str = "FLOWACTOR_LLM_ALLOW_LINK_LOCAL";
    pub const SHUTDOWN_GRACE_SECONDS: &str = "FLOWACTOR_SHUTDOWN_GRACE_SECONDS";
    pub const BODY_TIMEOUT_SECONDS: &str = "FLOWACTOR_BODY_TIMEOUT_SECONDS";
    pub const ENABLE_TEST_COMPONENTS: &str = "FLOWACTOR_ENABLE_TEST_COMPONENTS";
    pub const MAX_MESSAGE_BYTES: &str = "FLOWACTOR_MAX_MESSAGE_BYTES";
    pub const MAX_OUTPUT_BYTES: &str = "FLOWACTOR_MAX_OUTPUT_BYTES";
    pub const FALLBACK_TO_ENV_VAR: &str = "LANGFLOW_FALLBACK_TO_ENV_VAR";
    pub const SSRF_PROTECTION_ENABLED: &str = "LANGFLOW_SSRF_PROTECTION_ENABLED";
    pub const SSRF_ALLOWED_HOSTS: &str = "LANGFLOW_SSRF_ALLOWED_HOSTS";
    pub const PROVIDER_CREDENTIAL_ALLOWED_HOSTS: &str = "LANGFLOW_PROVIDER_CREDENTIAL_ALLOWED_HOSTS";
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

/// Everything the server reads from its environment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address to bind (`LANGFLOW_HOST`, default 127.0.0.1).
    pub host: String,
    /// Port to bind (`LANGFLOW_PORT`, default 7860; 0 picks a free port).
    pub port: u16,
    /// Where the database, the generated secret and runtime files live (`LANGFLOW_CONFIG_DIR`).
    pub config_dir: PathBuf,
    /// Single-user mode: `/auto_login` hands out superuser tokens (`LANGFLOW_AUTO_LOGIN`, default false as in 1.13).
    pub auto_login: bool,
    /// With auto-login, lets key-less requests act as the superuser (`LANGFLOW_SKIP_AUTH_AUTO_LOGIN`).
    pub skip_auth_auto_login: bool,
    /// Bootstrap superuser name (`LANGFLOW_SUPERUSER`, default `langflow`).
    pub superuser: String,
    /// Bootstrap superuser password (`LANGFLOW_SUPERUSER_PASSWORD`); `langflow` is refused.
    pub superuser_password: Option<Secret>,
    /// Root of every derived key, the JWT signing key included (`LANGFLOW_SECRET_KEY`, at least
    /// 32 bytes; generated and persisted when unset).
    pub secret_key: Option<Secret>,
    /// Whether public sign-ups are active at once (`LANGFLOW_NEW_USER_IS_ACTIVE`, default false).
    pub new_user_is_active: bool,
    /// Whether `flowactor superuser` may run (`LANGFLOW_ENABLE_SUPERUSER_CLI`, default true).
    pub enable_superuser_cli: bool,
    /// Whether anonymous `POST /api/v1/users/` is allowed (`LANGFLOW_ENABLE_SIGNUP`, default true; never with auto-login).
    pub enable_signup: bool,
    /// Access JWT lifetime in seconds (default 3600).
    pub access_token_expire_seconds: u64,
    /// Refresh JWT lifetime in seconds (default 604800).
    pub refresh_token_expire_seconds: u64,
    /// Allowed CORS origins (`*` = any origin, never combined with credentials).
    pub cors_origins: Vec<String>,
    /// Whether CORS responses allow credentials for listed origins.
    pub cors_allow_credentials: bool,
    /// Login brute-force limit on/off (`LANGFLOW_RATE_LIMIT_ENABLED`, default true).
    pub rate_limit_enabled: bool,
    /// Login attempts per minute per client IP (`LANGFLOW_RATE_LIMIT_PER_MINUTE`, default 5).
    pub rate_limit_per_minute: u32,
    /// Webhooks need the flow owner's API key (`LANGFLOW_WEBHOOK_AUTH_ENABLE`, default true).
    pub webhook_auth_enable: bool,
    /// Skip `total_uses`/`last_used_at` bookkeeping.
    pub disable_track_apikey_usage: bool,
    /// Environment names copied into the superuser's Credential variables at start-up.
    pub variables_to_get_from_environment: Vec<String>,
    /// Whether that copy happens (`LANGFLOW_STORE_ENVIRONMENT_VARIABLES`, default true).
    pub store_environment_variables: bool,
    /// Access-token cookie attributes.
    pub access_cookie: CookiePolicy,
    /// Refresh-token cookie attributes.
    pub refresh_cookie: CookiePolicy,
    /// Cookie `Domain` attribute.
    pub cookie_domain: Option<String>,
    /// Upload limit in MB (`LANGFLOW_MAX_FILE_SIZE_UPLOAD`, reported by `/api/v1/config`).
    pub max_file_size_upload: u64,
    /// Largest JSON request body in MB (`FLOWACTOR_MAX_BODY_MB`, default 32).
    pub max_body_mb: u64,
    /// Default event delivery reported to clients (`LANGFLOW_EVENT_DELIVERY`).
    pub event_delivery: String,
    /// Log filter (`LANGFLOW_LOG_LEVEL`, default info).
    pub log_level: String,
    /// API only; flowactor serves no UI either way.
    pub backend_only: bool,
    /// HTTP worker threads (`LANGFLOW_WORKERS`; 0 = one per core).
    pub workers: usize,
    /// Largest graph accepted, in vertices (`FLOWACTOR_MAX_GRAPH_VERTICES`, default 10000).
    pub max_graph_vertices: usize,
    /// Deadline of one build or run in seconds (`FLOWACTOR_BUILD_DEADLINE_SECONDS`, default 300).
    pub build_deadline_seconds: u64,
    /// How long finished build jobs stay readable (`FLOWACTOR_JOB_EXPIRE_SECONDS`, default 300).
    pub job_expire_seconds: u64,
    /// Background flush interval for chat messages in ms (`FLOWACTOR_MESSAGE_FLUSH_MS`, default 50).
    pub message_flush_ms: u64,
    /// Free disk space in MB below which writes are refused with 507 (`FLOWACTOR_MIN_FREE_DISK_MB`,
    /// default 64; 0 disables the check).
    pub min_free_disk_mb: u64,
    /// Anonymous sign-ups per client IP per minute (`FLOWACTOR_SIGNUP_RATE_LIMIT_PER_MINUTE`,
    /// default 10); applies while `LANGFLOW_RATE_LIMIT_ENABLED` is true.
    pub signup_rate_limit_per_minute: u32,
    /// Engine arbiters (`FLOWACTOR_ENGINE_THREADS`; 0 = one per core).
    pub engine_threads: usize,
    /// Silence after which an event stream writes a heartbeat newline, so a vanished client is
    /// noticed and its build cancelled (`FLOWACTOR_HEARTBEAT_MS`, default 5000).
    pub heartbeat_ms: u64,
    /// Per-request bound on model provider calls in seconds (`FLOWACTOR_LLM_TIMEOUT_SECONDS`, default 120).
    pub llm_timeout_seconds: u64,
    /// Retries after 429 / 5xx / connection failures (`FLOWACTOR_LLM_MAX_RETRIES`, default 3).
    pub llm_max_retries: u32,
    /// First retry pause in ms, doubled per retry (`FLOWACTOR_LLM_RETRY_BASE_DELAY_MS`, default 500).
    pub llm_retry_base_delay_ms: u64,
    /// Provider calls in flight per provider (`FLOWACTOR_LLM_CONCURRENCY_PER_PROVIDER`, default 16).
    pub llm_concurrency_per_provider: usize,
    /// Also allow link-local / cloud-metadata destinations (`FLOWACTOR_LLM_ALLOW_LINK_LOCAL`, default
    /// false; the same as listing 169.254.0.0/16, fe80::/10 and fd00:ec2::254 in `LANGFLOW_SSRF_ALLOWED_HOSTS`).
    pub llm_allow_link_local: bool,
    /// On SIGTERM/SIGINT, how long running requests may finish before they are answered 503 and
    /// streams get an `error` event (`FLOWACTOR_SHUTDOWN_GRACE_SECONDS`, default 20).
    pub shutdown_grace_seconds: u64,
    /// Longest silence while a request body is arriving before the request is answered 408
    /// (`FLOWACTOR_BODY_TIMEOUT_SECONDS`, default 30).
    pub body_timeout_seconds: u64,
    /// Whether flows may use the `Delay` and `Burn` test components (`FLOWACTOR_ENABLE_TEST_COMPONENTS`, default false).
    pub enable_test_components: bool,
    /// Largest chat message text in bytes (`FLOWACTOR_MAX_MESSAGE_BYTES`, default 1 MiB).
    pub max_message_bytes: usize,
    /// Largest value one component may output, in bytes of text (`FLOWACTOR_MAX_OUTPUT_BYTES`, default 4 MiB).
    pub max_output_bytes: usize,
    /// Whether a `load_from_db` field whose variable the owner does not have may read the
    /// environment (`LANGFLOW_FALLBACK_TO_ENV_VAR`, default true). Only names listed in
    /// `LANGFLOW_VARIABLES_TO_GET_FROM_ENVIRONMENT` and not reserved are ever read.
    pub fallback_to_env_var: bool,
    /// The values that fallback may read, captured at start-up (empty when it is off).
    pub environment_fallback: BTreeMap<String, Secret>,
    /// Outbound-request (SSRF) policy on (`LANGFLOW_SSRF_PROTECTION_ENABLED`, default true).
    pub ssrf_protection_enabled: bool,
    /// Hosts, wildcard domains, IPs and CIDRs exempt from that policy (`LANGFLOW_SSRF_ALLOWED_HOSTS`).
    pub ssrf_allowed_hosts: Vec<String>,
    /// Hosts besides the provider's default endpoint that may receive a credential from the
    /// server's environment (`LANGFLOW_PROVIDER_CREDENTIAL_ALLOWED_HOSTS`).
    pub provider_credential_allowed_hosts: Vec<String>,
    /// Values of non-`LANGFLOW_` names read from the `.env` file (component keys such as `OPENAI_API_KEY`).
    pub dotenv_values: BTreeMap<String, Secret>,
    /// `LANGFLOW_*` names that were set but are not known to flowactor.
    pub unknown_variables: Vec<String>,
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

/// Known names with their defaults (`None` = unset by default).
const KNOWN: &[(&str, Option<&str>)] = &[
    (vars::HOST, Some("127.0.0.1")),
    (vars::PORT, Some("7860")),
    (vars::CONFIG_DIR, None),
    (vars::AUTO_LOGIN, Some("false")),
    (vars::SKIP_AUTH_AUTO_LOGIN, Some("false")),
    (vars::SUPERUSER, Some("langflow")),
    (vars::SUPERUSER_PASSWORD, None),
    (vars::SUPERUSER_TOKEN, None),
    (vars::SECRET_KEY, None),
    (vars::NEW_USER_IS_ACTIVE, Some("false")),
    (vars::ENABLE_SUPERUSER_CLI, Some("true")),
    (vars::ENABLE_SIGNUP, Some("true")),
    (vars::ACCESS_TOKEN_EXPIRE_SECONDS, Some("3600")),
    (vars::REFRESH_TOKEN_EXPIRE_SECONDS, Some("604800")),
    (vars::CORS_ORIGINS, Some("*")),
    (vars::CORS_ALLOW_CREDENTIALS, Some("true")),
    (vars::RATE_LIMIT_ENABLED, Some("true")),
    (vars::RATE_LIMIT_PER_MINUTE, Some("5")),
    (vars::WEBHOOK_AUTH_ENABLE, Some("true")),
    (vars::DISABLE_TRACK_APIKEY_USAGE, Some("false")),
    (vars::VARIABLES_TO_GET_FROM_ENVIRONMENT, None),
    (vars::STORE_ENVIRONMENT_VARIABLES, Some("true")),
    (vars::ACCESS_SAME_SITE, Some("lax")),
    (vars::ACCESS_SECURE, Some("false")),
    (vars::ACCESS_HTTPONLY, Some("true")),
    (vars::REFRESH_SAME_SITE, Some("lax")),
    (vars::REFRESH_SECURE, Some("false")),
    (vars::REFRESH_HTTPONLY, Some("true")),
    (vars::COOKIE_DOMAIN, None),
    (vars::MAX_FILE_SIZE_UPLOAD, Some("1024")),
    (vars::EVENT_DELIVERY, Some("streaming")),
    (vars::LOG_LEVEL, Some("info")),
    (vars::BACKEND_ONLY, Some("false")),
    (vars::WORKERS, Some("0")),
    (vars::MAX_BODY_MB, Some("32")),
    (vars::MAX_GRAPH_VERTICES, Some("10000")),
    (vars::BUILD_DEADLINE_SECONDS, Some("300")),
    (vars::JOB_EXPIRE_SECONDS, Some("300")),
    (vars::MESSAGE_FLUSH_MS, Some("50")),
    (vars::MIN_FREE_DISK_MB, Some("64")),
    (vars::SIGNUP_RATE_LIMIT_PER_MINUTE, Some("10")),
    (vars::ENGINE_THREADS, Some("0")),
    (vars::HEARTBEAT_MS, Some("5000")),
    (vars::LLM_TIMEOUT_SECONDS, Some("120")),
    (vars::LLM_MAX_RETRIES, Some("3")),
    (vars::LLM_RETRY_BASE_DELAY_MS, Some("500")),
    (vars::LLM_CONCURRENCY_PER_PROVIDER, Some("16")),
    (vars::LLM_ALLOW_LINK_LOCAL, Some("false")),
    (vars::SHUTDOWN_GRACE_SECONDS, Some("20")),
    (vars::BODY_TIMEOUT_SECONDS, Some("30")),
    (vars::ENABLE_TEST_COMPONENTS, Some("false")),
    (vars::MAX_MESSAGE_BYTES, Some("1048576")),
    (vars::MAX_OUTPUT_BYTES, Some("4194304")),
    (vars::FALLBACK_TO_ENV_VAR, Some("true")),
    (vars::SSRF_PROTECTION_ENABLED, Some("true")),
    (vars::SSRF_ALLOWED_HOSTS, None),
    (vars::PROVIDER_CREDENTIAL_ALLOWED_HOSTS, None),
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

fn parse_bool(name: &str, raw: &str) -> anyhow::Result<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" | "t" | "y" => Ok(true),
        "0" | "false" | "no" | "off" | "f" | "n" => Ok(false),
        _ => bail!("invalid value for {name}: expected true or false, got {raw:?}"),
    }
}

fn parse_num<T: std::str::FromStr>(name: &str, raw: &str) -> anyhow::Result<T> {
    raw.trim().parse().map_err(|_| anyhow!("invalid value for {name}: expected a non-negative integer, got {raw:?}"))
}

fn parse_list(name: &str, raw: &str) -> anyhow::Result<Vec<String>> {
    let t = raw.trim();
    if t.starts_with('[') {
        return serde_json::from_str::<Vec<String>>(t).map_err(|_| {
            anyhow!("invalid value for {name}: expected a JSON list of strings or a comma-separated list")
        });
    }
    Ok(t.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
}

fn parse_same_site(name: &str, raw: &str) -> anyhow::Result<SameSite> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "lax" => Ok(SameSite::Lax),
        "strict" => Ok(SameSite::Strict),
        "none" => Ok(SameSite::None),
        _ => bail!("invalid value for {name}: expected lax, strict or none, got {raw:?}"),
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
        for (name, default) in KNOWN {
            if let Some(d) = default {
                builder = builder.set_default(name.to_lowercase(), *d)?;
            }
        }
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

        let known: Vec<&str> = KNOWN.iter().map(|(n, _)| *n).collect();
        let mut unknown: Vec<String> = seen.into_iter().filter(|k| !known.contains(&k.as_str())).collect();
        unknown.sort();
        unknown.dedup();

        let get =
            |name: &str| -> Option<String> { cfg.get_string(&name.to_lowercase()).ok().filter(|v| !v.is_empty()) };
        let req =
            |name: &str| -> anyhow::Result<String> { get(name).ok_or_else(|| anyhow!("{name} must not be empty")) };
        let boolean = |name: &str| -> anyhow::Result<bool> { parse_bool(name, &req(name)?) };

        let port: u16 = parse_num(vars::PORT, &req(vars::PORT)?)?;
        let cookie = |same: &str, secure: &str, http_only: &str| -> anyhow::Result<CookiePolicy> {
            Ok(CookiePolicy {
                same_site: parse_same_site(same, &req(same)?)?,
                secure: boolean(secure)?,
                http_only: boolean(http_only)?,
            })
        };
        let variables_to_get_from_environment = match get(vars::VARIABLES_TO_GET_FROM_ENVIRONMENT) {
            Some(raw) => parse_list(vars::VARIABLES_TO_GET_FROM_ENVIRONMENT, &raw)?,
            None => DEFAULT_VARIABLES_FROM_ENVIRONMENT.iter().map(|s| (*s).to_owned()).collect(),
        };
        let fallback_to_env_var = boolean(vars::FALLBACK_TO_ENV_VAR)?;
        let mut environment_fallback = BTreeMap::new();
        if fallback_to_env_var {
            for name in variables_to_get_from_environment.iter().filter(|n| !is_reserved_environment_name(n)) {
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
        let list = |name: &str| -> anyhow::Result<Vec<String>> {
            get(name).map_or_else(|| Ok(Vec::new()), |raw| parse_list(name, &raw))
        };
        let settings = Self {
            host: req(vars::HOST)?,
            port,
            config_dir: get(vars::CONFIG_DIR).map_or_else(default_config_dir, PathBuf::from),
            auto_login: boolean(vars::AUTO_LOGIN)?,
            skip_auth_auto_login: boolean(vars::SKIP_AUTH_AUTO_LOGIN)?,
            superuser: get(vars::SUPERUSER).unwrap_or_default(),
            superuser_password: get(vars::SUPERUSER_PASSWORD).map(Secret::new),
            secret_key: get(vars::SECRET_KEY).map(Secret::new),
            new_user_is_active: boolean(vars::NEW_USER_IS_ACTIVE)?,
            enable_superuser_cli: boolean(vars::ENABLE_SUPERUSER_CLI)?,
            enable_signup: boolean(vars::ENABLE_SIGNUP)?,
            access_token_expire_seconds: parse_num(
                vars::ACCESS_TOKEN_EXPIRE_SECONDS,
                &req(vars::ACCESS_TOKEN_EXPIRE_SECONDS)?,
            )?,
            refresh_token_expire_seconds: parse_num(
                vars::REFRESH_TOKEN_EXPIRE_SECONDS,
                &req(vars::REFRESH_TOKEN_EXPIRE_SECONDS)?,
            )?,
            cors_origins: parse_list(vars::CORS_ORIGINS, &req(vars::CORS_ORIGINS)?)?,
            cors_allow_credentials: boolean(vars::CORS_ALLOW_CREDENTIALS)?,
            rate_limit_enabled: boolean(vars::RATE_LIMIT_ENABLED)?,
            rate_limit_per_minute: parse_num(vars::RATE_LIMIT_PER_MINUTE, &req(vars::RATE_LIMIT_PER_MINUTE)?)?,
            webhook_auth_enable: boolean(vars::WEBHOOK_AUTH_ENABLE)?,
            disable_track_apikey_usage: boolean(vars::DISABLE_TRACK_APIKEY_USAGE)?,
            variables_to_get_from_environment,
            store_environment_variables: boolean(vars::STORE_ENVIRONMENT_VARIABLES)?,
            access_cookie: cookie(vars::ACCESS_SAME_SITE, vars::ACCESS_SECURE, vars::ACCESS_HTTPONLY)?,
            refresh_cookie: cookie(vars::REFRESH_SAME_SITE, vars::REFRESH_SECURE, vars::REFRESH_HTTPONLY)?,
            cookie_domain: get(vars::COOKIE_DOMAIN),
            max_file_size_upload: parse_num(vars::MAX_FILE_SIZE_UPLOAD, &req(vars::MAX_FILE_SIZE_UPLOAD)?)?,
            max_body_mb: parse_num(vars::MAX_BODY_MB, &req(vars::MAX_BODY_MB)?)?,
            event_delivery: {
                let v = req(vars::EVENT_DELIVERY)?.to_lowercase();
                if !["streaming", "polling", "direct"].contains(&v.as_str()) {
                    bail!(
                        "invalid value for {}: expected streaming, polling or direct, got {v:?}",
                        vars::EVENT_DELIVERY
                    );
                }
                v
            },
            log_level: req(vars::LOG_LEVEL)?.to_lowercase(),
            backend_only: boolean(vars::BACKEND_ONLY)?,
            workers: parse_num(vars::WORKERS, &req(vars::WORKERS)?)?,
            max_graph_vertices: parse_num(vars::MAX_GRAPH_VERTICES, &req(vars::MAX_GRAPH_VERTICES)?)?,
            build_deadline_seconds: parse_num(vars::BUILD_DEADLINE_SECONDS, &req(vars::BUILD_DEADLINE_SECONDS)?)?,
            job_expire_seconds: parse_num(vars::JOB_EXPIRE_SECONDS, &req(vars::JOB_EXPIRE_SECONDS)?)?,
            message_flush_ms: parse_num(vars::MESSAGE_FLUSH_MS, &req(vars::MESSAGE_FLUSH_MS)?)?,
            min_free_disk_mb: parse_num(vars::MIN_FREE_DISK_MB, &req(vars::MIN_FREE_DISK_MB)?)?,
            signup_rate_limit_per_minute: parse_num(
                vars::SIGNUP_RATE_LIMIT_PER_MINUTE,
                &req(vars::SIGNUP_RATE_LIMIT_PER_MINUTE)?,
            )?,
            engine_threads: parse_num(vars::ENGINE_THREADS, &req(vars::ENGINE_THREADS)?)?,
            heartbeat_ms: parse_num(vars::HEARTBEAT_MS, &req(vars::HEARTBEAT_MS)?)?,
            llm_timeout_seconds: parse_num(vars::LLM_TIMEOUT_SECONDS, &req(vars::LLM_TIMEOUT_SECONDS)?)?,
            llm_max_retries: parse_num(vars::LLM_MAX_RETRIES, &req(vars::LLM_MAX_RETRIES)?)?,
            llm_retry_base_delay_ms: parse_num(vars::LLM_RETRY_BASE_DELAY_MS, &req(vars::LLM_RETRY_BASE_DELAY_MS)?)?,
            llm_concurrency_per_provider: parse_num(
                vars::LLM_CONCURRENCY_PER_PROVIDER,
                &req(vars::LLM_CONCURRENCY_PER_PROVIDER)?,
            )?,
            llm_allow_link_local: boolean(vars::LLM_ALLOW_LINK_LOCAL)?,
            shutdown_grace_seconds: parse_num(vars::SHUTDOWN_GRACE_SECONDS, &req(vars::SHUTDOWN_GRACE_SECONDS)?)?,
            body_timeout_seconds: parse_num(vars::BODY_TIMEOUT_SECONDS, &req(vars::BODY_TIMEOUT_SECONDS)?)?,
            enable_test_components: boolean(vars::ENABLE_TEST_COMPONENTS)?,
            max_message_bytes: parse_num(vars::MAX_MESSAGE_BYTES, &req(vars::MAX_MESSAGE_BYTES)?)?,
            max_output_bytes: parse_num(vars::MAX_OUTPUT_BYTES, &req(vars::MAX_OUTPUT_BYTES)?)?,
            fallback_to_env_var,
            environment_fallback,
            ssrf_protection_enabled: boolean(vars::SSRF_PROTECTION_ENABLED)?,
            ssrf_allowed_hosts: list(vars::SSRF_ALLOWED_HOSTS)?,
            provider_credential_allowed_hosts: list(vars::PROVIDER_CREDENTIAL_ALLOWED_HOSTS)?,
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
