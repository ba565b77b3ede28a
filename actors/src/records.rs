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
