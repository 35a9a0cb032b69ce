//! The decrypted vault body: named secrets with their timestamps, and their
//! plaintext JSON encoding.
//!
//! Where plaintext lives while encoding and decoding (SECURITY.md item 8):
//! - encoding: each value is base64-encoded into a `Zeroizing<String>` sized
//!   exactly (no reallocation), which serde_json copies into the output
//!   buffer. That buffer is a `Zeroizing<Vec<u8>>` whose capacity is
//!   measured by a first, counting pass, so it never reallocates either
//!   (a reallocation would free a copy of the plaintext without zeroing it).
//! - decoding: the decrypted buffer is zeroizing; values are borrowed from it
//!   as `&str` (no serde_json copy) and base64-decoded straight into the
//!   buffer the [`SecretValue`] then owns.
//!
//! serde_json keeps no other copies; its small internal scratch buffers are
//! only used for strings with escapes, which base64 and secret names never
//! contain. Timestamps and names are not secret.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jiff::Timestamp;
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Deserialize, Serialize, Serializer};
use zeroize::Zeroizing;

use crate::{SecretValue, VaultError, validate_secret_name};

/// The secrets of a vault, changed only inside [`Vault::update`](crate::Vault::update).
#[derive(Clone, Default)]
pub struct Entries {
    map: BTreeMap<String, Entry>,
}

#[derive(Clone)]
struct Entry {
    value: SecretValue,
    created: Timestamp,
    updated: Timestamp,
}

/// What `keyward secret list` shows: everything about an entry except its value.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct EntryInfo {
    pub name: String,
    pub created: Timestamp,
    pub updated: Timestamp,
    /// Length of the value in bytes.
    pub len: usize,
}

impl Entries {
    /// Adds or replaces a secret. The name is validated; an empty value is
    /// refused (it is always a mistake, and cannot be scrubbed from output).
    pub fn set(&mut self, name: &str, value: SecretValue) -> Result<(), VaultError> {
        validate_secret_name(name)?;
        if value.is_empty() {
            return Err(VaultError::EmptyValue {
                name: name.to_string(),
            });
        }
        let now = Timestamp::now();
        match self.map.get_mut(name) {
            Some(entry) => {
                entry.value = value;
                entry.updated = now;
            }
            None => {
                let entry = Entry {
                    value,
                    created: now,
                    updated: now,
                };
                self.map.insert(name.to_string(), entry);
            }
        }
        Ok(())
    }

    /// Removes a secret; `false` if there was none by that name.
    pub fn remove(&mut self, name: &str) -> bool {
        self.map.remove(name).is_some()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    pub fn get(&self, name: &str) -> Option<&SecretValue> {
        self.map.get(name).map(|e| &e.value)
    }

    /// Names in sorted order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub(crate) fn info(&self) -> Vec<EntryInfo> {
        self.map
            .iter()
            .map(|(name, e)| EntryInfo {
                name: name.clone(),
                created: e.created,
                updated: e.updated,
                len: e.value.len(),
            })
            .collect()
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = (&str, &SecretValue)> {
        self.map.iter().map(|(n, e)| (n.as_str(), &e.value))
    }

    /// The plaintext body JSON, in a zeroizing buffer that never reallocated.
    pub(crate) fn to_plaintext(&self) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        let fail = |e: serde_json::Error| VaultError::Internal {
            detail: format!("cannot serialise the vault body ({:?})", e.classify()),
        };
        let mut count = Counter(0);
        serde_json::to_writer(&mut count, &Body(self)).map_err(fail)?;
        let mut out = Zeroizing::new(Vec::with_capacity(count.0));
        serde_json::to_writer(&mut *out, &Body(self)).map_err(fail)?;
        debug_assert_eq!(out.len(), count.0, "the body buffer reallocated");
        Ok(out)
    }

    /// Parses a decrypted body. Errors give only the position, never the
    /// text: a serde message can quote the offending (secret) string.
    pub(crate) fn from_plaintext(plain: &[u8]) -> Result<Entries, String> {
        let body: BodyIn<'_> = serde_json::from_slice(plain).map_err(|e| {
            format!(
                "the decrypted body is not valid ({:?} error at line {}, column {})",
                e.classify(),
                e.line(),
                e.column()
            )
        })?;
        let mut map = BTreeMap::new();
        for (name, e) in body.entries {
            validate_secret_name(name)
                .map_err(|_| "the decrypted body holds an invalid secret name".to_string())?;
            let mut buf = Zeroizing::new(vec![0u8; base64::decoded_len_estimate(e.value.len())]);
            let n = STANDARD
                .decode_slice(e.value, &mut buf[..])
                .map_err(|_| format!("the value of secret `{name}` is not valid base64"))?;
            buf.truncate(n);
            let entry = Entry {
                value: SecretValue::new(std::mem::take(&mut *buf)),
                created: e.created,
                updated: e.updated,
            };
            map.insert(name.to_string(), entry);
        }
        Ok(Entries { map })
    }
}

impl fmt::Debug for Entries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entries")
            .field("names", &self.map.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Serialises as `{"entries":{NAME:{"value":B64,"created":TS,"updated":TS}}}`.
struct Body<'a>(&'a Entries);
struct EntryOut<'a>(&'a Entry);
struct B64<'a>(&'a SecretValue);

impl Serialize for Body<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Map<'a>(&'a Entries);
        impl Serialize for Map<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(self.0.map.len()))?;
                for (name, entry) in &self.0.map {
                    map.serialize_entry(name, &EntryOut(entry))?;
                }
                map.end()
            }
        }
        let mut st = s.serialize_struct("Body", 1)?;
        st.serialize_field("entries", &Map(self.0))?;
        st.end()
    }
}

impl Serialize for EntryOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Entry", 3)?;
        st.serialize_field("value", &B64(&self.0.value))?;
        st.serialize_field("created", &self.0.created)?;
        st.serialize_field("updated", &self.0.updated)?;
        st.end()
    }
}

impl Serialize for B64<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let len = base64::encoded_len(self.0.len(), true).unwrap_or(0);
        let mut text = Zeroizing::new(String::with_capacity(len));
        STANDARD.encode_string(self.0.expose(), &mut text);
        s.serialize_str(&text)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BodyIn<'a> {
    #[serde(borrow)]
    entries: BTreeMap<&'a str, EntryIn<'a>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryIn<'a> {
    value: &'a str,
    created: Timestamp,
    updated: Timestamp,
}

/// An `io::Write` that only counts, to size the real buffer exactly.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plaintext_round_trip_keeps_values_and_times() {
        let mut e = Entries::default();
        e.set("a", SecretValue::new(vec![0, 255, b'"', b'\\', b'\n']))
            .unwrap();
        e.set("b.c-d_e", SecretValue::from_str("héllo")).unwrap();
        let plain = e.to_plaintext().unwrap();
        assert_eq!(plain.capacity(), plain.len(), "buffer was sized exactly");
        let back = Entries::from_plaintext(&plain).unwrap();
        assert_eq!(back.info(), e.info());
        assert_eq!(back.get("a"), e.get("a"));
        assert_eq!(back.get("b.c-d_e").unwrap().expose_str().unwrap(), "héllo");
    }

    #[test]
    fn set_validates_and_updates() {
        let mut e = Entries::default();
        assert!(matches!(
            e.set("bad name", SecretValue::from_str("x")),
            Err(VaultError::InvalidName { .. })
        ));
        assert!(matches!(
            e.set("ok", SecretValue::new(Vec::new())),
            Err(VaultError::EmptyValue { .. })
        ));
        e.set("ok", SecretValue::from_str("1")).unwrap();
        let first = e.info()[0].clone();
        e.set("ok", SecretValue::from_str("22")).unwrap();
        let second = e.info()[0].clone();
        assert_eq!(first.created, second.created);
        assert!(second.updated >= first.updated);
        assert_eq!(second.len, 2);
        assert!(e.contains("ok") && e.remove("ok") && !e.remove("ok") && e.is_empty());
    }

    #[test]
    fn body_errors_do_not_quote_the_body() {
        let canary = "kw_canary_body_error";
        let bad = format!(r#"{{"entries":{{"a":{{"value":5,"x":"{canary}"}}}}}}"#);
        let msg = Entries::from_plaintext(bad.as_bytes()).unwrap_err();
        assert!(!msg.contains(canary), "{msg}");
        let bad = format!(
            r#"{{"entries":{{"a":{{"value":"{canary}!","created":"2020-01-01T00:00:00Z","updated":"2020-01-01T00:00:00Z"}}}}}}"#
        );
        let msg = Entries::from_plaintext(bad.as_bytes()).unwrap_err();
        assert!(!msg.contains(canary), "{msg}");
    }
}
