//! `X-Hub-Signature-256` verification: HMAC-SHA256 of the exact raw body, keyed with the
//! Meta app secret, compared in constant time. Several secrets may be valid at once
//! (rotation), each tried in turn.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Header name as Lambda/HTTP lower-cases it.
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";
const PREFIX: &str = "sha256=";

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing X-Hub-Signature-256 header")]
    Missing,
    #[error("malformed X-Hub-Signature-256 header: {0}")]
    Malformed(&'static str),
    #[error("X-Hub-Signature-256 does not match the body")]
    Mismatch,
}

/// Keyed HMAC states for every accepted app secret, built once at cold start so each
/// request only clones the prepared state (saves the key schedule per request).
#[derive(Clone)]
pub struct SignatureVerifier {
    keyed: Vec<Hmac<Sha256>>,
}

impl std::fmt::Debug for SignatureVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SignatureVerifier({} secret(s), redacted)",
            self.keyed.len()
        )
    }
}

impl SignatureVerifier {
    /// `secrets` in preference order (current first, then the previous one during a rotation).
    /// Empty secrets are ignored; at least one non-empty secret is required.
    pub fn new<S: AsRef<[u8]>>(secrets: &[S]) -> Option<Self> {
        let keyed: Vec<_> = secrets
            .iter()
            .map(AsRef::as_ref)
            .filter(|s| !s.is_empty())
            .map(|s| Hmac::<Sha256>::new_from_slice(s).expect("HMAC takes keys of any length"))
            .collect();
        (!keyed.is_empty()).then_some(Self { keyed })
    }

    /// Verifies `header` (the raw header value) against `body`. Never parses the body.
    pub fn verify(&self, header: Option<&[u8]>, body: &[u8]) -> Result<(), SignatureError> {
        let expected = parse_header(header.ok_or(SignatureError::Missing)?)?;
        for keyed in &self.keyed {
            let mut mac = keyed.clone();
            mac.update(body);
            // verify_slice compares in constant time.
            if mac.verify_slice(&expected).is_ok() {
                return Ok(());
            }
        }
        Err(SignatureError::Mismatch)
    }
}

/// Exactly `sha256=` followed by 64 lowercase hex digits, as Meta sends it. Anything else
/// (other algorithm, upper case, padding, truncation) is malformed.
fn parse_header(value: &[u8]) -> Result<[u8; 32], SignatureError> {
    let hex_part = value
        .strip_prefix(PREFIX.as_bytes())
        .ok_or(SignatureError::Malformed("expected the sha256= prefix"))?;
    if hex_part.len() != 64 {
        return Err(SignatureError::Malformed("expected 64 hex digits"));
    }
    if !hex_part
        .iter()
        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(SignatureError::Malformed("expected lowercase hex digits"));
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_part, &mut out)
        .map_err(|_| SignatureError::Malformed("expected lowercase hex digits"))?;
    Ok(out)
}

/// Computes the header value Meta would send; used by tests, the demo and the load generator.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("{PREFIX}{}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"object":"whatsapp_business_account","entry":[]}"#;

    fn verifier() -> SignatureVerifier {
        SignatureVerifier::new(&["current-secret"]).unwrap()
    }

    #[test]
    fn github_documented_vector() {
        assert_eq!(
            sign(b"It's a Secret to Everybody", b"Hello, World!"),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }

    #[test]
    fn valid_signature_is_accepted() {
        let header = sign(b"current-secret", BODY);
        assert_eq!(verifier().verify(Some(header.as_bytes()), BODY), Ok(()));
    }

    #[test]
    fn forged_and_mutated_bodies_are_rejected() {
        let header = sign(b"wrong-secret", BODY);
        assert_eq!(
            verifier().verify(Some(header.as_bytes()), BODY),
            Err(SignatureError::Mismatch)
        );
        let good = sign(b"current-secret", BODY);
        let mut flipped = BODY.to_vec();
        flipped[10] ^= 0x01;
        assert_eq!(
            verifier().verify(Some(good.as_bytes()), &flipped),
            Err(SignatureError::Mismatch)
        );
        // Same JSON, different whitespace: the signature covers bytes, not meaning.
        let reserialised = br#"{"object": "whatsapp_business_account", "entry": []}"#;
        assert_eq!(
            verifier().verify(Some(good.as_bytes()), reserialised),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn missing_and_malformed_headers_are_rejected_without_panic() {
        let good = sign(b"current-secret", BODY);
        let hex = &good["sha256=".len()..];
        assert_eq!(verifier().verify(None, BODY), Err(SignatureError::Missing));
        let cases = [
            String::new(),
            format!("sha1={hex}"),
            format!("sha256={}", hex.to_uppercase()),
            format!("sha256={}", &hex[..63]),
            format!("sha256= {hex}"),
            format!(" sha256={hex}"),
            format!("sha256={hex} "),
            format!("SHA256={hex}"),
            format!("sha256={}zz", &hex[..62]),
            "sha256=".to_string(),
            "\u{fffd}".repeat(70),
        ];
        for case in cases {
            assert!(
                matches!(
                    verifier().verify(Some(case.as_bytes()), BODY),
                    Err(SignatureError::Malformed(_))
                ),
                "accepted malformed header {case:?}"
            );
        }
    }

    #[test]
    fn rotation_accepts_both_secrets_then_only_the_new_one() {
        let during = SignatureVerifier::new(&["new-secret", "old-secret"]).unwrap();
        let after = SignatureVerifier::new(&["new-secret", ""]).unwrap();
        let old = sign(b"old-secret", BODY);
        let new = sign(b"new-secret", BODY);
        assert_eq!(during.verify(Some(old.as_bytes()), BODY), Ok(()));
        assert_eq!(during.verify(Some(new.as_bytes()), BODY), Ok(()));
        assert_eq!(
            after.verify(Some(old.as_bytes()), BODY),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(after.verify(Some(new.as_bytes()), BODY), Ok(()));
    }

    #[test]
    fn non_ascii_body_is_hashed_as_raw_bytes() {
        // Meta signs the \u-escaped form; hashing the decoded text would differ.
        let escaped = br#"{"name":"Luc\u00eda G\u00f3mez"}"#;
        let decoded = "{\"name\":\"Lucía Gómez\"}".as_bytes();
        let header = sign(b"current-secret", escaped);
        assert_eq!(verifier().verify(Some(header.as_bytes()), escaped), Ok(()));
        assert_eq!(
            verifier().verify(Some(header.as_bytes()), decoded),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_verifier_needs_a_secret() {
        assert!(SignatureVerifier::new::<&str>(&[]).is_none());
        assert!(SignatureVerifier::new(&["", ""]).is_none());
        assert!(format!("{:?}", verifier()).contains("redacted"));
    }
}
