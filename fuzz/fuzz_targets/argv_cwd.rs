//! A command's argument patterns and `cwd` patterns (SECURITY.md item 10).
//! Input lines: an argv pattern, a deny pattern, a cwd pattern, a
//! directory, then one argument a line. Checked:
//! - an argv pattern parses again to itself and matches exactly when a
//!   reference matcher (dynamic programming, not the crate's two-pointer
//!   algorithm) says so;
//! - with an allow and a deny rule, a matching deny always wins;
//! - a cwd pattern matches a canonical directory exactly when a reference
//!   matcher says so.
#![no_main]

use std::path::Path;

use keyward_fuzz::reference::{argv_matches, cwd_matches};
use keyward_policy::{Action, ArgvPattern, CommandRule, CwdPattern, evaluate_command};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.split('\n');
    let allow = lines.next().unwrap_or_default();
    let deny = lines.next().unwrap_or_default();
    let cwd = lines.next().unwrap_or_default();
    let dir = lines.next().unwrap_or_default();
    let argv: Vec<String> = lines.map(str::to_string).collect();

    let allow = ArgvPattern::parse(allow).ok();
    let deny = ArgvPattern::parse(deny).ok();
    for p in allow.iter().chain(&deny) {
        assert_eq!(
            ArgvPattern::parse(p.as_str()).as_ref(),
            Ok(p),
            "not idempotent"
        );
        assert_eq!(
            p.matches(&argv),
            argv_matches(p.as_str(), &argv),
            "{p:?} vs {argv:?}"
        );
    }
    if let (Some(allow), Some(deny)) = (allow, deny) {
        let denied = deny.matches(&argv);
        let rules = [
            CommandRule {
                action: Action::Allow,
                pattern: allow,
            },
            CommandRule {
                action: Action::Deny,
                pattern: deny,
            },
        ];
        let verdict = evaluate_command(&rules, &argv);
        if denied {
            assert_eq!(
                verdict.decision.action,
                Action::Deny,
                "a matching deny lost"
            );
        }
    }

    if let Ok(p) = CwdPattern::parse(cwd) {
        assert_eq!(
            CwdPattern::parse(&p.to_string()).as_ref(),
            Ok(&p),
            "cwd not idempotent"
        );
        // A canonical directory: absolute, no `.`, `..` or empty component.
        let canonical = dir.starts_with('/')
            && dir[1..].split('/').all(|c| !matches!(c, "." | ".."))
            && !dir[1..].contains("//")
            && !(dir.len() > 1 && dir.ends_with('/'));
        if canonical {
            let d = Path::new(dir);
            assert_eq!(
                p.matches(p.prefix(), d),
                cwd_matches(cwd, d),
                "{cwd:?} vs {dir:?}"
            );
        }
    }
});
