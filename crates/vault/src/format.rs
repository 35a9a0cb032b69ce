//! The vault file's outer JSON document and the AEAD work on it.
//!
//! See the crate docs for the format. This module turns file bytes into a
//! parsed [`Header`] plus sealed body and back; it never touches the disk.
//! Everything in the outer document is public (ids, KDF parameters, nonces,
//! ciphertext), so its parse errors may be shown verbatim.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{Tag, XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};

use crate::{KdfParams, VaultError};

pub(crate) const FORMAT_NAME: &str = "keyward-vault";
pub(crate) const FORMAT_VERSION: u32 = 1;
const KDF_ALG: &str = "argon2id-v19";
const CIPHER: &str = "xchacha20poly1305";
pub(crate) const TAG_LEN: usize = 16;
pub(crate) const SALT_LEN: usize = 16;

/// Everything but the body. Immutable for the life of a vault except for
/// the wrap (salt, KDF parameters, wrapped key, key check), which a
/// passphrase change replaces.
#[derive(Clone, Debug)]
pub(crate) struct Header {
    pub(crate) id: String,
    pub(crate) kdf: KdfParams,
    pub(crate) salt: Vec<u8>,
    /// Nonce, then the vault key encrypted under the passphrase key, then tag.
    pub(crate) wrap_nonce: [u8; 24],
    pub(crate) wrapped_key: Vec<u8>,
    /// An empty message sealed under the vault key: its tag tells a wrong
    /// key (`WrongKey`) from a damaged body (`Corrupted`).
    pub(crate) check_nonce: [u8; 24],
    pub(crate) check_tag: [u8; TAG_LEN],
}

/// The sealed body as stored: nonce and ciphertext‖tag.
pub(crate) struct SealedBody {
    pub(crate) nonce: [u8; 24],
    pub(crate) ciphertext: Vec<u8>,
}

/// Only the two fields that say how to read the rest, parsed leniently so a
/// future version's file yields `UnsupportedVersion`, not `Corrupted`.
#[derive(Deserialize)]
struct Probe {
    format: Option<String>,
    version: Option<u64>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    format: String,
    version: u64,
    id: String,
    kdf: KdfDoc,
    cipher: String,
    wrapped_key: SealedDoc,
    key_check: SealedDoc,
    body: SealedDoc,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KdfDoc {
    alg: String,
    m_kib: u32,
    t: u32,
    p: u32,
    salt: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SealedDoc {
    nonce: String,
    ciphertext: String,
}

impl Header {
    /// The associated data bound into every AEAD of this file: any change to
    /// format, version, id, KDF algorithm/parameters/salt or cipher makes
    /// every decryption fail. `purpose` separates the three AEAD uses; the
    /// key check and the body also bind the wrapped key, so a swapped or
    /// damaged wrapped key is noticed even when opening with the vault key.
    pub(crate) fn aad(&self, purpose: &str) -> Vec<u8> {
        let mut aad = format!(
            "{FORMAT_NAME}\n{FORMAT_VERSION}\n{purpose}\n{}\n{KDF_ALG}\n{}\n{}\n{}\n{}\n{CIPHER}\n",
            self.id,
            self.kdf.m_kib,
            self.kdf.t,
            self.kdf.p,
            STANDARD.encode(&self.salt),
        )
        .into_bytes();
        if purpose != "wrap" {
            aad.extend_from_slice(&self.wrap_nonce);
            aad.extend_from_slice(&self.wrapped_key);
        }
        aad
    }
}

/// Parses the outer document. `path` only names the file in errors.
pub(crate) fn decode(path: &Path, bytes: &[u8]) -> Result<(Header, SealedBody), VaultError> {
    let probe: Probe = serde_json::from_slice(bytes)
        .map_err(|e| VaultError::corrupted(path, format_args!("not a vault document ({e})")))?;
    if probe.format.as_deref() != Some(FORMAT_NAME) {
        return Err(VaultError::corrupted(path, "not a keyward vault file"));
    }
    match probe.version {
        Some(v) if v == u64::from(FORMAT_VERSION) => {}
        Some(version) => {
            return Err(VaultError::UnsupportedVersion {
                version,
                supported: FORMAT_VERSION,
            });
        }
        None => {
            return Err(VaultError::corrupted(
                path,
                "the `version` field is missing",
            ));
        }
    }
    let doc: FileDoc = serde_json::from_slice(bytes)
        .map_err(|e| VaultError::corrupted(path, format_args!("bad vault document ({e})")))?;
    let bad = |what: &str| VaultError::corrupted(path, what);
    if doc.kdf.alg != KDF_ALG || doc.cipher != CIPHER {
        return Err(bad("unknown KDF or cipher for format version 1"));
    }
    if doc.id.len() != 32
        || !doc
            .id
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(bad("the vault id is not 32 lowercase hex digits"));
    }
    let kdf = KdfParams {
        m_kib: doc.kdf.m_kib,
        t: doc.kdf.t,
        p: doc.kdf.p,
    };
    kdf.validate()?;
    let salt = b64(&doc.kdf.salt).ok_or_else(|| bad("the KDF salt is not valid base64"))?;
    if !(SALT_LEN..=64).contains(&salt.len()) {
        return Err(bad("the KDF salt is not 16 to 64 bytes long"));
    }
    let (wrap_nonce, wrapped_key) =
        sealed(&doc.wrapped_key).ok_or_else(|| bad("the wrapped key is malformed"))?;
    if wrapped_key.len() != 32 + TAG_LEN {
        return Err(bad("the wrapped key has the wrong length"));
    }
    let (check_nonce, check) =
        sealed(&doc.key_check).ok_or_else(|| bad("the key check is malformed"))?;
    let check_tag: [u8; TAG_LEN] = check
        .try_into()
        .map_err(|_| bad("the key check has the wrong length"))?;
    let (body_nonce, body) = sealed(&doc.body).ok_or_else(|| bad("the body is malformed"))?;
    if body.len() < TAG_LEN {
        return Err(bad("the body is truncated"));
    }
    let header = Header {
        id: doc.id,
        kdf,
        salt,
        wrap_nonce,
        wrapped_key,
        check_nonce,
        check_tag,
    };
    let body = SealedBody {
        nonce: body_nonce,
        ciphertext: body,
    };
    Ok((header, body))
}

/// Serialises the outer document (pretty, newline-terminated: it is text a
/// person may look at, and it contains nothing secret).
pub(crate) fn encode(header: &Header, body: &SealedBody) -> Result<Vec<u8>, VaultError> {
    let doc = FileDoc {
        format: FORMAT_NAME.to_string(),
        version: u64::from(FORMAT_VERSION),
        id: header.id.clone(),
        kdf: KdfDoc {
            alg: KDF_ALG.to_string(),
            m_kib: header.kdf.m_kib,
            t: header.kdf.t,
            p: header.kdf.p,
            salt: STANDARD.encode(&header.salt),
        },
        cipher: CIPHER.to_string(),
        wrapped_key: sealed_doc(&header.wrap_nonce, &header.wrapped_key),
        key_check: sealed_doc(&header.check_nonce, &header.check_tag),
        body: sealed_doc(&body.nonce, &body.ciphertext),
    };
    // Cannot fail for strings and integers; still an error, never a
    // silently empty file.
    let mut out = serde_json::to_vec_pretty(&doc).map_err(|e| VaultError::Internal {
        detail: format!("cannot serialise the vault document: {e}"),
    })?;
    out.push(b'\n');
    Ok(out)
}

fn sealed_doc(nonce: &[u8], ciphertext: &[u8]) -> SealedDoc {
    SealedDoc {
        nonce: STANDARD.encode(nonce),
        ciphertext: STANDARD.encode(ciphertext),
    }
}

fn sealed(doc: &SealedDoc) -> Option<([u8; 24], Vec<u8>)> {
    let nonce = b64(&doc.nonce)?.try_into().ok()?;
    Some((nonce, b64(&doc.ciphertext)?))
}

/// Strict standard base64 (padding required, non-zero trailing bits
/// rejected), so one byte string has exactly one accepted encoding.
fn b64(s: &str) -> Option<Vec<u8>> {
    STANDARD.decode(s).ok()
}

/// Encrypts `buf` in place under `key` with a fresh random nonce and returns
/// (nonce, tag). In place so plaintext is never copied into a buffer that
/// is not the caller's (zeroizing) one.
pub(crate) fn seal(
    key: &[u8; 32],
    aad: &[u8],
    buf: &mut [u8],
) -> Result<([u8; 24], [u8; TAG_LEN]), VaultError> {
    let mut nonce = [0u8; 24];
    getrandom::fill(&mut nonce).map_err(VaultError::Random)?;
    let cipher = XChaCha20Poly1305::new(key.into());
    let tag = cipher
        .encrypt_inout_detached(&XNonce::from(nonce), aad, buf.into())
        .map_err(|_| VaultError::Internal {
            detail: "message too long to encrypt".to_string(),
        })?;
    Ok((nonce, tag.into()))
}

/// Decrypts `buf` in place; `false` if authentication fails (wrong key,
/// modified header or ciphertext — the AEAD cannot say which).
#[must_use]
pub(crate) fn open(
    key: &[u8; 32],
    nonce: &[u8; 24],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> bool {
    let cipher = XChaCha20Poly1305::new(key.into());
    cipher
        .decrypt_inout_detached(&XNonce::from(*nonce), aad, buf.into(), &Tag::from(*tag))
        .is_ok()
}

/// Splits `ciphertext‖tag` at the tag; `None` if shorter than a tag.
pub(crate) fn split_tag(buf: &mut [u8]) -> Option<(&mut [u8], [u8; TAG_LEN])> {
    let at = buf.len().checked_sub(TAG_LEN)?;
    let (msg, tag) = buf.split_at_mut(at);
    Some((msg, (&*tag).try_into().ok()?))
}
