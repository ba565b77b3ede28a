//! JWTs shaped as Langflow mints them: HS256, claims `sub`, `type` (`access` | `refresh`) and
//! `exp`, nothing else. The signing key is derived from the secret (BLAKE3 `derive_key`), never
//! the raw secret string Langflow uses. Verification distinguishes the failure kinds
//! because Langflow answers each with its own `detail`.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{json, Value};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Bad signature, bad format, or an algorithm other than HS256.
    Invalid,
    Expired,
    /// A refresh token where an access token is expected, or vice versa.
    WrongType,
    /// `sub`, `type` or `exp` missing or malformed.
    BadPayload,
}

pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
    pub access_ttl: u64,
    pub refresh_ttl: u64,
}

impl TokenService {
    #[must_use]
    pub fn new(secret: &str, access_ttl: u64, refresh_ttl: u64) -> Self {
        let key = flowactor_actors::crypto::derive_jwt_key(secret);
        Self {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
            access_ttl,
            refresh_ttl,
        }
    }

    /// Mints a token for `user_id` that expires after the kind's lifetime.
    ///
    /// # Errors
    /// Only if signing fails (never with HS256).
    pub fn issue(&self, user_id: Uuid, kind: TokenKind) -> Result<String, jsonwebtoken::errors::Error> {
        let ttl = match kind {
            TokenKind::Access => self.access_ttl,
            TokenKind::Refresh => self.refresh_ttl,
        };
        let exp = chrono::Utc::now().timestamp().saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX / 2));
        let claims = json!({ "sub": user_id.to_string(), "type": kind.as_str(), "exp": exp });
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// Checks signature, expiry and type; answers the subject.
    ///
    /// # Errors
    /// The kind of failure, for Langflow's distinct messages.
    pub fn verify(&self, token: &str, expected: TokenKind) -> Result<Uuid, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.leeway = 0;
        let data = decode::<Value>(token, &self.decoding, &validation).map_err(|_| TokenError::Invalid)?;
        let claims = data.claims;
        let (Some(sub), Some(kind), Some(exp)) = (
            claims.get("sub").and_then(Value::as_str),
            claims.get("type").and_then(Value::as_str),
            claims.get("exp").and_then(Value::as_i64),
        ) else {
            return Err(TokenError::BadPayload);
        };
        if exp <= chrono::Utc::now().timestamp() {
            return Err(TokenError::Expired);
        }
        if kind != expected.as_str() {
            return Err(TokenError::WrongType);
        }
        Uuid::parse_str(sub).map_err(|_| TokenError::BadPayload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_and_fail_distinctly() {
        let svc = TokenService::new("secret", 60, 120);
        let id = Uuid::new_v4();
        let access = svc.issue(id, TokenKind::Access).expect("issue");
        assert_eq!(svc.verify(&access, TokenKind::Access), Ok(id));
        assert_eq!(svc.verify(&access, TokenKind::Refresh), Err(TokenError::WrongType));
        assert_eq!(svc.verify("not-a-jwt", TokenKind::Access), Err(TokenError::Invalid));
        let other = TokenService::new("other", 60, 120);
        assert_eq!(other.verify(&access, TokenKind::Access), Err(TokenError::Invalid));
        let expired =
            encode(&Header::default(), &json!({"sub": id.to_string(), "type": "access", "exp": 1}), &svc.encoding)
                .expect("enc");
        assert_eq!(svc.verify(&expired, TokenKind::Access), Err(TokenError::Expired));
        let no_type =
            encode(&Header::default(), &json!({"sub": id.to_string(), "exp": 4_000_000_000_i64}), &svc.encoding)
                .expect("enc");
        assert_eq!(svc.verify(&no_type, TokenKind::Access), Err(TokenError::BadPayload));
        // A token signed with the raw secret (Langflow's key) is refused.
        let raw = encode(
            &Header::default(),
            &json!({"sub": id.to_string(), "type": "access", "exp": 4_000_000_000_i64}),
            &EncodingKey::from_secret(b"secret"),
        )
        .expect("enc");
        assert_eq!(svc.verify(&raw, TokenKind::Access), Err(TokenError::Invalid));
        // alg=none is refused
        let none = format!("{}.{}.", "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0", "eyJzdWIiOiJ4In0");
        assert_eq!(svc.verify(&none, TokenKind::Access), Err(TokenError::Invalid));
    }
}
