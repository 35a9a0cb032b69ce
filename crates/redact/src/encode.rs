//! The encodings a secret value may travel in. Each function appends patterns
//! to a [`Sink`]; every intermediate buffer is a `Zeroizing` one so that the
//! builder does not leave plaintext copies behind when it is dropped.

use base64::Engine;
use base64::engine::GeneralPurpose;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use zeroize::Zeroizing;

use crate::escape::{add_html, add_json, add_percent, is_unreserved, percent};
use crate::{MIN_CORE_LEN, MIN_SECRET_LEN};

/// One pattern, zeroed on drop.
pub(crate) type Pattern = Zeroizing<Vec<u8>>;

/// Patterns collected by the builder. `exact` patterns are matched byte for
/// byte; `caseless` ones (stored lower-cased) ignoring ASCII case, because
/// hex and percent-encoding come in either case.
#[derive(Default)]
pub(crate) struct Sink {
    pub(crate) exact: Vec<Pattern>,
    pub(crate) caseless: Vec<Pattern>,
}

impl Sink {
    fn exact(&mut self, p: Pattern) {
        if !p.is_empty() {
            self.exact.push(p);
        }
    }

    fn caseless(&mut self, mut p: Pattern) {
        if !p.is_empty() {
            p.make_ascii_lowercase();
            self.caseless.push(p);
        }
    }

    /// Adds a caseless form only when it differs from the raw value (the raw
    /// value is already matched exactly; a caseless copy would over-redact).
    pub(crate) fn caseless_if_differs(&mut self, p: Pattern, raw: &[u8]) {
        if p.as_slice() != raw {
            self.caseless(p);
        }
    }
}

/// Adds `v` and all its encodings. A value with surrounding white space is
/// also added trimmed: HTTP servers strip it from header values before they
/// reflect them, and the trimmed value is the working credential.
pub(crate) fn add_secret(v: &[u8], sink: &mut Sink) {
    add_one(v, sink);
    let trimmed = v.trim_ascii();
    if trimmed.len() != v.len() && trimmed.len() >= MIN_SECRET_LEN {
        add_one(trimmed, sink);
    }
}

fn add_one(v: &[u8], sink: &mut Sink) {
    sink.exact(Zeroizing::new(v.to_vec()));
    add_base64(v, sink);
    add_base64_cores(v, sink);
    sink.caseless(Zeroizing::new(hex::encode(v).into_bytes()));
    add_percent(v, sink);
    add_json(v, sink);
    add_html(v, sink);
}

/// HTTP basic auth: `user:pass` and its base64 (the `Authorization: Basic`
/// value) are credentials in their own right, so each gets every encoding a
/// secret gets — an upstream that hex-dumps or JSON-escapes the request
/// head must not give the agent the header value.
pub(crate) fn add_basic_auth(user: &[u8], pass: &[u8], sink: &mut Sink) {
    let mut joined = Zeroizing::new(Vec::with_capacity(user.len() + 1 + pass.len()));
    joined.extend_from_slice(user);
    joined.push(b':');
    joined.extend_from_slice(pass);
    if joined.len() < MIN_SECRET_LEN {
        return;
    }
    add_secret(&joined, sink);
    for (engine, pad) in ENGINES {
        add_secret(&base64(engine, pad, &joined), sink);
    }
}

/// The four base64 flavours: (engine, emits padding).
const ENGINES: [(&GeneralPurpose, bool); 4] = [
    (&STANDARD, true),
    (&STANDARD_NO_PAD, false),
    (&URL_SAFE, true),
    (&URL_SAFE_NO_PAD, false),
];

/// Encodes into a buffer allocated once at its final size, so no reallocation
/// leaves an unzeroed copy behind.
fn base64(engine: &GeneralPurpose, pad: bool, v: &[u8]) -> Pattern {
    let cap = ::base64::encoded_len(v.len(), pad).unwrap_or(0);
    let mut s = Zeroizing::new(String::with_capacity(cap));
    engine.encode_string(v, &mut s);
    Zeroizing::new(std::mem::take(&mut *s).into_bytes())
}

fn add_base64(v: &[u8], sink: &mut Sink) {
    for (engine, pad) in ENGINES {
        let enc = base64(engine, pad, v);
        // A base64 token put in a URL query gets its `+/=` percent-encoded.
        if enc.iter().any(|b| b"+/=".contains(b)) {
            sink.caseless(percent(&enc, is_unreserved, false));
        }
        sink.exact(enc);
    }
}

/// `v` at offset `k` (mod 3) inside a larger base64 stream. Base64 character
/// `i` covers input bits `6i..6i+6`; `v` covers bits `8k..8k+8n`. Characters
/// wholly inside that range do not depend on the neighbouring bytes: that run
/// is the stable core, the same wherever `v` sits with that alignment.
fn add_base64_cores(v: &[u8], sink: &mut Sink) {
    for k in 0..3usize {
        let mut shifted = Zeroizing::new(Vec::with_capacity(k + v.len()));
        shifted.resize(k, 0);
        shifted.extend_from_slice(v);
        let enc = base64(&STANDARD_NO_PAD, false, &shifted);
        let start = (8 * k).div_ceil(6);
        let end = (8 * (k + v.len())) / 6;
        let Some(core) = enc.get(start..end) else {
            continue;
        };
        if core.len() < MIN_CORE_LEN {
            continue;
        }
        let std_core = Zeroizing::new(core.to_vec());
        let mut url_core = Zeroizing::new(core.to_vec());
        for b in url_core.iter_mut() {
            *b = match *b {
                b'+' => b'-',
                b'/' => b'_',
                other => other,
            };
        }
        sink.exact(std_core);
        sink.exact(url_core);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_chars_do_not_depend_on_neighbours() {
        let v = b"kw_canary_core_0123";
        let mut sink = Sink::default();
        add_base64_cores(v, &mut sink);
        assert_eq!(sink.exact.len(), 6, "3 alignments x (std, url)");
        for k in 0..3 {
            for filler in [0x00u8, 0xff] {
                let mut data = vec![filler; k];
                data.extend_from_slice(v);
                data.extend_from_slice(&[filler; 2]);
                let enc = STANDARD.encode(&data);
                let core = &sink.exact[2 * k];
                assert!(
                    enc.as_bytes()
                        .windows(core.len())
                        .any(|w| w == core.as_slice())
                );
            }
        }
    }
}
