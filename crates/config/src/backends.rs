//! `[backends.vault]` (OpenBao / HashiCorp Vault) and `[secrets]` (the
//! age past which `keyward doctor` warns about a vault value).
//!
//! ```toml
//! [backends.vault]
//! address = "https://bao.example.com:8200"   # else VAULT_ADDR
//! token = "keychain://keyward/bao-token"     # else VAULT_TOKEN; a reference, never a literal
//! # or AppRole:
//! # role_id = "env://BAO_ROLE_ID"
//! # secret_id = "file:///run/secrets/bao_secret_id"
//! namespace = "team-a"                       # X-Vault-Namespace (else VAULT_NAMESPACE)
//! cache_ttl = "5m"                           # how long fetched values are kept (default 5m)
//!
//! [secrets]
//! max_age = "90d"                            # doctor warns about older vault values
//! ```
//!
//! Credentials are references only: a literal token in keyward.toml would
//! be a secret in a file the agent may read. A credential cannot itself be
//! a `vault://` reference (it is what opens the backend).

use std::time::Duration;

use keyward_vault::openbao::{DEFAULT_CACHE_TTL, parse_address};
use keyward_vault::{OpenBaoAuth, OpenBaoSettings, SecretRef, has_secret_scheme};
use serde::Deserialize;

use crate::validate::Ctx;
use crate::{Config, ConfigError, parse_duration};

/// Where secrets can live besides the local vault.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Backends {
    /// `[backends.vault]`; `None` when the section is absent (keyward then
    /// still uses VAULT_ADDR / VAULT_TOKEN if they are set).
    pub vault: Option<OpenBaoSettings>,
}

/// `[secrets]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretsPolicy {
    /// A vault value last updated longer ago than this is reported by
    /// `keyward doctor` as due for rotation.
    pub max_age: Duration,
}

/// 90 days.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(90 * 24 * 3600);

impl Default for SecretsPolicy {
    fn default() -> Self {
        SecretsPolicy {
            max_age: DEFAULT_MAX_AGE,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBackends {
    vault: Option<RawVault>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVault {
    address: Option<String>,
    token: Option<String>,
    role_id: Option<String>,
    secret_id: Option<String>,
    namespace: Option<String>,
    cache_ttl: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSecrets {
    max_age: Option<String>,
}

pub(crate) fn validate_backends(
    ctx: &Ctx<'_>,
    raw: Option<RawBackends>,
) -> Result<Backends, ConfigError> {
    let Some(RawBackends { vault: Some(v) }) = raw else {
        return Ok(Backends::default());
    };
    let at = |k: &str| format!("backends.vault.{k}");
    let address = v
        .address
        .map(|a| parse_address(&a))
        .transpose()
        .map_err(|m| ctx.invalid(at("address"), m))?;
    let cred = |key: &str, s: Option<String>| -> Result<Option<SecretRef>, ConfigError> {
        s.map(|s| credential_ref(&s).map_err(|m| ctx.invalid(at(key), m)))
            .transpose()
    };
    let token = cred("token", v.token)?;
    let role_id = cred("role_id", v.role_id)?;
    let secret_id = cred("secret_id", v.secret_id)?;
    let auth = match (token, role_id, secret_id) {
        (None, None, None) => None,
        (Some(t), None, None) => Some(OpenBaoAuth::Token(t)),
        (None, Some(role_id), Some(secret_id)) => Some(OpenBaoAuth::AppRole { role_id, secret_id }),
        (Some(_), _, _) => {
            return Err(ctx.invalid(
                "backends.vault",
                "give either `token` or `role_id` + `secret_id` (AppRole), not both",
            ));
        }
        (None, Some(_), None) => {
            return Err(ctx.invalid(at("secret_id"), "AppRole needs `secret_id` too"));
        }
        (None, None, Some(_)) => {
            return Err(ctx.invalid(at("role_id"), "AppRole needs `role_id` too"));
        }
    };
    let namespace = v
        .namespace
        .map(|n| {
            let ok = !n.is_empty()
                && n.len() <= 256
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b));
            if ok {
                Ok(n)
            } else {
                Err(ctx.invalid(
                    at("namespace"),
                    "use letters, digits, `-`, `_`, `.` and `/` (nested namespaces)",
                ))
            }
        })
        .transpose()?;
    let cache_ttl = match v.cache_ttl {
        Some(t) => parse_duration(&t).map_err(|m| ctx.invalid(at("cache_ttl"), m))?,
        None => DEFAULT_CACHE_TTL,
    };
    Ok(Backends {
        vault: Some(OpenBaoSettings {
            address,
            auth,
            namespace,
            cache_ttl,
        }),
    })
}

/// A backend credential: a reference with a scheme, not `vault://`. The
/// text is never echoed when it is not a reference (it may be the token).
fn credential_ref(s: &str) -> Result<SecretRef, String> {
    if !has_secret_scheme(s) {
        return Err(format!(
            "must be a secret reference (keychain://SERVICE/ACCOUNT, env://VAR, file:///PATH or \
             keyward://NAME), not a literal value ({} characters, not shown): keyward.toml holds \
             no secrets. Store it with `keyward secret set --backend keychain NAME` and write \
             the reference it prints",
            s.chars().count()
        ));
    }
    let r = SecretRef::parse(s).map_err(|e| e.to_string())?;
    if matches!(r, SecretRef::OpenBao { .. }) {
        return Err("cannot be a vault:// reference: it is what opens the backend".into());
    }
    Ok(r)
}

pub(crate) fn validate_secrets(
    ctx: &Ctx<'_>,
    raw: Option<RawSecrets>,
) -> Result<SecretsPolicy, ConfigError> {
    let mut policy = SecretsPolicy::default();
    if let Some(age) = raw.and_then(|r| r.max_age) {
        policy.max_age = parse_age(&age).map_err(|m| ctx.invalid("secrets.max_age", m))?;
    }
    Ok(policy)
}

/// An age: `90d`, `2w`, or any duration keyward.toml accepts (`12h`).
pub fn parse_age(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let day = 24 * 3600;
    for (unit, secs) in [("d", day), ("w", 7 * day)] {
        if let Some(n) = t.strip_suffix(unit)
            && !n.is_empty()
            && n.bytes().all(|b| b.is_ascii_digit())
        {
            let n: u64 = n
                .parse()
                .map_err(|_| format!("`{t}` is not a whole number of {unit}"))?;
            if n == 0 {
                return Err(format!("`{t}` must be greater than zero"));
            }
            return Ok(Duration::from_secs(n.saturating_mul(secs)));
        }
    }
    parse_duration(t).map_err(|m| format!("{m}; ages may also use d (days) or w (weeks)"))
}

impl Config {
    /// `(where, reference)` for each credential of a backend, e.g.
    /// `("backends.vault.token", keychain://keyward/bao-token)`.
    pub fn backend_refs(&self) -> Vec<(String, &SecretRef)> {
        let Some(v) = &self.backends.vault else {
            return Vec::new();
        };
        v.auth
            .as_ref()
            .map(|a| {
                a.refs()
                    .into_iter()
                    .map(|(k, r)| (format!("backends.vault.{k}"), r))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("keyward.toml"))
    }

    fn err(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn absent_sections_give_defaults() {
        let c = parse("").unwrap();
        assert_eq!(c.backends, Backends::default());
        assert_eq!(c.secrets.max_age, DEFAULT_MAX_AGE);
        assert!(c.backend_refs().is_empty());
    }

    #[test]
    fn token_and_approle() {
        let c = parse(
            "[backends.vault]\naddress = \"http://127.0.0.1:8200\"\ntoken = \"keychain://keyward/bao-token\"\nnamespace = \"team-a/sub\"\ncache_ttl = \"30s\"\n",
        )
        .unwrap();
        let v = c.backends.vault.as_ref().unwrap();
        assert_eq!(
            v.address.as_ref().unwrap().as_str(),
            "http://127.0.0.1:8200/"
        );
        assert_eq!(
            v.auth,
            Some(OpenBaoAuth::Token(
                SecretRef::parse("keychain://keyward/bao-token").unwrap()
            ))
        );
        assert_eq!(v.namespace.as_deref(), Some("team-a/sub"));
        assert_eq!(v.cache_ttl, Duration::from_secs(30));
        assert_eq!(
            c.backend_refs()
                .iter()
                .map(|(w, r)| format!("{w}={r}"))
                .collect::<Vec<_>>(),
            ["backends.vault.token=keychain://keyward/bao-token"]
        );

        let c = parse(
            "[backends.vault]\nrole_id = \"env://BAO_ROLE_ID\"\nsecret_id = \"file:///run/secrets/bao_secret_id\"\n",
        )
        .unwrap();
        let v = c.backends.vault.as_ref().unwrap();
        assert!(matches!(v.auth, Some(OpenBaoAuth::AppRole { .. })));
        assert_eq!(v.address, None, "falls back to VAULT_ADDR");
        assert_eq!(v.cache_ttl, DEFAULT_CACHE_TTL);
        assert_eq!(c.backend_refs().len(), 2);
    }

    #[test]
    fn literal_credentials_are_refused_without_echo() {
        for (key, literal) in [
            ("token", "hvs.CAESIJ8kw_canary_literal_token_value"),
            ("token", "root"),
            ("token", "kw_canary_plain"),
        ] {
            let e = err(&format!("[backends.vault]\n{key} = \"{literal}\"\n"));
            assert!(e.contains("backends.vault.token"), "{e}");
            assert!(e.contains("not a literal value"), "{e}");
            assert!(!e.contains(literal), "echoed: {e}");
        }
        let e = err("[backends.vault]\ntoken = \"vault://secret/bao#token\"\n");
        assert!(e.contains("cannot be a vault://"), "{e}");
        let e =
            err("[backends.vault]\nrole_id = \"env://R\"\nsecret_id = \"kw_canary_sid_1234\"\n");
        assert!(
            e.contains("backends.vault.secret_id") && !e.contains("kw_canary"),
            "{e}"
        );
    }

    #[test]
    fn bad_shapes() {
        for (text, want) in [
            ("[backends.vault]\ntokn = \"env://T\"\n", "unknown field"),
            ("[backends.other]\n", "unknown field"),
            (
                "[backends.vault]\naddress = \"http://10.0.0.5:8200\"\n",
                "clear text",
            ),
            (
                "[backends.vault]\naddress = \"bao:8200\"\n",
                "backends.vault.address",
            ),
            (
                "[backends.vault]\ntoken = \"env://T\"\nrole_id = \"env://R\"\nsecret_id = \"env://S\"\n",
                "not both",
            ),
            (
                "[backends.vault]\nrole_id = \"env://R\"\n",
                "needs `secret_id`",
            ),
            (
                "[backends.vault]\nsecret_id = \"env://S\"\n",
                "needs `role_id`",
            ),
            (
                "[backends.vault]\nnamespace = \"a b\"\n",
                "backends.vault.namespace",
            ),
            (
                "[backends.vault]\ncache_ttl = \"soon\"\n",
                "backends.vault.cache_ttl",
            ),
            ("[secrets]\nmax_age = \"0d\"\n", "greater than zero"),
            ("[secrets]\nmax_age = \"3 months\"\n", "secrets.max_age"),
            ("[secrets]\nmaxage = \"3d\"\n", "unknown field"),
        ] {
            let e = err(text);
            assert!(e.contains(want), "{text}: {e}");
        }
    }

    #[test]
    fn ages() {
        assert_eq!(parse_age("90d"), Ok(Duration::from_secs(90 * 86400)));
        assert_eq!(parse_age("2w"), Ok(Duration::from_secs(14 * 86400)));
        assert_eq!(parse_age("12h"), Ok(Duration::from_secs(12 * 3600)));
        assert!(parse_age("d").is_err());
        assert!(parse_age("-1d").is_err());
        let c = parse("[secrets]\nmax_age = \"30d\"\n").unwrap();
        assert_eq!(c.secrets.max_age, Duration::from_secs(30 * 86400));
    }
}
