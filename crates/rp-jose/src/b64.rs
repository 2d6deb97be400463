//! base64url without padding (RFC 7515 §2, RFC 4648 §5), as every JOSE member is encoded.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Encode.
pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decode; padding is refused, as RFC 7515 §2 omits it.
pub fn decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    URL_SAFE_NO_PAD.decode(text)
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trips_and_refuses_padding() {
        let b = [0u8, 1, 2, 250, 251, 252, 253, 254, 255];
        assert_eq!(super::decode(&super::encode(&b)).unwrap(), b);
        assert!(super::decode("AA==").is_err());
        assert!(super::decode("A+/").is_err());
    }
}
