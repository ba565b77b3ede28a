//! The command line, mirroring Langflow's: `run`, `api-key`, `superuser`.
//!
//! `api-key` and `superuser` work whether or not a server is running: sled holds an exclusive
//! lock, so when the database is locked they go through the running server's local CLI routes
//! (found via `runtime.json`), and otherwise they open the database themselves.

use std::collections::HashMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use serde_json::{json, Value};

use flowactor_actors::usage::UsageBuffer;

use crate::admin::{self, AdminContext, AdminOutcome};
use crate::http::policy::CLI_TOKEN_HEADER;
use crate::http::tokens::TokenService;
use crate::server::{self, RuntimeInfo, RUNTIME_FILE};
use crate::settings::{vars, Settings, Sources};

#[derive(Parser)]
#[command(name = "flowactor", version, about = "A Langflow-compatible flow server built as an actor runtime")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the server.
    Run(RunArgs),
    /// Print a new API key for the auto-login superuser (only with LANGFLOW_AUTO_LOGIN=true).
    ApiKey(ApiKeyArgs),
    /// Create a superuser (the first one freely, further ones with --auth-token of a superuser).
    Superuser(SuperuserArgs),
    /// Apply pending PostgreSQL schema migrations (LANGFLOW_DATABASE_URL) and exit.
    Migrate(CommonArgs),
}

#[derive(Args, Clone)]
struct CommonArgs {
    /// A `.env` file (between the config file and the process environment in precedence).
    #[arg(long)]
    env_file: Option<PathBuf>,
    /// An optional config file (TOML, YAML or JSON; keys are the variable names).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Log filter (overrides LANGFLOW_LOG_LEVEL).
    #[arg(long)]
    log_level: Option<String>,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Address to bind (default 127.0.0.1).
    #[arg(long)]
    host: Option<String>,
    /// Port to bind (default 7860; 0 picks a free port).
    #[arg(long)]
    port: Option<u16>,
    /// Serve the API only (flowactor never serves a UI; accepted for Langflow compatibility).
    #[arg(long)]
    backend_only: bool,
}

#[derive(Args)]
struct ApiKeyArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Limit the key to a scope (run, read, write, keys, admin); repeatable. None: a full key.
    #[arg(long = "scope")]
    scopes: Vec<String>,
    /// Limit `run` to this flow id; repeatable.
    #[arg(long = "flow")]
    flows: Vec<String>,
    /// Limit `run` to the flow with this endpoint name; repeatable.
    #[arg(long = "endpoint")]
    endpoints: Vec<String>,
    /// Requests per minute the key may make.
    #[arg(long = "rate-limit")]
    rate_limit: Option<u64>,
}

impl ApiKeyArgs {
    /// The policy fields as the create route's JSON body spells them.
    fn policy_body(&self) -> Value {
        let mut body = serde_json::Map::new();
        if !self.scopes.is_empty() {
            body.insert("scopes".into(), json!(self.scopes));
        }
        if !self.flows.is_empty() {
            body.insert("flow_ids".into(), json!(self.flows));
        }
        if !self.endpoints.is_empty() {
            body.insert("endpoint_names".into(), json!(self.endpoints));
        }
        if let Some(n) = self.rate_limit {
            body.insert("rate_limit_per_minute".into(), json!(n));
        }
        Value::Object(body)
    }
}

#[derive(Args)]
struct SuperuserArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[arg(long)]
    username: Option<String>,
    #[arg(long)]
    password: Option<String>,
    /// A superuser's access token or API key (needed once a superuser exists).
    #[arg(long, env = vars::SUPERUSER_TOKEN)]
    auth_token: Option<String>,
}

fn load_settings(common: &CommonArgs) -> anyhow::Result<(Settings, HashMap<String, String>)> {
    let sources = Sources::from_process(common.config.clone(), common.env_file.clone());
    let mut settings = Settings::load(&sources)?;
    if let Some(level) = &common.log_level {
        settings.log_level.clone_from(level);
    }
    Ok((settings, sources.env))
}

fn init_tracing(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(false)
        .with_writer(crate::logging::OneLine)
        .try_init();
}

/// Entry point used by `main`.
#[must_use]
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::ApiKey(args) => admin_command(&args.common, AdminCommand::ApiKey(args.policy_body())),
        Command::Superuser(args) => {
            let common = args.common.clone();
            admin_command(&common, AdminCommand::Superuser(args))
        }
        Command::Migrate(common) => migrate(&common),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let (mut settings, env) = load_settings(&args.common)?;
    if let Some(host) = args.host {
        settings.host = host;
    }
    if let Some(port) = args.port {
        settings.port = port;
    }
    settings.backend_only |= args.backend_only;
    init_tracing(&settings.log_level);
    actix_rt::System::new().block_on(async move {
        let server = server::start(settings, env).await?;
        server.wait().await
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `flowactor migrate`: the start-up migrations, alone.
fn migrate(common: &CommonArgs) -> anyhow::Result<ExitCode> {
    let (settings, _) = load_settings(common)?;
    init_tracing(&settings.log_level);
    let Some(url) = &settings.database_url else {
        println!("LANGFLOW_DATABASE_URL is not set: the embedded database needs no migrations.");
        return Ok(ExitCode::SUCCESS);
    };
    let pg = server::open_postgres_unmigrated(&settings, url.expose())?;
    let applied = pg.migrate()?;
    if applied.is_empty() {
        println!("The database schema is up to date.");
    } else {
        for version in applied {
            println!("applied {version}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

enum AdminCommand {
    /// The key's policy fields, as JSON.
    ApiKey(Value),
    Superuser(SuperuserArgs),
}

fn prompt(label: &str) -> Option<String> {
    eprint!("{label}: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).ok()?;
    let value = line.trim_end_matches(['\r', '\n']).to_owned();
    (!value.is_empty()).then_some(value)
}

fn admin_command(common: &CommonArgs, command: AdminCommand) -> anyhow::Result<ExitCode> {
    let (settings, env) = load_settings(common)?;
    init_tracing(&settings.log_level);
    if matches!(command, AdminCommand::Superuser(_)) && !settings.enable_superuser_cli {
        println!("Error: Superuser creation via CLI is disabled.");
        println!("Set LANGFLOW_ENABLE_SUPERUSER_CLI=true to enable this feature.");
        return Ok(ExitCode::FAILURE);
    }
    let command = match command {
        AdminCommand::Superuser(mut a) if !settings.auto_login && settings.enable_superuser_cli => {
            if a.username.is_none() && std::io::stdin().is_terminal() {
                a.username = prompt("Username");
            }
            if a.password.is_none() && std::io::stdin().is_terminal() {
                a.password = prompt("Password");
            }
            AdminCommand::Superuser(a)
        }
        other => other,
    };
    server::ensure_config_dir(&settings.config_dir)?;
    let secret = server::resolve_secret(&settings)?;
    let outcome = actix_rt::System::new().block_on(async {
        match server::start_registry(&settings, &secret, server::auth_epoch(&settings), UsageBuffer::new(false)) {
            Ok((store, registry, _arbiter)) => {
                let tokens = TokenService::new(
                    &secret,
                    settings.access_token_expire_seconds,
                    settings.refresh_token_expire_seconds,
                );
                let ctx = AdminContext { registry: &registry, settings: &settings, tokens: &tokens };
                let outcome = match &command {
                    AdminCommand::ApiKey(body) => match admin::cli_policy(body) {
                        Ok(policy) => admin::create_cli_api_key(&ctx, policy).await,
                        Err(line) => AdminOutcome { ok: false, lines: vec![line] },
                    },
                    AdminCommand::Superuser(a) => {
                        let outcome =
                            admin::create_superuser(&ctx, a.username.clone(), a.password.clone(), a.auth_token.clone())
                                .await;
                        if outcome.ok && !settings.auto_login {
                            let _ = admin::bootstrap(&ctx, &env).await;
                        }
                        outcome
                    }
                };
                store.flush().context("database flush failed")?;
                Ok(outcome)
            }
            Err(flowactor_actors::store::StoreError::Locked(_)) => through_server(&settings, &command),
            Err(e) => Err(anyhow::anyhow!("{e}")),
        }
    })?;
    for line in &outcome.lines {
        println!("{line}");
    }
    Ok(if outcome.ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Sends the command to the running server that holds the database.
fn through_server(settings: &Settings, command: &AdminCommand) -> anyhow::Result<AdminOutcome> {
    let path = settings.config_dir.join(RUNTIME_FILE);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!("the database is in use but {} is missing: is another flowactor command running?", path.display())
    })?;
    let info: RuntimeInfo = serde_json::from_str(&text).context("runtime.json is malformed")?;
    let (route, body) = match command {
        AdminCommand::ApiKey(body) => ("api-key", body.clone()),
        AdminCommand::Superuser(a) => {
            ("superuser", json!({"username": a.username, "password": a.password, "auth_token": a.auth_token}))
        }
    };
    let response = ureq::post(&format!("{}/api/v1/_cli/{route}", info.url))
        .set(CLI_TOKEN_HEADER, &info.token)
        .send_json(body)
        .map_err(|e| anyhow::anyhow!("the running server at {} refused the request: {e}", info.url))?;
    let value: Value = response.into_json().context("unexpected answer from the running server")?;
    Ok(AdminOutcome {
        ok: value.get("ok").and_then(Value::as_bool).unwrap_or(false),
        lines: value
            .get("lines")
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default(),
    })
}
