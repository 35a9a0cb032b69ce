//! One test per encoding, plus the planted-leak tests that prove the leak
//! guard itself works.

mod common;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use common::{assert_no_leak, basic_auth_forms, find_leak, find_leak_in_forms, forms};
use keyward_redact::{MIN_SECRET_LEN, REDACTED, Scrubber, ScrubberBuilder};

const CANARY: &[u8] = b"kw_canary_7f3a9c2e/+?x y&z";

fn scrubber(secrets: &[&[u8]]) -> Scrubber {
    let mut b = ScrubberBuilder::new();
    for s in secrets {
        b.add_secret(s);
    }
    b.build()
}

/// Embeds `leak` in some text, scrubs it, checks the result exactly.
fn check_scrubbed(s: &Scrubber, leak: &[u8]) {
    let mut body = b"before ".to_vec();
    body.extend_from_slice(leak);
    body.extend_from_slice(b" after");
    let (out, n) = s.scrub_bytes(&body);
    assert_eq!(
        String::from_utf8_lossy(&out),
        format!("before {REDACTED} after")
    );
    assert_eq!(n, 1);
    assert_no_leak(&out, &[CANARY]);
}

#[test]
fn raw() {
    check_scrubbed(&scrubber(&[CANARY]), CANARY);
}

#[test]
fn base64_all_flavours() {
    let s = scrubber(&[CANARY]);
    for f in forms(CANARY)
        .iter()
        .filter(|f| f.name.starts_with("base64") && !f.name.contains("core"))
    {
        check_scrubbed(&s, &f.bytes);
    }
}

#[test]
fn base64_embedded_at_every_offset() {
    let s = scrubber(&[CANARY]);
    for prefix_len in 0..9 {
        for suffix_len in 0..4 {
            let mut blob = vec![0xA5u8; prefix_len];
            blob.extend_from_slice(CANARY);
            blob.extend(std::iter::repeat_n(0x5Au8, suffix_len));
            for enc in [STANDARD.encode(&blob), URL_SAFE_NO_PAD.encode(&blob)] {
                let body = format!("{{\"blob\":\"{enc}\"}}");
                let (out, n) = s.scrub_bytes(body.as_bytes());
                assert!(n >= 1, "offset {prefix_len}");
                assert_no_leak(&out, &[CANARY]);
            }
        }
    }
}

#[test]
fn hex_any_case() {
    let s = scrubber(&[CANARY]);
    let lower = hex::encode(CANARY);
    check_scrubbed(&s, lower.as_bytes());
    check_scrubbed(&s, lower.to_uppercase().as_bytes());
}

#[test]
fn percent_encodings() {
    let s = scrubber(&[CANARY]);
    let full = "kw_canary_7f3a9c2e%2F%2B%3Fx%20y%26z";
    check_scrubbed(&s, full.as_bytes());
    check_scrubbed(&s, full.to_lowercase().as_bytes());
    check_scrubbed(&s, b"kw_canary_7f3a9c2e%2F%2B%3Fx+y%26z");
    // What the `url` crate writes for a query pair.
    let query: String = url_form(CANARY);
    check_scrubbed(&s, query.as_bytes());
}

fn url_form(v: &[u8]) -> String {
    v.iter()
        .map(|&b| match b {
            b' ' => "+".to_owned(),
            b if b.is_ascii_alphanumeric() || b"*-._".contains(&b) => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn percent_encoded_base64_token() {
    let s = scrubber(&[CANARY]);
    let b64 = STANDARD.encode(CANARY);
    let in_query = b64
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    assert_ne!(in_query, b64);
    check_scrubbed(&s, in_query.as_bytes());
}

#[test]
fn json_escaped() {
    let secret = b"kw_canary_\"q\\b/s\x01\n\xc3\xa9";
    let s = scrubber(&[secret]);
    let as_str = std::str::from_utf8(secret).expect("utf-8");
    let json = serde_json::to_string(as_str).expect("json");
    let inner = &json[1..json.len() - 1];
    check_json(&s, secret, inner);
    check_json(&s, secret, &inner.replace('/', "\\/"));
    check_json(&s, secret, &inner.replace('é', "\\u00e9"));
    check_json(
        &s,
        secret,
        &inner.replace("\\u0001", "\\u0001".to_uppercase().as_str()),
    );
}

fn check_json(s: &Scrubber, secret: &[u8], escaped: &str) {
    let body = format!("{{\"echo\":\"{escaped}\"}}");
    let (out, n) = s.scrub_str(&body);
    assert_eq!(
        out,
        format!("{{\"echo\":\"{REDACTED}\"}}"),
        "form {escaped:?}"
    );
    assert_eq!(n, 1);
    assert_no_leak(out.as_bytes(), &[secret]);
}

#[test]
fn basic_auth() {
    let mut b = ScrubberBuilder::new();
    b.add_basic_auth(b"alice", b"kw_canary_pw_91");
    let s = b.build();
    let header = format!(
        "Authorization: Basic {}",
        STANDARD.encode("alice:kw_canary_pw_91")
    );
    let (out, n) = s.scrub_str(&header);
    assert_eq!(out, format!("Authorization: Basic {REDACTED}"));
    assert_eq!(n, 1);
    let sets = [basic_auth_forms(b"alice", b"kw_canary_pw_91")];
    assert_eq!(find_leak_in_forms(out.as_bytes(), &sets), None);
    // The header value is scrubbed even when the password alone is too short.
    let mut b = ScrubberBuilder::new();
    b.add_basic_auth(b"alice", b"pw");
    let s = b.build();
    assert_eq!(s.skipped_short(), 1);
    let (out, _) = s.scrub_str(&STANDARD_NO_PAD.encode("alice:pw"));
    assert_eq!(out, REDACTED);
}

#[test]
fn short_values_are_skipped_and_counted() {
    let mut b = ScrubberBuilder::new();
    b.add_secret(b"").add_secret(b"abc").add_secret(b"abcd");
    let s = b.build();
    assert_eq!(s.skipped_short(), 2);
    assert_eq!(MIN_SECRET_LEN, 4);
    assert_eq!(s.scrub_str("abc abcd"), (format!("abc {REDACTED}"), 1));
}

#[test]
fn overlapping_and_adjacent_secrets() {
    let s = scrubber(&[
        b"kw_canary_AAAA",
        b"AAAA_tail_kw",
        b"kw_canary_AAAA_tail_kw_long",
    ]);
    let (out, _) = s.scrub_str("x kw_canary_AAAA_tail_kw_long y kw_canary_AAAAkw_canary_AAAA z");
    assert_eq!(out, format!("x {REDACTED} y {REDACTED}{REDACTED} z"));
}

#[test]
fn raw_match_is_case_sensitive() {
    let s = scrubber(&[b"kw_Canary_Case"]);
    assert_eq!(s.scrub_str("kw_canary_case").1, 0);
    assert_eq!(s.scrub_str("kw_Canary_Case").1, 1);
}

#[test]
fn text_without_secrets_is_unchanged() {
    let s = scrubber(&[CANARY, b"another-secret-value"]);
    let text =
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{\"ok\":true,\"name\":\"é😀\"}";
    assert_eq!(s.scrub_str(text), (text.to_owned(), 0));
    assert_eq!(Scrubber::empty().scrub_str(text), (text.to_owned(), 0));
}

#[test]
fn scrub_str_stays_utf8_for_non_utf8_secrets() {
    // The secret's first byte is the second byte of "é" (0xC3 0xA9).
    let secret = b"\xa9kw_canary_bin";
    let s = scrubber(&[secret]);
    let (out, n) = s.scrub_str("caf\u{e9}kw_canary_bin!");
    assert_eq!(n, 1);
    assert_eq!(out, format!("caf{REDACTED}!"));
}

#[test]
fn debug_prints_counts_only() {
    let mut b = ScrubberBuilder::new();
    b.add_secret(CANARY);
    let dbg_builder = format!("{b:?}");
    let s = b.build();
    let mut st = s.stream();
    let _ = st.push(&CANARY[..10]);
    for dbg in [dbg_builder, format!("{s:?}"), format!("{st:?}")] {
        assert!(!dbg.contains("kw_canary"), "{dbg}");
        assert!(dbg.contains("patterns") || dbg.contains("pending"), "{dbg}");
    }
    assert!(s.pattern_count() > 10);
}

// ---- The guard is proven to work: planted leaks must be reported. ----

#[test]
fn guard_detects_every_planted_form() {
    for secret in [
        CANARY,
        b"kw_canary_\"quote\\/\x02".as_slice(),
        b"\x00\xffkw_canary_bin\x80",
    ] {
        for f in forms(secret) {
            let mut planted = b"unscrubbed output: ".to_vec();
            planted.extend_from_slice(&f.bytes);
            planted.extend_from_slice(b" end");
            let report = find_leak(&planted, &[secret]);
            assert!(report.is_some(), "guard missed the planted {} form", f.name);
            let report = report.unwrap_or_default();
            assert!(!report.contains("kw_canary"), "the report names no value");
        }
    }
}

#[test]
#[should_panic(expected = "leak: secret #1 as raw")]
fn guard_panics_on_unscrubbed_output() {
    let body = b"echo: kw_canary_second_value";
    // Scrubbing with an empty scrubber plants the leak: nothing is removed.
    let (out, _) = Scrubber::empty().scrub_bytes(body);
    assert_no_leak(&out, &[CANARY, b"kw_canary_second_value"]);
}

#[test]
fn guard_passes_scrubbed_output() {
    let body = b"echo: kw_canary_second_value";
    let (out, _) = scrubber(&[b"kw_canary_second_value"]).scrub_bytes(body);
    assert_no_leak(&out, &[CANARY, b"kw_canary_second_value"]);
}

/// Regression: an upstream that percent-encodes every byte, letters
/// included (`%6B%77…`), got the value past the scrubber.
#[test]
fn percent_encoding_of_every_byte_in_any_case() {
    let s = scrubber(&[CANARY]);
    let upper: String = CANARY.iter().map(|b| format!("%{b:02X}")).collect();
    let lower: String = CANARY.iter().map(|b| format!("%{b:02x}")).collect();
    check_scrubbed(&s, upper.as_bytes());
    check_scrubbed(&s, lower.as_bytes());
}

/// Regression (review finding 1): the `user:pass` base64 of basic auth was
/// scrubbed only verbatim; an upstream that hex-dumps, base64-dumps or
/// JSON-escapes the request head gave the whole header value away.
#[test]
fn basic_auth_header_value_in_every_encoding() {
    let mut b = ScrubberBuilder::new();
    b.add_basic_auth(b"bot", b"kw_canary_pw96c03cd424abe908?Q?31cc20eb");
    let s = b.build();
    let header = format!(
        "Basic {}",
        STANDARD.encode("bot:kw_canary_pw96c03cd424abe908?Q?31cc20eb")
    );
    let b64 = STANDARD.encode("bot:kw_canary_pw96c03cd424abe908?Q?31cc20eb");
    let leaks: Vec<Vec<u8>> = vec![
        hex::encode(header.as_bytes()).into_bytes(),
        STANDARD
            .encode(format!("GET / HTTP/1.1\r\nAuthorization: {header}\r\n"))
            .into_bytes(),
        b64.replace('/', "\\/").into_bytes(),
        b64.bytes()
            .flat_map(|c| format!("%{c:02X}").into_bytes())
            .collect(),
        b"bot:kw_canary_pw96c03cd424abe908?Q?31cc20eb".to_vec(),
    ];
    for leak in leaks {
        let (out, n) = s.scrub_bytes(&leak);
        assert!(n >= 1, "not scrubbed: {}", String::from_utf8_lossy(&leak));
        let text = String::from_utf8_lossy(&out);
        assert!(!text.contains(&b64), "{text}");
        assert!(!text.contains("kw_canary_pw96"), "{text}");
    }
}

/// Regression (review finding 6): a stored value with surrounding white
/// space is reflected trimmed by servers that strip header values.
#[test]
fn a_padded_secret_is_also_caught_trimmed() {
    let s = scrubber(&[b"kw_canary_tokb2e5c08b02ea5baef90f1e1f \n"]);
    let (out, n) = s.scrub_bytes(b"{\"x-api-key\":\"kw_canary_tokb2e5c08b02ea5baef90f1e1f\"}");
    assert_eq!(n, 1);
    assert_eq!(out, b"{\"x-api-key\":\"[REDACTED]\"}");
}

/// Regression (review finding 7): error pages quote the request with HTML
/// entities.
#[test]
fn html_entity_forms() {
    let secret: &[u8] = b"kw_canary_tok393c&x<y>\"z'";
    let s = scrubber(&[secret]);
    for leak in [
        &b"kw_canary_tok393c&amp;x&lt;y&gt;&quot;z&#39;"[..],
        b"kw_canary_tok393c&amp;x&lt;y&gt;&quot;z&#x27;",
        b"kw_canary_tok393c&amp;x&lt;y&gt;&quot;z&apos;",
    ] {
        check_scrubbed(&s, leak);
    }
}
