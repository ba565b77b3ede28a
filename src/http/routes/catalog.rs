//! The component catalogue (`GET /api/v1/all`, generated from the component declarations) and
//! the starter projects (`GET /api/v1/starter-projects/`: flowactor's own example flows from
//! `examples/flows/`, in Langflow's `GraphDumpResponse` shape).

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::HttpResponse;
use flowactor_actors::catalog::langflow_all;
use serde_json::{json, Value};

use crate::http::auth::Identity;
use crate::http::routes::{route, RouteSpec};

pub fn routes() -> Vec<RouteSpec> {
    vec![
        route!(Get "/api/v1/all", User, all).compressed(),
        route!(Get "/api/v1/starter-projects/", User, starter_projects).compressed(),
    ]
}

/// The example flows shipped with flowactor, in the order the starter list shows them.
const EXAMPLES: &[&str] = &[
    include_str!("../../../examples/flows/echo_chat.json"),
    include_str!("../../../examples/flows/prompt.json"),
    include_str!("../../../examples/flows/memory_chat.json"),
    include_str!("../../../examples/flows/if_else_router.json"),
    include_str!("../../../examples/flows/fan_out_fan_in.json"),
];

fn cached(cell: &'static OnceLock<String>, make: fn() -> Value) -> HttpResponse {
    let body = cell.get_or_init(|| make().to_string());
    HttpResponse::Ok().insert_header((header::CONTENT_TYPE, "application/json")).body(body.as_str())
}

async fn all(_caller: Identity) -> HttpResponse {
    static ALL: OnceLock<String> = OnceLock::new();
    cached(&ALL, langflow_all)
}

fn starter_list() -> Value {
    Value::Array(
        EXAMPLES
            .iter()
            .filter_map(|text| serde_json::from_str::<Value>(text).ok())
            .map(|flow| {
                let mut data = flow.get("data").cloned().unwrap_or_else(|| json!({"nodes": [], "edges": []}));
                if data.get("viewport").is_none() {
                    data["viewport"] = json!({"x": 0, "y": 0, "zoom": 1});
                }
                json!({
                    "data": data,
                    "is_component": flow.get("is_component").cloned().unwrap_or(json!(false)),
                    "name": flow.get("name").cloned().unwrap_or(Value::Null),
                    "description": flow.get("description").cloned().unwrap_or(Value::Null),
                    "endpoint_name": flow.get("endpoint_name").cloned().unwrap_or(Value::Null),
                })
            })
            .collect(),
    )
}

async fn starter_projects(_caller: Identity) -> HttpResponse {
    static STARTERS: OnceLock<String> = OnceLock::new();
    cached(&STARTERS, starter_list)
}
