//! Previews that say which secret a finding is about without revealing it.

/// Prefixes that name a token's kind and are shown as they are. The
/// longest match wins (`sk-proj-` over `sk-`).
const KNOWN_PREFIXES: &[&str] = &[
    "github_pat_",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "sk_live_",
    "sk_test_",
    "rk_live_",
    "rk_test_",
    "xoxb-",
    "xoxp-",
    "xoxe-",
    "xapp-",
    "AKIA",
    "ASIA",
    "sk-ant-",
    "sk-proj-",
    "sk-svcacct-",
    "sk-admin-",
    "sk-",
    "eyJ",
    "-----BEGIN ",
    "https://hooks.slack.com/",
    "postgres://",
    "postgresql://",
    "mysql://",
    "mariadb://",
    "mongodb://",
    "mongodb+srv://",
    "redis://",
    "rediss://",
    "amqp://",
    "amqps://",
];

/// Below this many characters nothing of the value is shown.
const MIN_SHOWN: usize = 12;
/// At least this many characters stay hidden between prefix and tail.
const MIN_HIDDEN: usize = 8;

/// A preview that never reveals the value: a known prefix and the last four
/// characters, e.g. `ghp_…a1B2`; just `…a1B2` without a known prefix; `…`
/// when the value is too short to show anything. Control characters in the
/// shown tail become `?`.
pub fn mask(value: &str) -> String {
    let v = value.trim();
    let n = v.chars().count();
    if n < MIN_SHOWN {
        return "…".to_string();
    }
    let tail: String = v
        .chars()
        .skip(n - 4)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    let prefix = KNOWN_PREFIXES
        .iter()
        .filter(|p| v.starts_with(*p))
        .max_by_key(|p| p.len())
        .filter(|p| n >= p.chars().count() + MIN_HIDDEN + 4);
    match prefix {
        Some(p) => format!("{p}…{tail}"),
        None if n >= 4 + MIN_HIDDEN + 4 => format!("…{tail}"),
        None => "…".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_prefix_and_tail() {
        assert_eq!(
            mask("ghp_0123456789abcdefghijklmnopqrstuva1B2"),
            "ghp_…a1B2"
        );
        assert_eq!(
            mask("sk-proj-abcdefghijklmnopqrstuvwxyz9Z9Z"),
            "sk-proj-…9Z9Z"
        );
        assert_eq!(
            mask("  ghp_0123456789abcdefghijklmnopqrstuva1B2\n"),
            "ghp_…a1B2"
        );
    }

    #[test]
    fn short_values_show_nothing() {
        assert_eq!(mask(""), "…");
        assert_eq!(mask("hunter2"), "…");
        assert_eq!(mask("ghp_abcdefgh"), "…");
        assert_eq!(mask("ghp_abcdefghijk"), "…");
        assert_eq!(mask("ghp_abcdefghijkl"), "ghp_…ijkl");
        assert_eq!(mask("xyz_abcdefghijkl"), "…ijkl");
    }

    #[test]
    fn control_characters_are_not_printed() {
        assert_eq!(
            mask("-----BEGIN KEY\nabcdefghijk\n\u{1b}x\n"),
            "-----BEGIN …k??x"
        );
    }

    /// What `mask` may reveal: one known prefix of the input, then `…`,
    /// then at most the input's last four characters.
    fn allowed(input: &str, out: &str) -> bool {
        let v = input.trim();
        let Some((head, tail)) = out.split_once('…') else {
            return false;
        };
        let head_ok = head.is_empty() || (KNOWN_PREFIXES.contains(&head) && v.starts_with(head));
        let tail_chars: Vec<char> = tail.chars().collect();
        let v_chars: Vec<char> = v.chars().collect();
        let tail_ok = tail_chars.len() <= 4
            && tail_chars.len() <= v_chars.len()
            && tail_chars
                .iter()
                .zip(&v_chars[v_chars.len() - tail_chars.len()..])
                .all(|(a, b)| a == b || (*a == '?' && b.is_control()));
        head_ok && tail_ok
    }

    proptest! {
        #[test]
        fn mask_reveals_at_most_prefix_and_last_four(s in "\\PC{0,80}") {
            let out = mask(&s);
            prop_assert!(allowed(&s, &out), "{:?} -> {:?}", s, out);
        }

        #[test]
        fn mask_of_prefixed_tokens(p in proptest::sample::select(KNOWN_PREFIXES), body in "[A-Za-z0-9_/+=-]{0,120}") {
            let s = format!("{p}{body}");
            let out = mask(&s);
            prop_assert!(allowed(&s, &out), "{:?} -> {:?}", s, out);
            // No run of five characters of the body is shown.
            let shown: Vec<char> = out.chars().collect();
            for w in body.chars().collect::<Vec<_>>().windows(5) {
                let w: String = w.iter().collect();
                prop_assert!(!out.contains(&w) || p.contains(&w), "{:?} shows {:?}", shown, w);
            }
        }
    }
}
