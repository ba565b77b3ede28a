//! One typed `Settings`, loaded in layers: defaults < config file (`--config`) < `.env` file
//! (`--env-file`) < process environment < command-line flags.
//!
//! Langflow's variable names are honoured unchanged. Every setting is declared once, in the
//! `settings!` table below (field, type, name, default, parser); [`vars`], [`KNOWN`] and
//! [`Options`] are generated from it, and a test checks the README's configuration table against
//! [`KNOWN`]. A malformed value of a known variable refuses start-up with a message naming it; unknown
//! `LANGFLOW_*` names are collected so start-up can warn about them once. Secrets never appear in
//! `Debug` output or logs.
//!
//! This file holds the table and the types it names; the code lives beside it: `load` (sources,
//! layering, derived values), `parse` (the value parsers the table names) and `environment`
//! (which environment names component fields may read).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

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
    /// Shared database (`LANGFLOW_DATABASE_URL`): `postgresql://` or `postgres://` selects
    /// PostgreSQL; unset keeps the embedded sled database; any other scheme refuses start-up.
    database_url: Option<Secret> = DATABASE_URL "LANGFLOW_DATABASE_URL", None, parse::database_url;
    /// Most PostgreSQL connections one instance opens (`LANGFLOW_POOL_SIZE`, default 10).
    pool_size: u32 = POOL_SIZE "LANGFLOW_POOL_SIZE", Some("10"), parse::num;
    /// Seconds to connect, or to wait for a free pooled connection (`LANGFLOW_DB_CONNECT_TIMEOUT`, default 30).
    db_connect_timeout: u64 = DB_CONNECT_TIMEOUT "LANGFLOW_DB_CONNECT_TIMEOUT", Some("30"), parse::num;
    /// PostgreSQL `statement_timeout` in seconds (`FLOWACTOR_DB_STATEMENT_TIMEOUT_SECONDS`, default 30; 0 = none).
    db_statement_timeout_seconds: u64 = DB_STATEMENT_TIMEOUT_SECONDS "FLOWACTOR_DB_STATEMENT_TIMEOUT_SECONDS", Some("30"), parse::num;
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
    /// Skip all API-key usage bookkeeping (`total_uses`, `last_used_at`, the usage audit).
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
    /// Bytes of a build job's events kept for readers that resume with `since` / `Last-Event-ID`
    /// (`FLOWACTOR_JOB_EVENT_RETENTION_BYTES`, default 8 MiB).
    job_event_retention_bytes: usize = JOB_EVENT_RETENTION_BYTES "FLOWACTOR_JOB_EVENT_RETENTION_BYTES", Some("8388608"), parse::num;
    /// Vertex records of recent builds kept for `/api/v1/monitor/builds`, `/transactions` and
    /// the timeline route, whole builds dropped oldest first; 0 turns recording off
    /// (`FLOWACTOR_MONITOR_MAX_VERTICES`, default 20000).
    monitor_max_vertices: usize = MONITOR_MAX_VERTICES "FLOWACTOR_MONITOR_MAX_VERTICES", Some("20000"), parse::num;
    /// How long a build whose resuming reader disconnected keeps running without a reader
    /// (`FLOWACTOR_JOB_RESUME_GRACE_SECONDS`, default 30).
    job_resume_grace_seconds: u64 = JOB_RESUME_GRACE_SECONDS "FLOWACTOR_JOB_RESUME_GRACE_SECONDS", Some("30"), parse::num;
    /// Background flush interval for chat messages in ms (`FLOWACTOR_MESSAGE_FLUSH_MS`, default 50).
    message_flush_ms: u64 = MESSAGE_FLUSH_MS "FLOWACTOR_MESSAGE_FLUSH_MS", Some("50"), parse::num;
    /// Bound of the embedded database's page cache in MB (`FLOWACTOR_SLED_CACHE_MB`, default 16;
    /// 0 keeps sled's default of 1 GiB).
    sled_cache_mb: u64 = SLED_CACHE_MB "FLOWACTOR_SLED_CACHE_MB", Some("16"), parse::num;
    /// Interval in ms between writes of buffered API-key usage (`FLOWACTOR_KEY_USAGE_FLUSH_MS`, default 1000).
    key_usage_flush_ms: u64 = KEY_USAGE_FLUSH_MS "FLOWACTOR_KEY_USAGE_FLUSH_MS", Some("1000"), parse::num;
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
    /// Web Search's Web-mode endpoint: a SearXNG-compatible JSON API or a DuckDuckGo-HTML-compatible
    /// page (`FLOWACTOR_WEB_SEARCH_URL`, default DuckDuckGo's HTML endpoint, as Langflow).
    web_search_url: String = WEB_SEARCH_URL "FLOWACTOR_WEB_SEARCH_URL", Some("https://html.duckduckgo.com/html/"), parse::text;
    /// Web Search's News-mode RSS search endpoint (`FLOWACTOR_NEWS_SEARCH_URL`, default Google News').
    news_search_url: String = NEWS_SEARCH_URL "FLOWACTOR_NEWS_SEARCH_URL", Some("https://news.google.com/rss/search"), parse::text;
    /// arXiv's Atom query API (`FLOWACTOR_ARXIV_URL`, default arXiv's own).
    arxiv_url: String = ARXIV_URL "FLOWACTOR_ARXIV_URL", Some("https://export.arxiv.org/api/query"), parse::text;
    /// Largest response body a tool request reads (`FLOWACTOR_URL_MAX_PAGE_BYTES`, default 10 MiB).
    url_max_page_bytes: usize = URL_MAX_PAGE_BYTES "FLOWACTOR_URL_MAX_PAGE_BYTES", Some("10485760"), parse::num;
    /// Largest total of bodies one URL crawl reads (`FLOWACTOR_URL_MAX_FETCH_BYTES`, default 100 MiB).
    url_max_fetch_bytes: usize = URL_MAX_FETCH_BYTES "FLOWACTOR_URL_MAX_FETCH_BYTES", Some("104857600"), parse::num;
    /// Pages one URL crawl fetches at most (`FLOWACTOR_URL_MAX_PAGES`, default 100).
    url_max_pages: usize = URL_MAX_PAGES "FLOWACTOR_URL_MAX_PAGES", Some("100"), parse::num;
    /// Refuse components that open local files by path, such as `sqlite:` database URLs
    /// (`LANGFLOW_RESTRICT_LOCAL_FILE_ACCESS`, default true).
    restrict_local_file_access: bool = RESTRICT_LOCAL_FILE_ACCESS "LANGFLOW_RESTRICT_LOCAL_FILE_ACCESS", Some("true"), parse::boolean;
    /// Rows one SQL Database query may return (`FLOWACTOR_SQL_MAX_ROWS`, default 10000).
    sql_max_rows: usize = SQL_MAX_ROWS "FLOWACTOR_SQL_MAX_ROWS", Some("10000"), parse::num;
    /// Longest one SQL Database query may run (`FLOWACTOR_SQL_TIMEOUT_SECONDS`, default 30).
    sql_timeout_seconds: u64 = SQL_TIMEOUT_SECONDS "FLOWACTOR_SQL_TIMEOUT_SECONDS", Some("30"), parse::num;
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

mod environment;
mod load;
mod parse;
#[cfg(test)]
mod tests;

pub use environment::{is_reserved_environment_name, DEFAULT_VARIABLES_FROM_ENVIRONMENT};
pub use load::{check_secret_length, Sources};
