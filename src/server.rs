//! Start-up and shutdown: config dir and secret, the sled store, the registry actor on its own
//! arbiter, bootstrap, the HTTP server, and the `runtime.json` that lets the CLI reach a running
//! server. `main` only parses arguments and calls into here.

use std::collections::HashMap;
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use actix::{Actor, Addr, Arbiter};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use anyhow::Context as _;
use flowactor_actors::crypto::{generate_secret, Secrets};
use flowactor_actors::engine::{ArbiterPool, Engine, EngineSettings, LlmSettings, OutputLimits};
use flowactor_actors::pg::identity::PgIdentity;
use flowactor_actors::pg::{Pg, PgError, PgOptions};
use flowactor_actors::registry::{AuthEpoch, RegistryOptions};
use flowactor_actors::store::files::Files;
use flowactor_actors::store::flows::{FlowStore, Flows};
use flowactor_actors::store::messages::MessageStore;
use flowactor_actors::store::{StoreError, StoreOptions};
use flowactor_actors::usage::UsageBuffer;
use flowactor_actors::{RegistryActor, Store};
use serde::{Deserialize, Serialize};

use crate::admin::{self, AdminContext};
use crate::http::{self, AppState};
use crate::settings::Settings;

/// File (in the config dir) holding the generated secret when `LANGFLOW_SECRET_KEY` is unset.
pub const SECRET_FILE: &str = "secret_key";
/// File (in the config dir) telling the CLI where the running server listens.
pub const RUNTIME_FILE: &str = "runtime.json";

/// Contents of [`RUNTIME_FILE`].
#[derive(Debug, Serialize, Deserialize)]
pub struct RuntimeInfo {
    pub url: String,
    pub token: String,
    pub pid: u32,
}

#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new().write(true).create(true).truncate(true).open(path)
}

/// Writes `contents` to `path` readable only by the owner, atomically (temp file + rename).
///
/// # Errors
/// I/O failures.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = private_file(&tmp)?;
    f.write_all(contents)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// Creates the config dir (mode 0700 on Unix).
///
/// # Errors
/// I/O failures.
pub fn ensure_config_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create config dir {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

/// The configured secret, or the one persisted in the config dir (generated on first use).
///
/// # Errors
/// I/O failures reading or writing the secret file.
pub fn resolve_secret(settings: &Settings) -> anyhow::Result<String> {
    if let Some(secret) = &settings.secret_key {
        return Ok(secret.expose().to_owned());
    }
    let path = settings.config_dir.join(SECRET_FILE);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let trimmed = existing.trim();
        if !trimmed.is_empty() {
            crate::settings::check_secret_length(&path.display().to_string(), trimmed)?;
            return Ok(trimmed.to_owned());
        }
    }
    let secret = generate_secret();
    write_private(&path, secret.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
    tracing::info!(path = %path.display(), "generated a new secret key");
    Ok(secret)
}

/// Opens the store and starts the registry actor on a dedicated arbiter.
///
/// # Errors
/// [`StoreError::Locked`] (another process holds the database) and open failures.
pub fn start_registry(
    settings: &Settings,
    secret: &str,
    epoch: AuthEpoch,
    usage: UsageBuffer,
) -> Result<(Store, Addr<RegistryActor>, Arbiter), StoreError> {
    let store = Store::open_with(
        &settings.config_dir,
        StoreOptions {
            flush_every_ms: settings.message_flush_ms,
            min_free_bytes: settings.min_free_disk_mb.saturating_mul(1024 * 1024),
            cache_bytes: settings.sled_cache_mb.saturating_mul(1024 * 1024),
        },
    )?;
    let secrets = Secrets::derive(secret);
    let track_key_usage = !settings.disable_track_apikey_usage;
    let postgres = match &settings.database_url {
        Some(url) => Some(open_postgres(settings, url.expose()).map_err(|e| StoreError::Database(e.to_string()))?),
        None => None,
    };
    let options = RegistryOptions { track_key_usage, epoch };
    let actor_store = store.clone();
    let arbiter = Arbiter::new();
    let usage_flush = std::time::Duration::from_millis(settings.key_usage_flush_ms);
    let addr = RegistryActor::start_in_arbiter(&arbiter.handle(), move |_| {
        match postgres {
            Some(pg) => RegistryActor::with_repo(Box::new(PgIdentity::new(pg, secrets, Some(actor_store)))),
            None => RegistryActor::new(actor_store, secrets, options),
        }
        .with_usage(usage, usage_flush)
    });
    Ok((store, addr, arbiter))
}

/// The pool and timeouts `LANGFLOW_POOL_SIZE`, `LANGFLOW_DB_CONNECT_TIMEOUT` and
/// `FLOWACTOR_DB_STATEMENT_TIMEOUT_SECONDS` ask for.
#[must_use]
pub fn postgres_options(settings: &Settings) -> PgOptions {
    PgOptions {
        pool_size: settings.pool_size,
        connect_timeout: std::time::Duration::from_secs(settings.db_connect_timeout.max(1)),
        statement_timeout: std::time::Duration::from_secs(settings.db_statement_timeout_seconds),
    }
}

/// Connects to PostgreSQL and applies pending migrations.
///
/// # Errors
/// No connection within the timeout, or a migration failure.
pub fn open_postgres(settings: &Settings, url: &str) -> Result<Pg, PgError> {
    let pg = Pg::open(url, &postgres_options(settings))?;
    tracing::info!(pool_size = settings.pool_size, "identity store: PostgreSQL");
    Ok(pg)
}

/// Connects to PostgreSQL without migrating (`flowactor migrate` migrates itself).
///
/// # Errors
/// No connection within the timeout.
pub fn open_postgres_unmigrated(settings: &Settings, url: &str) -> Result<Pg, PgError> {
    Pg::connect(url, &postgres_options(settings))
}

/// The auth epoch for the configured database: shared databases bypass the auth cache.
#[must_use]
pub fn auth_epoch(settings: &Settings) -> AuthEpoch {
    if settings.database_url.is_some() {
        AuthEpoch::shared()
    } else {
        AuthEpoch::default()
    }
}

/// A started server.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub handle: actix_web::dev::ServerHandle,
    server: actix_web::dev::Server,
    store: Store,
    registry_arbiter: Arbiter,
    runtime_file: PathBuf,
}

impl RunningServer {
    /// Serves until stopped (SIGINT/SIGTERM or the handle), then flushes the database.
    ///
    /// # Errors
    /// Server I/O failures.
    pub async fn wait(self) -> anyhow::Result<()> {
        let result = self.server.await;
        let _ = std::fs::remove_file(&self.runtime_file);
        self.store.flush().context("final database flush failed")?;
        self.registry_arbiter.stop();
        let _ = tokio::task::spawn_blocking(move || self.registry_arbiter.join()).await;
        tracing::info!("flowactor stopped");
        result.context("server error")
    }
}

/// Resolves on the first SIGTERM or SIGINT.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use actix_rt::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = actix_rt::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = actix_rt::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = actix_rt::signal::ctrl_c().await;
    }
}

/// The shutdown sequence: stop accepting, let running requests finish for `grace`, then make
/// the rest answer (503, or an `error` event on streams) so actix can close every connection
/// cleanly.
async fn drain_on_signal(state: web::Data<AppState>, handle: actix_web::dev::ServerHandle, grace: Duration) {
    shutdown_signal().await;
    tracing::info!(grace_seconds = grace.as_secs(), "shutting down: draining running requests");
    state.drain.begin();
    let stopped = actix_rt::spawn(async move { handle.stop(true).await });
    tokio::select! {
        _ = tokio::time::sleep(grace) => {
            tracing::info!("grace period over: answering the requests still running");
            state.drain.expire();
        }
        _ = stopped => {}
    }
}

fn log_first_steps(settings: &Settings, url: &str, superuser_exists: bool) {
    if settings.auto_login {
        tracing::info!("auto-login is on: get an API key with `flowactor api-key` (it reaches this running server)");
        return;
    }
    if !superuser_exists {
        tracing::info!("no superuser yet: create one with `flowactor superuser --username admin` (prompts for the password; works while the server runs)");
    }
    tracing::info!(
        "to get an API key: TOKEN=$(curl -s -X POST {url}/api/v1/login -d 'username=<user>&password=<password>' | jq -r .access_token); \
         curl -s -X POST {url}/api/v1/api_key/ -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' -d '{{\"name\": \"my key\"}}'"
    );
}

/// Starts everything; must be called inside an actix system.
///
/// # Errors
/// Config dir, secret, database (locked or corrupt), bootstrap or bind failures.
pub async fn start(settings: Settings, env: HashMap<String, String>) -> anyhow::Result<RunningServer> {
    if !settings.unknown_variables.is_empty() {
        tracing::warn!(variables = %settings.unknown_variables.join(", "), "ignoring environment variables flowactor does not know");
    }
    for line in settings.security_summary() {
        tracing::info!(target: "flowactor::security", "{line}");
    }
    let reserved: Vec<&str> = settings
        .variables_to_get_from_environment
        .iter()
        .map(String::as_str)
        .filter(|n| crate::settings::is_reserved_environment_name(n))
        // Langflow's default list names AWS keys; they stay seeded for the superuser, quietly.
        .filter(|n| !crate::settings::DEFAULT_VARIABLES_FROM_ENVIRONMENT.contains(n))
        .collect();
    if settings.fallback_to_env_var && !reserved.is_empty() {
        tracing::warn!(
            names = %reserved.join(", "),
            "reserved names in LANGFLOW_VARIABLES_TO_GET_FROM_ENVIRONMENT are never read by the environment fallback"
        );
    }
    ensure_config_dir(&settings.config_dir)?;
    let secret = resolve_secret(&settings)?;
    let epoch = auth_epoch(&settings);
    let usage = UsageBuffer::new(!settings.disable_track_apikey_usage);
    let (store, registry, registry_arbiter) =
        start_registry(&settings, &secret, epoch.clone(), usage.clone()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let settings = Arc::new(settings);
    let cli_token = generate_secret();
    let flows = Flows::new(FlowStore::new(store.clone()));
    let messages = MessageStore::open(&store).context("cannot open the message store")?;
    let files = Files::open(&settings.config_dir).context("cannot open the file store")?;
    let build_log = crate::http::build_log::BuildLog::new(settings.monitor_max_vertices);
    let engine = Engine::new(
        ArbiterPool::new(settings.engine_thread_count()),
        messages,
        EngineSettings {
            max_vertices: settings.max_graph_vertices,
            build_deadline: std::time::Duration::from_secs(settings.build_deadline_seconds),
            llm: LlmSettings {
                timeout: std::time::Duration::from_secs(settings.llm_timeout_seconds),
                max_retries: settings.llm_max_retries,
                retry_base_delay: std::time::Duration::from_millis(settings.llm_retry_base_delay_ms),
                concurrency_per_provider: settings.llm_concurrency_per_provider,
                outbound: settings.outbound_policy()?,
                credential_allowed_hosts: settings.provider_credential_allowed_hosts.clone(),
            },
            test_components: settings.enable_test_components,
            files: Some(files.clone()),
            limits: OutputLimits {
                max_message_bytes: settings.max_message_bytes,
                max_output_bytes: settings.max_output_bytes,
            },
            tools: tool_settings(&settings),
            recorder: build_log.recorder(),
            ..EngineSettings::default()
        },
    );
    let state = web::Data::new(
        AppState::new(
            settings.clone(),
            registry.clone(),
            flows,
            engine,
            epoch,
            &secret,
            cli_token.clone(),
            files,
            build_log,
        )
        .with_key_usage(usage),
    );
    let report =
        admin::bootstrap(&AdminContext { registry: &registry, settings: &settings, tokens: &state.tokens }, &env)
            .await?;
    if report.seeded_variables > 0 {
        tracing::info!(
            count = report.seeded_variables,
            "stored component keys from the environment as Credential variables"
        );
    }

    let listener = TcpListener::bind((settings.host.as_str(), settings.port))
        .with_context(|| format!("cannot listen on {}:{}", settings.host, settings.port))?;
    let addr = listener.local_addr()?;
    let app_settings = settings.clone();
    let drain_state = state.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .configure(|cfg| http::configure(cfg, &app_settings))
            .default_service(http::routes::fallback())
            .wrap(crate::error::json_error_bodies(app_settings.max_body_mb))
            .wrap(http::cors(&app_settings))
            .wrap(from_fn(http::policy::protect_tokens))
            .wrap(from_fn(http::lifecycle::guard))
            .wrap(http::access_log())
    })
    // Event streams write many small chunks; without TCP_NODELAY, Nagle's algorithm holds each
    // one back until the client's delayed ACK (tens of milliseconds).
    .on_connect(|conn, _| {
        if let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
            let _ = tcp.set_nodelay(true);
        }
    })
    // A client that closes its side of the connection has gone: the request's handler is
    // dropped, and with it the build of a non-streamed /run (whose drop guard cancels it).
    .h1_allow_half_closed(false)
    .workers(settings.worker_count())
    // Signals are handled below: the drain answers what is still running before actix's own
    // shutdown timeout cuts connections.
    .disable_signals()
    .shutdown_timeout(settings.shutdown_grace_seconds + 5)
    .listen(listener)?
    .run();

    let connect_host = if addr.ip().is_unspecified() { "127.0.0.1".to_owned() } else { addr.ip().to_string() };
    let url = format!("http://{connect_host}:{}", addr.port());
    let runtime_file = settings.config_dir.join(RUNTIME_FILE);
    let info = RuntimeInfo { url: url.clone(), token: cli_token, pid: std::process::id() };
    write_private(&runtime_file, serde_json::to_string(&info)?.as_bytes())?;
    tracing::info!("flowactor listening on {url}");
    log_first_steps(&settings, &url, report.superuser_exists);
    let handle = server.handle();
    actix_rt::spawn(drain_on_signal(drain_state, handle.clone(), Duration::from_secs(settings.shutdown_grace_seconds)));
    Ok(RunningServer { addr, handle, server, store, registry_arbiter, runtime_file })
}

/// The tool components' settings.
fn tool_settings(settings: &Settings) -> flowactor_actors::components::ToolSettings {
    let mut tools = flowactor_actors::components::ToolSettings::default();
    tools.web_search_url.clone_from(&settings.web_search_url);
    tools.news_search_url.clone_from(&settings.news_search_url);
    tools.arxiv_url.clone_from(&settings.arxiv_url);
    tools.max_page_bytes = settings.url_max_page_bytes;
    tools.max_fetch_bytes = settings.url_max_fetch_bytes;
    tools.max_pages = settings.url_max_pages;
    tools.restrict_local_file_access = settings.restrict_local_file_access;
    tools.sql_max_rows = settings.sql_max_rows;
    tools.sql_timeout = std::time::Duration::from_secs(settings.sql_timeout_seconds);
    tools
}
