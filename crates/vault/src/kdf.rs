//! Passphrase → key-encryption key, with Argon2id.
//!
//! The passphrase never encrypts the vault body directly: it derives a key
//! that wraps the random [`VaultKey`](crate::VaultKey). Changing the
//! passphrase therefore rewraps 32 bytes, and the same vault key can also sit
//! in the OS keychain.

use argon2::{Algorithm, Argon2, Params, Version};
use zeroize::Zeroizing;

use crate::{SecretValue, VaultError};

/// Argon2id cost parameters. They are stored in the vault header (and bound
/// into both AEADs), so a vault keeps opening after the defaults change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory, in KiB.
    pub m_kib: u32,
    /// Passes over memory.
    pub t: u32,
    /// Lanes. The `argon2` crate is built without its `parallel` feature,
    /// so lanes run one after another: `p > 1` only adds time.
    pub p: u32,
}

/// Upper bounds applied to every parameter set, including ones read from a
/// (possibly hostile) file header: `m_kib = u32::MAX` would ask for 4 TiB.
const MAX_M_KIB: u32 = 2 * 1024 * 1024; // 2 GiB
const MAX_T: u32 = 64;
const MAX_P: u32 = 16;

impl KdfParams {
    /// The parameters for new vaults: 64 MiB, 3 passes, 1 lane — RFC 9106's
    /// second recommended option except for lanes (see `p`), and above
    /// OWASP's Argon2id minimums.
    ///
    /// Measured with `cargo test --release -p keyward-vault --test kdf_timing
    /// -- --ignored --nocapture` on the 2-core development VM (while other
    /// builds were running): median ≈ 0.12 s per unlock in release. That
    /// leaves room for hardware 3–4× slower within the ≤ 0.5 s budget. An
    /// unoptimised (debug) build takes ≈ 1.5 s: tests should use
    /// [`KdfParams::for_tests`], and a workspace may set
    /// `[profile.dev.package.argon2] opt-level = 3`.
    pub const DEFAULT: KdfParams = KdfParams {
        m_kib: 64 * 1024,
        t: 3,
        p: 1,
    };

    /// **Insecure** — 8 KiB, one pass. Only so that tests of this and other
    /// crates can create and open vaults in microseconds. Never use it for a
    /// real vault: a passphrase behind these costs can be brute-forced cheaply.
    pub fn for_tests() -> KdfParams {
        KdfParams {
            m_kib: 8,
            t: 1,
            p: 1,
        }
    }

    /// Checks the parameters against Argon2's minimums and keyward's maximums.
    pub fn validate(&self) -> Result<(), VaultError> {
        let reason = if self.p == 0 || self.p > MAX_P {
            format!("p (lanes) must be 1..={MAX_P}, got {}", self.p)
        } else if self.t == 0 || self.t > MAX_T {
            format!("t (passes) must be 1..={MAX_T}, got {}", self.t)
        } else if self.m_kib < 8 * self.p || self.m_kib > MAX_M_KIB {
            format!(
                "m (memory, KiB) must be between 8×p and {MAX_M_KIB}, got {}",
                self.m_kib
            )
        } else {
            return Ok(());
        };
        Err(VaultError::InvalidKdfParams { reason })
    }

    /// Derives the 32-byte key-encryption key from a passphrase and salt.
    pub(crate) fn derive(
        &self,
        passphrase: &SecretValue,
        salt: &[u8],
    ) -> Result<Box<Zeroizing<[u8; 32]>>, VaultError> {
        self.validate()?;
        let params = Params::new(self.m_kib, self.t, self.p, Some(32)).map_err(|e| {
            VaultError::InvalidKdfParams {
                reason: e.to_string(),
            }
        })?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut out = Box::new(Zeroizing::new([0u8; 32]));
        // Errors here are about lengths (salt, output) or allocation, never
        // about the passphrase's content, so their text is safe to show.
        argon
            .hash_password_into(passphrase.expose(), salt, &mut out[..])
            .map_err(|e| VaultError::InvalidKdfParams {
                reason: e.to_string(),
            })?;
        Ok(out)
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        KdfParams::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derive_is_deterministic_and_salted() {
        let kdf = KdfParams::for_tests();
        let pw = SecretValue::from_str("correct horse");
        let a = kdf.derive(&pw, &[1; 16]).unwrap();
        assert_eq!(a, kdf.derive(&pw, &[1; 16]).unwrap());
        assert_ne!(a, kdf.derive(&pw, &[2; 16]).unwrap());
        assert_ne!(
            a,
            kdf.derive(&SecretValue::from_str("x"), &[1; 16]).unwrap()
        );
    }

    #[test]
    fn hostile_params_are_refused_before_allocating() {
        for bad in [
            KdfParams {
                m_kib: u32::MAX,
                t: 1,
                p: 1,
            },
            KdfParams {
                m_kib: 64,
                t: 0,
                p: 1,
            },
            KdfParams {
                m_kib: 64,
                t: 1_000,
                p: 1,
            },
            KdfParams {
                m_kib: 64,
                t: 1,
                p: 0,
            },
            KdfParams {
                m_kib: 4,
                t: 1,
                p: 1,
            },
        ] {
            assert!(
                matches!(bad.validate(), Err(VaultError::InvalidKdfParams { .. })),
                "{bad:?}"
            );
        }
        KdfParams::DEFAULT.validate().unwrap();
        KdfParams::for_tests().validate().unwrap();
    }
}
