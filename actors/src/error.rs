//! Errors the registry and store answer with. The HTTP front maps each variant to a status code
//! and Langflow's `detail` text in exactly one place.

use crate::codec::CodecError;
use crate::crypto::CryptoError;

/// Why a login was refused. The distinction matters only after the right password was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefusal {
    /// Unknown username or wrong password (indistinguishable on the wire).
    BadCredentials,
    /// Inactive account that has never logged in.
    WaitingForApproval,
    /// Inactive account that logged in before.
    Inactive,
}

/// Why an API key did not authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRefusal {
    /// No such key.
    Unknown,
    /// The key exists but is inactive, expired or its owner is inactive or gone.
    Unusable,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// A client mistake with a Langflow `detail` text (400).
    #[error("{0}")]
    Invalid(String),
    /// Not found / not visible to the caller (404).
    #[error("{0}")]
    NotFound(&'static str),
    /// Forbidden by a rule (403).
    #[error("{0}")]
    Forbidden(&'static str),
    /// Name collisions and similar (400 in Langflow's identity routes).
    #[error("{0}")]
    Conflict(&'static str),
    #[error("login refused")]
    Login(LoginRefusal),
    #[error("api key refused")]
    Key(KeyRefusal),
    #[error("storage error: {0}")]
    Storage(#[from] sled::Error),
    #[error(transparent)]
    Codec(#[from] CodecError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("the registry is not running")]
    Unavailable,
}

impl From<sled::transaction::TransactionError<RegistryError>> for RegistryError {
    fn from(e: sled::transaction::TransactionError<RegistryError>) -> Self {
        match e {
            sled::transaction::TransactionError::Abort(inner) => inner,
            sled::transaction::TransactionError::Storage(s) => Self::Storage(s),
        }
    }
}
