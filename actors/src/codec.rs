//! The one place that turns records into bytes for sled and back.
//!
//! Every value is one version byte followed by a bincode (2.0.1, standard config) body, so the
//! on-disk format can evolve here without touching callers. Nothing else in the workspace may
//! call bincode directly.

use serde::{de::DeserializeOwned, Serialize};

/// Version byte written in front of every record.
pub const FORMAT_VERSION: u8 = 1;

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("record encoding failed: {0}")]
    Encode(String),
    #[error("record decoding failed: {0}")]
    Decode(String),
    #[error("unsupported record format version {0}")]
    Version(u8),
}

/// Encodes a record with the current format version.
///
/// # Errors
/// Fails only if serde refuses the value (a type the codec cannot represent).
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, CodecError> {
    let mut out = vec![FORMAT_VERSION];
    let body = bincode::serde::encode_to_vec(value, bincode::config::standard())
        .map_err(|e| CodecError::Encode(e.to_string()))?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// Decodes a record written by [`encode`].
///
/// # Errors
/// Unknown version byte or a body that does not decode as `T`.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    let (&version, body) = bytes.split_first().ok_or_else(|| CodecError::Decode("empty record".into()))?;
    if version != FORMAT_VERSION {
        return Err(CodecError::Version(version));
    }
    let (value, _) = bincode::serde::decode_from_slice(body, bincode::config::standard())
        .map_err(|e| CodecError::Decode(e.to_string()))?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Sample {
        id: uuid::Uuid,
        name: String,
        n: Option<i64>,
    }

    #[test]
    fn round_trips_and_checks_version() {
        let s = Sample { id: uuid::Uuid::new_v4(), name: "x".into(), n: Some(-3) };
        let bytes = encode(&s).expect("encode");
        assert_eq!(bytes[0], FORMAT_VERSION);
        assert_eq!(decode::<Sample>(&bytes).expect("decode"), s);
        let mut bad = bytes.clone();
        bad[0] = 99;
        assert!(matches!(decode::<Sample>(&bad), Err(CodecError::Version(99))));
        assert!(decode::<Sample>(&[]).is_err());
    }
}
