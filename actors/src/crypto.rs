//! Secrets derived from `LANGFLOW_SECRET_KEY`, API-key hashing, credential encryption and
//! password hashing.
//!
//! One secret feeds several independent keys through BLAKE3's key derivation, each with its own
//! context string, so the JWT signing key, the API-key hash key and the credential encryption
//! key never coincide. Password hashing (argon2id) is slow on purpose: callers must run it on a
//! blocking pool, never on an actor or HTTP worker thread.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use subtle::ConstantTimeEq;

const API_KEY_HASH_CONTEXT: &str = "flowactor 2026-11 api-key lookup hash v1";
const CREDENTIAL_KEY_CONTEXT: &str = "flowactor 2026-11 credential variable encryption v1";
const JWT_KEY_CONTEXT: &str = "flowactor 2026-12 jwt hs256 signing key v1";
/// Shortest accepted server secret, in bytes.
pub const MIN_SECRET_LEN: usize = 32;
const NONCE_LEN: usize = 24;

/// Prefix of every API key, kept from Langflow so its clients and secret scanners recognise them.
pub const API_KEY_PREFIX: &str = "sk-";
/// Length of a generated key: `sk-` plus 43 URL-safe base64 characters (256 random bits).
pub const API_KEY_LEN: usize = 46;
/// How many leading characters of a key a listing may show.
pub const API_KEY_VISIBLE_PREFIX: usize = 8;

/// The HS256 key for access and refresh tokens: derived from the secret, never the secret itself,
/// so a token signed with the raw `LANGFLOW_SECRET_KEY` (or any other derived key) is refused.
#[must_use]
pub fn derive_jwt_key(secret: &str) -> [u8; 32] {
    blake3::derive_key(JWT_KEY_CONTEXT, secret.as_bytes())
}

/// A keyed BLAKE3 hash of an API key: the only form in which keys are stored.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ApiKeyHash(pub [u8; 32]);

impl ApiKeyHash {
    /// Constant-time comparison, so a near-miss never answers faster than a far miss.
    #[must_use]
    pub fn matches(&self, other: &[u8]) -> bool {
        other.len() == 32 && bool::from(self.0.ct_eq(other))
    }
}

impl std::fmt::Debug for ApiKeyHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKeyHash(..)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("credential could not be decrypted (was the secret key changed?)")]
    Decrypt,
    #[error("credential could not be encrypted")]
    Encrypt,
    #[error("password hashing failed")]
    Hash,
}

/// Keys derived from the server secret.
#[derive(Clone)]
pub struct Secrets {
    api_key_hash_key: [u8; 32],
    credential_key: [u8; 32],
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(<redacted>)")
    }
}

impl Secrets {
    /// Derives every runtime key from the configured secret string.
    #[must_use]
    pub fn derive(secret: &str) -> Self {
        Self {
            api_key_hash_key: blake3::derive_key(API_KEY_HASH_CONTEXT, secret.as_bytes()),
            credential_key: blake3::derive_key(CREDENTIAL_KEY_CONTEXT, secret.as_bytes()),
        }
    }

    /// The lookup hash of a presented API key.
    #[must_use]
    pub fn hash_api_key(&self, key: &str) -> ApiKeyHash {
        ApiKeyHash(*blake3::keyed_hash(&self.api_key_hash_key, key.as_bytes()).as_bytes())
    }

    /// Encrypts a credential value; `context` (the owner and variable id) is bound as associated
    /// data so a ciphertext cannot be moved to another record.
    ///
    /// # Errors
    /// Only if the AEAD refuses (never in practice).
    pub fn seal(&self, context: &[u8], plaintext: &str) -> Result<Vec<u8>, CryptoError> {
        let cipher = XChaCha20Poly1305::new((&self.credential_key).into());
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let body = cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext.as_bytes(), aad: context })
            .map_err(|_| CryptoError::Encrypt)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Decrypts a value produced by [`Secrets::seal`] with the same context.
    ///
    /// # Errors
    /// Wrong key (secret changed), wrong context or tampered bytes.
    pub fn open(&self, context: &[u8], sealed: &[u8]) -> Result<String, CryptoError> {
        if sealed.len() < NONCE_LEN {
            return Err(CryptoError::Decrypt);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let cipher = XChaCha20Poly1305::new((&self.credential_key).into());
        let plain = cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad: context })
            .map_err(|_| CryptoError::Decrypt)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Decrypt)
    }
}

fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// A fresh API key: `sk-` + 43 URL-safe characters from 32 bytes of OS randomness.
#[must_use]
pub fn generate_api_key() -> String {
    format!("{API_KEY_PREFIX}{}", random_token(32))
}

/// A fresh server secret, the same shape as Python's `secrets.token_urlsafe(32)`.
#[must_use]
pub fn generate_secret() -> String {
    random_token(32)
}

/// A random password for bootstrap accounts nobody logs into with a password.
#[must_use]
pub fn generate_password() -> String {
    random_token(24)
}

/// True when `text` could be one of our API keys (cheap check before any lookup).
#[must_use]
pub fn looks_like_api_key(text: &str) -> bool {
    text.len() == API_KEY_LEN
        && text.starts_with(API_KEY_PREFIX)
        && text[API_KEY_PREFIX.len()..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The masked form shown in listings: the first 8 characters, then one `*` per hidden character.
#[must_use]
pub fn mask_api_key(visible_prefix: &str, full_len: usize) -> String {
    let shown: String = visible_prefix.chars().take(API_KEY_VISIBLE_PREFIX).collect();
    let hidden = full_len.saturating_sub(shown.chars().count());
    format!("{shown}{}", "*".repeat(hidden))
}

/// Hashes a password with argon2id (PHC string). Slow: call from a blocking pool.
///
/// # Errors
/// Only on an internal argon2 failure.
pub fn hash_password(password: &str) -> Result<String, CryptoError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|_| CryptoError::Hash)
}

/// Verifies a password against a stored PHC string. Slow: call from a blocking pool.
#[must_use]
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

/// A PHC string for a random password, verified against when the username is unknown so that a
/// wrong username costs the same time as a wrong password.
#[must_use]
pub fn decoy_password_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&generate_password()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_have_langflow_shape_and_are_unique() {
        let a = generate_api_key();
        let b = generate_api_key();
        assert_eq!(a.len(), API_KEY_LEN);
        assert!(looks_like_api_key(&a));
        assert_ne!(a, b);
        assert!(!looks_like_api_key("sk-short"));
        assert_eq!(mask_api_key(&a[..8], a.len()), format!("{}{}", &a[..8], "*".repeat(38)));
    }

    #[test]
    fn hashes_depend_on_secret_and_key() {
        let s1 = Secrets::derive("one");
        let s2 = Secrets::derive("two");
        let key = generate_api_key();
        assert_eq!(s1.hash_api_key(&key), s1.hash_api_key(&key));
        assert_ne!(s1.hash_api_key(&key), s2.hash_api_key(&key));
        assert!(s1.hash_api_key(&key).matches(&s1.hash_api_key(&key).0));
        assert!(!s1.hash_api_key(&key).matches(&[0u8; 31]));
    }

    #[test]
    fn sealing_is_randomised_and_bound_to_context_and_secret() {
        let s = Secrets::derive("secret");
        let a = s.seal(b"ctx", "value").expect("seal");
        let b = s.seal(b"ctx", "value").expect("seal");
        assert_ne!(a, b);
        assert_eq!(s.open(b"ctx", &a).expect("open"), "value");
        assert!(s.open(b"other", &a).is_err());
        assert!(Secrets::derive("changed").open(b"ctx", &a).is_err());
        assert!(s.open(b"ctx", &a[..10]).is_err());
    }

    #[test]
    fn passwords_verify() {
        let h = hash_password("correct horse").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a phc string"));
    }
}
