//! Administrative operations shared by the CLI's two paths (database opened directly, or the
//! running server reached through its local CLI routes) and by start-up bootstrap: superuser
//! creation under Langflow's rules, the auto-login API key, and seeding component keys from the
//! environment.

use std::collections::HashMap;

use actix::Addr;
use flowactor_actors::crypto::generate_password;
use flowactor_actors::records::KeyPolicy;
use flowactor_actors::registry::{
    AuthenticateApiKey, CreateApiKey, CreateUser, DeleteApiKey, FindUser, FirstSuperuser, GetUser, ListApiKeys,
    SeedCredentials,
};
use flowactor_actors::{RegistryActor, RegistryError};

use crate::http::routes::login::LEGACY_DEFAULT_PASSWORD;
use crate::http::tokens::{TokenKind, TokenService};
use crate::settings::{vars, Settings};

pub struct AdminContext<'a> {
    pub registry: &'a Addr<RegistryActor>,
    pub settings: &'a Settings,
    pub tokens: &'a TokenService,
}

/// What a command printed and whether it succeeded (exit code 0 or 1).
#[derive(Debug, Default)]
pub struct AdminOutcome {
    pub ok: bool,
    pub lines: Vec<String>,
}

impl AdminOutcome {
    fn fail(lines: &[&str]) -> Self {
        Self { ok: false, lines: lines.iter().map(|s| (*s).to_owned()).collect() }
    }
}

async fn ask<M>(registry: &Addr<RegistryActor>, msg: M) -> Result<M::Result, RegistryError>
where
    M: actix::Message + Send + 'static,
    M::Result: Send,
    RegistryActor: actix::Handler<M>,
{
    registry.send(msg).await.map_err(|_| RegistryError::Unavailable)
}

/// Is `token` (an access JWT or an API key) held by an active superuser?
async fn token_is_superuser(ctx: &AdminContext<'_>, token: &str) -> bool {
    let user = if let Ok(id) = ctx.tokens.verify(token, TokenKind::Access) {
        ask(ctx.registry, GetUser { id }).await.ok().and_then(Result::ok).flatten()
    } else {
        ask(ctx.registry, AuthenticateApiKey { key: token.to_owned() }).await.ok().and_then(Result::ok).map(|g| g.user)
    };
    user.is_some_and(|u| u.is_active && u.is_superuser)
}

/// `flowactor superuser` (Langflow's `langflow superuser` rules, 1.13).
pub async fn create_superuser(
    ctx: &AdminContext<'_>,
    username: Option<String>,
    password: Option<String>,
    auth_token: Option<String>,
) -> AdminOutcome {
    let s = ctx.settings;
    if !s.enable_superuser_cli {
        return AdminOutcome::fail(&[
            "Error: Superuser creation via CLI is disabled.",
            "Set LANGFLOW_ENABLE_SUPERUSER_CLI=true to enable this feature.",
        ]);
    }
    let existing = match ask(ctx.registry, FirstSuperuser).await {
        Ok(Ok(found)) => found,
        _ => return AdminOutcome::fail(&["Error: the user registry is not available."]),
    };
    let mut out = AdminOutcome::default();
    let (username, password) = if s.auto_login {
        if existing.is_some() {
            return AdminOutcome::fail(&[
                "Error: Cannot create additional superusers when AUTO_LOGIN is enabled.",
                "AUTO_LOGIN mode is for single-user environments only.",
                "To create additional superusers:",
                "  1. Set LANGFLOW_AUTO_LOGIN=false",
            ]);
        }
        out.lines.push(format!("AUTO_LOGIN enabled. Creating default superuser '{}'...", s.superuser));
        let pw = s.superuser_password.as_ref().map(|p| p.expose().to_owned()).filter(|p| p != LEGACY_DEFAULT_PASSWORD);
        (s.superuser.clone(), pw.unwrap_or_else(generate_password))
    } else {
        let (Some(username), Some(password)) = (username.filter(|u| !u.is_empty()), password.filter(|p| !p.is_empty()))
        else {
            return AdminOutcome::fail(&["Error: a username and a password are required."]);
        };
        if existing.is_some() {
            let Some(token) = auth_token.filter(|t| !t.is_empty()) else {
                return AdminOutcome::fail(&[
                    "Error: Creating a superuser requires authentication.",
                    "Please provide --auth-token with a valid superuser API key or JWT token.",
                    "To get a token, use: `flowactor api-key` (auto-login) or create one with POST /api/v1/api_key/",
                ]);
            };
            if !token_is_superuser(ctx, &token).await {
                return AdminOutcome::fail(&[
                    "Error: Invalid token or insufficient privileges. Only superusers can create other superusers.",
                ]);
            }
        } else {
            out.lines.push("No superusers found. Creating first superuser...".into());
        }
        if password == LEGACY_DEFAULT_PASSWORD {
            return AdminOutcome::fail(&["Error: the password 'langflow' is not allowed for a superuser."]);
        }
        (username, password)
    };
    match ask(ctx.registry, CreateUser { username, password, is_active: true, is_superuser: true, optins: None }).await
    {
        Ok(Ok(_)) => {
            out.lines.push("Superuser created successfully.".into());
            out.ok = true;
        }
        Ok(Err(RegistryError::Conflict(m) | RegistryError::NotFound(m))) => {
            out.lines.push(format!("Superuser creation failed. {m}"))
        }
        Ok(Err(RegistryError::Invalid(m))) => out.lines.push(format!("Superuser creation failed. {m}")),
        _ => out.lines.push("Superuser creation failed.".into()),
    }
    out
}

/// The boxed banner Langflow prints around a new key.
#[must_use]
pub fn key_banner(key: &str) -> Vec<String> {
    let body = [
        "API Key Created Successfully:".to_owned(),
        String::new(),
        key.to_owned(),
        String::new(),
        "This is the only time the API key will be displayed.".to_owned(),
        "Make sure to store it in a secure location.".to_owned(),
    ];
    let width = body.iter().map(|l| l.chars().count()).max().unwrap_or(0) + 2;
    let mut lines = vec![format!("╭{}╮", "─".repeat(width))];
    lines.extend(body.iter().map(|l| format!("│ {l:<w$} │", w = width - 2)));
    lines.push(format!("╰{}╯", "─".repeat(width)));
    lines
}

/// `flowactor api-key`'s options (as the create route's JSON body spells them), checked as the create route checks it; the message names the bad field.
pub fn cli_policy(body: &serde_json::Value) -> Result<KeyPolicy, String> {
    let empty = serde_json::Map::new();
    crate::http::routes::api_keys::parse_policy(body.as_object().unwrap_or(&empty)).map_err(|e| match e {
        crate::error::ApiError::Validation(items) => {
            let problems: Vec<String> = items
                .iter()
                .map(|i| format!("{}: {}", i["loc"][1].as_str().unwrap_or("?"), i["msg"].as_str().unwrap_or("invalid")))
                .collect();
            format!("Error: invalid API key options: {}", problems.join("; "))
        }
        other => format!("Error: {other}"),
    })
}

/// `flowactor api-key`: replaces one key of the auto-login superuser by a new key named `CLI`.
/// `policy` limits the new key (`--scope`, `--flow`, `--endpoint`, `--rate-limit`); the flows
/// are not looked up (the superuser may create them later).
pub async fn create_cli_api_key(ctx: &AdminContext<'_>, policy: KeyPolicy) -> AdminOutcome {
    if !ctx.settings.auto_login {
        return AdminOutcome {
            ok: true,
            lines: vec!["Auto login is disabled. API keys cannot be created through the CLI.".into()],
        };
    }
    let user = ask(ctx.registry, FindUser { username: ctx.settings.superuser.clone() })
        .await
        .ok()
        .and_then(Result::ok)
        .flatten();
    let Some(user) = user.filter(|u| u.is_superuser) else {
        return AdminOutcome::fail(&[
            "Auto-login superuser not found. This command requires a superuser and AUTO_LOGIN to be enabled.",
        ]);
    };
    if let Ok(Ok(keys)) = ask(ctx.registry, ListApiKeys { user_id: user.id }).await {
        if let Some(first) = keys.first() {
            let _ = ask(ctx.registry, DeleteApiKey { user_id: user.id, key_id: first.id }).await;
        }
    }
    match ask(ctx.registry, CreateApiKey { user_id: user.id, name: Some("CLI".into()), expires_at: None, policy }).await
    {
        Ok(Ok((_, key))) => AdminOutcome { ok: true, lines: key_banner(&key) },
        _ => AdminOutcome::fail(&["Error: the API key could not be created."]),
    }
}

/// What start-up found, for the log lines that tell a user how to get an API key.
#[derive(Debug)]
pub struct BootstrapReport {
    pub superuser_exists: bool,
    pub seeded_variables: usize,
}

/// Creates the bootstrap superuser per Langflow 1.13's rules and seeds component keys.
///
/// # Errors
/// Refuses `LANGFLOW_SUPERUSER_PASSWORD=langflow` without auto-login, and registry failures.
pub async fn bootstrap(ctx: &AdminContext<'_>, env: &HashMap<String, String>) -> anyhow::Result<BootstrapReport> {
    let s = ctx.settings;
    let configured = s.superuser_password.as_ref().map(|p| p.expose().to_owned());
    if !s.auto_login && configured.as_deref() == Some(LEGACY_DEFAULT_PASSWORD) {
        anyhow::bail!("{} must not be 'langflow': choose another password", vars::SUPERUSER_PASSWORD);
    }
    if s.auto_login && s.superuser.is_empty() {
        anyhow::bail!("{} must name the auto-login superuser", vars::SUPERUSER);
    }
    let wants_bootstrap = s.auto_login || configured.is_some();
    if wants_bootstrap && !s.superuser.is_empty() {
        let found = ask(ctx.registry, FindUser { username: s.superuser.clone() }).await??;
        match found {
            Some(u) if !u.is_superuser => {
                tracing::warn!(user = %s.superuser, "the configured superuser name belongs to an ordinary user")
            }
            Some(_) => {}
            None => {
                let password = configured.filter(|p| p != LEGACY_DEFAULT_PASSWORD).unwrap_or_else(generate_password);
                ask(
                    ctx.registry,
                    CreateUser {
                        username: s.superuser.clone(),
                        password,
                        is_active: true,
                        is_superuser: true,
                        optins: None,
                    },
                )
                .await??;
                tracing::info!(user = %s.superuser, "created the bootstrap superuser");
            }
        }
    }
    let named = ask(ctx.registry, FindUser { username: s.superuser.clone() }).await??.filter(|u| u.is_superuser);
    let target = match named {
        Some(u) => Some(u),
        None => ask(ctx.registry, FirstSuperuser).await??,
    };
    let mut seeded = 0;
    if let (Some(user), true) = (&target, s.store_environment_variables) {
        let values: Vec<(String, String)> = s
            .variables_to_get_from_environment
            .iter()
            .filter_map(|name| s.environment_value(env, name).map(|v| (name.clone(), v)))
            .collect();
        if !values.is_empty() {
            seeded = ask(ctx.registry, SeedCredentials { user_id: user.id, values }).await??;
        }
    }
    Ok(BootstrapReport { superuser_exists: target.is_some(), seeded_variables: seeded })
}
