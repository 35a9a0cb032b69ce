//! The record format, how a record is sealed into a line, and how a line is
//! checked against its own hash. See the crate docs for the definition.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Problem, describe_json_error};
use crate::fields::{Channel, Decision, Kind};

/// `prev` of the first record: 64 zeros.
pub const GENESIS_PREV: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened in one call. Filled in by the gateway; every string must
/// already be free of secrets (the caller scrubs), since the log keeps them
/// forever.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Event {
    /// From the MCP clientInfo, e.g. "claude-code 1.2.3".
    pub agent: String,
    /// What kind of call or act: `http`, `tool`, `command`, `resource`,
    /// `prompt`, `workflow`, `access`, `approval`, `admin` or `config`
    /// (see [`Kind`]).
    pub kind: Kind,
    /// Service name (or server/command).
    pub target: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub method: Option<String>,
    /// Normalised path, no query.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tool: Option<String>,
    /// The argument vector of a command call, joined for reading (escaped
    /// and capped by the gateway).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub args: Option<String>,
    /// What was decided: for a call `allow`, `deny`, `rate_limited` or
    /// `error`; for an approval `asked`, `deny`, or a yes such as
    /// `allow for 5m (grant ID)`; for `admin` and `config` what the human
    /// did (see [`Decision`]).
    pub decision: Decision,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub latency_us: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub bytes_sent: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub bytes_received: Option<u64>,
    #[serde(default)]
    pub redactions: u64,
    /// After an upstream's 401: what fetching the credential again found
    /// ("changed": the call was retried once with the new value;
    /// "unchanged"; "failed"; "skipped": refetched moments ago, not again).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub refetch: Option<String>,
    /// Short reason, never a secret (the caller scrubs).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    /// The approval this record belongs to: the question asked for a
    /// `confirm` rule (or a `request_access`), its answer, and the call it
    /// let through share it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub approval: Option<String>,
    /// Who answered an approval, and how: `elicitation`, `dashboard`,
    /// `cli`, `timeout`, `lock`, `replay`, or `grant ID` when a grant
    /// covered the call (see [`Channel`]). Also on the dashboard's own
    /// `admin` records (`dashboard`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub channel: Option<Channel>,
    /// The workflow run this call was a step of (`RUN_ID/STEP_ID`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub run: Option<String>,
}

/// One line of the log.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Record {
    /// 1 for the first record, then +1 per record.
    pub seq: u64,
    /// When the record was written (RFC 3339, UTC).
    pub ts: Timestamp,
    /// `hash` of the previous record, or [`GENESIS_PREV`] for the first.
    pub prev: String,
    #[serde(flatten)]
    pub event: Event,
    /// Hex SHA-256 of this record's line without the `hash` field.
    pub hash: String,
}

/// The record minus `hash`, in the same field order: its serde_json bytes are
/// what gets hashed.
#[derive(Serialize)]
struct Unsealed<'a> {
    seq: u64,
    ts: &'a Timestamp,
    prev: &'a str,
    #[serde(flatten)]
    event: &'a Event,
}

const HASH_KEY: &[u8] = b",\"hash\":\"";

/// Builds the record and its line (newline included).
pub(crate) fn seal(
    seq: u64,
    ts: Timestamp,
    prev: &str,
    event: Event,
) -> Result<(Record, Vec<u8>), serde_json::Error> {
    let mut line = serde_json::to_vec(&Unsealed {
        seq,
        ts: &ts,
        prev,
        event: &event,
    })?;
    let hash = hex::encode(Sha256::digest(&line));
    // serde_json always closes a map with `}`; reopen it to append `hash`.
    if line.pop() != Some(b'}') {
        return Err(serde::ser::Error::custom(
            "record did not serialise as a JSON object",
        ));
    }
    line.extend_from_slice(HASH_KEY);
    line.extend_from_slice(hash.as_bytes());
    line.extend_from_slice(b"\"}\n");
    Ok((
        Record {
            seq,
            ts,
            prev: prev.to_owned(),
            event,
            hash,
        },
        line,
    ))
}

/// Parses one line (without its newline) and checks it against its own hash:
/// the line must end with `,"hash":"<64 lowercase hex>"}` and the SHA-256 of
/// everything before that suffix, plus `}`, must be that hex.
pub(crate) fn check_line(line: &[u8]) -> Result<Record, (Option<u64>, Problem)> {
    let record: Record = serde_json::from_slice(line)
        .map_err(|e| (None, Problem::Unparsable(describe_json_error(&e))))?;
    let edited = (Some(record.seq), Problem::HashMismatch);
    let suffix_len = HASH_KEY.len() + 64 + 2;
    let Some(body_len) = line.len().checked_sub(suffix_len) else {
        return Err(edited);
    };
    let (body, suffix) = line.split_at(body_len);
    let well_formed = suffix.starts_with(HASH_KEY)
        && suffix.ends_with(b"\"}")
        && &suffix[HASH_KEY.len()..HASH_KEY.len() + 64] == record.hash.as_bytes()
        && record
            .hash
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !well_formed {
        return Err(edited);
    }
    let mut hasher = Sha256::new();
    hasher.update(body);
    hasher.update(b"}");
    if hex::encode(hasher.finalize()) != record.hash {
        return Err(edited);
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> Event {
        Event {
            agent: "claude-code 1.2.3".into(),
            kind: Kind::Http,
            target: "github".into(),
            method: Some("GET".into()),
            path: Some("/repos/a/b\n\"x\"\u{2028}é".into()),
            decision: Decision::Allow,
            status: Some(200),
            latency_us: Some(1234),
            redactions: 2,
            ..Event::default()
        }
    }

    /// The gateway builds events from strings (`"http".into()`, a
    /// `&'static str` decision, a `String` channel): those forms keep
    /// building the typed fields, as the words they spell.
    #[test]
    fn events_still_build_from_the_strings_writers_use() {
        let denial: &'static str = "rate_limited";
        let channel = format!("grant {}", "g-1");
        let e = Event {
            kind: "approval".into(),
            decision: denial.into(),
            channel: Some(channel.into()),
            ..Event::default()
        };
        assert_eq!(e.kind, Kind::Approval);
        assert_eq!(e.decision, Decision::RateLimited);
        assert_eq!(e.channel, Some(Channel::Grant("g-1".into())));
        let mut e = e;
        e.decision = "allow for 5m (grant g-1)".to_string().into();
        assert_eq!(e.decision.to_string(), "allow for 5m (grant g-1)");
    }

    #[test]
    fn line_is_the_serde_serialisation_of_the_record() {
        let (record, line) = seal(7, Timestamp::UNIX_EPOCH, GENESIS_PREV, event()).expect("seal");
        let mut expected = serde_json::to_vec(&record).expect("json");
        expected.push(b'\n');
        assert_eq!(line, expected);
        assert_eq!(
            line.iter().filter(|&&b| b == b'\n').count(),
            1,
            "one line, newlines escaped"
        );
    }

    #[test]
    fn round_trip_is_byte_stable_and_checks() {
        let ts: Timestamp = "2025-06-01T12:34:56.789012345Z".parse().expect("ts");
        let (record, line) = seal(1, ts, GENESIS_PREV, event()).expect("seal");
        let body = &line[..line.len() - 1];
        let parsed = check_line(body).expect("valid");
        assert_eq!(parsed, record);
        assert_eq!(serde_json::to_vec(&parsed).expect("json"), body);
    }

    #[test]
    fn any_byte_change_is_detected() {
        let (_, line) = seal(1, Timestamp::UNIX_EPOCH, GENESIS_PREV, event()).expect("seal");
        let body = &line[..line.len() - 1];
        for i in 0..body.len() {
            let mut tampered = body.to_vec();
            tampered[i] ^= 0x01;
            assert!(
                check_line(&tampered).is_err(),
                "flip at byte {i} went unnoticed"
            );
        }
        let mut extra = body[..body.len() - HASH_KEY.len() - 66].to_vec();
        extra.extend_from_slice(b",\"note\":\"x\"");
        extra.extend_from_slice(&body[body.len() - HASH_KEY.len() - 66..]);
        assert!(matches!(
            check_line(&extra),
            Err((Some(1), Problem::HashMismatch))
        ));
    }
}
