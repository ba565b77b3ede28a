//! The HTTP front: application state, the app factory, and the route modules.
//!
//! Requests are matched against the route table ([`routes::table`]); each route runs its own
//! access decision ([`policy::enforce`]: who may call what), then a thin handler in
//! `routes/` that asks an actor and renders the answer with `views`. Errors leave through
//! [`crate::error::ApiError`].

pub mod auth;
pub mod auth_cache;
pub mod body;
pub mod build_log;
pub mod events;
pub mod execution;
pub mod flow_files;
pub mod flow_json;
pub mod lifecycle;
pub mod policy;
pub mod ratelimit;
pub mod routes;
pub mod tokens;
pub mod views;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use actix::Addr;
use actix_cors::Cors;
use actix_web::http::header;
use actix_web::{web, HttpMessage};
use flowactor_actors::crypto::Secrets;
use flowactor_actors::engine::Engine;
use flowactor_actors::registry::AuthEpoch;
use flowactor_actors::store::files::Files;
use flowactor_actors::store::flows::Flows;
use flowactor_actors::usage::UsageBuffer;
use flowactor_actors::RegistryActor;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::jobs::JobRegistry;
use crate::settings::Settings;
use ratelimit::RateLimiter;
use tokens::TokenService;

/// Shared by every worker (behind `web::Data`).
pub struct AppState {
    pub settings: Arc<Settings>,
    pub registry: Addr<RegistryActor>,
    /// Flows and projects: reads straight through, writes via [`Flows::write`] (durable on return).
    pub flows: Flows,
    /// Runs builds; owns the compiled-graph cache.
    pub engine: Engine,
    /// `/build` jobs waiting for or streaming to their readers.
    pub jobs: JobRegistry,
    /// Silence after which event streams write a heartbeat.
    pub heartbeat: Duration,
    /// How long a build keeps running after its resuming reader went away.
    pub resume_grace: Duration,
    pub tokens: TokenService,
    /// Recent authentication answers (see [`auth_cache`]).
    pub auth_cache: auth_cache::AuthCache,
    pub login_limiter: RateLimiter<Option<IpAddr>>,
    pub reset_limiter: RateLimiter<Uuid>,
    /// API keys with a `rate_limit_per_minute`, counted per key (per instance).
    pub key_limiter: RateLimiter<Uuid>,
    /// Shutdown state (see [`lifecycle`]).
    pub drain: lifecycle::Drain,
    /// Anonymous sign-ups per client IP.
    pub signup_limiter: RateLimiter<Option<IpAddr>>,
    /// Uploaded files (see `routes::files`).
    pub files: Files,
    /// Recent builds' per-vertex traces (see `routes::monitor_builds`).
    pub build_log: build_log::BuildLog,
    /// API-key uses, recorded by [`policy::enforce`] once the status is known and stored by the
    /// registry actor (see [`flowactor_actors::usage`]).
    pub key_usage: UsageBuffer,
    cli_token: String,
}

impl AppState {
    #[must_use]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        settings: Arc<Settings>,
        registry: Addr<RegistryActor>,
        flows: Flows,
        engine: Engine,
        epoch: AuthEpoch,
        secret: &str,
        cli_token: String,
        files: Files,
        build_log: build_log::BuildLog,
    ) -> Self {
        Self {
            auth_cache: auth_cache::AuthCache::new(epoch, Secrets::derive(secret)),
            jobs: JobRegistry::new(
                Duration::from_secs(settings.job_expire_seconds),
                Duration::from_secs(settings.build_deadline_seconds),
                settings.job_event_retention_bytes,
            ),
            resume_grace: Duration::from_secs(settings.job_resume_grace_seconds),
            heartbeat: Duration::from_millis(settings.heartbeat_ms),
            engine,
            tokens: TokenService::new(
                secret,
                settings.access_token_expire_seconds,
                settings.refresh_token_expire_seconds,
            ),
            login_limiter: RateLimiter::new(settings.rate_limit_per_minute, settings.rate_limit_enabled),
            reset_limiter: RateLimiter::new(settings.rate_limit_per_minute, settings.rate_limit_enabled),
            key_limiter: RateLimiter::new(0, true),
            drain: lifecycle::Drain::default(),
            signup_limiter: RateLimiter::new(settings.signup_rate_limit_per_minute, settings.rate_limit_enabled),
            settings,
            registry,
            flows,
            cli_token,
            files,
            build_log,
            key_usage: UsageBuffer::new(false),
        }
    }

    /// Records API-key uses into `usage` (the buffer the registry actor stores).
    #[must_use]
    pub fn with_key_usage(mut self, usage: UsageBuffer) -> Self {
        self.key_usage = usage;
        self
    }

    /// Drops what belongs to deleted flows outside their records: chat history and compiled
    /// graphs. (A crash in between leaves only unreachable messages: history is always read
    /// through its flow.)
    pub fn forget_flows(&self, ids: &[Uuid]) {
        for id in ids {
            self.engine.forget(*id);
            self.build_log.forget_flow(*id);
            if let Err(e) = self.engine.messages().delete_flow(*id) {
                tracing::warn!(flow = %id, error = %e, "could not delete the chat history of a deleted flow");
            }
            if let Err(e) = self.files.delete_flow(*id) {
                tracing::warn!(flow = %id, error = %e, "could not delete the files of a deleted flow");
            }
        }
    }

    /// Constant-time check of the local CLI's token.
    #[must_use]
    pub fn cli_token_matches(&self, presented: &str) -> bool {
        !presented.is_empty() && bool::from(presented.as_bytes().ct_eq(self.cli_token.as_bytes()))
    }
}

/// CORS as Langflow configures it, except that a wildcard origin never allows credentials.
pub fn cors(settings: &Settings) -> Cors {
    let base = Cors::default()
        .allow_any_method()
        .allow_any_header()
        .expose_headers([header::ETAG, header::RETRY_AFTER])
        .max_age(3600);
    if settings.cors_origins.iter().any(|o| o == "*") {
        return base.allow_any_origin().send_wildcard();
    }
    let mut cors = base;
    for origin in &settings.cors_origins {
        cors = cors.allowed_origin(origin);
    }
    if settings.cors_allow_credentials {
        cors = cors.supports_credentials();
    }
    cors
}

/// One access-log line per request (target `flowactor::access`): method, the matched route's
/// pattern (never the raw path or query, which may carry an `x-api-key`), status, duration in
/// ms, the caller's user id, and the peer address.
#[must_use]
pub fn access_log() -> actix_web::middleware::Logger {
    actix_web::middleware::Logger::new("%{method}xi %{route}xo %s %Dms user=%{user}xo peer=%{peer}xi")
        .log_target("flowactor::access")
        .custom_request_replace("method", |req| req.method().to_string())
        .custom_request_replace("peer", |req| req.peer_addr().map_or_else(|| "-".to_owned(), |a| a.ip().to_string()))
        .custom_response_replace("route", |res| {
            res.request().extensions().get::<policy::RouteRule>().map_or_else(
                || "-".to_owned(),
                |r| if r.pattern.is_empty() { "<unmatched>".to_owned() } else { r.pattern.to_owned() },
            )
        })
        .custom_response_replace("user", |res| {
            res.request().extensions().get::<auth::Identity>().map_or_else(|| "-".to_owned(), |i| i.user.id.to_string())
        })
}

/// Registers the state-independent configuration (extractor limits and error shapes).
pub fn configure(cfg: &mut web::ServiceConfig, settings: &Settings) {
    let limit = settings.max_body_bytes();
    cfg.app_data(body::json_config(limit, settings.max_body_mb))
        .app_data(web::PayloadConfig::new(limit))
        .app_data(
            web::FormConfig::default()
                .limit(body::FORM_LIMIT_BYTES)
                .error_handler(body::form_error(&["username", "password"])),
        )
        .app_data(web::QueryConfig::default().error_handler(body::query_error));
    routes::configure(cfg);
}
