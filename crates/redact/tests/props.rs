//! Property tests: random secrets, in a random encoding, at a random place in
//! random text, split into random chunks.

mod common;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::{find_leak, forms, stream_chunks};
use keyward_redact::{Scrubber, ScrubberBuilder};
use proptest::prelude::*;

fn secret() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 8..64),
        "[ -~]{8,63}".prop_map(String::into_bytes),
    ]
}

fn text() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..400),
        "[ -~\n]{0,400}".prop_map(String::into_bytes),
    ]
}

fn chunk_sizes() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..80, 1..8)
}

/// The secret encoded as the case `which` says: one of the guard's forms, or
/// base64 of the secret embedded in surrounding bytes at any alignment.
fn encode(secret: &[u8], which: usize, pad: &[u8]) -> Vec<u8> {
    let all = forms(secret);
    let embedded = all.len();
    if which % (embedded + 2) < embedded {
        return all[which % (embedded + 2)].bytes.clone();
    }
    let split = pad.len() / 2;
    let blob = [&pad[..split], secret, &pad[split..]].concat();
    if which % (embedded + 2) == embedded {
        STANDARD.encode(blob)
    } else {
        URL_SAFE_NO_PAD.encode(blob)
    }
    .into_bytes()
}

fn scrubber_for(secrets: &[Vec<u8>]) -> Scrubber {
    let mut b = ScrubberBuilder::new();
    for s in secrets {
        b.add_secret(s);
    }
    b.build()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn planted_secret_never_survives(
        secrets in prop::collection::vec(secret(), 1..4),
        before in text(),
        after in text(),
        which in any::<usize>(),
        pad in prop::collection::vec(any::<u8>(), 0..7),
        sizes in chunk_sizes(),
    ) {
        let planted = encode(&secrets[0], which, &pad);
        let body = [before.as_slice(), &planted, &after].concat();
        let s = scrubber_for(&secrets);
        let (one_shot, n) = s.scrub_bytes(&body);
        let refs: Vec<&[u8]> = secrets.iter().map(Vec::as_slice).collect();
        prop_assert!(n >= 1);
        prop_assert_eq!(find_leak(&one_shot, &refs), None);
        let streamed = stream_chunks(&s, &body, &sizes);
        prop_assert_eq!(find_leak(&streamed, &refs), None);
        prop_assert!(streamed == one_shot, "stream output differs from one-shot");
        // 1-byte chunks hit every split point, including the one just past
        // the hold-back of the longest pattern.
        prop_assert!(stream_chunks(&s, &body, &[1]) == one_shot, "1-byte stream differs");
    }

    #[test]
    fn text_without_secrets_passes_unchanged(
        secrets in prop::collection::vec(secret(), 0..4),
        body in text(),
        sizes in chunk_sizes(),
    ) {
        let refs: Vec<&[u8]> = secrets.iter().map(Vec::as_slice).collect();
        // Random text containing a random secret by chance is not this case.
        prop_assume!(find_leak(&body, &refs).is_none());
        let s = scrubber_for(&secrets);
        let (out, n) = s.scrub_bytes(&body);
        prop_assert_eq!(n, 0);
        prop_assert!(out == body);
        prop_assert!(stream_chunks(&s, &body, &sizes) == body);
    }

    #[test]
    fn scrub_str_removes_utf8_secrets(
        secret in "[ -~é😀\"\\\\/\u{1}]{8,40}",
        before in "\\PC{0,60}",
        after in "\\PC{0,60}",
    ) {
        let s = scrubber_for(&[secret.clone().into_bytes()]);
        let json = serde_json::to_string(&secret).unwrap_or_default();
        let body = format!("{before}{secret}{after}{json}");
        let (out, n) = s.scrub_str(&body);
        prop_assert!(n >= 2);
        prop_assert_eq!(find_leak(out.as_bytes(), &[secret.as_bytes()]), None);
    }
}
