//! Chunk-boundary tests: a secret split across reads must still be scrubbed,
//! and streaming must give exactly the one-shot result.

mod common;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::{assert_no_leak, filler_text, stream_chunks};
use keyward_redact::{REDACTED, Scrubber, ScrubberBuilder};

const SECRETS: [&[u8]; 3] = [
    b"kw_canary_alpha_51c0",
    b"kw_canary_beta/+ =&9",
    b"ghp_kwCanaryGamma0123456789",
];

fn scrubber() -> Scrubber {
    let mut b = ScrubberBuilder::new();
    for s in SECRETS {
        b.add_secret(s);
    }
    b.add_basic_auth(b"bob", b"kw_canary_pass_x");
    b.build()
}

/// A body with every secret in several encodings, back to back and spread out.
fn body() -> Vec<u8> {
    let mut body = b"HTTP/1.1 200 OK\r\nx-echo: ".to_vec();
    body.extend_from_slice(SECRETS[0]);
    body.extend_from_slice(SECRETS[1]);
    body.extend_from_slice(b"\r\n\r\n{\"b64\":\"");
    body.extend_from_slice(STANDARD.encode(SECRETS[2]).as_bytes());
    body.extend_from_slice(b"\",\"hex\":\"");
    body.extend_from_slice(hex::encode_upper(SECRETS[0]).as_bytes());
    body.extend_from_slice(b"\",\"q\":\"kw_canary_beta%2F%2B%20%3D%269\",\"embedded\":\"");
    body.extend_from_slice(
        URL_SAFE_NO_PAD
            .encode([b"xy".as_slice(), SECRETS[2], b"!"].concat())
            .as_bytes(),
    );
    body.extend_from_slice(b"\",\"auth\":\"Basic ");
    body.extend_from_slice(STANDARD.encode("bob:kw_canary_pass_x").as_bytes());
    body.extend_from_slice(b"\"}");
    body
}

fn all_secrets() -> Vec<&'static [u8]> {
    let mut v = SECRETS.to_vec();
    v.push(b"kw_canary_pass_x");
    v
}

#[test]
fn body_fixture_leaks_without_scrubbing() {
    assert!(common::find_leak(&body(), &all_secrets()).is_some());
}

#[test]
fn split_at_every_offset_into_two_chunks() {
    let s = scrubber();
    let body = body();
    let (expected, n) = s.scrub_bytes(&body);
    assert_eq!(n, 7);
    assert_no_leak(&expected, &all_secrets());
    for cut in 0..=body.len() {
        let out = stream_chunks(&s, &body, &[cut, body.len()]);
        assert_eq!(out, expected, "split at {cut}");
    }
}

#[test]
fn split_at_every_pair_of_offsets_into_three_chunks() {
    let s = scrubber();
    let body = body();
    let (expected, _) = s.scrub_bytes(&body);
    for a in 0..body.len() {
        for b in a..=body.len() {
            let mut st = s.stream();
            let mut out = st.push(&body[..a]);
            out.extend(st.push(&body[a..b]));
            out.extend(st.push(&body[b..]));
            let (tail, total) = st.finish_counted();
            out.extend(tail);
            assert_eq!(total, 7);
            assert!(out == expected, "split at {a}, {b}");
        }
    }
}

#[test]
fn one_byte_chunks() {
    let s = scrubber();
    let body = body();
    let (expected, _) = s.scrub_bytes(&body);
    let mut st = s.stream();
    let mut out = Vec::new();
    for b in &body {
        let emitted = st.push(std::slice::from_ref(b));
        // Never emit a partial secret: everything emitted so far is clean.
        out.extend(emitted);
        assert_no_leak(&out, &all_secrets());
    }
    let before_finish = st.replacements();
    let (tail, total) = st.finish_counted();
    out.extend(tail);
    assert!(before_finish <= total);
    assert_eq!(total, 7);
    assert_eq!(out, expected);
}

#[test]
fn odd_chunk_sizes_and_empty_chunks() {
    let s = scrubber();
    let body = body();
    let (expected, _) = s.scrub_bytes(&body);
    for sizes in [[3usize, 7, 1].as_slice(), &[2, 5], &[64], &[13, 1, 1, 29]] {
        assert_eq!(stream_chunks(&s, &body, sizes), expected, "{sizes:?}");
    }
    let mut st = s.stream();
    let mut out = st.push(b"");
    out.extend(st.push(&body));
    out.extend(st.push(b""));
    out.extend(st.finish());
    assert_eq!(out, expected);
}

/// The hold-back must be exactly long enough for the *longest* pattern: here
/// the percent-encoded form (3 bytes per `/`) is the longest of all encodings.
#[test]
fn longest_pattern_split_at_every_offset() {
    let mut b = ScrubberBuilder::new();
    b.add_secret(b"////////");
    let s = b.build();
    let body = b"q=%2F%2f%2F%2F%2F%2F%2F%2F&x=1".to_vec();
    let (expected, n) = s.scrub_bytes(&body);
    assert_eq!(
        (expected.as_slice(), n),
        (format!("q={REDACTED}&x=1").as_bytes(), 1)
    );
    for cut in 0..=body.len() {
        assert_eq!(
            stream_chunks(&s, &body, &[cut, body.len()]),
            expected,
            "split at {cut}"
        );
    }
    assert_eq!(stream_chunks(&s, &body, &[1]), expected);
}

#[test]
fn empty_scrubber_streams_unchanged() {
    let body = body();
    assert_eq!(stream_chunks(&Scrubber::empty(), &body, &[1]), body);
    assert_eq!(Scrubber::empty().stream().finish(), b"");
}

#[test]
fn large_body_several_mib() {
    let s = scrubber();
    let mut body = filler_text(6 << 20, 0x9e37_79b9_7f4a_7c15);
    let forms = [
        SECRETS[0].to_vec(),
        STANDARD.encode(SECRETS[1]).into_bytes(),
        hex::encode(SECRETS[2]).into_bytes(),
        b"kw_canary_beta%2f%2b+%3d%269".to_vec(),
    ];
    let (mut planted, mut planted_len) = (0, 0);
    let mut at = 1000;
    while at + 200 < body.len() {
        let f = &forms[planted % forms.len()];
        body[at..at + f.len()].copy_from_slice(f);
        planted += 1;
        planted_len += f.len();
        at += 97_003;
    }
    let (one_shot, n) = s.scrub_bytes(&body);
    assert_eq!(n, planted);
    assert_no_leak(&one_shot, &all_secrets());
    for sizes in [[65_536usize].as_slice(), &[8191, 4093, 17]] {
        assert!(stream_chunks(&s, &body, sizes) == one_shot, "{sizes:?}");
    }
    assert_eq!(
        one_shot.len(),
        body.len() - planted_len + planted * REDACTED.len()
    );
}
