//! The scrubber on its own: MB/s on one core for 1, 10 and 100 secrets of
//! 40–90 bytes (every encoding keyward scrubs), over 1 MiB and 16 MiB of
//! JSON-like text, whole (`scrub_bytes`) and chunked (`stream`, 16 KiB
//! reads), beside copying the same bytes (the physical limit). Not a test:
//! `cargo run --release -p keyward-bench --bin scrub`.

#![allow(clippy::print_stdout)] // a benchmark's report is its output

use std::hint::black_box;
use std::time::{Duration, Instant};

use keyward_redact::{REDACTED, ScrubberBuilder};

/// A deterministic value of `len` bytes from the alphabet API keys use.
fn secret(i: usize, len: usize) -> Vec<u8> {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    let mut x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ABC[(x % ABC.len() as u64) as usize]
        })
        .collect()
}

/// `size` bytes of an API answer: JSON objects with ids, words and numbers,
/// and `planted` copies of the first secret spread through it.
fn body(size: usize, first: &[u8], planted: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + 256);
    let mut n = 0u64;
    let every = size.checked_div(planted).unwrap_or(usize::MAX);
    let mut next_plant = every / 2;
    while out.len() < size {
        n += 1;
        out.extend_from_slice(
            format!(
                "{{\"id\":\"ch_{n:016x}\",\"amount\":{},\"currency\":\"usd\",\"description\":\"Invoice {n} for order #{}\",\"status\":\"succeeded\"}},\n",
                n * 37 % 100_000,
                n * 7
            )
            .as_bytes(),
        );
        if out.len() >= next_plant {
            out.extend_from_slice(b"{\"echo\":\"");
            out.extend_from_slice(first);
            out.extend_from_slice(b"\"},\n");
            next_plant = next_plant.saturating_add(every);
        }
    }
    out.truncate(size);
    out
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time(runs: usize, mut f: impl FnMut()) -> Duration {
    f();
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

fn mbps(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64() / 1e6
}

fn main() {
    println!("keyward scrubber, one core, median of the runs (release build)");
    println!(
        "{:>7} {:>9} {:>8} {:>8} {:>12} {:>12} {:>12}",
        "secrets", "patterns", "body", "how", "time", "MB/s", "copy MB/s"
    );
    for &count in &[1usize, 10, 100] {
        let secrets: Vec<Vec<u8>> = (0..count).map(|i| secret(i, 40 + (i * 37) % 51)).collect();
        let mut builder = ScrubberBuilder::new();
        for s in &secrets {
            builder.add_secret(s);
        }
        let scrubber = builder.build();
        for &size in &[1usize << 20, 16 << 20] {
            let runs = if size > 1 << 20 { 5 } else { 21 };
            let hay = body(size, &secrets[0], 8);
            let (out, n) = scrubber.scrub_bytes(&hay);
            assert_eq!(n, 8, "every planted secret is found");
            assert!(
                out.windows(REDACTED.len())
                    .any(|w| w == REDACTED.as_bytes())
            );
            let copy = time(runs, || {
                black_box(hay.clone());
            });
            let whole = time(runs, || {
                black_box(scrubber.scrub_bytes(black_box(&hay)));
            });
            let chunked = time(runs, || {
                let mut st = scrubber.stream();
                let mut total = 0;
                for chunk in hay.chunks(16 << 10) {
                    total += st.push(chunk).len();
                }
                total += st.finish().len();
                black_box(total);
            });
            for (how, d) in [("whole", whole), ("chunked", chunked)] {
                println!(
                    "{count:>7} {:>9} {:>7}M {how:>8} {:>10.2}ms {:>12.0} {:>12.0}",
                    scrubber.pattern_count(),
                    size >> 20,
                    d.as_secs_f64() * 1e3,
                    mbps(size, d),
                    mbps(size, copy)
                );
            }
        }
    }
}
