//! The leak guard used by every scrubber test.
//!
//! It computes the encodings a secret must not appear in *independently* of
//! the crate (different code paths: `format!` hex, the `percent-encoding`
//! crate, `serde_json`, and base64 cores found by comparing encodings with
//! opposite filler bytes instead of by index arithmetic), so that a bug in
//! the crate's own pattern generation is not mirrored here. The guard itself
//! is proven to work by the planted-leak tests in `encodings.rs`.

#![allow(dead_code, unreachable_pub)]

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_encode};

/// One form a secret may leak in.
pub struct Form {
    pub name: String,
    pub bytes: Vec<u8>,
    /// Match ignoring ASCII case (hex, percent-encoding, JSON escapes).
    pub caseless: bool,
}

const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn form(name: impl Into<String>, bytes: impl Into<Vec<u8>>, caseless: bool) -> Form {
    Form {
        name: name.into(),
        bytes: bytes.into(),
        caseless,
    }
}

/// Every form the crate promises to scrub for `secret` (SECURITY.md item 1).
pub fn forms(secret: &[u8]) -> Vec<Form> {
    let mut out = vec![form("raw", secret, false)];
    out.push(form("base64", STANDARD.encode(secret), false));
    out.push(form("base64-nopad", STANDARD_NO_PAD.encode(secret), false));
    out.push(form("base64url", URL_SAFE.encode(secret), false));
    out.push(form(
        "base64url-nopad",
        URL_SAFE_NO_PAD.encode(secret),
        false,
    ));
    for k in 0..3 {
        if let Some(core) = base64_core(secret, k) {
            out.push(form(format!("base64-core-{k}"), core.clone(), false));
            let url: String = core
                .chars()
                .map(|c| match c {
                    '+' => '-',
                    '/' => '_',
                    c => c,
                })
                .collect();
            out.push(form(format!("base64url-core-{k}"), url, false));
        }
    }
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    out.push(form("hex", hex, true));
    let pct = percent_encode(secret, UNRESERVED).to_string();
    if pct.as_bytes() != secret {
        out.push(form("percent", pct.clone(), true));
        let plus = pct.replace("%20", "+");
        if plus != pct {
            out.push(form("percent-plus", plus, true));
        }
    }
    if let Ok(s) = std::str::from_utf8(secret) {
        let quoted = serde_json::to_string(s).expect("strings serialise");
        let json = &quoted[1..quoted.len() - 1];
        if json.as_bytes() != secret {
            out.push(form("json", json, true));
        }
        let slashed = json.replace('/', "\\/");
        if slashed != json {
            out.push(form("json-slash", slashed, true));
        }
    }
    out
}

/// Forms of an HTTP basic-auth pair: base64 of `user:pass`, plus those of pass.
pub fn basic_auth_forms(user: &[u8], pass: &[u8]) -> Vec<Form> {
    let mut joined = user.to_vec();
    joined.push(b':');
    joined.extend_from_slice(pass);
    let mut out = forms(pass);
    out.push(form("basic", STANDARD.encode(&joined), false));
    out.push(form("basic-url", URL_SAFE.encode(&joined), false));
    out.push(form("basic-nopad", STANDARD_NO_PAD.encode(&joined), false));
    out
}

/// The characters of base64(filler + secret) that do not depend on the
/// filler or on what follows: encode once with 0x00 and once with 0xff around
/// the secret, keep the positions where both agree. `None` when shorter than
/// the crate's minimum core length (8).
fn base64_core(secret: &[u8], k: usize) -> Option<String> {
    let wrap = |fill: u8| {
        let mut v = vec![fill; k];
        v.extend_from_slice(secret);
        v.extend_from_slice(&[fill; 3]);
        STANDARD_NO_PAD.encode(v)
    };
    let (a, b) = (wrap(0x00), wrap(0xff));
    let agree: Vec<usize> = (0..a.len())
        .filter(|&i| a.as_bytes()[i] == b.as_bytes()[i])
        .collect();
    let (first, last) = (*agree.first()?, *agree.last()?);
    assert_eq!(
        agree.len(),
        last - first + 1,
        "stable positions are contiguous"
    );
    let core = &a[first..=last];
    (core.len() >= 8).then(|| core.to_owned())
}

fn contains(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > hay.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Describes the first leak found in `output` (which secret, which form, at
/// which offset — never the value), or `None`.
pub fn find_leak_in_forms(output: &[u8], sets: &[Vec<Form>]) -> Option<String> {
    let lower = output.to_ascii_lowercase();
    for (i, forms) in sets.iter().enumerate() {
        for f in forms {
            let found = if f.caseless {
                contains(&lower, &f.bytes.to_ascii_lowercase())
            } else {
                contains(output, &f.bytes)
            };
            if let Some(at) = found {
                return Some(format!("leak: secret #{i} as {} at byte {at}", f.name));
            }
        }
    }
    None
}

/// [`find_leak_in_forms`] for plain secrets.
pub fn find_leak(output: &[u8], secrets: &[&[u8]]) -> Option<String> {
    let sets: Vec<Vec<Form>> = secrets.iter().map(|s| forms(s)).collect();
    find_leak_in_forms(output, &sets)
}

/// Panics (naming secret index, form and offset) if any secret, in any of
/// its forms, appears in `output`.
#[track_caller]
pub fn assert_no_leak(output: &[u8], secrets: &[&[u8]]) {
    if let Some(leak) = find_leak(output, secrets) {
        panic!("{leak}");
    }
}

/// Splits `data` into chunks of the given sizes (cycled), streams it through
/// `scrubber` and returns the concatenated output.
pub fn stream_chunks(scrubber: &keyward_redact::Scrubber, data: &[u8], sizes: &[usize]) -> Vec<u8> {
    let mut st = scrubber.stream();
    let mut out = Vec::new();
    let mut rest = data;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes[i % sizes.len()].clamp(1, rest.len());
        out.extend(st.push(&rest[..n]));
        rest = &rest[n..];
        i += 1;
    }
    out.extend(st.finish());
    out
}

/// Deterministic pseudo-random ASCII text (xorshift), for large bodies.
pub fn filler_text(len: usize, mut seed: u64) -> Vec<u8> {
    const ALPHABET: &[u8] =
        b"abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 .,:;{}\"\n";
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            ALPHABET[(seed % ALPHABET.len() as u64) as usize]
        })
        .collect()
}
