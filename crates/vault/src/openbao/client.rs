//! The client: configuration, KV v2 reads and writes, the value cache and
//! the health check. The HTTP exchange and tokens are in `session.rs`. See
//! the module docs of `openbao` for why it is built this way.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::blocking::Client;
use reqwest::header::HeaderValue;
use serde::Serialize;
use serde_json::value::RawValue;
use url::Url;
use zeroize::Zeroizing;

use super::error::server_errors;
use super::kv::{self, KvShape};
use super::path::{api_url, kv_data_url};
use super::{OpenBaoAuth, OpenBaoError, OpenBaoSettings, parse_address};
use crate::{Resolver, SecretRef, SecretValue};

/// How often a check-and-set write is tried when the secret changes under it.
const CAS_TRIES: usize = 3;

/// A client of one OpenBao / Vault server. Cheap to clone (shared state);
/// safe to use from several threads. Blocking: see the module docs.
#[derive(Clone)]
pub struct OpenBao {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    /// A configuration that cannot work is kept as its error, returned by
    /// every call, so that it surfaces naming the `vault://` reference that
    /// needed it (and not at all when no reference does).
    setup: Result<Setup, OpenBaoError>,
    cache_ttl: Duration,
    cache: Mutex<HashMap<(String, String), Cached>>,
    pub(super) token: Mutex<Option<Token>>,
    pub(super) http: OnceLock<Result<Client, String>>,
}

pub(super) struct Setup {
    pub(super) address: Url,
    pub(super) namespace: Option<String>,
    pub(super) creds: Creds,
}

pub(super) enum Creds {
    Token(SecretValue),
    AppRole {
        role_id: SecretValue,
        secret_id: SecretValue,
    },
}

pub(super) struct Token {
    pub(super) value: SecretValue,
    pub(super) renewable: bool,
    pub(super) lease: Duration,
    /// `None`: never expires (or unknown).
    pub(super) expires: Option<Instant>,
}

struct Cached {
    at: Instant,
    fields: BTreeMap<String, Result<SecretValue, &'static str>>,
}

pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) body: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for OpenBao {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenBao")
            .field("address", &self.address())
            .finish_non_exhaustive()
    }
}

pub(super) fn setup_err(message: impl Into<String>) -> OpenBaoError {
    OpenBaoError::Setup {
        message: message.into(),
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

// === impl OpenBao: configuration ===

impl OpenBao {
    /// The client for `settings` (`[backends.vault]`), falling back to
    /// `VAULT_ADDR` / `VAULT_TOKEN` / `VAULT_NAMESPACE` from `base`'s
    /// environment. `None` when neither names a server. Credential
    /// references are resolved with `base` now; nothing is sent yet.
    pub fn configure(settings: Option<&OpenBaoSettings>, base: &Resolver<'_>) -> Option<OpenBao> {
        let env_addr = base.env.var("VAULT_ADDR").filter(|s| !s.trim().is_empty());
        if settings.is_none() && env_addr.is_none() {
            return None;
        }
        let defaults = OpenBaoSettings::default();
        let s = settings.unwrap_or(&defaults);
        Some(OpenBao {
            inner: Arc::new(Inner {
                setup: make_setup(s, env_addr, base),
                cache_ttl: s.cache_ttl,
                cache: Mutex::new(HashMap::new()),
                token: Mutex::new(None),
                http: OnceLock::new(),
            }),
        })
    }

    /// The server's address, when the configuration is usable.
    pub fn address(&self) -> Option<String> {
        self.inner.setup.as_ref().ok().map(Setup::address_text)
    }

    /// keyward's own credentials for this server (the configured token, or
    /// AppRole's role id and secret id, and the token the last login
    /// returned), so the gateway can add them to its scrubber: none of them
    /// may reach the agent either.
    pub fn credential_values(&self) -> Vec<SecretValue> {
        let mut out = Vec::new();
        if let Ok(setup) = &self.inner.setup {
            match &setup.creds {
                Creds::Token(t) => out.push(t.clone()),
                Creds::AppRole { role_id, secret_id } => {
                    out.push(role_id.clone());
                    out.push(secret_id.clone());
                }
            }
        }
        if let Some(t) = lock(&self.inner.token).as_ref()
            && !out.contains(&t.value)
        {
            out.push(t.value.clone());
        }
        out
    }

    fn setup(&self) -> Result<&Setup, OpenBaoError> {
        self.inner.setup.as_ref().map_err(Clone::clone)
    }
}

fn make_setup(
    s: &OpenBaoSettings,
    env_addr: Option<String>,
    base: &Resolver<'_>,
) -> Result<Setup, OpenBaoError> {
    let address = match (&s.address, env_addr) {
        (Some(a), _) => a.clone(),
        (None, Some(a)) => parse_address(&a).map_err(|m| setup_err(format!("VAULT_ADDR: {m}")))?,
        (None, None) => {
            return Err(setup_err(
                "no address: set [backends.vault].address in keyward.toml, or VAULT_ADDR",
            ));
        }
    };
    let namespace = s.namespace.clone().or_else(|| {
        base.env
            .var("VAULT_NAMESPACE")
            .filter(|n| !n.trim().is_empty())
    });
    if let Some(ns) = &namespace
        && HeaderValue::from_str(ns).is_err()
    {
        return Err(setup_err(
            "the namespace has characters an HTTP header cannot carry",
        ));
    }
    let creds = match &s.auth {
        Some(OpenBaoAuth::Token(r)) => Creds::Token(credential(base, "token", r)?),
        Some(OpenBaoAuth::AppRole { role_id, secret_id }) => Creds::AppRole {
            role_id: credential(base, "role_id", role_id)?,
            secret_id: credential(base, "secret_id", secret_id)?,
        },
        None => match base.env.var("VAULT_TOKEN").filter(|t| !t.is_empty()) {
            Some(t) => Creds::Token(SecretValue::from_string(t)),
            None => {
                return Err(setup_err(
                    "no credentials: set [backends.vault].token (or role_id and secret_id) in \
                     keyward.toml, or VAULT_TOKEN",
                ));
            }
        },
    };
    Ok(Setup {
        address,
        namespace,
        creds,
    })
}

fn credential(base: &Resolver<'_>, key: &str, r: &SecretRef) -> Result<SecretValue, OpenBaoError> {
    if matches!(r, SecretRef::OpenBao { .. }) {
        return Err(setup_err(format!(
            "[backends.vault].{key} = `{r}`: the backend's own credential cannot live in it"
        )));
    }
    base.resolve(r)
        .map_err(|e| setup_err(format!("[backends.vault].{key}: {e}")))
}

impl Setup {
    pub(super) fn address_text(&self) -> String {
        self.address.as_str().trim_end_matches('/').to_string()
    }
}

// === impl OpenBao: reading and writing ===

impl OpenBao {
    /// `FIELD` of the current version of `MOUNT/PATH`, from the cache while
    /// it is younger than `cache_ttl`.
    pub fn read(&self, mount: &str, path: &str, field: &str) -> Result<SecretValue, OpenBaoError> {
        let setup = self.setup()?;
        let key = (mount.to_string(), path.to_string());
        if let Some(c) = lock(&self.inner.cache).get(&key)
            && c.at.elapsed() < self.inner.cache_ttl
        {
            return pick(setup, c, mount, path, field);
        }
        let fetched = self.fetch(setup, mount, path)?;
        let out = pick(setup, &fetched, mount, path, field);
        lock(&self.inner.cache).insert(key, fetched);
        out
    }

    /// Drops the cached fields of `MOUNT/PATH`: the next read asks the server.
    pub fn forget(&self, mount: &str, path: &str) {
        lock(&self.inner.cache).remove(&(mount.to_string(), path.to_string()));
    }

    /// [`OpenBao::forget`] for a `vault://` reference (others are ignored).
    pub fn forget_ref(&self, r: &SecretRef) {
        if let SecretRef::OpenBao { mount, path, .. } = r {
            self.forget(mount, path);
        }
    }

    fn fetch(&self, setup: &Setup, mount: &str, path: &str) -> Result<Cached, OpenBaoError> {
        let url = kv_data_url(&setup.address, mount, path)?;
        let what = format!("reading `{mount}/data/{path}`");
        let a = self.authed(setup, Method::GET, url, None, &what)?;
        match a.status {
            200 => {
                let read = kv::parse_kv_read(&a.body)
                    .map_err(|shape| shape_error(setup, mount, path, &what, shape))?;
                let fields = read
                    .fields
                    .iter()
                    .map(|(k, raw)| (k.clone(), kv::field_value(raw)))
                    .collect();
                Ok(Cached {
                    at: Instant::now(),
                    fields,
                })
            }
            404 if kv::deleted_version(&a.body).is_some() => Err(no_such(setup, mount, path)),
            404 => Err(self.explain_404(setup, mount, path)),
            _ => Err(status_error(setup, &a, &what)),
        }
    }

    /// Sets `FIELD` of `MOUNT/PATH` to `value`, keeping the secret's other
    /// fields: the current version is read and written back as a new
    /// version with check-and-set on the version read, so a concurrent
    /// change is never overwritten (tried again, then reported). Creates
    /// the secret if there is none. Returns the new version number.
    pub fn write_field(
        &self,
        mount: &str,
        path: &str,
        field: &str,
        value: &SecretValue,
    ) -> Result<u64, OpenBaoError> {
        let setup = self.setup()?;
        let text = value.expose_str().map_err(|_| OpenBaoError::NotUtf8)?;
        let url = kv_data_url(&setup.address, mount, path)?;
        let read_what = format!("reading `{mount}/data/{path}` (to keep its other fields)");
        let write_what = format!("writing `{mount}/data/{path}`");
        for _ in 0..CAS_TRIES {
            let current = self.authed(setup, Method::GET, url.clone(), None, &read_what)?;
            let (raw_fields, version) = match current.status {
                200 => {
                    let r = kv::parse_kv_read(&current.body)
                        .map_err(|s| shape_error(setup, mount, path, &read_what, s))?;
                    (r.fields, r.version)
                }
                404 => match kv::deleted_version(&current.body) {
                    Some(v) => (BTreeMap::new(), v),
                    None => match self.explain_404(setup, mount, path) {
                        OpenBaoError::NoSuchSecret { .. } => (BTreeMap::new(), 0),
                        e => return Err(e),
                    },
                },
                _ => return Err(status_error(setup, &current, &read_what)),
            };
            let body = write_body(&raw_fields, field, text, version, current.body.len())?;
            let a = self.authed(setup, Method::POST, url.clone(), Some(&body), &write_what)?;
            match a.status {
                200 | 204 => {
                    self.forget(mount, path);
                    return Ok(kv::parse_write_version(&a.body).unwrap_or(version + 1));
                }
                400 if kv::parse_errors(&a.body)
                    .iter()
                    .any(|e| e.contains("check-and-set")) =>
                {
                    continue;
                }
                _ => return Err(status_error(setup, &a, &write_what)),
            }
        }
        Err(OpenBaoError::Conflict {
            address: setup.address_text(),
            mount: mount.to_string(),
            path: path.to_string(),
        })
    }

    /// Tells "no such secret" from "no such mount" and "not KV v2" after a
    /// 404, from the mount's description (any token may read it for the
    /// mounts its policy reaches).
    fn explain_404(&self, setup: &Setup, mount: &str, path: &str) -> OpenBaoError {
        let Ok(url) = api_url(&setup.address, &["sys", "internal", "ui", "mounts", mount]) else {
            return no_such(setup, mount, path);
        };
        let what = format!("describing the mount `{mount}`");
        let address = setup.address_text();
        match self.authed(setup, Method::GET, url, None, &what) {
            Ok(a) if a.status == 200 => match kv::parse_mount(&a.body) {
                Ok(m) if (m.kind == "kv" || m.kind == "generic") => {
                    if m.version.as_deref() == Some("2") {
                        no_such(setup, mount, path)
                    } else {
                        OpenBaoError::NotKvV2 {
                            address,
                            mount: mount.to_string(),
                            detail: format!(
                                "it is KV version {}",
                                m.version.as_deref().unwrap_or("1")
                            ),
                        }
                    }
                }
                Ok(m) => OpenBaoError::NotKvV2 {
                    address,
                    mount: mount.to_string(),
                    detail: format!("it is a `{}` secrets engine", m.kind),
                },
                Err(_) => no_such(setup, mount, path),
            },
            // Unknown mounts: 400/404 from Vault; OpenBao answers 403 "preflight
            // capability check returned 403" (even to a root token).
            Ok(a)
                if a.status == 400
                    || a.status == 404
                    || (a.status == 403
                        && kv::parse_errors(&a.body)
                            .iter()
                            .any(|e| e.contains("preflight capability check"))) =>
            {
                OpenBaoError::NoSuchMount {
                    address,
                    mount: mount.to_string(),
                }
            }
            _ => no_such(setup, mount, path),
        }
    }

    /// Whether the server answers, is unsealed, and takes the token: a
    /// one-line description for `keyward doctor`.
    pub fn check(&self) -> Result<String, OpenBaoError> {
        let setup = self.setup()?;
        let address = setup.address_text();
        let url = api_url(&setup.address, &["sys", "health"])?;
        let health = self.send(setup, Method::GET, url, None, None)?;
        let state = match health.status {
            200 => "unsealed, active",
            429 | 472 | 473 => "unsealed, standby",
            501 => {
                return Err(OpenBaoError::Status {
                    address,
                    status: 501,
                    what: "the health check".into(),
                    detail: ": the server is not initialised".into(),
                });
            }
            503 => return Err(OpenBaoError::Sealed { address }),
            _ => return Err(status_error(setup, &health, "the health check")),
        };
        let url = api_url(&setup.address, &["auth", "token", "lookup-self"])?;
        let a = self.authed(setup, Method::GET, url, None, "looking up keyward's token")?;
        if a.status != 200 {
            return Err(status_error(setup, &a, "looking up keyward's token"));
        }
        let how = match setup.creds {
            Creds::Token(_) => "token",
            Creds::AppRole { .. } => "AppRole",
        };
        Ok(format!("{address}: {state}, {how} accepted"))
    }
}

/// `{"options":{"cas":V},"data":{...}}` with `field` set to `text`, in a
/// zeroizing buffer sized so that it never reallocates.
fn write_body(
    fields: &BTreeMap<String, &RawValue>,
    field: &str,
    text: &str,
    version: u64,
    current_len: usize,
) -> Result<Zeroizing<Vec<u8>>, OpenBaoError> {
    #[derive(Serialize)]
    #[serde(untagged)]
    enum Field<'a> {
        Raw(&'a RawValue),
        Text(&'a str),
    }
    #[derive(Serialize)]
    struct Options {
        cas: u64,
    }
    #[derive(Serialize)]
    struct Body<'a> {
        options: Options,
        data: BTreeMap<&'a str, Field<'a>>,
    }
    let mut data: BTreeMap<&str, Field<'_>> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), Field::Raw(v)))
        .collect();
    data.insert(field, Field::Text(text));
    let body = Body {
        options: Options { cas: version },
        data,
    };
    // JSON escaping makes a character at most 6 bytes (`\u00XX`).
    let mut out = Zeroizing::new(Vec::with_capacity(
        current_len + 6 * (text.len() + field.len()) + 128,
    ));
    serde_json::to_writer(&mut *out, &body).map_err(|e| OpenBaoError::BadPath {
        reason: format!("cannot encode the write: {e}"),
    })?;
    Ok(out)
}

fn pick(
    setup: &Setup,
    c: &Cached,
    mount: &str,
    path: &str,
    field: &str,
) -> Result<SecretValue, OpenBaoError> {
    match c.fields.get(field) {
        Some(Ok(v)) => Ok(v.clone()),
        Some(Err(kind)) => Err(OpenBaoError::FieldNotScalar {
            address: setup.address_text(),
            mount: mount.to_string(),
            path: path.to_string(),
            field: field.to_string(),
            kind,
        }),
        None => Err(OpenBaoError::FieldMissing {
            address: setup.address_text(),
            mount: mount.to_string(),
            path: path.to_string(),
            field: field.to_string(),
            available: if c.fields.is_empty() {
                "none".to_string()
            } else {
                c.fields
                    .keys()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        }),
    }
}

fn no_such(setup: &Setup, mount: &str, path: &str) -> OpenBaoError {
    OpenBaoError::NoSuchSecret {
        address: setup.address_text(),
        mount: mount.to_string(),
        path: path.to_string(),
    }
}

fn shape_error(setup: &Setup, mount: &str, path: &str, what: &str, s: KvShape) -> OpenBaoError {
    match s {
        KvShape::NotKvV2 => OpenBaoError::NotKvV2 {
            address: setup.address_text(),
            mount: mount.to_string(),
            detail: "the answer has no KV v2 `data`/`metadata`".into(),
        },
        KvShape::Deleted { .. } => no_such(setup, mount, path),
        KvShape::Unreadable(detail) => OpenBaoError::BadResponse {
            address: setup.address_text(),
            what: what.to_string(),
            detail,
        },
    }
}

pub(super) fn status_error(setup: &Setup, a: &Answer, what: &str) -> OpenBaoError {
    let address = setup.address_text();
    let errors = kv::parse_errors(&a.body);
    match a.status {
        403 => OpenBaoError::PermissionDenied {
            address,
            what: what.to_string(),
        },
        503 if errors.iter().any(|e| e.contains("sealed")) => OpenBaoError::Sealed { address },
        status => OpenBaoError::Status {
            address,
            status,
            what: what.to_string(),
            detail: server_errors(&errors),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_body_keeps_other_fields_and_sets_cas() {
        let current = br#"{"data":{"data":{"a":"one","n":5,"obj":{"x":[1,2]}},"metadata":{"version":7,"deletion_time":"","destroyed":false}}}"#;
        let read = kv::parse_kv_read(current).unwrap();
        let body = write_body(
            &read.fields,
            "key",
            "new \"v\"",
            read.version,
            current.len(),
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "options": {"cas": 7},
                "data": {"a": "one", "n": 5, "obj": {"x": [1, 2]}, "key": "new \"v\""}
            })
        );
        // Replacing an existing field.
        let body = write_body(&read.fields, "a", "two", 7, current.len()).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["data"]["a"], "two");
        // Capacity was enough: no reallocation left a copy behind.
        assert!(body.len() <= body.capacity());
    }

    #[test]
    fn errors_carry_no_credentials() {
        let env: HashMap<String, String> = [
            ("VAULT_ADDR".to_string(), "http://10.1.2.3:8200".to_string()),
            ("VAULT_TOKEN".to_string(), "kw_canary_tok_3f9a".to_string()),
        ]
        .into();
        let base = Resolver::new(None, &env);
        let c = OpenBao::configure(None, &base).unwrap();
        let e = c.read("secret", "x", "k").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("VAULT_ADDR"), "{text}");
        assert!(!text.contains("kw_canary"), "{text}");
        assert!(!format!("{c:?}").contains("kw_canary"));

        let env: HashMap<String, String> =
            [("VAULT_ADDR".to_string(), "http://127.0.0.1:1".to_string())].into();
        let base = Resolver::new(None, &env);
        let e = OpenBao::configure(None, &base)
            .unwrap()
            .read("secret", "x", "k")
            .unwrap_err();
        assert!(e.to_string().contains("VAULT_TOKEN"), "{e}");

        // Not configured at all.
        assert!(OpenBao::configure(None, &Resolver::new(None, &())).is_none());
    }
}
