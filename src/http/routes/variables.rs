//! `/api/v1/variables`: global variables. Credential values are sealed at rest and never
//! returned; Generic values are returned in clear. Another user's variable is simply not found.

use actix_web::{web, HttpResponse};
use flowactor_actors::records::VariableKind;
use flowactor_actors::registry::{CreateVariable, DeleteVariable, ListVariables, UpdateVariable, VariablePatch};
use serde::Deserialize;

use crate::error::{ApiError, ApiResult};
use crate::http::auth::Identity;
use crate::http::body::path_uuid;
use crate::http::routes::{route, RouteSpec};
use crate::http::views::variable_read;
use crate::http::AppState;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        route!(Post "/api/v1/variables/", User, create),
        route!(Get "/api/v1/variables/", User, list),
        route!(Patch "/api/v1/variables/{variable_id}", User, update),
        route!(Delete "/api/v1/variables/{variable_id}", User, delete),
    ]
}

fn kind(text: Option<&str>) -> ApiResult<Option<VariableKind>> {
    text.map(|t| {
        VariableKind::parse(t).ok_or_else(|| ApiError::bad_request("Variable type must be 'Generic' or 'Credential'"))
    })
    .transpose()
}

#[derive(Deserialize)]
struct VariableCreate {
    name: Option<String>,
    value: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    default_fields: Option<Vec<String>>,
}

async fn create(
    state: web::Data<AppState>,
    caller: Identity,
    body: web::Json<VariableCreate>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let kind = kind(body.kind.as_deref())?.unwrap_or(VariableKind::Credential);
    let var = state
        .registry
        .send(CreateVariable {
            user_id: caller.user.id,
            name: body.name.unwrap_or_default(),
            value: body.value.unwrap_or_default(),
            kind,
            default_fields: body.default_fields.unwrap_or_default(),
        })
        .await??;
    Ok(HttpResponse::Created().json(variable_read(&var, true)))
}

async fn list(state: web::Data<AppState>, caller: Identity) -> ApiResult<HttpResponse> {
    let vars = state.registry.send(ListVariables { user_id: caller.user.id }).await??;
    Ok(HttpResponse::Ok().json(vars.iter().map(|v| variable_read(v, true)).collect::<Vec<_>>()))
}

#[derive(Deserialize)]
struct VariableUpdate {
    name: Option<String>,
    value: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    default_fields: Option<Vec<String>>,
}

async fn update(
    state: web::Data<AppState>,
    caller: Identity,
    path: web::Path<String>,
    body: web::Json<VariableUpdate>,
) -> ApiResult<HttpResponse> {
    let id = path_uuid("variable_id", &path)?;
    let body = body.into_inner();
    let patch = VariablePatch {
        name: body.name,
        value: body.value,
        kind: kind(body.kind.as_deref())?,
        default_fields: body.default_fields,
    };
    let var = state.registry.send(UpdateVariable { user_id: caller.user.id, id, patch }).await??;
    Ok(HttpResponse::Ok().json(variable_read(&var, true)))
}

async fn delete(state: web::Data<AppState>, caller: Identity, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = path_uuid("variable_id", &path)?;
    state.registry.send(DeleteVariable { user_id: caller.user.id, id }).await??;
    Ok(HttpResponse::NoContent().finish())
}
