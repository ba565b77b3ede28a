//! `RegistryActor`: the single owner of identity state (users, API keys, global variables).
//!
//! The HTTP front and the CLI ask it questions ("who is this key?", "create a user") as actix
//! messages; nothing else reads or writes the identity trees. Fast lookups are answered inline on
//! the actor's thread; argon2 work runs on the blocking pool; every acknowledged write waits for
//! [`Store::durable`] so it survives a crash. Multi-record changes are sled transactions.
//!
//! The actor holds an [`IdentityRepo`], the synchronous core with every rule; [`Registry`] in
//! [`sled`] is its implementation on the embedded database, so another database can be put
//! behind the actor without touching the HTTP front. The actor runs on its own arbiter, never on
//! an HTTP worker thread, and its mailbox serialises the writes: the same ownership model as the
//! flow store (see [`crate::store::flows`]). Reads go through the actor too, unlike flows; the
//! actor also stores the API-key uses the HTTP front buffers (see [`crate::usage`]).

mod repo;
pub mod sled;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use uuid::Uuid;

use crate::clock::Micros;
use crate::crypto::Secrets;
use crate::error::RegistryError;
use crate::records::{ApiKeyRecord, KeyGrant, KeyPolicy, UserRecord, VariableKind, VariableRecord};
use crate::store::Store;
use crate::usage::{KeyUsage, UsageBuffer};

pub use self::sled::users::{UserPatch, MAX_PASSWORD_LEN, MAX_USERNAME_LEN};
pub use self::sled::variables::VariablePatch;
pub use self::sled::Registry;
pub use repo::{IdentityRepo, KeyRepo, UserRepo, VariableRepo};

/// Default interval between flushes of buffered API-key usage (`FLOWACTOR_KEY_USAGE_FLUSH_MS`).
pub const DEFAULT_USAGE_FLUSH: Duration = Duration::from_secs(1);

/// A counter the registry bumps on every identity write, before it answers. Callers that
/// cache authentication answers keep the epoch they read *before* asking and trust an entry only
/// while the epoch is unchanged, so a revoked key or deactivated user fails on the very next
/// request even through a cache.
///
/// With a database that several instances share, another instance's writes bump nothing here:
/// [`AuthEpoch::shared`] makes every read a new epoch, so no cached answer is ever trusted and
/// every request asks the database.
#[derive(Debug, Clone, Default)]
pub struct AuthEpoch(Arc<AtomicU64>, bool);

impl AuthEpoch {
    /// An epoch for a database other instances also write (caching off).
    #[must_use]
    pub fn shared() -> Self {
        Self(Arc::default(), true)
    }

    #[must_use]
    pub fn current(&self) -> u64 {
        if self.1 {
            return self.0.fetch_add(1, Ordering::AcqRel).wrapping_add(1);
        }
        self.0.load(Ordering::Acquire)
    }

    fn bump(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

/// Behaviour switches the registry needs from the settings.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// `LANGFLOW_DISABLE_TRACK_APIKEY_USAGE` inverted; uses are counted by the
    /// [`UsageBuffer`] given to [`RegistryActor::with_usage`], which is built from it.
    pub track_key_usage: bool,
    /// Bumped on every identity write (see [`AuthEpoch`]).
    pub epoch: AuthEpoch,
}

/// The actor that owns an [`IdentityRepo`] (by default the sled [`Registry`]).
pub struct RegistryActor {
    inner: Box<dyn IdentityRepo>,
    /// API-key uses recorded by the HTTP front, stored every `usage_flush` (see [`crate::usage`]).
    usage: UsageBuffer,
    usage_flush: Duration,
}

impl RegistryActor {
    #[must_use]
    pub fn new(store: Store, secrets: Secrets, options: RegistryOptions) -> Self {
        Self::with_repo(Box::new(Registry::new(store, secrets, options)))
    }

    /// The actor around any identity store.
    #[must_use]
    pub fn with_repo(inner: Box<dyn IdentityRepo>) -> Self {
        Self { inner, usage: UsageBuffer::new(false), usage_flush: DEFAULT_USAGE_FLUSH }
    }

    /// Stores the uses `usage` buffers every `flush_every` and when the actor stops.
    #[must_use]
    pub fn with_usage(mut self, usage: UsageBuffer, flush_every: Duration) -> Self {
        self.usage = usage;
        self.usage_flush = flush_every.max(Duration::from_millis(1));
        self
    }

    /// Writes the buffered uses in one write; a failed batch goes back to the buffer, so the
    /// next flush retries it. The stored state and the buffer change within this one actor
    /// turn, so readers (also actor messages) never see a use twice or not at all.
    fn flush_usage(&mut self) -> Result<(), RegistryError> {
        let batch = self.usage.take();
        if batch.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.inner.write_usage(&batch) {
            self.usage.restore(batch);
            return Err(e);
        }
        Ok(())
    }

    /// Stored plus buffered usage of every key of a user.
    fn live_usage(&self, user_id: Uuid) -> Result<HashMap<Uuid, KeyUsage>, RegistryError> {
        let mut all = self.inner.user_key_usage(user_id)?;
        for (key_id, usage) in &mut all {
            if let Some(pending) = self.usage.peek(*key_id) {
                usage.merge(&pending);
            }
        }
        Ok(all)
    }

    /// Answers a write: the result is returned only once it is on disk.
    fn durable<T: 'static>(&self, result: Result<T, RegistryError>) -> ResponseFuture<Result<T, RegistryError>> {
        let durable = self.inner.durable();
        Box::pin(async move {
            let value = result?;
            durable.await?;
            Ok(value)
        })
    }
}

impl Actor for RegistryActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(4096);
        ctx.run_interval(self.usage_flush, |act, ctx| match act.flush_usage() {
            // Made durable at once rather than at the store's next background flush.
            Ok(()) => {
                let durable = act.inner.durable();
                ctx.spawn(fut::wrap_future(async move {
                    if let Err(e) = durable.await {
                        tracing::warn!(error = %e, "could not make API key usage durable");
                    }
                }));
            }
            Err(e) => tracing::warn!(error = %e, "could not store API key usage"),
        });
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        if let Err(e) = self.flush_usage() {
            tracing::warn!(error = %e, "could not store API key usage at shutdown");
        }
        let _ = self.inner.flush();
    }
}

/// Runs slow CPU work (argon2) on the runtime's blocking pool.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, RegistryError> {
    tokio::task::spawn_blocking(f).await.map_err(|_| RegistryError::Unavailable)
}

// ----------------------------------------------------------------------------------------------
// Messages. Each answers `Result<_, RegistryError>`.

/// Is the database readable? (`/health_check`)
#[derive(Debug, Message)]
#[rtype(result = "Result<(), RegistryError>")]
pub struct Ping;

/// A user by id (JWT subject lookup).
#[derive(Debug, Message)]
#[rtype(result = "Result<Option<UserRecord>, RegistryError>")]
pub struct GetUser {
    pub id: Uuid,
}

/// A user by exact username.
#[derive(Debug, Message)]
#[rtype(result = "Result<Option<UserRecord>, RegistryError>")]
pub struct FindUser {
    pub username: String,
}

/// The oldest superuser, if any.
#[derive(Debug, Message)]
#[rtype(result = "Result<Option<UserRecord>, RegistryError>")]
pub struct FirstSuperuser;

/// Creates a user; the password is hashed off-thread.
#[derive(Message)]
#[rtype(result = "Result<UserRecord, RegistryError>")]
pub struct CreateUser {
    pub username: String,
    pub password: String,
    pub is_active: bool,
    pub is_superuser: bool,
    pub optins: Option<String>,
}

/// Checks a password; on success records `last_login_at`.
#[derive(Message)]
#[rtype(result = "Result<UserRecord, RegistryError>")]
pub struct Login {
    pub username: String,
    pub password: String,
}

/// Sets `last_login_at` (auto-login).
#[derive(Debug, Message)]
#[rtype(result = "Result<UserRecord, RegistryError>")]
pub struct TouchLogin {
    pub id: Uuid,
}

/// Paged, filtered user list: (filtered total, page).
#[derive(Debug, Message)]
#[rtype(result = "Result<(usize, Vec<UserRecord>), RegistryError>")]
pub struct ListUsers {
    pub skip: usize,
    pub limit: usize,
    pub search: Option<String>,
}

/// Applies a PATCH; rules about who may change what are checked by the caller.
#[derive(Message)]
#[rtype(result = "Result<UserRecord, RegistryError>")]
pub struct UpdateUser {
    pub id: Uuid,
    pub patch: UserPatch,
}

/// Changes one's own password after checking the current one.
#[derive(Message)]
#[rtype(result = "Result<UserRecord, RegistryError>")]
pub struct ResetPassword {
    pub id: Uuid,
    pub current_password: String,
    pub new_password: String,
}

/// Deletes a user with their keys and variables in one transaction.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), RegistryError>")]
pub struct DeleteUser {
    pub id: Uuid,
}

/// Creates an API key; answers the record and the plaintext (shown once).
#[derive(Debug, Message)]
#[rtype(result = "Result<(ApiKeyRecord, String), RegistryError>")]
pub struct CreateApiKey {
    pub user_id: Uuid,
    pub name: Option<String>,
    pub expires_at: Option<Micros>,
    pub policy: KeyPolicy,
}

/// The caller's keys, oldest first, with live `total_uses` / `last_used_at`.
#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<ApiKeyRecord>, RegistryError>")]
pub struct ListApiKeys {
    pub user_id: Uuid,
}

/// Revokes one of the caller's keys.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), RegistryError>")]
pub struct DeleteApiKey {
    pub user_id: Uuid,
    pub key_id: Uuid,
}

/// Replaces a key by a new one with the same name; the old one stops at once or after a grace.
#[derive(Debug, Message)]
#[rtype(result = "Result<(ApiKeyRecord, String), RegistryError>")]
pub struct RotateApiKey {
    pub user_id: Uuid,
    pub key_id: Uuid,
    pub grace_seconds: u64,
}

/// Who does this API key belong to?
#[derive(Message)]
#[rtype(result = "Result<KeyGrant, RegistryError>")]
pub struct AuthenticateApiKey {
    pub key: String,
}

/// The caller's keys, oldest first, each with its live usage (stored plus buffered).
#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<(ApiKeyRecord, KeyUsage)>, RegistryError>")]
pub struct ListApiKeyUsage {
    pub user_id: Uuid,
}

/// The live usage of one of the caller's keys (404 for someone else's).
#[derive(Debug, Message)]
#[rtype(result = "Result<KeyUsage, RegistryError>")]
pub struct GetKeyUsage {
    pub user_id: Uuid,
    pub key_id: Uuid,
}

/// Creates a global variable.
#[derive(Message)]
#[rtype(result = "Result<VariableRecord, RegistryError>")]
pub struct CreateVariable {
    pub user_id: Uuid,
    pub name: String,
    pub value: String,
    pub kind: VariableKind,
    pub default_fields: Vec<String>,
}

/// The caller's variables (Langflow's internal `__x__` names excluded).
#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<VariableRecord>, RegistryError>")]
pub struct ListVariables {
    pub user_id: Uuid,
}

/// Patches one of the caller's variables.
#[derive(Message)]
#[rtype(result = "Result<VariableRecord, RegistryError>")]
pub struct UpdateVariable {
    pub user_id: Uuid,
    pub id: Uuid,
    pub patch: VariablePatch,
}

/// Deletes one of the caller's variables.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), RegistryError>")]
pub struct DeleteVariable {
    pub user_id: Uuid,
    pub id: Uuid,
}

/// The plaintext value of a user's variable by name (for components; never for HTTP replies).
#[derive(Debug, Message)]
#[rtype(result = "Result<Option<String>, RegistryError>")]
pub struct ResolveVariable {
    pub user_id: Uuid,
    pub name: String,
}

/// Stores values from the environment as the user's Credential variables (create or replace).
#[derive(Message)]
#[rtype(result = "Result<usize, RegistryError>")]
pub struct SeedCredentials {
    pub user_id: Uuid,
    pub values: Vec<(String, String)>,
}

// ----------------------------------------------------------------------------------------------
// Handlers.

impl Handler<Ping> for RegistryActor {
    type Result = Result<(), RegistryError>;
    fn handle(&mut self, _: Ping, _: &mut Context<Self>) -> Self::Result {
        self.inner.ping()
    }
}

impl Handler<GetUser> for RegistryActor {
    type Result = Result<Option<UserRecord>, RegistryError>;
    fn handle(&mut self, m: GetUser, _: &mut Context<Self>) -> Self::Result {
        self.inner.get_user(m.id)
    }
}

impl Handler<FindUser> for RegistryActor {
    type Result = Result<Option<UserRecord>, RegistryError>;
    fn handle(&mut self, m: FindUser, _: &mut Context<Self>) -> Self::Result {
        self.inner.find_user(&m.username)
    }
}

impl Handler<FirstSuperuser> for RegistryActor {
    type Result = Result<Option<UserRecord>, RegistryError>;
    fn handle(&mut self, _: FirstSuperuser, _: &mut Context<Self>) -> Self::Result {
        self.inner.first_superuser()
    }
}

impl Handler<CreateUser> for RegistryActor {
    type Result = ResponseActFuture<Self, Result<UserRecord, RegistryError>>;
    fn handle(&mut self, m: CreateUser, _: &mut Context<Self>) -> Self::Result {
        if let Err(e) = self::sled::users::validate_new_user(&m.username, &m.password) {
            return Box::pin(fut::ready(Err(e)));
        }
        let password = m.password;
        Box::pin(blocking(move || crate::crypto::hash_password(&password)).into_actor(self).then(
            move |hashed, act, _| {
                let result = hashed
                    .and_then(|h| h.map_err(RegistryError::from))
                    .and_then(|hash| act.inner.insert_user(&m.username, hash, m.is_active, m.is_superuser, m.optins));
                act.durable(result).into_actor(act)
            },
        ))
    }
}

impl Handler<Login> for RegistryActor {
    type Result = ResponseActFuture<Self, Result<UserRecord, RegistryError>>;
    fn handle(&mut self, m: Login, _: &mut Context<Self>) -> Self::Result {
        let found = match self.inner.find_user(&m.username) {
            Ok(found) => found,
            Err(e) => return Box::pin(fut::ready(Err(e))),
        };
        let phc =
            found.as_ref().map_or_else(|| crate::crypto::decoy_password_hash().to_owned(), |u| u.password_hash.clone());
        let password = m.password;
        Box::pin(blocking(move || crate::crypto::verify_password(&password, &phc)).into_actor(self).then(
            move |verified, act, _| {
                let result = verified.and_then(|ok| act.inner.complete_login(found.map(|u| u.id), ok));
                act.durable(result).into_actor(act)
            },
        ))
    }
}

impl Handler<TouchLogin> for RegistryActor {
    type Result = ResponseFuture<Result<UserRecord, RegistryError>>;
    fn handle(&mut self, m: TouchLogin, _: &mut Context<Self>) -> Self::Result {
        let result = self.inner.touch_login(m.id);
        self.durable(result)
    }
}

impl Handler<ListUsers> for RegistryActor {
    type Result = Result<(usize, Vec<UserRecord>), RegistryError>;
    fn handle(&mut self, m: ListUsers, _: &mut Context<Self>) -> Self::Result {
        self.inner.list_users(m.skip, m.limit, m.search.as_deref())
    }
}

impl Handler<UpdateUser> for RegistryActor {
    type Result = ResponseActFuture<Self, Result<UserRecord, RegistryError>>;
    fn handle(&mut self, m: UpdateUser, _: &mut Context<Self>) -> Self::Result {
        let mut patch = m.patch;
        if let Some(pw) = &patch.password {
            if let Err(e) = self::sled::users::validate_password(pw) {
                return Box::pin(fut::ready(Err(e)));
            }
        }
        let password = patch.password.take();
        Box::pin(
            blocking(move || password.map(|p| crate::crypto::hash_password(&p)).transpose()).into_actor(self).then(
                move |hashed, act, _| {
                    let result = hashed
                        .and_then(|h| h.map_err(RegistryError::from))
                        .and_then(|hash| act.inner.update_user(m.id, patch, hash));
                    act.durable(result).into_actor(act)
                },
            ),
        )
    }
}

impl Handler<ResetPassword> for RegistryActor {
    type Result = ResponseActFuture<Self, Result<UserRecord, RegistryError>>;
    fn handle(&mut self, m: ResetPassword, _: &mut Context<Self>) -> Self::Result {
        let user = match self.inner.get_user(m.id) {
            Ok(Some(u)) => u,
            Ok(None) => return Box::pin(fut::ready(Err(RegistryError::NotFound("User not found")))),
            Err(e) => return Box::pin(fut::ready(Err(e))),
        };
        if let Err(e) = self::sled::users::validate_password(&m.new_password) {
            return Box::pin(fut::ready(Err(e)));
        }
        let phc = user.password_hash;
        let (current, new) = (m.current_password, m.new_password);
        Box::pin(
            blocking(move || {
                if !crate::crypto::verify_password(&current, &phc) {
                    return Err(RegistryError::Invalid("Current password is incorrect".into()));
                }
                if crate::crypto::verify_password(&new, &phc) {
                    return Err(RegistryError::Invalid("You can't use your current password".into()));
                }
                crate::crypto::hash_password(&new).map_err(RegistryError::from)
            })
            .into_actor(self)
            .then(move |hashed, act, _| {
                let result = hashed
                    .and_then(|h| h)
                    .and_then(|hash| act.inner.update_user(m.id, UserPatch::default(), Some(hash)));
                act.durable(result).into_actor(act)
            }),
        )
    }
}

impl Handler<DeleteUser> for RegistryActor {
    type Result = ResponseFuture<Result<(), RegistryError>>;
    fn handle(&mut self, m: DeleteUser, _: &mut Context<Self>) -> Self::Result {
        let keys = self.inner.list_api_keys(m.id).unwrap_or_default();
        let result = self.inner.delete_user(m.id);
        if result.is_ok() {
            for k in &keys {
                self.usage.forget(k.id);
            }
        }
        self.durable(result)
    }
}

impl Handler<CreateApiKey> for RegistryActor {
    type Result = ResponseFuture<Result<(ApiKeyRecord, String), RegistryError>>;
    fn handle(&mut self, m: CreateApiKey, _: &mut Context<Self>) -> Self::Result {
        let result = self.inner.create_api_key(m.user_id, m.name, m.expires_at, m.policy);
        self.durable(result)
    }
}

impl Handler<ListApiKeys> for RegistryActor {
    type Result = Result<Vec<ApiKeyRecord>, RegistryError>;
    fn handle(&mut self, m: ListApiKeys, _: &mut Context<Self>) -> Self::Result {
        let mut keys = self.inner.list_api_keys(m.user_id)?;
        let usage = self.live_usage(m.user_id)?;
        for k in &mut keys {
            if let Some(u) = usage.get(&k.id) {
                k.total_uses = u.total_uses;
                k.last_used_at = u.last_used_at;
            }
        }
        Ok(keys)
    }
}

impl Handler<DeleteApiKey> for RegistryActor {
    type Result = ResponseFuture<Result<(), RegistryError>>;
    fn handle(&mut self, m: DeleteApiKey, _: &mut Context<Self>) -> Self::Result {
        let result = self.inner.delete_api_key(m.user_id, m.key_id);
        if result.is_ok() {
            self.usage.forget(m.key_id);
        }
        self.durable(result)
    }
}

impl Handler<RotateApiKey> for RegistryActor {
    type Result = ResponseFuture<Result<(ApiKeyRecord, String), RegistryError>>;
    fn handle(&mut self, m: RotateApiKey, _: &mut Context<Self>) -> Self::Result {
        let result = self.inner.rotate_api_key(m.user_id, m.key_id, m.grace_seconds);
        if result.is_ok() && m.grace_seconds == 0 {
            self.usage.forget(m.key_id);
        }
        self.durable(result)
    }
}

impl Handler<ListApiKeyUsage> for RegistryActor {
    type Result = Result<Vec<(ApiKeyRecord, KeyUsage)>, RegistryError>;
    fn handle(&mut self, m: ListApiKeyUsage, _: &mut Context<Self>) -> Self::Result {
        let keys = self.inner.list_api_keys(m.user_id)?;
        let mut usage = self.live_usage(m.user_id)?;
        Ok(keys
            .into_iter()
            .map(|k| {
                let u = usage.remove(&k.id).unwrap_or_else(|| KeyUsage::legacy(&k));
                (k, u)
            })
            .collect())
    }
}

impl Handler<GetKeyUsage> for RegistryActor {
    type Result = Result<KeyUsage, RegistryError>;
    fn handle(&mut self, m: GetKeyUsage, _: &mut Context<Self>) -> Self::Result {
        let mut usage = self.inner.key_usage(m.user_id, m.key_id)?;
        if let Some(pending) = self.usage.peek(m.key_id) {
            usage.merge(&pending);
        }
        Ok(usage)
    }
}

impl Handler<AuthenticateApiKey> for RegistryActor {
    type Result = Result<KeyGrant, RegistryError>;
    fn handle(&mut self, m: AuthenticateApiKey, _: &mut Context<Self>) -> Self::Result {
        self.inner.authenticate_api_key(&m.key)
    }
}

impl Handler<CreateVariable> for RegistryActor {
    type Result = ResponseFuture<Result<VariableRecord, RegistryError>>;
    fn handle(&mut self, m: CreateVariable, _: &mut Context<Self>) -> Self::Result {
        let result = self.inner.create_variable(m.user_id, &m.name, &m.value, m.kind, m.default_fields);
        self.durable(result)
    }
}

impl Handler<ListVariables> for RegistryActor {
    type Result = Result<Vec<VariableRecord>, RegistryError>;
    fn handle(&mut self, m: ListVariables, _: &mut Context<Self>) -> Self::Result {
        self.inner.list_variables(m.user_id)
    }
}

impl Handler<UpdateVariable> for RegistryActor {
    type Result = ResponseFuture<Result<VariableRecord, RegistryError>>;
    fn handle(&mut self, m: UpdateVariable, _: &mut Context<Self>) -> Self::Result {
        let result = self.inner.update_variable(m.user_id, m.id, m.patch);
        self.durable(result)
    }
}

impl Handler<DeleteVariable> for RegistryActor {
    type Result = ResponseFuture<Result<(), RegistryError>>;
    fn handle(&mut self, m: DeleteVariable, _: &mut Context<Self>) -> Self::Result {
        let result = self.inner.delete_variable(m.user_id, m.id);
        self.durable(result)
    }
}

impl Handler<ResolveVariable> for RegistryActor {
    type Result = Result<Option<String>, RegistryError>;
    fn handle(&mut self, m: ResolveVariable, _: &mut Context<Self>) -> Self::Result {
        self.inner.resolve_variable(m.user_id, &m.name)
    }
}

impl Handler<SeedCredentials> for RegistryActor {
    type Result = ResponseFuture<Result<usize, RegistryError>>;
    fn handle(&mut self, m: SeedCredentials, _: &mut Context<Self>) -> Self::Result {
        let result = self.inner.seed_credentials(m.user_id, m.values);
        self.durable(result)
    }
}
