//! The records of the flow store and the client inputs that change them.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::FlowError;
use crate::clock::Micros;
use crate::codec::{self, CodecError};

/// Langflow's `access_type`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum AccessType {
    #[default]
    Private,
    Public,
}

impl AccessType {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Private => "PRIVATE",
            Self::Public => "PUBLIC",
        }
    }

    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "PRIVATE" => Some(Self::Private),
            "PUBLIC" => Some(Self::Public),
            _ => None,
        }
    }
}

/// A stored flow.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FlowRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    pub folder_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub icon: Option<String>,
    pub icon_bg_color: Option<String>,
    pub gradient: Option<String>,
    /// The flow document as canonical JSON text; `None` is JSON `null`.
    pub data: Option<String>,
    /// BLAKE3 of the canonical bytes of `data` (`null` when there is none).
    pub content_hash: [u8; 32],
    pub is_component: bool,
    /// True when a node is a Webhook component (server-computed).
    pub webhook: bool,
    pub endpoint_name: Option<String>,
    pub tags: Vec<String>,
    pub locked: bool,
    pub mcp_enabled: bool,
    pub action_name: Option<String>,
    pub action_description: Option<String>,
    pub access_type: AccessType,
    pub created_at: Micros,
    pub updated_at: Micros,
}

impl FlowRecord {
    /// The flow document as a JSON value (`Null` when there is none).
    ///
    /// # Errors
    /// Only if the stored text is corrupt.
    pub fn data_value(&self) -> Result<Value, FlowError> {
        match &self.data {
            None => Ok(Value::Null),
            Some(text) => serde_json::from_str(text).map_err(|e| FlowError::Codec(CodecError::Decode(e.to_string()))),
        }
    }

    /// Entity tag of everything a reader sees: BLAKE3 of the encoded record, in hex.
    ///
    /// # Errors
    /// Only if the record cannot be encoded.
    pub fn etag(&self) -> Result<String, FlowError> {
        Ok(blake3::hash(&codec::encode(self)?).to_hex().to_string())
    }
}

/// A stored project (Langflow's folder).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProjectRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    /// MCP auth settings as JSON text.
    pub auth_settings: Option<String>,
    pub parent_id: Option<Uuid>,
    pub created_at: Micros,
    pub updated_at: Micros,
}

/// Flow fields from a client. `None` means "not given"; for PATCH-like updates only given fields
/// change. `endpoint_name: Some(None)` clears the endpoint name.
#[derive(Debug, Clone, Default)]
pub struct FlowInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub icon: Option<String>,
    pub icon_bg_color: Option<String>,
    pub gradient: Option<String>,
    /// `Some(Value::Null)` stores no document on create and changes nothing on update.
    pub data: Option<Value>,
    pub is_component: Option<bool>,
    pub endpoint_name: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub locked: Option<bool>,
    pub mcp_enabled: Option<bool>,
    pub action_name: Option<String>,
    pub action_description: Option<String>,
    pub access_type: Option<AccessType>,
    pub folder_id: Option<Uuid>,
}

/// Project fields for creation.
#[derive(Debug, Clone, Default)]
pub struct NewProject {
    pub name: String,
    pub description: Option<String>,
    pub auth_settings: Option<String>,
    pub parent_id: Option<Uuid>,
}

/// Project fields a PATCH may change (`None`: unchanged).
#[derive(Debug, Clone, Default)]
pub struct ProjectPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub auth_settings: Option<String>,
    pub parent_id: Option<Uuid>,
}

/// `If-Match` as the store evaluates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: any current version.
    Any,
    /// Entity tags (hex, unquoted); one must equal the current tag.
    Tags(Vec<String>),
}

impl IfMatch {
    pub(crate) fn check(&self, current: Option<&FlowRecord>) -> Result<(), FlowError> {
        let Some(rec) = current else { return Err(FlowError::Precondition) };
        match self {
            Self::Any => Ok(()),
            Self::Tags(tags) => {
                let tag = rec.etag()?;
                if tags.contains(&tag) {
                    Ok(())
                } else {
                    Err(FlowError::Precondition)
                }
            }
        }
    }
}
