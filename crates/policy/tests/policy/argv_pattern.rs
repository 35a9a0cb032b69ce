//! Argument patterns: whole-argument `*` tokens, globs inside a token,
//! token-wise (not joined) matching, and what is rejected.

use keyward_policy::{ArgvPattern, ArgvPatternError, MAX_ARGV_PATTERN_LEN};

fn pat(s: &str) -> ArgvPattern {
    ArgvPattern::parse(s).unwrap()
}

fn argv(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

fn m(p: &str, args: &[&str]) -> bool {
    pat(p).matches(&argv(args))
}

#[test]
fn trailing_star_is_any_number_of_arguments() {
    assert!(m("issue *", &["issue"]));
    assert!(m("issue *", &["issue", "list", "--limit", "5"]));
    assert!(!m("issue *", &[]));
    assert!(!m("issue *", &["pr", "list"]));
    assert!(!m("issue *", &["issues"]));
    assert!(m("pr view *", &["pr", "view", "12"]));
    assert!(!m("pr view *", &["pr", "list"]));
}

#[test]
fn literal_tokens_are_exact_and_case_sensitive() {
    assert!(m("status", &["status"]));
    assert!(!m("status", &["status", "-s"]));
    assert!(!m("status", &["Status"]));
    assert!(!m("-c", &["-C"]));
    assert!(m("log --oneline", &["log", "--oneline"]));
}

#[test]
fn deny_style_patterns_find_an_argument_anywhere() {
    let c = pat("* -c *");
    assert!(c.matches(&argv(&["-c", "core.pager=sh"])));
    assert!(c.matches(&argv(&["log", "-c"])));
    assert!(c.matches(&argv(&["a", "-c", "b", "c"])));
    assert!(!c.matches(&argv(&["-cfoo"])), "a bare `-c` only");
    assert!(!c.matches(&argv(&["log"])));
    let e = pat("* --exec-path* *");
    assert!(e.matches(&argv(&["--exec-path=/tmp", "status"])));
    assert!(e.matches(&argv(&["status", "--exec-path"])));
    assert!(!e.matches(&argv(&["status", "--exec"])));
}

#[test]
fn globs_stay_inside_one_argument() {
    assert!(m("--upload-pack*", &["--upload-pack"]));
    assert!(m("--upload-pack*", &["--upload-pack=sh -c x"]));
    assert!(!m("--upload-pack*", &["--upload-pack", "x"]));
    assert!(m("-c*", &["-cx=y"]));
    assert!(m("--title=*", &["--title=hello world"]));
    assert!(m("a*b*c", &["aXbYc"]));
    assert!(!m("a*b*c", &["aXcYb"]));
}

#[test]
fn arguments_are_not_joined() {
    // One argument holding a space is not two arguments...
    assert!(!m("issue list", &["issue list"]));
    assert!(!m("issue list *", &["issue list"]));
    // ...and an option hidden inside another argument is not an option.
    assert!(!m("* --exec-path* *", &["log", "x --exec-path=/tmp"]));
    assert!(m("* *--exec-path* *", &["log", "x --exec-path=/tmp"]));
}

#[test]
fn empty_pattern_matches_only_no_arguments() {
    assert!(m("", &[]));
    assert!(!m("", &[""]));
    assert!(!m("", &["x"]));
    assert_eq!(pat("  ").as_str(), "");
    assert!(m("*", &[]));
    assert!(m("*", &["x", "y"]));
    assert!(m("x", &["x"]));
    assert!(!m("x", &[""]));
}

#[test]
fn text_is_canonical() {
    assert_eq!(pat("  issue \t *  ").as_str(), "issue *");
    assert_eq!(pat(pat("pr  view *").as_str()), pat("pr view *"));
    assert_eq!(pat("a *").to_string(), "a *");
}

#[test]
fn rejects() {
    assert_eq!(
        ArgvPattern::parse("issue **"),
        Err(ArgvPatternError::DoubleStar { at: 6 })
    );
    assert!(matches!(
        ArgvPattern::parse("--x**"),
        Err(ArgvPatternError::DoubleStar { .. })
    ));
    assert_eq!(
        ArgvPattern::parse("a\nb"),
        Err(ArgvPatternError::ControlChar { at: 1 })
    );
    assert!(matches!(
        ArgvPattern::parse("a\u{0}"),
        Err(ArgvPatternError::ControlChar { .. })
    ));
    let long = "a".repeat(MAX_ARGV_PATTERN_LEN + 1);
    assert!(matches!(
        ArgvPattern::parse(&long),
        Err(ArgvPatternError::TooLong { .. })
    ));
    assert!("issue *".parse::<ArgvPattern>().is_ok());
}
