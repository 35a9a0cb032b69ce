//! Text escapes a secret may travel in: percent-encoding (URLs, forms), JSON
//! string escaping and HTML/XML entities, in the variants common encoders
//! produce.

use zeroize::Zeroizing;

use crate::encode::{Pattern, Sink};

/// RFC 3986 unreserved characters: never percent-encoded by any encoder.
pub(crate) fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// `application/x-www-form-urlencoded` as the WHATWG URL standard (and the
/// `url` crate) writes it: `~` is encoded, `*` is not.
fn is_form_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_')
}

/// JavaScript's `encodeURIComponent`, which leaves `!'()*` alone.
fn is_uri_component_safe(b: u8) -> bool {
    is_unreserved(b) || matches!(b, b'!' | b'\'' | b'(' | b')' | b'*')
}

pub(crate) fn percent(v: &[u8], keep: fn(u8) -> bool, space_plus: bool) -> Pattern {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = Zeroizing::new(Vec::with_capacity(v.len() * 3));
    for &b in v {
        if keep(b) {
            out.push(b);
        } else if space_plus && b == b' ' {
            out.push(b'+');
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
    out
}

pub(crate) fn add_percent(v: &[u8], sink: &mut Sink) {
    sink.caseless_if_differs(percent(v, is_unreserved, false), v);
    sink.caseless_if_differs(percent(v, is_unreserved, true), v);
    sink.caseless_if_differs(percent(v, is_form_safe, true), v);
    sink.caseless_if_differs(percent(v, is_uri_component_safe, false), v);
    // Every byte escaped, letters too: no encoder needs it, so an upstream
    // that does it is trying to get the value past a scrubber.
    sink.caseless_if_differs(percent(v, |_| false, false), v);
}

/// How one JSON encoder escapes a string.
#[derive(Clone, Copy)]
struct JsonStyle {
    /// `/` as `\/` (PHP, some Java encoders).
    slash: bool,
    /// Non-ASCII as `\uXXXX` (Python's default `ensure_ascii`, PHP).
    ascii_only: bool,
    /// `<`, `>`, `&` as `\u003c`… (Go's `encoding/json`).
    html: bool,
}

const JSON_STYLES: [JsonStyle; 5] = [
    // serde_json, JavaScript
    JsonStyle {
        slash: false,
        ascii_only: false,
        html: false,
    },
    JsonStyle {
        slash: true,
        ascii_only: false,
        html: false,
    },
    // Python
    JsonStyle {
        slash: false,
        ascii_only: true,
        html: false,
    },
    // PHP
    JsonStyle {
        slash: true,
        ascii_only: true,
        html: false,
    },
    // Go
    JsonStyle {
        slash: false,
        ascii_only: false,
        html: true,
    },
];

/// Only UTF-8 values can be JSON strings; others cannot appear escaped.
pub(crate) fn add_json(v: &[u8], sink: &mut Sink) {
    let Ok(s) = std::str::from_utf8(v) else {
        return;
    };
    for style in JSON_STYLES {
        sink.caseless_if_differs(json_escape(s, style), v);
    }
}

fn json_escape(s: &str, style: JsonStyle) -> Pattern {
    let mut out = Zeroizing::new(Vec::with_capacity(s.len() * 6));
    let mut units = [0u16; 2];
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '/' if style.slash => out.extend_from_slice(b"\\/"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if u32::from(c) < 0x20 || (style.html && matches!(c, '<' | '>' | '&')) => {
                push_u_escape(&mut out, u32::from(c));
            }
            c if style.ascii_only && !c.is_ascii() => {
                for unit in c.encode_utf16(&mut units).iter() {
                    push_u_escape(&mut out, u32::from(*unit));
                }
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    units.fill(0);
    out
}

fn push_u_escape(out: &mut Vec<u8>, unit: u32) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(b"\\u");
    for shift in [12u32, 8, 4, 0] {
        out.push(HEX[((unit >> shift) & 15) as usize]);
    }
}

/// HTML/XML entity escaping, as error pages that quote a request escape it:
/// `&amp; &lt; &gt;` with quotes as `&quot;` and `&#39;`, `&#x27;` or
/// `&apos;`. Only added when the value holds one of `& < > " '`.
pub(crate) fn add_html(v: &[u8], sink: &mut Sink) {
    if !v
        .iter()
        .any(|b| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\''))
    {
        return;
    }
    for apos in [&b"&#39;"[..], b"&#x27;", b"&apos;"] {
        let mut out = Zeroizing::new(Vec::with_capacity(v.len() * 6));
        for &b in v {
            match b {
                b'&' => out.extend_from_slice(b"&amp;"),
                b'<' => out.extend_from_slice(b"&lt;"),
                b'>' => out.extend_from_slice(b"&gt;"),
                b'"' => out.extend_from_slice(b"&quot;"),
                b'\'' => out.extend_from_slice(apos),
                _ => out.push(b),
            }
        }
        sink.caseless_if_differs(out, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::add_secret;

    fn lower(p: &[u8]) -> Vec<u8> {
        p.to_ascii_lowercase()
    }

    #[test]
    fn json_styles() {
        let s = "a\"b\\c/d\n\u{1}<é😀";
        let serde = json_escape(s, JSON_STYLES[0]);
        assert_eq!(serde.as_slice(), r#"a\"b\\c/d\n\u0001<é😀"#.as_bytes());
        let php = json_escape(s, JSON_STYLES[3]);
        assert_eq!(
            php.as_slice(),
            br#"a\"b\\c\/d\n\u0001<\u00e9\ud83d\ude00"#.as_slice()
        );
        let go = json_escape(s, JSON_STYLES[4]);
        assert_eq!(go.as_slice(), r#"a\"b\\c/d\n\u0001\u003cé😀"#.as_bytes());
    }

    #[test]
    fn percent_forms() {
        let v = b"a b~*!/";
        assert_eq!(
            percent(v, is_unreserved, false).as_slice(),
            b"a%20b~%2A%21%2F"
        );
        assert_eq!(percent(v, is_unreserved, true).as_slice(), b"a+b~%2A%21%2F");
        assert_eq!(percent(v, is_form_safe, true).as_slice(), b"a+b%7E*%21%2F");
        assert_eq!(
            percent(v, is_uri_component_safe, false).as_slice(),
            b"a%20b~*!%2F"
        );
        let mut sink = Sink::default();
        add_percent(b"plainvalue", &mut sink);
        // Forms identical to raw are not added; only the every-byte form is.
        let every: Vec<u8> = b"plainvalue"
            .iter()
            .flat_map(|b| format!("%{b:02x}").into_bytes())
            .collect();
        assert_eq!(sink.caseless.len(), 1);
        assert_eq!(sink.caseless[0].as_slice(), every.as_slice());
        sink.caseless.clear();
        add_secret(b"p/ss", &mut sink);
        assert!(
            sink.caseless
                .iter()
                .any(|p| p.as_slice() == lower(b"p%2Fss"))
        );
    }
}
