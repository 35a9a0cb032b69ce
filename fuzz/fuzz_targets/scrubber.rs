//! The streaming scrubber (SECURITY.md item 1): a body made of arbitrary
//! bytes and of the secrets in every form the crate promises to scrub,
//! fed in arbitrary chunks. Checked:
//! - the stream's output and count are the one-shot `scrub_bytes` result,
//!   whatever the chunking;
//! - no promised form of any secret is left in the output (but where it
//!   touches a `[REDACTED]`, the crate's documented limit), for the
//!   stream, `scrub_bytes` and `scrub_str`.
#![no_main]

use keyward_fuzz::forms::{Form, basic_forms, leaked, secret_forms};
use std::cell::RefCell;
use std::collections::HashMap;

use keyward_redact::{Scrubber, ScrubberBuilder};
use libfuzzer_sys::fuzz_target;

/// The input, one item a line (bytes, not necessarily UTF-8):
/// - `S<bytes>` a secret; `H<hex>` a secret given in hex;
/// - `U<user>:<pass>` a basic-auth credential;
/// - `T<bytes>` text of the body; `N` a newline in the body;
/// - `F<secret>,<form>[,u]` form `form` of secret `secret` (both modulo
///   the counts) in the body, upper-cased with `u` when the form is
///   matched ignoring case;
/// - `C<n>,<n>,...` the chunk lengths, used in turn (0 feeds an empty chunk).
#[derive(Debug, Default)]
struct Input {
    secrets: Vec<Vec<u8>>,
    basic: Option<(Vec<u8>, Vec<u8>)>,
    pieces: Vec<Piece>,
    chunks: Vec<usize>,
}

#[derive(Debug)]
enum Piece {
    Text(Vec<u8>),
    Form {
        secret: usize,
        form: usize,
        upper: bool,
    },
}

fn numbers(s: &[u8]) -> impl Iterator<Item = usize> + '_ {
    s.split(|&b| b == b',').map(|n| {
        std::str::from_utf8(n)
            .ok()
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    })
}

impl Input {
    fn parse(data: &[u8]) -> Input {
        let mut input = Input::default();
        for line in data.split(|&b| b == b'\n') {
            let Some((&kind, rest)) = line.split_first() else {
                continue;
            };
            match kind {
                b'S' => input.secrets.push(rest.to_vec()),
                b'H' => {
                    if let Ok(v) = hex::decode(rest) {
                        input.secrets.push(v);
                    }
                }
                b'U' => {
                    let at = rest.iter().position(|&b| b == b':').unwrap_or(rest.len());
                    let pass = rest.get(at + 1..).unwrap_or_default();
                    input.basic = Some((rest[..at].to_vec(), pass.to_vec()));
                }
                b'T' => input.pieces.push(Piece::Text(rest.to_vec())),
                b'N' => input.pieces.push(Piece::Text(b"\n".to_vec())),
                b'F' => {
                    let mut n = numbers(rest);
                    input.pieces.push(Piece::Form {
                        secret: n.next().unwrap_or(0),
                        form: n.next().unwrap_or(0),
                        upper: rest.ends_with(b",u"),
                    });
                }
                b'C' => input.chunks = numbers(rest).map(|n| n.min(4096)).collect(),
                _ => {}
            }
        }
        input
    }
}

const MAX_SECRETS: usize = 3;
const MAX_SECRET_LEN: usize = 48;

fn check(what: &str, out: &[u8], forms: &[Form]) {
    if let Some((f, at)) = leaked(out, forms) {
        panic!(
            "{what}: form {:?} (caseless: {}) left at byte {at} of {:?}",
            String::from_utf8_lossy(&f.bytes),
            f.caseless,
            String::from_utf8_lossy(out)
        );
    }
}

type Key = (Vec<Vec<u8>>, Option<(Vec<u8>, Vec<u8>)>);
/// A built scrubber and the forms of each of its secrets.
type Built = (Scrubber, Vec<Vec<Form>>);
const CACHED: usize = 64;

thread_local! {
    static CACHE: RefCell<HashMap<Key, Built>> = RefCell::new(HashMap::new());
}

fuzz_target!(|data: &[u8]| {
    let input = Input::parse(data);
    let secrets: Vec<&[u8]> = input
        .secrets
        .iter()
        .take(MAX_SECRETS)
        .map(|s| &s[..s.len().min(MAX_SECRET_LEN)])
        .collect();
    let basic = input.basic.as_ref().map(|(u, p)| {
        (
            &u[..u.len().min(MAX_SECRET_LEN)],
            &p[..p.len().min(MAX_SECRET_LEN)],
        )
    });
    let key = (
        secrets.iter().map(|s| s.to_vec()).collect::<Vec<_>>(),
        basic.map(|(u, p)| (u.to_vec(), p.to_vec())),
    );
    // Building the automaton is most of the cost of one run (its DFA under
    // coverage instrumentation), and most mutations change the body or the
    // chunks, not the secrets: keep the last few scrubbers.
    let cached = CACHE.with_borrow(|c| c.get(&key).cloned());
    let (scrubber, per_secret) = match cached {
        Some(hit) => hit,
        None => {
            let mut builder = ScrubberBuilder::new();
            let mut per_secret: Vec<Vec<Form>> = Vec::new();
            for s in &secrets {
                builder.add_secret(s);
                per_secret.push(secret_forms(s));
            }
            if let Some((user, pass)) = basic {
                builder.add_basic_auth(user, pass);
                per_secret.push(basic_forms(user, pass));
            }
            let Ok(scrubber) = builder.try_build() else {
                return;
            };
            per_secret.retain(|f| !f.is_empty());
            CACHE.with_borrow_mut(|c| {
                if c.len() >= CACHED {
                    c.clear();
                }
                c.insert(key, (scrubber.clone(), per_secret.clone()));
            });
            (scrubber, per_secret)
        }
    };
    let forms: Vec<Form> = per_secret.iter().flatten().cloned().collect();

    let mut body = Vec::new();
    for piece in &input.pieces {
        match piece {
            Piece::Text(t) => body.extend_from_slice(t),
            Piece::Form {
                secret,
                form,
                upper,
            } => {
                if per_secret.is_empty() {
                    continue;
                }
                let fs = &per_secret[*secret % per_secret.len()];
                let f = &fs[*form % fs.len()];
                if f.caseless && *upper {
                    body.extend(f.bytes.to_ascii_uppercase());
                } else {
                    body.extend_from_slice(&f.bytes);
                }
            }
        }
    }

    let (whole, whole_count) = scrubber.scrub_bytes(&body);
    check("scrub_bytes", &whole, &forms);

    let mut stream = scrubber.stream();
    let mut streamed = Vec::new();
    let mut rest = &body[..];
    let mut sizes = input.chunks.clone();
    if sizes.iter().all(|&n| n == 0) {
        sizes.clear(); // only empty chunks would never end
    }
    let mut sizes = sizes.into_iter().cycle();
    while !rest.is_empty() {
        let n = sizes.next().unwrap_or(rest.len()).min(rest.len());
        let (chunk, tail) = rest.split_at(n);
        streamed.extend(stream.push(chunk));
        rest = tail;
    }
    let (tail, stream_count) = stream.finish_counted();
    streamed.extend(tail);
    assert_eq!(
        streamed,
        whole,
        "the chunking changed the output ({:?} vs {:?})",
        String::from_utf8_lossy(&streamed),
        String::from_utf8_lossy(&whole)
    );
    assert_eq!(stream_count, whole_count, "the chunking changed the count");

    if let Ok(text) = std::str::from_utf8(&body) {
        let (out, _) = scrubber.scrub_str(text);
        check("scrub_str", out.as_bytes(), &forms);
    }
});
