//! The route table: every route is declared once, as a [`RouteSpec`] (method, path, access rule,
//! body kind, handler), in its resource module's `routes()`. [`configure`] builds the actix
//! service from that table and binds each route's access decision to the route itself, so the
//! decision is made for the route the router matched (after percent-decoding), never for a raw
//! path string. The integration tests walk [`table`] to try every route.

pub mod api_keys;
pub mod build;
pub mod catalog;
pub mod cli;
pub mod console;
pub mod files;
pub mod flows;
pub mod health;
pub mod login;
pub mod monitor;
pub mod monitor_builds;
pub mod projects;
pub mod run;
pub mod users;
pub mod validate;
pub mod variables;

use actix_web::http::{header, Method};
use actix_web::middleware::{from_fn, Compress};
use actix_web::{web, HttpRequest, HttpResponse};

use flowactor_actors::records::Scope;

use super::policy::{self, Access, RouteRule, ScopeRule};
use crate::error::ApiError;

/// The HTTP method a route answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    /// Every method (redirects).
    Any,
}

impl Verb {
    #[must_use]
    pub fn method(self) -> Option<Method> {
        match self {
            Self::Get => Some(Method::GET),
            Self::Post => Some(Method::POST),
            Self::Put => Some(Method::PUT),
            Self::Patch => Some(Method::PATCH),
            Self::Delete => Some(Method::DELETE),
            Self::Any => None,
        }
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.method().map_or("GET", |m| match m {
            Method::POST => "POST",
            Method::PUT => "PUT",
            Method::PATCH => "PATCH",
            Method::DELETE => "DELETE",
            _ => "GET",
        })
    }
}

/// How a route's request body is encoded (the CSRF rule checks it for cookie-authenticated
/// writes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// JSON, or no body.
    Json,
    /// `multipart/form-data` (file uploads).
    Multipart,
    /// `application/x-www-form-urlencoded` (the login form).
    Form,
}

/// One route: the single declaration the service, the access decision and the tests share.
#[derive(Clone, Copy)]
pub struct RouteSpec {
    pub verb: Verb,
    /// actix path pattern (`{name}` segments).
    pub path: &'static str,
    pub rule: RouteRule,
    /// gzip when the client accepts it (flow lists).
    pub compress: bool,
    handler: fn() -> actix_web::Route,
}

impl std::fmt::Debug for RouteSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteSpec")
            .field("verb", &self.verb)
            .field("path", &self.path)
            .field("rule", &self.rule)
            .finish()
    }
}

impl RouteSpec {
    #[must_use]
    pub fn new(verb: Verb, path: &'static str, access: Access, handler: fn() -> actix_web::Route) -> Self {
        let mut rule = RouteRule::new(path, access);
        rule.scope = scope_of(verb, path, access);
        Self { verb, path, rule, compress: false, handler }
    }

    /// Answers gzip-compressed when the client accepts it.
    #[must_use]
    pub fn compressed(mut self) -> Self {
        self.compress = true;
        self
    }

    /// The route hands out tokens: never readable cross-origin unless the origin is listed.
    #[must_use]
    pub fn issues_tokens(mut self) -> Self {
        self.rule.issues_tokens = true;
        self
    }

    #[must_use]
    pub fn body(mut self, kind: BodyKind) -> Self {
        self.rule.body = kind;
        self
    }

    /// The actix route: method guard, handler, and the access decision bound to this route.
    fn route(&self) -> actix_web::Route {
        let rule = self.rule;
        let mut route = (self.handler)();
        if let Some(method) = self.verb.method() {
            route = route.method(method);
        }
        route.wrap(from_fn(move |req, next| policy::enforce(rule, req, next)))
    }
}

/// `route!(GET "/path", Access, handler)`: a [`RouteSpec`].
macro_rules! route {
    ($verb:ident $path:literal, $access:ident, $handler:path) => {
        $crate::http::routes::RouteSpec::new(
            $crate::http::routes::Verb::$verb,
            $path,
            $crate::http::policy::Access::$access,
            || actix_web::web::route().to($handler),
        )
    };
}
pub(crate) use route;

/// Collection paths that Langflow declares with a trailing slash; the bare form answers 307.
const SLASHED_COLLECTIONS: &[&str] = &[
    "/api/v1/users",
    "/api/v1/api_key",
    "/api/v1/variables",
    "/api/v1/flows",
    "/api/v1/flows/batch",
    "/api/v1/flows/upload",
    "/api/v1/flows/download",
    "/api/v1/flows/basic_examples",
    "/api/v1/projects",
    "/api/v1/projects/upload",
];

/// The API-key scope of routes whose method and access do not decide it (see [`scope_of`]).
const SCOPES: &[(Verb, &str, ScopeRule)] = {
    use ScopeRule::{Free, Needs};
    use Verb::{Any, Delete, Get, Patch, Post, Put};
    const RUN: ScopeRule = Needs(Scope::Run);
    const READ: ScopeRule = Needs(Scope::Read);
    const WRITE: ScopeRule = Needs(Scope::Write);
    const KEYS: ScopeRule = Needs(Scope::Keys);
    const ADMIN: ScopeRule = Needs(Scope::Admin);
    &[
        // Public information; the caller's identity only adds to it.
        (Get, "/api/v1/config", Free),
        // Redirects: the target route decides.
        (Any, "/api/v1/folders{tail:(/.*)?}", Free),
        // Builds are runs, their event streams included.
        (Post, "/api/v1/build/{flow_id}/flow", RUN),
        (Get, "/api/v1/build/{job_id}/events", RUN),
        (Post, "/api/v1/build/{job_id}/cancel", RUN),
        (Post, "/api/v1/api_key/", KEYS),
        (Get, "/api/v1/api_key/", KEYS),
        (Delete, "/api/v1/api_key/{api_key_id}", KEYS),
        (Post, "/api/v1/api_key/{api_key_id}/rotate", KEYS),
        (Get, "/api/v1/api_key/{api_key_id}/usage", KEYS),
        // With a caller, user creation is a superuser's act; sign-up is anonymous.
        (Post, "/api/v1/users/", ADMIN),
        (Patch, "/api/v1/users/{user_id}", WRITE),
        (Delete, "/api/v1/users/{user_id}", ADMIN),
        (Patch, "/api/v1/users/{user_id}/reset-password", WRITE),
        (Post, "/api/v1/variables/", WRITE),
        (Patch, "/api/v1/variables/{variable_id}", WRITE),
        (Delete, "/api/v1/variables/{variable_id}", WRITE),
        (Delete, "/api/v1/monitor/messages", WRITE),
        (Delete, "/api/v1/monitor/messages/sessions", WRITE),
        (Patch, "/api/v1/monitor/messages/session/{session_id}", WRITE),
        (Delete, "/api/v1/monitor/messages/session/{session_id}", WRITE),
        (Put, "/api/v1/monitor/messages/{message_id}", WRITE),
        (Delete, "/api/v1/monitor/builds", WRITE),
        // Computes over the body; touches nothing stored.
        (Post, "/api/v1/validate/prompt", READ),
        (Post, "/api/v1/flows/", WRITE),
        (Delete, "/api/v1/flows/", WRITE),
        (Post, "/api/v1/flows/batch/", WRITE),
        (Post, "/api/v1/flows/upload/", WRITE),
        // A download by POST (a list of ids in the body) reads.
        (Post, "/api/v1/flows/download/", READ),
        (Patch, "/api/v1/flows/{flow_id}", WRITE),
        (Put, "/api/v1/flows/{flow_id}", WRITE),
        (Delete, "/api/v1/flows/{flow_id}", WRITE),
        (Post, "/api/v1/projects/", WRITE),
        (Post, "/api/v1/projects/upload/", WRITE),
        (Patch, "/api/v1/projects/{project_id}", WRITE),
        (Delete, "/api/v1/projects/{project_id}", WRITE),
        (Post, "/api/v1/files/upload/{flow_id}", WRITE),
        (Delete, "/api/v1/files/delete/{flow_id}/{file_name}", WRITE),
        (Post, "/api/v1/upload/{flow_id}", WRITE),
        (Post, "/api/v2/files", WRITE),
        (Post, "/api/v2/files/", WRITE),
        (Delete, "/api/v2/files", WRITE),
        (Delete, "/api/v2/files/", WRITE),
        (Post, "/api/v2/files/batch/", READ),
        (Delete, "/api/v2/files/batch/", WRITE),
        (Put, "/api/v2/files/{file_id}", WRITE),
        (Delete, "/api/v2/files/{file_id}", WRITE),
    ]
};

/// The API-key scope a route needs: [`SCOPES`] first, else what its access and method decide
/// unambiguously (no identity: free; superuser: `admin`; API-key and webhook routes: `run`; a
/// GET with an identity: `read`). Anything else stays [`ScopeRule::Undecided`], which the route
/// table's test refuses, so a new state-changing route cannot ship without a decision.
#[must_use]
pub fn scope_of(verb: Verb, path: &str, access: Access) -> ScopeRule {
    if let Some((_, _, rule)) = SCOPES.iter().find(|(v, p, _)| *v == verb && *p == path) {
        return *rule;
    }
    match (access, verb) {
        (Access::Public | Access::Cli, _) => ScopeRule::Free,
        (Access::Superuser, _) => ScopeRule::Needs(Scope::Admin),
        (Access::ApiKey | Access::Webhook, _) => ScopeRule::Needs(Scope::Run),
        (Access::User | Access::Optional, Verb::Get) => ScopeRule::Needs(Scope::Read),
        (Access::User | Access::Optional, _) => ScopeRule::Undecided,
    }
}

/// Every route, in matching order (a literal segment before a `{param}` at the same place).
#[must_use]
pub fn table() -> Vec<RouteSpec> {
    let mut routes: Vec<RouteSpec> = SLASHED_COLLECTIONS
        .iter()
        .map(|path| RouteSpec::new(Verb::Any, path, Access::Public, || web::route().to(redirect_to_slash)))
        .collect();
    for module in [
        health::routes,
        login::routes,
        users::routes,
        api_keys::routes,
        variables::routes,
        run::routes,
        build::routes,
        monitor::routes,
        monitor_builds::routes,
        flows::routes,
        projects::routes,
        cli::routes,
        console::routes,
        files::routes,
        catalog::routes,
        validate::routes,
    ] {
        routes.extend(module());
    }
    routes
}

/// Registers [`table`]: one actix resource per path, holding that path's methods, each route
/// wrapped by its own access decision; other methods answer a JSON 405.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let table = table();
    let mut done: Vec<&str> = Vec::new();
    for spec in &table {
        if done.contains(&spec.path) {
            continue;
        }
        done.push(spec.path);
        let same_path = table.iter().filter(|s| s.path == spec.path);
        let compress = same_path.clone().any(|s| s.compress);
        let mut resource = web::resource(spec.path).default_service(web::to(method_not_allowed));
        for s in same_path {
            resource = resource.route(s.route());
        }
        if compress {
            cfg.service(resource.wrap(Compress::default()));
        } else {
            cfg.service(resource);
        }
    }
}

/// The service for paths no route matches: default-deny (an anonymous caller learns nothing),
/// then FastAPI's 404.
#[must_use]
pub fn fallback() -> actix_web::Route {
    let rule = RouteRule { scope: ScopeRule::Free, ..RouteRule::new("", Access::User) };
    web::route().to(not_found).wrap(from_fn(move |req, next| policy::enforce(rule, req, next)))
}

/// FastAPI's `redirect_slashes`: 307 to the slashed URL, method and body preserved.
async fn redirect_to_slash(req: HttpRequest) -> HttpResponse {
    let query = req.query_string();
    let location = if query.is_empty() { format!("{}/", req.path()) } else { format!("{}/?{query}", req.path()) };
    HttpResponse::TemporaryRedirect().insert_header((header::LOCATION, location)).finish()
}

/// Unknown routes: FastAPI's 404 body.
pub async fn not_found() -> HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::not_found("Not Found"))
}

/// A known path with another method: FastAPI's 405 body.
async fn method_not_allowed() -> HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::detail(
        actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
        "Method Not Allowed",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_has_its_key_scope_decided() {
        let table = table();
        let undecided: Vec<String> = table
            .iter()
            .filter(|s| s.rule.scope == ScopeRule::Undecided)
            .map(|s| format!("{} {}", s.verb.as_str(), s.path))
            .collect();
        assert!(undecided.is_empty(), "routes without an API-key scope (add them to SCOPES): {undecided:?}");
        for (verb, path, _) in SCOPES {
            assert!(
                table.iter().any(|s| s.verb == *verb && s.path == *path),
                "SCOPES names {} {path}, which is no route",
                verb.as_str()
            );
        }
        let scope =
            |verb: Verb, path: &str| table.iter().find(|s| s.verb == verb && s.path == path).map(|s| s.rule.scope);
        assert_eq!(scope(Verb::Post, "/api/v1/run/{flow_id_or_name}"), Some(ScopeRule::Needs(Scope::Run)));
        assert_eq!(scope(Verb::Get, "/api/v1/flows/"), Some(ScopeRule::Needs(Scope::Read)));
        assert_eq!(scope(Verb::Get, "/api/v1/users/"), Some(ScopeRule::Needs(Scope::Admin)));
        assert_eq!(scope(Verb::Get, "/api/v1/build/{job_id}/events"), Some(ScopeRule::Needs(Scope::Run)));
        assert_eq!(scope(Verb::Post, "/api/v1/login"), Some(ScopeRule::Free));
    }
}
