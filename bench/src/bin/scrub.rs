//! The scrubber on its own: MB/s on one core for 1, 10 and 100 secrets of
//! 40–90 bytes (every encoding keyward scrubs), over 1 MiB and 16 MiB of
//! JSON-like text, whole (`scrub_bytes`) and chunked (`stream`, 16 KiB
//! reads), beside copying the same bytes (the physical limit). Not a test:
//! `cargo run --release -p keyward-bench --bin scrub`; pin it to one core
//! with `taskset -c 1 target/release/scrub`.
//!
//! `scrub SECRETS MIB whole|chunked [RUNS]` runs that one case `RUNS` times
//! (default 1) and prints nothing but its line: for
//! `valgrind --tool=callgrind`, whose instruction count of a run minus that
//! of `RUNS=0` is the cost of the scrubbing alone.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a benchmark's report is its output

use std::hint::black_box;
use std::time::{Duration, Instant};

use keyward_redact::{REDACTED, Scrubber, ScrubberBuilder};

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

/// The secrets of the bench: `count` values of 40–90 bytes.
fn secrets(count: usize) -> Vec<Vec<u8>> {
    (0..count).map(|i| secret(i, 40 + (i * 37) % 51)).collect()
}

fn build(secrets: &[Vec<u8>]) -> Scrubber {
    let mut builder = ScrubberBuilder::new();
    for s in secrets {
        builder.add_secret(s);
    }
    builder.build()
}

fn scrub_whole(scrubber: &Scrubber, hay: &[u8]) -> usize {
    scrubber.scrub_bytes(black_box(hay)).0.len()
}

fn scrub_chunked(scrubber: &Scrubber, hay: &[u8]) -> usize {
    let mut st = scrubber.stream();
    let mut total = 0;
    for chunk in black_box(hay).chunks(16 << 10) {
        total += st.push(chunk).len();
    }
    total + st.finish().len()
}

/// The body of the bench, checked: every planted secret is found.
fn checked_body(scrubber: &Scrubber, size: usize, first: &[u8]) -> Vec<u8> {
    let hay = body(size, first, 8);
    let (out, n) = scrubber.scrub_bytes(&hay);
    assert_eq!(n, 8, "every planted secret is found");
    assert!(
        out.windows(REDACTED.len())
            .any(|w| w == REDACTED.as_bytes())
    );
    hay
}

/// One case, `runs` times, for an instruction counter.
fn one_case(args: &[String]) -> Result<(), String> {
    let usage = "usage: scrub [SECRETS MIB whole|chunked [RUNS]]";
    let num = |i: usize, default: Option<usize>| match (args.get(i), default) {
        (Some(a), _) => a.parse::<usize>().map_err(|_| usage.to_owned()),
        (None, Some(d)) => Ok(d),
        (None, None) => Err(usage.to_owned()),
    };
    let count = num(0, None)?;
    let size = num(1, None)? << 20;
    let runs = num(3, Some(1))?;
    let scrub: fn(&Scrubber, &[u8]) -> usize = match args.get(2).map(String::as_str) {
        Some("whole") => scrub_whole,
        Some("chunked") => scrub_chunked,
        _ => return Err(usage.to_owned()),
    };
    let secrets = secrets(count.max(1));
    let scrubber = build(&secrets);
    let hay = checked_body(&scrubber, size, &secrets[0]);
    for _ in 0..runs {
        black_box(scrub(&scrubber, &hay));
    }
    println!(
        "{count} secrets, {} patterns, {} heap bytes, {} MiB {}, {runs} runs",
        scrubber.pattern_count(),
        scrubber.memory_usage(),
        size >> 20,
        args[2]
    );
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.is_empty() {
        if let Err(e) = one_case(&args) {
            eprintln!("{e}");
            std::process::exit(2);
        }
        return;
    }
    println!("keyward scrubber, one thread, median of the runs (release build)");
    println!(
        "{:>7} {:>9} {:>10} {:>6} {:>8} {:>10} {:>8} {:>10}",
        "secrets", "patterns", "heap KiB", "body", "how", "time", "MB/s", "copy MB/s"
    );
    for &count in &[1usize, 10, 100] {
        let secrets = secrets(count);
        let scrubber = build(&secrets);
        for &size in &[1usize << 20, 16 << 20] {
            let runs = if size > 1 << 20 { 5 } else { 21 };
            let hay = checked_body(&scrubber, size, &secrets[0]);
            let copy = time(runs, || {
                black_box(hay.clone());
            });
            let whole = time(runs, || {
                black_box(scrub_whole(&scrubber, &hay));
            });
            let chunked = time(runs, || {
                black_box(scrub_chunked(&scrubber, &hay));
            });
            for (how, d) in [("whole", whole), ("chunked", chunked)] {
                println!(
                    "{count:>7} {:>9} {:>10} {:>5}M {how:>8} {:>8.2}ms {:>8.0} {:>10.0}",
                    scrubber.pattern_count(),
                    scrubber.memory_usage() >> 10,
                    size >> 20,
                    d.as_secs_f64() * 1e3,
                    mbps(size, d),
                    mbps(size, copy)
                );
            }
        }
    }
}
