//! The forms keyward_redact promises to scrub a secret in (its crate
//! documentation, "What is scrubbed"), produced by other crates' encoders
//! (`base64`, `hex`, `percent-encoding`, `url`'s form encoder,
//! `serde_json`) so that a bug shared by the scrubber's own encoders and
//! this list is unlikely.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_encode};

/// One form of a secret and whether the scrubber matches it ignoring ASCII
/// case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Form {
    pub bytes: Vec<u8>,
    pub caseless: bool,
}

/// Shortest value the scrubber scrubs (`keyward_redact::MIN_SECRET_LEN`).
pub const MIN_LEN: usize = keyward_redact::MIN_SECRET_LEN;

/// RFC 3986: everything but the unreserved characters is encoded.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// JavaScript's `encodeURIComponent`.
const URI_COMPONENT: &AsciiSet = &RFC3986
    .remove(b'!')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*');

fn pct(v: &[u8], set: &'static AsciiSet) -> Vec<u8> {
    percent_encode(v, set).to_string().into_bytes()
}

fn every_byte(v: &[u8]) -> Vec<u8> {
    v.iter()
        .flat_map(|b| format!("%{b:02X}").into_bytes())
        .collect()
}

/// An escaped form is matched ignoring case, unless it is the raw value
/// itself (which is matched exactly).
fn escaped(bytes: Vec<u8>, raw: &[u8]) -> Form {
    let caseless = bytes != raw;
    Form { bytes, caseless }
}

/// The forms of one value (not trimmed, not basic auth).
fn forms_of_one(v: &[u8], out: &mut Vec<Form>) {
    let exact = |bytes: Vec<u8>| Form {
        bytes,
        caseless: false,
    };
    out.push(exact(v.to_vec()));
    for enc in [
        STANDARD.encode(v),
        STANDARD_NO_PAD.encode(v),
        URL_SAFE.encode(v),
        URL_SAFE_NO_PAD.encode(v),
    ] {
        if enc.bytes().any(|b| b"+/=".contains(&b)) {
            out.push(escaped(pct(enc.as_bytes(), RFC3986), enc.as_bytes()));
        }
        out.push(exact(enc.into_bytes()));
    }
    out.push(Form {
        bytes: hex::encode(v).into_bytes(),
        caseless: true,
    });
    let rfc = pct(v, RFC3986);
    let plus = String::from_utf8_lossy(&rfc)
        .replace("%20", "+")
        .into_bytes();
    let form: String = url::form_urlencoded::byte_serialize(v).collect();
    for p in [
        rfc,
        plus,
        form.into_bytes(),
        pct(v, URI_COMPONENT),
        every_byte(v),
    ] {
        out.push(escaped(p, v));
    }
    if let Ok(s) = std::str::from_utf8(v)
        && let Ok(json) = serde_json::to_string(s)
    {
        let inner = json.as_bytes()[1..json.len() - 1].to_vec();
        out.push(escaped(inner, v));
    }
    if v.iter().any(|b| b"&<>\"'".contains(b)) {
        let mut html = Vec::new();
        for &b in v {
            match b {
                b'&' => html.extend_from_slice(b"&amp;"),
                b'<' => html.extend_from_slice(b"&lt;"),
                b'>' => html.extend_from_slice(b"&gt;"),
                b'"' => html.extend_from_slice(b"&quot;"),
                b'\'' => html.extend_from_slice(b"&#39;"),
                b => html.push(b),
            }
        }
        out.push(escaped(html, v));
    }
}

/// Every form of a secret value, its trimmed value included when that is
/// long enough.
pub fn secret_forms(v: &[u8]) -> Vec<Form> {
    let mut out = Vec::new();
    if v.len() < MIN_LEN {
        return out;
    }
    forms_of_one(v, &mut out);
    let trimmed = v.trim_ascii();
    if trimmed.len() != v.len() && trimmed.len() >= MIN_LEN {
        forms_of_one(trimmed, &mut out);
    }
    out
}

/// Every form of an HTTP basic credential: the password, `user:pass` and
/// each base64 of it, each with all the forms of a secret.
pub fn basic_forms(user: &[u8], pass: &[u8]) -> Vec<Form> {
    let mut out = secret_forms(pass);
    let mut joined = user.to_vec();
    joined.push(b':');
    joined.extend_from_slice(pass);
    if joined.len() < MIN_LEN {
        return out;
    }
    out.extend(secret_forms(&joined));
    for enc in [
        STANDARD.encode(&joined),
        STANDARD_NO_PAD.encode(&joined),
        URL_SAFE.encode(&joined),
        URL_SAFE_NO_PAD.encode(&joined),
    ] {
        out.extend(secret_forms(enc.as_bytes()));
    }
    out
}

/// Where `needle` occurs in `hay` (all starts, overlapping ones included).
pub fn occurrences(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    if needle.is_empty() {
        return Vec::new();
    }
    let finder = memchr::memmem::Finder::new(needle);
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = hay.get(from..).and_then(|h| finder.find(h)) {
        out.push(from + i);
        from += i + 1;
    }
    out
}

/// The first form that occurs in `out` somewhere that does not touch a
/// `[REDACTED]` (the crate's documented limit: a value that is a fragment
/// of the replacement text, or starts or ends with one, can reappear
/// around it). `None` when the output is clean.
pub fn leaked<'f>(out: &[u8], forms: &'f [Form]) -> Option<(&'f Form, usize)> {
    let marker = keyward_redact::REDACTED.as_bytes();
    let marks: Vec<(usize, usize)> = occurrences(out, marker)
        .into_iter()
        .map(|s| (s, s + marker.len()))
        .collect();
    let lower = out.to_ascii_lowercase();
    for f in forms {
        let (hay, needle) = if f.caseless {
            (&lower[..], f.bytes.to_ascii_lowercase())
        } else {
            (out, f.bytes.clone())
        };
        for start in occurrences(hay, &needle) {
            let end = start + needle.len();
            let touches = marks.iter().any(|&(ms, me)| start < me && ms < end);
            if !touches {
                return Some((f, start));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_match_the_crate_documentation() {
        let f = secret_forms(b"p/ss word");
        let has = |b: &[u8]| f.iter().any(|x| x.bytes == b);
        assert!(has(b"p/ss word"));
        assert!(has(b"p%2Fss%20word"));
        assert!(has(b"p%2Fss+word"));
        assert!(has(b"p/ss%20word") || has(b"p%2Fss%20word"));
        assert!(has(hex::encode("p/ss word").as_bytes()));
        assert!(has(b"cC9zcyB3b3Jk"));
        assert!(leaked(b"x p/ss word y", &f).is_some());
        assert!(leaked(b"x [REDACTED] y", &f).is_none());
        assert!(secret_forms(b"abc").is_empty());
    }
}
