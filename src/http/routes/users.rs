//! `/api/v1/users`: sign-up, whoami, listing, patching, password reset and deletion, with
//! Langflow 1.13's permission rules and messages.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use flowactor_actors::registry::{CreateUser, DeleteUser, GetUser, ListUsers, ResetPassword, UpdateUser, UserPatch};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::http::auth::{Identity, MaybeIdentity};
use crate::http::body::path_uuid;
use crate::http::routes::{route, RouteSpec};
use crate::http::views::user_read;
use crate::http::AppState;

/// Largest page `GET /users/` returns.
const MAX_LIMIT: usize = 200;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        route!(Post "/api/v1/users/", Optional, create),
        route!(Get "/api/v1/users/", Superuser, list),
        route!(Get "/api/v1/users/whoami", User, whoami),
        route!(Get "/api/v1/users/{user_id}", User, read),
        route!(Patch "/api/v1/users/{user_id}", User, patch),
        route!(Delete "/api/v1/users/{user_id}", User, delete),
        route!(Patch "/api/v1/users/{user_id}/reset-password", User, reset_password),
    ]
}

#[derive(Deserialize)]
struct UserCreate {
    username: String,
    password: String,
    optins: Option<Value>,
    is_active: Option<bool>,
    is_superuser: Option<bool>,
}

fn optins_text(v: Option<Value>) -> ApiResult<Option<String>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(obj @ Value::Object(_)) => Ok(Some(obj.to_string())),
        Some(_) => Err(ApiError::validation("dict_type", &["body", "optins"], "Input should be a valid dictionary")),
    }
}

async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: MaybeIdentity,
    body: web::Json<UserCreate>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let admin = caller.0.as_ref().is_some_and(|c| c.user.is_superuser);
    let (is_active, is_superuser) = if admin {
        (body.is_active.unwrap_or(state.settings.new_user_is_active), body.is_superuser.unwrap_or(false))
    } else {
        if !state.settings.public_signup_open() {
            return Err(ApiError::forbidden("Public user registration is disabled."));
        }
        state
            .signup_limiter
            .check(&req.peer_addr().map(|a| a.ip()))
            .map_err(|retry_after| ApiError::TooManyRequests { retry_after })?;
        (state.settings.new_user_is_active, false)
    };
    let user = state
        .registry
        .send(CreateUser {
            username: body.username,
            password: body.password,
            is_active,
            is_superuser,
            optins: optins_text(body.optins)?,
        })
        .await??;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/users/{}", user.id)))
        .json(user_read(&user)))
}

#[derive(Deserialize)]
struct ListQuery {
    skip: Option<i64>,
    limit: Option<i64>,
    search: Option<String>,
}

async fn list(state: web::Data<AppState>, query: web::Query<ListQuery>) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let skip = q.skip.unwrap_or(0);
    let limit = q.limit.unwrap_or(10);
    if skip < 0 {
        return Err(ApiError::validation(
            "greater_than_equal",
            &["query", "skip"],
            "Input should be greater than or equal to 0",
        ));
    }
    if !(1..=i64::try_from(MAX_LIMIT).unwrap_or(200)).contains(&limit) {
        return Err(ApiError::validation(
            "less_than_equal",
            &["query", "limit"],
            format!("Input should be between 1 and {MAX_LIMIT}"),
        ));
    }
    let (total, users) = state
        .registry
        .send(ListUsers {
            skip: usize::try_from(skip).unwrap_or(usize::MAX),
            limit: usize::try_from(limit).unwrap_or(MAX_LIMIT),
            search: q.search,
        })
        .await??;
    Ok(HttpResponse::Ok().json(json!({"total_count": total, "users": users.iter().map(user_read).collect::<Vec<_>>()})))
}

async fn whoami(caller: Identity) -> HttpResponse {
    HttpResponse::Ok().json(user_read(&caller.user))
}

async fn read(state: web::Data<AppState>, caller: Identity, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = path_uuid("user_id", &path)?;
    if id != caller.user.id && !caller.user.is_superuser {
        return Err(ApiError::not_found("User not found"));
    }
    let user = state.registry.send(GetUser { id }).await??.ok_or_else(|| ApiError::not_found("User not found"))?;
    Ok(HttpResponse::Ok().json(user_read(&user)))
}

#[derive(Deserialize, Default)]
struct UserUpdate {
    username: Option<String>,
    profile_image: Option<String>,
    password: Option<String>,
    is_active: Option<bool>,
    is_superuser: Option<bool>,
    optins: Option<Value>,
}

async fn patch(
    state: web::Data<AppState>,
    caller: Identity,
    path: web::Path<String>,
    body: web::Json<UserUpdate>,
) -> ApiResult<HttpResponse> {
    let id = path_uuid("user_id", &path)?;
    let body = body.into_inner();
    let me = &caller.user;
    if id == me.id && body.is_active == Some(false) {
        return Err(ApiError::forbidden("You can't deactivate your own user account"));
    }
    if !me.is_superuser {
        if body.is_superuser.is_some() {
            return Err(ApiError::forbidden("Only a superuser may promote or demote platform superusers"));
        }
        if id != me.id {
            return Err(ApiError::forbidden("Permission denied"));
        }
        if body.password.is_some() {
            return Err(ApiError::bad_request("You can't change your password here"));
        }
    }
    let patch = UserPatch {
        username: body.username,
        profile_image: body.profile_image,
        password: body.password,
        is_active: if me.is_superuser { body.is_active } else { None },
        is_superuser: body.is_superuser,
        optins: optins_text(body.optins)?,
    };
    let user = state.registry.send(UpdateUser { id, patch }).await??;
    Ok(HttpResponse::Ok().json(user_read(&user)))
}

#[derive(Deserialize)]
struct PasswordReset {
    current_password: Option<String>,
    password: Option<String>,
}

async fn reset_password(
    state: web::Data<AppState>,
    caller: Identity,
    path: web::Path<String>,
    body: web::Json<PasswordReset>,
) -> ApiResult<HttpResponse> {
    let id = path_uuid("user_id", &path)?;
    if caller.via_api_key {
        return Err(ApiError::forbidden("Sign in interactively to change your password"));
    }
    if id != caller.user.id {
        return Err(ApiError::not_found("You can't change another user's password"));
    }
    state.reset_limiter.check(&id).map_err(|retry_after| ApiError::TooManyRequests { retry_after })?;
    let body = body.into_inner();
    let new_password = body
        .password
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ApiError::bad_request("Password is required for password reset"))?;
    let current_password = body.current_password.unwrap_or_default();
    let user = state.registry.send(ResetPassword { id, current_password, new_password }).await??;
    Ok(HttpResponse::Ok().json(user_read(&user)))
}

async fn delete(state: web::Data<AppState>, caller: Identity, path: web::Path<String>) -> ApiResult<HttpResponse> {
    if !caller.user.is_superuser {
        return Err(ApiError::forbidden("Permission denied"));
    }
    let id = path_uuid("user_id", &path)?;
    if id == caller.user.id {
        return Err(ApiError::bad_request("You can't delete your own user account"));
    }
    let flows = state.flows.owned_ids(id)?;
    state.registry.send(DeleteUser { id }).await??;
    state.forget_flows(&flows);
    let files = state.files.clone();
    if let Err(e) = web::block(move || files.delete_user(id)).await? {
        tracing::warn!(user = %id, error = %e, "could not delete the files of a deleted user");
    }
    Ok(HttpResponse::Accepted().json(json!({"detail": "User deletion started", "request_id": Uuid::new_v4()})))
}
