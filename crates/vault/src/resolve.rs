//! Turning a [`SecretRef`] into a [`SecretValue`].
//!
//! The process environment is never read here: callers pass an
//! [`EnvSource`] (the CLI passes the real environment, tests a map), so
//! tests need no `set_var` and the gateway decides what "the environment" is.
//!
//! `vault://` references go to an [`OpenBao`] client, given with
//! [`Resolver::with_openbao`] or made from `[backends.vault]` and the
//! environment with [`Resolver::with_backends`].

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io;

use crate::keystore::{self, KeyStoreError};
use crate::openbao::{OpenBao, OpenBaoError, OpenBaoSettings};
use crate::{SecretRef, SecretValue, Vault};

/// Largest `file://` secret read.
const MAX_SECRET_FILE: usize = 1024 * 1024;

/// Where `env://VAR` references are looked up.
pub trait EnvSource: Send + Sync {
    fn var(&self, name: &str) -> Option<String>;
}

impl EnvSource for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl EnvSource for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// An empty environment.
impl EnvSource for () {
    fn var(&self, _name: &str) -> Option<String> {
        None
    }
}

/// Why a reference could not be resolved. Every message names the
/// reference (never a value) and, where there is one, the fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    #[error(
        "`{reference}`: the local vault is not open (create it with `keyward init`, or unlock it)"
    )]
    NoVault { reference: SecretRef },
    #[error("`{reference}`: {what}")]
    NotFound { reference: SecretRef, what: String },
    #[error("`{reference}` resolved to an empty value; refusing to use an empty secret")]
    Empty { reference: SecretRef },
    #[error("`{reference}`: the file is larger than {limit} bytes; refusing to read it")]
    TooLarge { reference: SecretRef, limit: usize },
    #[error("`{reference}`: cannot read the file: {source}")]
    Io {
        reference: SecretRef,
        #[source]
        source: io::Error,
    },
    #[error("`{reference}`: {source}")]
    KeyStore {
        reference: SecretRef,
        #[source]
        source: KeyStoreError,
    },
    /// OpenBao / Vault could not give the value (or none is configured).
    #[error("`{reference}`: {source}")]
    Backend {
        reference: SecretRef,
        #[source]
        source: Box<OpenBaoError>,
    },
    /// A reference kind this release cannot resolve yet.
    #[error("{0}")]
    Unsupported(String),
}

impl ResolveError {
    /// The reference that did not resolve, when the error names one.
    pub fn reference(&self) -> Option<&SecretRef> {
        match self {
            ResolveError::NoVault { reference }
            | ResolveError::NotFound { reference, .. }
            | ResolveError::Empty { reference }
            | ResolveError::TooLarge { reference, .. }
            | ResolveError::Io { reference, .. }
            | ResolveError::KeyStore { reference, .. }
            | ResolveError::Backend { reference, .. } => Some(reference),
            ResolveError::Unsupported(_) => None,
        }
    }
}

/// Resolves references against an (optional) open vault, an environment
/// and (optionally) an OpenBao / Vault server.
pub struct Resolver<'a> {
    pub vault: Option<&'a Vault>,
    pub env: &'a dyn EnvSource,
    openbao: Option<OpenBao>,
}

impl<'a> Resolver<'a> {
    /// A resolver without an OpenBao / Vault server (`vault://` references
    /// then fail with [`OpenBaoError::NotConfigured`]).
    pub fn new(vault: Option<&'a Vault>, env: &'a dyn EnvSource) -> Resolver<'a> {
        Resolver {
            vault,
            env,
            openbao: None,
        }
    }

    /// Uses `client` for `vault://` references.
    pub fn with_openbao(mut self, client: Option<OpenBao>) -> Resolver<'a> {
        self.openbao = client;
        self
    }

    /// Makes the OpenBao / Vault client from `[backends.vault]` (`settings`)
    /// and `VAULT_ADDR` / `VAULT_TOKEN` / `VAULT_NAMESPACE` in this
    /// resolver's environment, resolving its credential references with
    /// this resolver. No server named by either: no client. A configuration
    /// that cannot work surfaces when a `vault://` reference is resolved.
    pub fn with_backends(self, settings: Option<&OpenBaoSettings>) -> Resolver<'a> {
        let client = OpenBao::configure(settings, &self);
        self.with_openbao(client)
    }

    /// The OpenBao / Vault client, if any (cheap to clone; keep it to
    /// resolve `vault://` references later, e.g. on refresh).
    pub fn openbao(&self) -> Option<&OpenBao> {
        self.openbao.as_ref()
    }

    /// Like [`Resolver::resolve`], but a remote value is fetched again
    /// rather than taken from the client's cache (for "the upstream said
    /// 401"). Local kinds are read afresh by `resolve` anyway.
    pub fn resolve_fresh(&self, r: &SecretRef) -> Result<SecretValue, ResolveError> {
        if let Some(c) = &self.openbao {
            c.forget_ref(r);
        }
        self.resolve(r)
    }

    /// The value behind `r`. Empty values are an error for every kind of
    /// reference: an empty credential is a misconfiguration, and an empty
    /// string cannot be scrubbed from output.
    pub fn resolve(&self, r: &SecretRef) -> Result<SecretValue, ResolveError> {
        let value = match r {
            SecretRef::Vault(name) => {
                let vault = self.vault.ok_or_else(|| ResolveError::NoVault {
                    reference: r.clone(),
                })?;
                vault.get(name).cloned().ok_or_else(|| ResolveError::NotFound {
                    reference: r.clone(),
                    what: format!(
                        "no secret named `{name}` in the vault; add it with `keyward secret set {name}`"
                    ),
                })?
            }
            SecretRef::Env(var) => {
                let value = self.env.var(var).ok_or_else(|| ResolveError::NotFound {
                    reference: r.clone(),
                    what: format!("environment variable `{var}` is not set for keyward"),
                })?;
                SecretValue::from_string(value)
            }
            SecretRef::File(path) => read_file(r, path)?,
            SecretRef::Keychain { service, account } => {
                match keystore::keychain_get(service, account) {
                    Ok(Some(value)) => value,
                    Ok(None) => {
                        return Err(ResolveError::NotFound {
                            reference: r.clone(),
                            what: "no such entry in the OS credential store".to_string(),
                        });
                    }
                    Err(source) => {
                        return Err(ResolveError::KeyStore {
                            reference: r.clone(),
                            source,
                        });
                    }
                }
            }
            SecretRef::OpenBao { mount, path, field } => {
                let backend = |source| ResolveError::Backend {
                    reference: r.clone(),
                    source: Box::new(source),
                };
                let client = self
                    .openbao
                    .as_ref()
                    .ok_or_else(|| backend(OpenBaoError::NotConfigured))?;
                client.read(mount, path, field).map_err(backend)?
            }
        };
        if value.is_empty() {
            return Err(ResolveError::Empty {
                reference: r.clone(),
            });
        }
        Ok(value)
    }
}

/// Reads a `file://` secret, without one trailing `\n` or `\r\n` (what
/// `echo` and editors add; orchestrators' secret files usually have none).
fn read_file(r: &SecretRef, path: &std::path::Path) -> Result<SecretValue, ResolveError> {
    let io_err = |source: io::Error| match source.kind() {
        io::ErrorKind::NotFound => ResolveError::NotFound {
            reference: r.clone(),
            what: "the file does not exist".to_string(),
        },
        _ => ResolveError::Io {
            reference: r.clone(),
            source,
        },
    };
    let file = File::open(path).map_err(io_err)?;
    let bytes = crate::fsio::read_secret_bytes(file, MAX_SECRET_FILE)
        .map_err(io_err)?
        .ok_or_else(|| ResolveError::TooLarge {
            reference: r.clone(),
            limit: MAX_SECRET_FILE,
        })?;
    let mut end = bytes.len();
    if bytes[..end].ends_with(b"\n") {
        end -= 1;
        if bytes[..end].ends_with(b"\r") {
            end -= 1;
        }
    }
    // A right-sized copy; `bytes` (sized for the file) is zeroed on drop.
    Ok(SecretValue::new(bytes[..end].to_vec()))
}
