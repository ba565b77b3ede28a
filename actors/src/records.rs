//! Identity records as they are stored (through [`crate::codec`]) and handed to the HTTP front.
//! JSON views live in the HTTP crate; these types carry no wire formatting.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::Micros;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct UserRecord {
    pub id: Uuid,
    pub username: String,
    /// argon2id PHC string.
    pub password_hash: String,
    pub profile_image: Option<String>,
    pub is_active: bool,
    pub is_superuser: bool,
    pub create_at: Micros,
    pub updated_at: Micros,
    pub last_login_at: Option<Micros>,
    /// Langflow's `optins` JSON object, kept as text (the codec is not self-describing).
    pub optins: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: Option<String>,
    /// Keyed BLAKE3 hash of the key; the plaintext is never stored.
    pub hash: [u8; 32],
    /// The first 8 characters (`sk-` + 5), enough to recognise a key in a listing.
    pub visible_prefix: String,
    pub key_len: u16,
    pub created_at: Micros,
    pub expires_at: Option<Micros>,
    pub is_active: bool,
    pub total_uses: u64,
    pub last_used_at: Option<Micros>,
    /// What the key may do; the default is a full-privilege key (Langflow's keys).
    pub policy: KeyPolicy,
}

/// A permission an API key can be limited to.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Run and stream flows: `/run`, `/build` and its events, cancel, webhooks.
    Run,
    /// GET routes.
    Read,
    /// Create and change flows, projects, variables, files, messages, one's own profile.
    Write,
    /// Manage API keys.
    Keys,
    /// Superuser routes (effective only while the owner is a superuser).
    Admin,
}

impl Scope {
    pub const ALL: [Self; 5] = [Self::Run, Self::Read, Self::Write, Self::Keys, Self::Admin];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Run => "run",
            Self::Read => "read",
            Self::Write => "write",
            Self::Keys => "keys",
            Self::Admin => "admin",
        }
    }

    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// An API key's restrictions. `scopes: None` is a full key (everything its owner may do);
/// `flow_ids` / `endpoint_names` (either non-empty) limit `run` to the flows they name;
/// `rate_limit_per_minute` caps the requests the key authenticates.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyPolicy {
    pub scopes: Option<Vec<Scope>>,
    pub flow_ids: Vec<Uuid>,
    pub endpoint_names: Vec<String>,
    pub rate_limit_per_minute: Option<u32>,
}

impl KeyPolicy {
    /// Holds `scope` (a full key holds every scope).
    #[must_use]
    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.as_ref().is_none_or(|s| s.contains(&scope))
    }

    /// `run` is limited to the flows named by id or endpoint name.
    #[must_use]
    pub fn restricts_flows(&self) -> bool {
        !self.flow_ids.is_empty() || !self.endpoint_names.is_empty()
    }

    /// May the key run the flow with this id and endpoint name?
    #[must_use]
    pub fn allows_flow(&self, id: Uuid, endpoint_name: Option<&str>) -> bool {
        !self.restricts_flows()
            || self.flow_ids.contains(&id)
            || endpoint_name.is_some_and(|n| self.endpoint_names.iter().any(|e| e == n))
    }

    /// Grants nothing beyond `other` (what a scoped key may hand to a key it creates or rotates).
    #[must_use]
    pub fn within(&self, other: &Self) -> bool {
        let scopes = match (&self.scopes, &other.scopes) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some(mine), Some(theirs)) => mine.iter().all(|s| theirs.contains(s)),
        };
        let flows = !other.restricts_flows()
            || (self.restricts_flows()
                && self.flow_ids.iter().all(|f| other.flow_ids.contains(f))
                && self.endpoint_names.iter().all(|n| other.endpoint_names.contains(n)));
        let rate = match (self.rate_limit_per_minute, other.rate_limit_per_minute) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some(mine), Some(theirs)) => mine <= theirs,
        };
        scopes && flows && rate
    }
}

impl ApiKeyRecord {
    /// True when the key may authenticate at `now`.
    #[must_use]
    pub fn usable_at(&self, now: Micros) -> bool {
        self.is_active && self.expires_at.is_none_or(|t| t > now)
    }
}

/// What an authenticated API key grants: its owner, plus what the HTTP front needs to cache the
/// answer safely (the key's id for usage counting, its expiry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyGrant {
    pub user: UserRecord,
    pub key_id: Uuid,
    pub expires_at: Option<Micros>,
    pub policy: KeyPolicy,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum VariableKind {
    Generic,
    Credential,
}

impl VariableKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Generic => "Generic",
            Self::Credential => "Credential",
        }
    }

    /// Parses Langflow's type names; `None` means "not a type we know".
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "Generic" | "generic" => Some(Self::Generic),
            "Credential" | "credential" => Some(Self::Credential),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum StoredValue {
    Plain(String),
    /// Nonce + AEAD ciphertext (see [`crate::crypto::Secrets::seal`]).
    Sealed(Vec<u8>),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct VariableRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub kind: VariableKind,
    pub value: StoredValue,
    pub default_fields: Vec<String>,
    pub created_at: Micros,
    pub updated_at: Micros,
}

impl VariableRecord {
    /// Associated data binding a sealed value to its owner and record.
    #[must_use]
    pub fn seal_context(user_id: Uuid, id: Uuid) -> Vec<u8> {
        let mut ctx = user_id.as_bytes().to_vec();
        ctx.extend_from_slice(id.as_bytes());
        ctx
    }
}
