//! Tool-name patterns: `*`, `?`, literals, case, and what is rejected.

use keyward_policy::{MAX_NAME_PATTERN_LEN, NamePattern, NamePatternError};

fn pat(s: &str) -> NamePattern {
    NamePattern::parse(s).unwrap()
}

#[test]
fn literal_matches_only_itself() {
    let p = pat("create_issue");
    assert!(p.matches("create_issue", false));
    assert!(!p.matches("create_issues", false));
    assert!(!p.matches("create_issu", false));
    assert!(!p.matches("", false));
    assert!(!p.matches("Create_Issue", false));
    assert!(p.matches("Create_Issue", true));
    assert_eq!(p.as_str(), "create_issue");
}

#[test]
fn star_is_any_run() {
    let p = pat("get_*");
    for ok in ["get_", "get_issue", "get_file_contents"] {
        assert!(p.matches(ok, false), "{ok}");
    }
    for no in ["get", "list_issues", "xget_issue", "GET_issue"] {
        assert!(!p.matches(no, false), "{no}");
    }
    assert!(pat("*").matches("", false));
    assert!(pat("*").matches("anything at all", false));
    assert!(pat("*_issue*").matches("create_issue_comment", false));
    assert!(!pat("*_issue*").matches("create_pr", false));
}

#[test]
fn question_mark_is_one_character() {
    let p = pat("tool_?");
    assert!(p.matches("tool_a", false));
    assert!(p.matches("tool_é", false), "one character, not one byte");
    assert!(!p.matches("tool_", false));
    assert!(!p.matches("tool_ab", false));
}

#[test]
fn case_folding_is_ascii_only() {
    let p = pat("delete_*");
    assert!(p.matches("DELETE_REPO", true));
    assert!(p.matches("Delete_x", true));
    assert!(!p.matches("DELETE_REPO", false));
    // The Kelvin sign does not fold to `k` in ASCII folding.
    assert!(!pat("k").matches("\u{212A}", true));
}

#[test]
fn rejects() {
    assert_eq!(NamePattern::parse(""), Err(NamePatternError::Empty));
    assert_eq!(
        NamePattern::parse("get *"),
        Err(NamePatternError::InvalidChar { at: 3, ch: ' ' })
    );
    assert!(matches!(
        NamePattern::parse("get\t*"),
        Err(NamePatternError::InvalidChar { .. })
    ));
    assert!(matches!(
        NamePattern::parse("gét"),
        Err(NamePatternError::InvalidChar { at: 1, .. })
    ));
    assert!(matches!(
        NamePattern::parse("a\u{0}"),
        Err(NamePatternError::InvalidChar { .. })
    ));
    let long = "a".repeat(MAX_NAME_PATTERN_LEN + 1);
    assert_eq!(
        NamePattern::parse(&long),
        Err(NamePatternError::TooLong {
            len: MAX_NAME_PATTERN_LEN + 1,
            max: MAX_NAME_PATTERN_LEN
        })
    );
    assert!(NamePattern::parse(&"a".repeat(MAX_NAME_PATTERN_LEN)).is_ok());
    assert!("list_*".parse::<NamePattern>().is_ok());
}
