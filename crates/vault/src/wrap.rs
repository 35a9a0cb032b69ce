//! Wrapping the vault key under the passphrase, and the key check that
//! tells a wrong vault key from a damaged body.

use zeroize::Zeroizing;

use crate::format::{self, Header, SALT_LEN};
use crate::{KdfParams, SecretValue, VaultError, VaultKey};

/// A header for `id` with `key` wrapped under Argon2id(passphrase) and a
/// fresh key check.
pub(crate) fn wrap_key(
    id: String,
    key: &VaultKey,
    passphrase: &SecretValue,
    kdf: KdfParams,
) -> Result<Header, VaultError> {
    let mut salt = vec![0u8; SALT_LEN];
    getrandom::fill(&mut salt).map_err(VaultError::Random)?;
    let kek = kdf.derive(passphrase, &salt)?;
    let mut header = Header {
        id,
        kdf,
        salt,
        wrap_nonce: [0; 24],
        wrapped_key: Vec::new(),
        check_nonce: [0; 24],
        check_tag: [0; 16],
    };
    let mut wrapped = Zeroizing::new([0u8; 32]);
    wrapped.copy_from_slice(key.bytes());
    let (nonce, tag) = format::seal(&kek, &header.aad("wrap"), &mut wrapped[..])?;
    header.wrap_nonce = nonce;
    header.wrapped_key = [&wrapped[..], &tag[..]].concat();
    let (nonce, tag) = format::seal(key.bytes(), &header.aad("check"), &mut [])?;
    header.check_nonce = nonce;
    header.check_tag = tag;
    Ok(header)
}

pub(crate) fn unwrap_key(
    header: &Header,
    passphrase: &SecretValue,
) -> Result<VaultKey, VaultError> {
    let kek = header.kdf.derive(passphrase, &header.salt)?;
    let mut buf = Zeroizing::new([0u8; 48]);
    buf.copy_from_slice(&header.wrapped_key);
    let (msg, tag) = format::split_tag(&mut buf[..]).ok_or(VaultError::WrongPassphrase)?;
    if !format::open(&kek, &header.wrap_nonce, &header.aad("wrap"), msg, &tag) {
        return Err(VaultError::WrongPassphrase);
    }
    let key: &[u8; 32] = (&*msg)
        .try_into()
        .map_err(|_| VaultError::WrongPassphrase)?;
    Ok(VaultKey::from_bytes(key))
}

pub(crate) fn key_check_ok(header: &Header, key: &VaultKey) -> bool {
    format::open(
        key.bytes(),
        &header.check_nonce,
        &header.aad("check"),
        &mut [],
        &header.check_tag,
    )
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
