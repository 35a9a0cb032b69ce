//! Parsing what OpenBao / Vault answer: KV v2 reads, auth (login, renew),
//! token lookups, mount descriptions and error bodies. Pure functions over
//! bytes, so every shape is unit-tested without a server.
//!
//! Field values are borrowed from the (zeroizing) response buffer as raw
//! JSON and turned into [`SecretValue`]s one by one; the rest of the answer
//! is metadata. serde_json copies a string only when it has escapes.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::SecretValue;

/// The current version of a KV v2 secret: its fields as raw JSON.
pub(crate) struct KvRead<'a> {
    pub(crate) fields: BTreeMap<String, &'a RawValue>,
    pub(crate) version: u64,
}

/// Why a KV v2 answer could not be used.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum KvShape {
    /// Not JSON, or no `data`.
    Unreadable(String),
    /// `data` without KV v2's `data`/`metadata` pair: a KV v1 mount, or
    /// something else at that path.
    NotKvV2,
    /// KV v2, but the current version is deleted or destroyed (its
    /// number, which a check-and-set write must name).
    Deleted { version: u64 },
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    data: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct KvV2<'a> {
    #[serde(borrow)]
    data: Option<BTreeMap<String, &'a RawValue>>,
    metadata: Option<KvMeta>,
}

#[derive(Deserialize)]
struct KvMeta {
    version: Option<u64>,
    #[serde(default)]
    destroyed: bool,
    deletion_time: Option<String>,
}

/// A JSON error without serde's quote of the input: the body being read
/// holds secret values.
fn json_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Io => "read error",
        Category::Syntax => "invalid JSON",
        Category::Data => "JSON of an unexpected shape",
        Category::Eof => "truncated JSON",
    };
    format!("{what} at line {}, column {}", e.line(), e.column())
}

pub(crate) fn parse_kv_read(body: &[u8]) -> Result<KvRead<'_>, KvShape> {
    let env: Envelope<'_> =
        serde_json::from_slice(body).map_err(|e| KvShape::Unreadable(json_error(&e)))?;
    let data = env
        .data
        .ok_or_else(|| KvShape::Unreadable("the answer has no `data`".into()))?;
    if !data.get().trim_start().starts_with('{') {
        return Err(KvShape::NotKvV2);
    }
    let kv: KvV2<'_> = serde_json::from_str(data.get()).map_err(|_| KvShape::NotKvV2)?;
    let meta = kv.metadata.ok_or(KvShape::NotKvV2)?;
    let deleted = meta.destroyed || meta.deletion_time.as_deref().is_some_and(|t| !t.is_empty());
    match kv.data {
        Some(fields) if !deleted => Ok(KvRead {
            fields,
            version: meta.version.unwrap_or(0),
        }),
        _ => Err(KvShape::Deleted {
            version: meta.version.unwrap_or(0),
        }),
    }
}

/// A KV v2 answer with `data.data: null` (deleted or destroyed version):
/// the 404 OpenBao sends for those still carries metadata. The version.
pub(crate) fn deleted_version(body: &[u8]) -> Option<u64> {
    match parse_kv_read(body) {
        Err(KvShape::Deleted { version }) => Some(version),
        _ => None,
    }
}

/// The version a KV v2 write created.
pub(crate) fn parse_write_version(body: &[u8]) -> Option<u64> {
    #[derive(Deserialize)]
    struct W {
        data: Option<V>,
    }
    #[derive(Deserialize)]
    struct V {
        version: Option<u64>,
    }
    serde_json::from_slice::<W>(body).ok()?.data?.version
}

/// One field's value. Strings are used as they are; numbers and booleans
/// as their JSON text (a PIN stored as a number still works). Objects,
/// arrays and null are refused, named by kind.
pub(crate) fn field_value(raw: &RawValue) -> Result<SecretValue, &'static str> {
    let text = raw.get().trim();
    match text.as_bytes().first() {
        Some(b'"') => serde_json::from_str::<String>(text)
            .map(SecretValue::from_string)
            .map_err(|_| "an unreadable string"),
        Some(b'{') => Err("an object"),
        Some(b'[') => Err("an array"),
        Some(b'n') => Err("null"),
        Some(_) => Ok(SecretValue::new(text.as_bytes().to_vec())),
        None => Err("empty"),
    }
}

/// A token from a login or renewal, with its lease.
pub(crate) struct AuthAnswer {
    pub(crate) token: Option<SecretValue>,
    pub(crate) lease: Duration,
    pub(crate) renewable: bool,
}

#[derive(Deserialize)]
struct AuthEnvelope {
    auth: Option<AuthBody>,
}

#[derive(Deserialize)]
struct AuthBody {
    client_token: Option<String>,
    #[serde(default)]
    lease_duration: u64,
    #[serde(default)]
    renewable: bool,
}

pub(crate) fn parse_auth(body: &[u8]) -> Result<AuthAnswer, String> {
    let env: AuthEnvelope = serde_json::from_slice(body).map_err(|e| json_error(&e))?;
    let auth = env.auth.ok_or("the answer has no `auth`")?;
    Ok(AuthAnswer {
        token: auth
            .client_token
            .filter(|t| !t.is_empty())
            .map(SecretValue::from_string),
        lease: Duration::from_secs(auth.lease_duration),
        renewable: auth.renewable,
    })
}

/// What `auth/token/lookup-self` says of the token: remaining TTL (zero
/// means it never expires) and whether it can be renewed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TokenInfo {
    pub(crate) ttl: Duration,
    pub(crate) renewable: bool,
}

#[derive(Deserialize)]
struct LookupEnvelope {
    data: Option<LookupBody>,
}

#[derive(Deserialize)]
struct LookupBody {
    #[serde(default)]
    ttl: u64,
    #[serde(default)]
    renewable: bool,
}

pub(crate) fn parse_lookup(body: &[u8]) -> Result<TokenInfo, String> {
    let env: LookupEnvelope = serde_json::from_slice(body).map_err(|e| json_error(&e))?;
    let data = env.data.ok_or("the answer has no `data`")?;
    Ok(TokenInfo {
        ttl: Duration::from_secs(data.ttl),
        renewable: data.renewable,
    })
}

/// A mount as `sys/internal/ui/mounts/PATH` describes it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct MountInfo {
    pub(crate) kind: String,
    pub(crate) version: Option<String>,
}

#[derive(Deserialize)]
struct MountEnvelope {
    data: Option<MountBody>,
}

#[derive(Deserialize)]
struct MountBody {
    #[serde(rename = "type")]
    kind: Option<String>,
    options: Option<BTreeMap<String, serde_json::Value>>,
}

pub(crate) fn parse_mount(body: &[u8]) -> Result<MountInfo, String> {
    let env: MountEnvelope = serde_json::from_slice(body).map_err(|e| json_error(&e))?;
    let data = env.data.ok_or("the answer has no `data`")?;
    let version = data
        .options
        .as_ref()
        .and_then(|o| o.get("version"))
        .and_then(|v| match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
    Ok(MountInfo {
        kind: data.kind.unwrap_or_default(),
        version,
    })
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errors: Vec<String>,
}

/// The `errors` of an error answer (empty when there are none or the body
/// is not JSON).
pub(crate) fn parse_errors(body: &[u8]) -> Vec<String> {
    serde_json::from_slice::<ErrorBody>(body)
        .map(|b| b.errors)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// serde's own messages quote the offending value; a login answer of
    /// an unexpected shape may hold the token.
    #[test]
    fn parse_errors_never_quote_the_body() {
        let bad = br#"{"auth": {"client_token": ["kw_canary_tok_0123"], "lease_duration": 1}}"#;
        let e = parse_auth(bad).err().unwrap();
        assert!(!e.contains("kw_canary"), "{e}");
        let bad = br#"{"auth": {"client_token": "t", "lease_duration": "kw_canary_ttl_0123"}}"#;
        let e = parse_auth(bad).err().unwrap();
        assert!(
            !e.contains("kw_canary") && e.contains("unexpected shape"),
            "{e}"
        );
    }

    const READ: &str = r#"{"request_id":"6c3c","lease_id":"","renewable":false,"lease_duration":0,
        "data":{"data":{"key":"kw_canary_1","n":1234,"flag":true,"nested":{"a":1},"list":[1],"nil":null,
        "esc":"a\"b\\c\u00e9"},
        "metadata":{"created_time":"2026-01-01T00:00:00Z","custom_metadata":null,"deletion_time":"",
        "destroyed":false,"version":3}},"wrap_info":null,"warnings":null,"auth":null}"#;

    #[test]
    fn reads_kv2_fields_and_version() {
        let r = parse_kv_read(READ.as_bytes()).unwrap();
        assert_eq!(r.version, 3);
        let get = |f: &str| field_value(r.fields[f]);
        assert_eq!(get("key").unwrap().expose(), b"kw_canary_1");
        assert_eq!(get("n").unwrap().expose(), b"1234");
        assert_eq!(get("flag").unwrap().expose(), b"true");
        assert_eq!(get("esc").unwrap().expose(), "a\"b\\cé".as_bytes());
        assert_eq!(get("nested").unwrap_err(), "an object");
        assert_eq!(get("list").unwrap_err(), "an array");
        assert_eq!(get("nil").unwrap_err(), "null");
        assert_eq!(
            r.fields.keys().map(String::as_str).collect::<Vec<_>>(),
            ["esc", "flag", "key", "list", "n", "nested", "nil"]
        );
    }

    #[test]
    fn kv1_answers_are_not_kv2() {
        // KV v1: the fields sit directly under `data`.
        assert_eq!(
            parse_kv_read(br#"{"data":{"key":"v"}}"#).err(),
            Some(KvShape::NotKvV2)
        );
        assert_eq!(
            parse_kv_read(br#"{"data":{"data":{"key":"v"}}}"#).err(),
            Some(KvShape::NotKvV2)
        );
        assert_eq!(
            parse_kv_read(br#"{"data":"x"}"#).err(),
            Some(KvShape::NotKvV2)
        );
        assert!(matches!(
            parse_kv_read(br#"{"warnings":null}"#),
            Err(KvShape::Unreadable(_))
        ));
        assert!(matches!(
            parse_kv_read(b"<html>"),
            Err(KvShape::Unreadable(_))
        ));
    }

    #[test]
    fn deleted_versions_are_recognised() {
        let deleted = br#"{"data":{"data":null,"metadata":{"deletion_time":"2026-01-01T00:00:00Z","destroyed":false,"version":2}}}"#;
        assert_eq!(deleted_version(deleted), Some(2));
        let destroyed = br#"{"data":{"data":null,"metadata":{"deletion_time":"","destroyed":true,"version":2}}}"#;
        assert_eq!(deleted_version(destroyed), Some(2));
        assert_eq!(deleted_version(br#"{"errors":[]}"#), None);
        assert_eq!(deleted_version(READ.as_bytes()), None);
        assert_eq!(
            parse_write_version(br#"{"data":{"created_time":"x","version":4}}"#),
            Some(4)
        );
    }

    #[test]
    fn parses_auth_lookup_mounts_errors() {
        let a = parse_auth(
            br#"{"auth":{"client_token":"s.tok","accessor":"x","lease_duration":60,"renewable":true,"policies":["default"]}}"#,
        )
        .unwrap();
        assert_eq!(a.token.unwrap().expose(), b"s.tok");
        assert_eq!(a.lease, Duration::from_secs(60));
        assert!(a.renewable);
        assert!(parse_auth(br#"{"data":{}}"#).is_err());
        assert!(
            parse_auth(br#"{"auth":{"client_token":""}}"#)
                .unwrap()
                .token
                .is_none()
        );

        assert_eq!(
            parse_lookup(br#"{"data":{"ttl":0,"renewable":false,"policies":["root"]}}"#).unwrap(),
            TokenInfo {
                ttl: Duration::ZERO,
                renewable: false
            }
        );

        assert_eq!(
            parse_mount(br#"{"data":{"type":"kv","options":{"version":"2"},"path":"secret/"}}"#)
                .unwrap(),
            MountInfo {
                kind: "kv".into(),
                version: Some("2".into())
            }
        );
        assert_eq!(
            parse_mount(br#"{"data":{"type":"kv","options":null,"path":"kv1/"}}"#)
                .unwrap()
                .version,
            None
        );

        assert_eq!(
            parse_errors(br#"{"errors":["permission denied"]}"#),
            ["permission denied"]
        );
        assert!(parse_errors(b"not json").is_empty());
    }
}
