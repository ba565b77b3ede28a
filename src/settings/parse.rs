//! The value parsers named in the settings table: each gets the variable's name (for error
//! messages) and its layered value, the default applied (`None`: unset).
use std::path::PathBuf;

use anyhow::{anyhow, bail};

use super::load::default_config_dir;
use super::{SameSite, Secret, DEFAULT_VARIABLES_FROM_ENVIRONMENT};

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

/// `LANGFLOW_DATABASE_URL`: a PostgreSQL URL or nothing (a clear refusal for anything else).
pub fn database_url(name: &str, raw: Option<String>) -> R<Option<Secret>> {
    match raw.filter(|v| !v.trim().is_empty()) {
        None => Ok(None),
        Some(url) => match flowactor_actors::pg::check_url(url.trim()) {
            Ok(()) => Ok(Some(Secret::new(url.trim()))),
            Err(why) => Err(anyhow::anyhow!("{name}: {why}")),
        },
    }
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
    raw.trim().parse().map_err(|_| anyhow!("invalid value for {name}: expected a non-negative integer, got {raw:?}"))
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
