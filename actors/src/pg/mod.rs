//! PostgreSQL, the shared database for several instances (`LANGFLOW_DATABASE_URL=postgresql://…`).
//!
//! [`Pg`] is a bounded connection pool (r2d2) with connect and statement timeouts; its schema is
//! versioned SQL in `migrations/`, applied by refinery at start-up (and by `flowactor migrate`)
//! under an advisory lock so that instances starting together do not race.
//!
//! The store traits are synchronous and their owners run them on the registry actor's thread or
//! the blocking pool. The synchronous `postgres` client drives its own small runtime and must not
//! be called from inside another one, so [`Pg::with`] runs each round trip on a plain thread when
//! the caller is on a runtime thread (the registry's arbiter): the caller waits, but no runtime
//! is re-entered, and HTTP workers never make these calls.

pub mod identity;

use std::time::Duration;

use postgres::error::SqlState;
use postgres::NoTls;
use r2d2_postgres::PostgresConnectionManager;

mod embedded {
    refinery::embed_migrations!("src/pg/migrations");
}

/// The schemes `LANGFLOW_DATABASE_URL` accepts.
pub const SCHEMES: [&str; 2] = ["postgresql://", "postgres://"];

/// An arbitrary constant identifying flowactor's migration lock among advisory locks.
const MIGRATION_LOCK: i64 = 0x666c_6f77_6163_7472;

#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("invalid database URL: {0}")]
    Url(String),
    #[error("PostgreSQL: {0}")]
    Db(#[from] postgres::Error),
    #[error("PostgreSQL connection pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("PostgreSQL migration failed: {0}")]
    Migrate(#[from] refinery::Error),
    #[error("stored record is unreadable: {0}")]
    Codec(#[from] crate::codec::CodecError),
    #[error("the database worker threads have stopped")]
    Stopped,
}

impl PgError {
    /// Is this a unique-constraint violation (another writer took the name first)?
    #[must_use]
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Self::Db(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION))
    }

    /// The constraint a database error names, if any.
    #[must_use]
    pub fn constraint(&self) -> Option<&str> {
        match self {
            Self::Db(e) => e.as_db_error().and_then(|d| d.constraint()),
            _ => None,
        }
    }
}

/// Pool and timeout settings.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Most connections this instance opens.
    pub pool_size: u32,
    /// How long connecting, or waiting for a free pooled connection, may take.
    pub connect_timeout: Duration,
    /// Server-side limit on one statement (`statement_timeout`); zero means none.
    pub statement_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self { pool_size: 10, connect_timeout: Duration::from_secs(30), statement_timeout: Duration::from_secs(30) }
    }
}

/// Refuses anything but a PostgreSQL URL, naming the schemes that are.
///
/// # Errors
/// A message for the user: `sqlite://` (Langflow's default) and every other scheme.
pub fn check_url(url: &str) -> Result<(), String> {
    if SCHEMES.iter().any(|s| url.starts_with(s)) {
        return Ok(());
    }
    let scheme = url.split_once("://").map_or("", |(s, _)| s);
    let supported = "postgresql:// or postgres:// (PostgreSQL), or leave it unset for the embedded database";
    if scheme.starts_with("sqlite") {
        Err(format!("SQLite is not supported; use {supported}"))
    } else if scheme.is_empty() {
        Err(format!("not a database URL; use {supported}"))
    } else {
        Err(format!("the scheme {scheme}:// is not supported; use {supported}"))
    }
}

/// A pool of connections to one PostgreSQL database. Cheap to clone.
#[derive(Clone)]
pub struct Pg {
    pool: r2d2::Pool<PostgresConnectionManager<NoTls>>,
    workers: Workers,
}

impl Pg {
    /// Connects (at least one connection must open within the timeout) without migrating.
    ///
    /// # Errors
    /// A URL the client cannot parse, or no connection within the timeout.
    pub fn connect(url: &str, options: &PgOptions) -> Result<Self, PgError> {
        check_url(url).map_err(PgError::Url)?;
        let mut config: postgres::Config = url.parse().map_err(|e: postgres::Error| PgError::Url(e.to_string()))?;
        config.connect_timeout(options.connect_timeout);
        if !options.statement_timeout.is_zero() {
            config.options(&format!("-c statement_timeout={}", options.statement_timeout.as_millis()));
        }
        config.application_name("flowactor");
        let manager = PostgresConnectionManager::new(config, NoTls);
        let pool = off_runtime(|| {
            r2d2::Pool::builder()
                .max_size(options.pool_size.max(1))
                .min_idle(Some(1))
                // A broken connection is noticed by the client itself; no extra round trip per checkout.
                .test_on_check_out(false)
                .connection_timeout(options.connect_timeout)
                .build(manager)
        })?;
        Ok(Self { pool, workers: Workers::start(options.pool_size) })
    }

    /// Connects and applies every pending migration.
    ///
    /// # Errors
    /// See [`Pg::connect`] and [`Pg::migrate`].
    pub fn open(url: &str, options: &PgOptions) -> Result<Self, PgError> {
        let pg = Self::connect(url, options)?;
        pg.migrate()?;
        Ok(pg)
    }

    /// Applies pending migrations (under an advisory lock); answers the versions applied now.
    ///
    /// # Errors
    /// Connection or migration failures.
    pub fn migrate(&self) -> Result<Vec<String>, PgError> {
        self.with(|c| {
            c.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])?;
            let report = embedded::migrations::runner().run(c);
            c.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])?;
            Ok(report?.applied_migrations().iter().map(ToString::to_string).collect())
        })
    }

    /// Runs `f` with a pooled connection, off any runtime thread (see the module docs).
    ///
    /// # Errors
    /// No free connection within the timeout, or whatever `f` answers.
    pub fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut postgres::Client) -> Result<T, PgError> + Send + 'static,
    ) -> Result<T, PgError> {
        let pool = self.pool.clone();
        let job = move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        };
        if tokio::runtime::Handle::try_current().is_err() {
            return job();
        }
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.workers.send(Box::new(move || {
            let _ = tx.send(job());
        }));
        rx.recv().unwrap_or(Err(PgError::Stopped))
    }

    /// Runs `f` in one transaction, committed before this returns.
    ///
    /// # Errors
    /// As [`Pg::with`]; the transaction is rolled back on any error.
    pub fn transaction<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut postgres::Transaction<'_>) -> Result<T, PgError> + Send + 'static,
    ) -> Result<T, PgError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let value = f(&mut tx)?;
            tx.commit()?;
            Ok(value)
        })
    }
}

/// An owned query parameter (round trips may run on a worker thread).
pub type Param = Box<dyn postgres::types::ToSql + Send + Sync>;

/// Borrows owned parameters the way the client takes them.
#[must_use]
pub fn param_refs(params: &[Param]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    params.iter().map(|p| &**p as &(dyn postgres::types::ToSql + Sync)).collect()
}

/// `params![a, b]`: owned [`Param`]s.
#[macro_export]
macro_rules! pg_params {
    ($($p:expr),* $(,)?) => {
        vec![$(Box::new($p) as $crate::pg::Param),*]
    };
}

type Job = Box<dyn FnOnce() + Send>;

/// Plain threads (no runtime) that run round trips for callers on runtime threads: as many as
/// the pool has connections, started once, so a call costs a channel hand-off, not a thread.
#[derive(Clone)]
struct Workers {
    jobs: std::sync::mpsc::Sender<Job>,
}

impl Workers {
    fn start(count: u32) -> Self {
        let (jobs, rx) = std::sync::mpsc::channel::<Job>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for i in 0..count.max(1) {
            let rx = std::sync::Arc::clone(&rx);
            let spawned = std::thread::Builder::new().name(format!("pg-{i}")).spawn(move || loop {
                let job = match rx.lock() {
                    Ok(guard) => guard.recv(),
                    Err(_) => return,
                };
                match job {
                    Ok(job) => job(),
                    Err(_) => return,
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a database worker thread");
            }
        }
        Self { jobs }
    }

    fn send(&self, job: Job) {
        // A send fails only when every worker is gone; the caller then sees its reply dropped.
        let _ = self.jobs.send(job);
    }
}

/// Runs `f` here, or on a scoped thread when this thread is inside a tokio runtime (only while
/// connecting, before the workers exist).
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|s| match s.spawn(f).join() {
        Ok(v) => v,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// Creates a new, empty database beside the one `url` names and answers its URL (tests give
/// every server its own database on one cluster).
///
/// # Errors
/// Connection failures, or a refused `CREATE DATABASE`.
pub fn create_database(url: &str, name: &str) -> Result<String, PgError> {
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(PgError::Url(format!("unsafe database name {name}")));
    }
    let options = PgOptions { pool_size: 1, ..PgOptions::default() };
    let admin = Pg::connect(url, &options)?;
    let sql = format!("CREATE DATABASE {name}");
    admin.with(move |c| Ok(c.batch_execute(&sql)?))?;
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let root = match base[authority_end..].find('/') {
        Some(i) => &base[..authority_end + i],
        None => base,
    };
    Ok(match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    })
}

/// The URL of a scratch database for tests, from `FLOWACTOR_TEST_DATABASE_URL`; `None` (with a
/// note on stderr naming `test`) when that is unset, so PostgreSQL-only tests skip.
#[must_use]
pub fn test_database(test: &str) -> Option<String> {
    let Ok(url) = std::env::var("FLOWACTOR_TEST_DATABASE_URL") else {
        eprintln!("skipping {test}: FLOWACTOR_TEST_DATABASE_URL is not set (PostgreSQL only)");
        return None;
    };
    let name = format!("flowactor_test_{}", uuid::Uuid::new_v4().simple());
    match create_database(&url, &name) {
        Ok(url) => Some(url),
        Err(e) => panic!("cannot create a test database on FLOWACTOR_TEST_DATABASE_URL: {e}"),
    }
}
