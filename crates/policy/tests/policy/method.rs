//! Methods and actions.

use keyward_policy::{Action, Method, MethodError};

#[test]
fn methods_are_upper_cased() {
    assert_eq!(Method::parse("get").unwrap().as_str(), "GET");
    assert_eq!(
        Method::parse("Post").unwrap(),
        Method::parse("POST").unwrap()
    );
    assert_eq!(Method::parse("propfind").unwrap().to_string(), "PROPFIND");
    assert_eq!("m-search".parse::<Method>().unwrap().as_str(), "M-SEARCH");
}

#[test]
fn method_errors() {
    assert_eq!(Method::parse(""), Err(MethodError::Empty));
    assert_eq!(
        Method::parse("G ET"),
        Err(MethodError::InvalidChar { at: 1, ch: ' ' })
    );
    assert_eq!(
        Method::parse("GET\r\n"),
        Err(MethodError::InvalidChar { at: 3, ch: '\r' })
    );
    assert_eq!(
        Method::parse("G\u{0415}T"),
        Err(MethodError::InvalidChar {
            at: 1,
            ch: '\u{0415}'
        })
    );
    assert_eq!(
        Method::parse("GET/"),
        Err(MethodError::InvalidChar { at: 3, ch: '/' })
    );
    assert_eq!(
        Method::parse(&"A".repeat(21)),
        Err(MethodError::TooLong { len: 21, max: 20 })
    );
    assert!(Method::parse(&"A".repeat(20)).is_ok());
    assert_eq!(Method::parse("*"), Err(MethodError::Wildcard));
    let msg = Method::parse("GET\r\nX").unwrap_err().to_string();
    assert!(!msg.contains('\r'), "{msg}");
}

#[test]
fn actions_display_and_serialise_in_lowercase() {
    for (a, s) in [
        (Action::Allow, "allow"),
        (Action::Confirm, "confirm"),
        (Action::Deny, "deny"),
    ] {
        assert_eq!(a.to_string(), s);
        assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{s}\""));
        assert_eq!(
            serde_json::from_str::<Action>(&format!("\"{s}\"")).unwrap(),
            a
        );
    }
    assert!(serde_json::from_str::<Action>("\"Allow\"").is_err());
}
