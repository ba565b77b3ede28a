//! SQL Database: Langflow's `SQLComponent` (tool `run_sql_query`). One query against a
//! SQLAlchemy-style URL, the rows as a table.
//!
//! * `sqlite:///relative.db`, `sqlite:////absolute.db`, `sqlite://` (in memory): refused while
//!   `LANGFLOW_RESTRICT_LOCAL_FILE_ACCESS` is on (the default), as Langflow 1.13 does; run with
//!   the bundled SQLite otherwise.
//! * `postgresql://…` (and `postgres://`, `postgresql+driver://`): the host is checked against
//!   the outbound address policy before connecting (a loopback or private host needs
//!   `LANGFLOW_SSRF_ALLOWED_HOSTS`); the connection then goes to exactly the checked address.
//!
//! Every query is bounded: at most `FLOWACTOR_SQL_MAX_ROWS` rows and
//! `FLOWACTOR_SQL_TIMEOUT_SECONDS` of run time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value as Json};

use super::web;
use super::{BoxFuture, Component, ComponentContext, ComponentError, Inputs, Outputs, Value};
use crate::catalog::tools::sql::{ADD_ERROR, DATABASE_URL, INCLUDE_COLUMNS, QUERY, RUN_SQL_QUERY};
use crate::llm::address::ALLOWED_HOSTS_SETTING;

pub struct SqlDatabase;

/// What a query produced: column names and rows.
type Rows = (Vec<String>, Vec<Vec<Json>>);

/// Why a query gave no rows.
enum SqlError {
    /// The destination was refused before connecting: reported as is.
    Refused(String),
    /// The connection or the query failed.
    Query(String),
}

impl From<String> for SqlError {
    fn from(text: String) -> Self {
        Self::Query(text)
    }
}

/// A database URL, split as SQLAlchemy reads it.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    /// A SQLite file path (`None`: in memory).
    Sqlite(Option<String>),
    Postgres(String),
}

fn parse_target(raw: &str) -> Result<Target, String> {
    let raw = raw.trim();
    let Some((scheme, rest)) = raw.split_once("://") else {
        return Err(format!("Could not parse SQLAlchemy URL from string '{raw}'"));
    };
    let dialect = scheme.split('+').next().unwrap_or_default().to_ascii_lowercase();
    match dialect.as_str() {
        "sqlite" => {
            let path = rest.strip_prefix('/').unwrap_or(rest);
            let path = path.split('?').next().unwrap_or_default();
            Ok(Target::Sqlite((!path.is_empty() && path != ":memory:").then(|| path.to_owned())))
        }
        "postgresql" | "postgres" => Ok(Target::Postgres(format!("postgresql://{rest}"))),
        other => Err(format!("Can't load plugin: sqlalchemy.dialects:{other} (supported here: sqlite, postgresql)")),
    }
}

fn refused_host(host: &str, ips: &[String]) -> String {
    format!(
        "Hostname {host} resolves to blocked IP address(es): {}. To allow this hostname, add it to \
         {ALLOWED_HOSTS_SETTING} environment variable.",
        ips.join(", ")
    )
}

/// Checks a network database host against the address policy; gives the address to connect to.
async fn checked_address(ctx: &ComponentContext, host: &str, port: u16) -> Result<std::net::IpAddr, String> {
    let policy = ctx.llm().outbound_policy();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<std::net::IpAddr>() {
        let url = reqwest::Url::parse(&format!("http://{host}/")).map_err(|e| e.to_string())?;
        return match policy.check_url(&url) {
            Ok(()) => Ok(ip),
            Err(_) => Err(refused_host(host, &[ip.to_string()])),
        };
    }
    let refused = web::refused_addresses(policy, bare, port).await?;
    if !refused.is_empty() && policy.enabled() {
        return Err(refused_host(host, &refused));
    }
    let addrs: Vec<std::net::SocketAddr> =
        tokio::net::lookup_host((bare, port)).await.map_err(|e| e.to_string())?.collect();
    addrs
        .iter()
        .map(std::net::SocketAddr::ip)
        .find(|ip| !refused.contains(&ip.to_string()))
        .ok_or_else(|| format!("could not translate host name \"{host}\" to address"))
}

fn sqlite_value(v: rusqlite::types::ValueRef<'_>) -> Json {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => Json::Null,
        ValueRef::Integer(i) => Json::from(i),
        ValueRef::Real(f) => serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number),
        ValueRef::Text(t) => Json::String(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Json::String(String::from_utf8_lossy(b).into_owned()),
    }
}

fn too_many_rows(max: usize) -> String {
    format!("The query returned more than {max} rows (FLOWACTOR_SQL_MAX_ROWS)")
}

/// Runs one query on SQLite (blocking; called on a blocking thread).
fn run_sqlite(path: Option<&str>, query: &str, max_rows: usize, timeout: Duration) -> Result<Rows, String> {
    let conn = match path {
        Some(p) => rusqlite::Connection::open_with_flags(
            p,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
                | rusqlite::OpenFlags::SQLITE_OPEN_CREATE
                | rusqlite::OpenFlags::SQLITE_OPEN_URI,
        ),
        None => rusqlite::Connection::open_in_memory(),
    }
    .map_err(|e| format!("(sqlite3.OperationalError) {e}"))?;
    let deadline = Instant::now() + timeout;
    conn.progress_handler(1000, Some(move || Instant::now() > deadline))
        .map_err(|e| format!("(sqlite3.OperationalError) {e}"))?;
    let mut stmt = conn.prepare(query).map_err(|e| format!("(sqlite3.OperationalError) {e}"))?;
    let columns: Vec<String> = stmt.column_names().iter().map(|c| (*c).to_owned()).collect();
    let mut rows = stmt.query([]).map_err(|e| format!("(sqlite3.OperationalError) {e}"))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(|e| {
        if Instant::now() > deadline {
            format!("the query ran longer than {} seconds (FLOWACTOR_SQL_TIMEOUT_SECONDS)", timeout.as_secs())
        } else {
            format!("(sqlite3.OperationalError) {e}")
        }
    })? {
        if out.len() == max_rows {
            return Err(too_many_rows(max_rows));
        }
        let mut cells = Vec::with_capacity(columns.len());
        for i in 0..columns.len() {
            cells.push(r.get_ref(i).map(sqlite_value).unwrap_or(Json::Null));
        }
        out.push(cells);
    }
    Ok((columns, out))
}

async fn run_postgres(
    ctx: &ComponentContext,
    url: &str,
    query: &str,
    max_rows: usize,
    timeout: Duration,
) -> Result<Rows, SqlError> {
    use futures_util::{pin_mut, TryStreamExt};

    let mut config: tokio_postgres::Config =
        url.parse().map_err(|e| SqlError::Query(format!("(psycopg2.ProgrammingError) {e}")))?;
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let ip = checked_address(ctx, &host, port).await.map_err(SqlError::Refused)?;
    config.hostaddr(ip).connect_timeout(Duration::from_secs(10));
    let work = async {
        let (client, connection) =
            config.connect(tokio_postgres::NoTls).await.map_err(|e| format!("(psycopg2.OperationalError) {e}"))?;
        let conn = tokio::spawn(connection);
        let result: Result<Rows, String> = async {
            let stmt = client.prepare(query).await.map_err(|e| format!("(psycopg2.errors) {e}"))?;
            let columns: Vec<String> = stmt.columns().iter().map(|c| c.name().to_owned()).collect();
            let stream =
                client.query_raw(&stmt, Vec::<String>::new()).await.map_err(|e| format!("(psycopg2.errors) {e}"))?;
            pin_mut!(stream);
            let mut out = Vec::new();
            while let Some(row) = stream.try_next().await.map_err(|e| format!("(psycopg2.errors) {e}"))? {
                if out.len() == max_rows {
                    return Err(too_many_rows(max_rows));
                }
                out.push((0..columns.len()).map(|i| pg_value(&row, i)).collect());
            }
            Ok((columns, out))
        }
        .await;
        drop(client);
        conn.abort();
        result
    };
    tokio::time::timeout(timeout, work)
        .await
        .unwrap_or_else(|_| {
            Err(format!("the query ran longer than {} seconds (FLOWACTOR_SQL_TIMEOUT_SECONDS)", timeout.as_secs()))
        })
        .map_err(SqlError::Query)
}

fn pg_value(row: &tokio_postgres::Row, i: usize) -> Json {
    use tokio_postgres::types::Type;
    let ty = row.columns()[i].type_().clone();
    macro_rules! get {
        ($t:ty) => {
            row.try_get::<_, Option<$t>>(i).ok().flatten()
        };
    }
    match ty {
        Type::BOOL => get!(bool).map_or(Json::Null, Json::Bool),
        Type::INT2 => get!(i16).map_or(Json::Null, Json::from),
        Type::INT4 => get!(i32).map_or(Json::Null, Json::from),
        Type::INT8 => get!(i64).map_or(Json::Null, Json::from),
        Type::FLOAT4 => get!(f32).map_or(Json::Null, |f| Json::from(f64::from(f))),
        Type::FLOAT8 => get!(f64).map_or(Json::Null, Json::from),
        Type::JSON | Type::JSONB => get!(Json).unwrap_or(Json::Null),
        _ => get!(String).map_or(Json::Null, Json::String),
    }
}

impl Component for SqlDatabase {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        Box::pin(async move {
            let a = ctx.args(inputs);
            let url = a.text(&DATABASE_URL).into_owned();
            let query = a.text(&QUERY).into_owned();
            let include_columns = a.bool(&INCLUDE_COLUMNS);
            let add_error = a.bool(&ADD_ERROR);
            let settings = ctx.tools();
            if url.trim().is_empty() {
                return Err(ComponentError::failed("Database URL is required."));
            }
            let target = parse_target(&url).map_err(ComponentError::Failed)?;
            let (max_rows, timeout) = (settings.sql_max_rows, settings.sql_timeout);
            let result = match target {
                Target::Sqlite(_) if settings.restrict_local_file_access => {
                    return Err(ComponentError::failed(
                        "Database dialect 'sqlite' accesses the local filesystem and is not permitted \
                         (LANGFLOW_RESTRICT_LOCAL_FILE_ACCESS=true). Use a network database (e.g. postgresql, mysql).",
                    ));
                }
                Target::Sqlite(path) => {
                    let work =
                        tokio::task::spawn_blocking(move || run_sqlite(path.as_deref(), &query, max_rows, timeout));
                    tokio::select! {
                        r = work => r.unwrap_or_else(|e| Err(format!("the query failed: {e}"))).map_err(SqlError::Query),
                        () = ctx.cancel_token().cancelled() => return Err(ComponentError::Cancelled),
                    }
                }
                Target::Postgres(u) => tokio::select! {
                    r = run_postgres(ctx, &u, &query, max_rows, timeout) => r,
                    () = ctx.cancel_token().cancelled() => return Err(ComponentError::Cancelled),
                },
            };
            let rows: Vec<Map<String, Json>> = match result {
                Ok((columns, rows)) => rows
                    .into_iter()
                    .map(|cells| {
                        let names: Box<dyn Iterator<Item = String>> = if include_columns {
                            Box::new(columns.iter().cloned())
                        } else {
                            Box::new((0..columns.len()).map(|i| i.to_string()))
                        };
                        names.zip(cells).collect()
                    })
                    .collect(),
                Err(SqlError::Refused(e)) => return Err(ComponentError::Failed(e)),
                Err(SqlError::Query(e)) => {
                    let msg = format!("An error occurred while running the SQL Query: {e}");
                    if !add_error {
                        return Err(ComponentError::Failed(msg));
                    }
                    let mut row = Map::new();
                    row.insert("error".into(), Json::String(msg));
                    vec![row]
                }
            };
            Ok(Outputs::one(&RUN_SQL_QUERY, Value::DataFrame(Arc::new(rows))))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_read_as_sqlalchemy_does() {
        assert_eq!(parse_target("sqlite:///app.db"), Ok(Target::Sqlite(Some("app.db".into()))));
        assert_eq!(parse_target("sqlite:////tmp/app.db"), Ok(Target::Sqlite(Some("/tmp/app.db".into()))));
        assert_eq!(parse_target("sqlite://"), Ok(Target::Sqlite(None)));
        assert_eq!(
            parse_target("postgresql+psycopg2://u:p@db:5432/x"),
            Ok(Target::Postgres("postgresql://u:p@db:5432/x".into()))
        );
        assert!(parse_target("mysql://x").is_err());
        assert!(parse_target("nonsense").is_err());
    }
}
