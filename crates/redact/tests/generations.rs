//! Property: across any sequence of rotations, every value of the last
//! `keep + 1` generations is still scrubbed (each change ages retired
//! values by at most one generation).

use keyward_redact::{Generations, REDACTED, SecretSet};
use proptest::prelude::*;

fn set_of(values: &[String]) -> SecretSet {
    let mut s = SecretSet::new();
    for v in values {
        s.add_secret(v.as_bytes());
    }
    s
}

/// Generations of 1–4 values drawn from a small pool, so that values
/// recur, stay, leave and come back.
fn history() -> impl Strategy<Value = Vec<Vec<String>>> {
    let value = (0u8..12).prop_map(|i| format!("kw_canary_pool_{i:02}_x"));
    prop::collection::vec(prop::collection::vec(value, 1..4), 1..12)
}

proptest! {
    #[test]
    fn the_last_keep_plus_one_generations_stay_scrubbed(history in history(), keep in 0usize..4) {
        let mut g = Generations::new(set_of(&history[0]), keep);
        for next in &history[1..] {
            g.advance(set_of(next));
        }
        let scrubber = g.scrubber();
        let recent = history.iter().rev().take(keep + 1);
        for values in recent {
            for v in values {
                prop_assert_eq!(scrubber.scrub_str(v).0, REDACTED, "{} leaked", v);
            }
        }
        prop_assert!(g.retired_generations() <= keep);
    }
}
