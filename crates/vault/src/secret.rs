//! Typed secrets: a [`SecretValue`] is a credential, a [`VaultKey`] is the
//! key that encrypts the vault body.
//!
//! Both zero their memory on drop, print as `<redacted>` in `Debug`, and
//! implement neither `Display` nor `Serialize`, so a secret cannot reach a log
//! line, an error message or a JSON response by accident — only through an
//! explicit, greppable `expose()` call.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::VaultError;

/// A secret value (API key, token, password, arbitrary bytes).
///
/// Stored as a zeroizing `Vec` rather than a `Box<[u8]>`: turning a `Vec`
/// into a boxed slice may reallocate and free the old buffer *without*
/// zeroing it, whereas `Zeroizing<Vec<u8>>` wipes the whole capacity on drop.
#[derive(Clone)]
pub struct SecretValue(Zeroizing<Vec<u8>>);

impl SecretValue {
    /// Takes ownership of the bytes (no copy is made).
    pub fn new(bytes: Vec<u8>) -> Self {
        SecretValue(Zeroizing::new(bytes))
    }

    /// Copies a string. The caller still owns (and should zero) `s`; prefer
    /// [`SecretValue::from_string`] when you own a `String`.
    #[allow(clippy::should_implement_trait)] // infallible ctor; `FromStr` would imply parsing
    pub fn from_str(s: &str) -> Self {
        SecretValue::new(s.as_bytes().to_vec())
    }

    /// Takes ownership of a `String` without copying it.
    pub fn from_string(s: String) -> Self {
        SecretValue::new(s.into_bytes())
    }

    /// The plaintext bytes. Every call site is a place where a secret leaves
    /// its type: keep them few and obvious.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The plaintext as UTF-8 text (headers, env vars need text).
    pub fn expose_str(&self) -> Result<&str, VaultError> {
        std::str::from_utf8(&self.0).map_err(|_| VaultError::NotUtf8)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<u8>> for SecretValue {
    fn from(bytes: Vec<u8>) -> Self {
        SecretValue::new(bytes)
    }
}

impl From<String> for SecretValue {
    fn from(s: String) -> Self {
        SecretValue::from_string(s)
    }
}

/// Constant-time comparison, so comparing a guess against a stored value
/// does not leak how many leading bytes matched (the length may leak).
impl PartialEq for SecretValue {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_slice().ct_eq(other.0.as_slice()).into()
    }
}

impl Eq for SecretValue {}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretValue(<redacted, {} bytes>)", self.0.len())
    }
}

/// Prefix of the text form of a [`VaultKey`]; the `1` versions the encoding.
const KEY_PREFIX: &str = "keyward-vault-key-1:";
/// Length of a 32-byte key in unpadded base64url.
const KEY_B64_LEN: usize = 43;

/// The 256-bit key that encrypts a vault's body. It is random (not derived
/// from the passphrase) so it can also live in the OS keychain or a key file
/// and survive a passphrase change.
///
/// Boxed so that moving a `VaultKey` around moves a pointer, not the key
/// bytes (moves leave unzeroed copies on the stack).
#[derive(Clone)]
pub struct VaultKey(Box<Zeroizing<[u8; 32]>>);

impl VaultKey {
    /// A fresh random key from the OS RNG.
    ///
    /// # Panics
    /// If the OS random number generator fails (see [`VaultKey::try_generate`]).
    pub fn generate() -> Self {
        // Without an RNG no key, nonce or salt can be made; there is no
        // sensible way to continue.
        Self::try_generate().expect("the OS random number generator failed")
    }

    /// Like [`VaultKey::generate`], reporting an RNG failure as an error.
    pub fn try_generate() -> Result<Self, VaultError> {
        let mut key = Box::new(Zeroizing::new([0u8; 32]));
        getrandom::fill(&mut key[..]).map_err(VaultError::Random)?;
        Ok(VaultKey(key))
    }

    pub(crate) fn from_bytes(bytes: &[u8; 32]) -> Self {
        let mut key = Box::new(Zeroizing::new([0u8; 32]));
        key.copy_from_slice(bytes);
        VaultKey(key)
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The text form `keyward-vault-key-1:<base64url>`, for key files and the
    /// OS keychain. The returned string zeroes itself on drop.
    pub fn to_encoded(&self) -> Zeroizing<String> {
        // Sized up front so appending never reallocates (a reallocation
        // would free a partial copy of the key without zeroing it).
        let mut out = Zeroizing::new(String::with_capacity(KEY_PREFIX.len() + KEY_B64_LEN));
        out.push_str(KEY_PREFIX);
        URL_SAFE_NO_PAD.encode_string(&self.0[..], &mut out);
        out
    }

    /// Parses the text form. Leading/trailing whitespace (a trailing newline
    /// in a key file, say) is ignored.
    pub fn from_encoded(s: &str) -> Result<Self, VaultError> {
        let body = s
            .trim()
            .strip_prefix(KEY_PREFIX)
            .ok_or(VaultError::InvalidKey {
                reason: "it does not start with `keyward-vault-key-1:`",
            })?;
        if body.len() != KEY_B64_LEN {
            return Err(VaultError::InvalidKey {
                reason: "wrong length (expected 43 base64url characters after the prefix)",
            });
        }
        let mut key = Box::new(Zeroizing::new([0u8; 32]));
        match URL_SAFE_NO_PAD.decode_slice(body, &mut key[..]) {
            Ok(32) => Ok(VaultKey(key)),
            _ => Err(VaultError::InvalidKey {
                reason: "not valid base64url",
            }),
        }
    }
}

/// Constant-time, like [`SecretValue`].
impl PartialEq for VaultKey {
    fn eq(&self, other: &Self) -> bool {
        self.0[..].ct_eq(&other.0[..]).into()
    }
}

impl Eq for VaultKey {}

impl fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VaultKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_text_round_trip_and_whitespace() {
        let k = VaultKey::generate();
        let text = k.to_encoded();
        assert!(text.starts_with(KEY_PREFIX));
        assert_eq!(text.len(), KEY_PREFIX.len() + KEY_B64_LEN);
        let back = VaultKey::from_encoded(&format!("  {}\n", text.as_str())).unwrap();
        assert_eq!(back, k);
        assert_ne!(VaultKey::generate(), k);
    }

    #[test]
    fn key_text_rejects_bad_input() {
        let text = VaultKey::generate().to_encoded();
        for bad in [
            String::new(),
            text[KEY_PREFIX.len()..].to_string(),
            format!("{}x", text.as_str()),
            text[..text.len() - 1].to_string(),
            format!("{}!{}", KEY_PREFIX, &text[KEY_PREFIX.len() + 1..]),
            text.replace("keyward-vault-key-1", "keyward-vault-key-2"),
        ] {
            assert!(
                matches!(
                    VaultKey::from_encoded(&bad),
                    Err(VaultError::InvalidKey { .. })
                ),
                "accepted {bad:?}"
            );
        }
    }

    #[test]
    fn secret_value_eq_and_utf8() {
        let a = SecretValue::from_str("abc");
        assert_eq!(a, SecretValue::new(b"abc".to_vec()));
        assert_ne!(a, SecretValue::from_str("abd"));
        assert_ne!(a, SecretValue::from_str("abcd"));
        assert_eq!(a.expose_str().unwrap(), "abc");
        assert_eq!(a.len(), 3);
        assert!(!a.is_empty());
        assert!(matches!(
            SecretValue::new(vec![0xff, 0xfe]).expose_str(),
            Err(VaultError::NotUtf8)
        ));
    }
}
