//! JSON views of registry records in Langflow's field names and formats (`create_at` sic,
//! ISO datetimes with `+00:00`, masked keys, `null` credential values).

use flowactor_actors::clock::{iso_micros, iso_seconds};
use flowactor_actors::crypto::mask_api_key;
use flowactor_actors::records::{ApiKeyRecord, StoredValue, UserRecord, VariableKind, VariableRecord};
use flowactor_actors::usage::{day_string, KeyUsage};
use serde_json::{json, Value};

#[must_use]
pub fn user_read(u: &UserRecord) -> Value {
    json!({
        "id": u.id,
        "username": u.username,
        "profile_image": u.profile_image,
        "store_api_key": Value::Null,
        "is_active": u.is_active,
        "is_superuser": u.is_superuser,
        "create_at": iso_seconds(u.create_at),
        "updated_at": iso_seconds(u.updated_at),
        "last_login_at": u.last_login_at.map(iso_seconds),
        "optins": serde_json::from_str::<Value>(&u.optins).unwrap_or(Value::Null),
    })
}

/// `ApiKeyRead`: the key masked to its first 8 characters.
#[must_use]
pub fn api_key_read(k: &ApiKeyRecord) -> Value {
    json!({
        "id": k.id,
        "name": k.name,
        "api_key": mask_api_key(&k.visible_prefix, usize::from(k.key_len)),
        "user_id": k.user_id,
        "created_at": iso_seconds(k.created_at),
        "last_used_at": k.last_used_at.map(iso_seconds),
        "total_uses": k.total_uses,
        "is_active": k.is_active,
        "expires_at": k.expires_at.map(iso_seconds),
        "scopes": k.policy.scopes.as_ref().map(|s| s.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
        "flow_ids": k.policy.flow_ids,
        "endpoint_names": k.policy.endpoint_names,
        "rate_limit_per_minute": k.policy.rate_limit_per_minute,
    })
}

/// `UnmaskedApiKeyRead`: the only response that ever carries a full key.
#[must_use]
pub fn api_key_created(k: &ApiKeyRecord, plaintext: &str) -> Value {
    json!({
        "id": k.id,
        "name": k.name,
        "api_key": plaintext,
        "user_id": k.user_id,
        "created_at": iso_seconds(k.created_at),
        "last_used_at": Value::Null,
        "total_uses": 0,
        "is_active": k.is_active,
        "expires_at": k.expires_at.map(iso_seconds),
        "scopes": k.policy.scopes.as_ref().map(|s| s.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
        "flow_ids": k.policy.flow_ids,
        "endpoint_names": k.policy.endpoint_names,
        "rate_limit_per_minute": k.policy.rate_limit_per_minute,
    })
}

/// `VariableRead`: Generic values in clear, Credential values always `null`.
#[must_use]
pub fn variable_read(v: &VariableRecord, owner: bool) -> Value {
    let value = match (&v.value, v.kind) {
        (StoredValue::Plain(text), VariableKind::Generic) => Value::String(text.clone()),
        _ => Value::Null,
    };
    json!({
        "id": v.id,
        "name": v.name,
        "type": v.kind.as_str(),
        "value": value,
        "default_fields": v.default_fields,
        "validation_error": Value::Null,
        "is_valid": Value::Null,
        "has_value": true,
        "is_owner": owner,
        "can_manage_shares": owner,
        "created_at": iso_seconds(v.created_at),
        "updated_at": iso_seconds(v.updated_at),
    })
}

/// A listing item: [`api_key_read`] with the key's live usage (stored plus not yet flushed).
#[must_use]
pub fn api_key_read_with_usage(k: &ApiKeyRecord, u: &KeyUsage) -> Value {
    let mut v = api_key_read(k);
    if let Some(obj) = v.as_object_mut() {
        obj.insert("total_uses".into(), json!(u.total_uses));
        obj.insert("last_used_at".into(), json!(u.last_used_at.map(iso_seconds)));
        obj.insert("last_used_ip".into(), json!(u.last_used_ip));
    }
    v
}

/// `GET /api/v1/api_key/{id}/usage` (schema `schemas/api_key_usage.json`): days and uses newest
/// first.
#[must_use]
pub fn api_key_usage(id: uuid::Uuid, u: &KeyUsage) -> Value {
    json!({
        "id": id,
        "total_uses": u.total_uses,
        "last_used_at": u.last_used_at.map(iso_seconds),
        "last_used_ip": u.last_used_ip,
        "days": u.days.iter().rev().map(|(d, n)| json!({"date": day_string(*d), "count": n})).collect::<Vec<_>>(),
        "recent": u.recent.iter().rev().map(|r| json!({
            "at": iso_micros(r.at),
            "method": r.method,
            "route": r.route,
            "status": r.status,
            "client": r.client,
        })).collect::<Vec<_>>(),
    })
}
