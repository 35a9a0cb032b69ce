//! Tool-name and argument patterns agree with simple recursive reference
//! matchers on small inputs, stay fast on hostile ones, and `deny *`
//! denies everything.

use std::time::{Duration, Instant};

use keyward_policy::{
    Action, ArgvPattern, CommandRule, NamePattern, ToolRule, evaluate_command, evaluate_tool,
};
use proptest::prelude::*;
use proptest::sample::select;

/// The obvious exponential matcher: `*` any run, `?` one character (if
/// `question` is on), everything else literal.
fn ref_glob(p: &[char], s: &[char], question: bool, ci: bool) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some(('*', rest)) => (0..=s.len()).any(|k| ref_glob(rest, &s[k..], question, ci)),
        Some((c, rest)) => match s.split_first() {
            None => false,
            Some((d, tail)) => {
                let one = (question && *c == '?')
                    || if ci {
                        c.eq_ignore_ascii_case(d)
                    } else {
                        c == d
                    };
                one && ref_glob(rest, tail, question, ci)
            }
        },
    }
}

/// The obvious exponential argv matcher.
fn ref_argv(tokens: &[&str], args: &[String]) -> bool {
    match tokens.split_first() {
        None => args.is_empty(),
        Some((&"*", rest)) => (0..=args.len()).any(|k| ref_argv(rest, &args[k..])),
        Some((t, rest)) => match args.split_first() {
            None => false,
            Some((a, tail)) => {
                let t: Vec<char> = t.chars().collect();
                let a: Vec<char> = a.chars().collect();
                ref_glob(&t, &a, false, false) && ref_argv(rest, tail)
            }
        },
    }
}

fn chars(s: &str) -> Vec<char> {
    s.chars().collect()
}

fn name_pattern() -> impl Strategy<Value = String> {
    prop::collection::vec(select(&['a', 'b', 'A', '_', '*', '?'][..]), 1..8)
        .prop_map(|cs| cs.into_iter().collect())
}

fn tool_name() -> impl Strategy<Value = String> {
    prop::collection::vec(select(&['a', 'b', 'A', 'B', '_', 'é', '*'][..]), 0..9)
        .prop_map(|cs| cs.into_iter().collect())
}

const TOKENS: &[&str] = &["*", "*", "a", "b", "-c", "a*", "*b", "-c*", "*a*", "x*y"];
const ARGS: &[&str] = &[
    "a", "b", "-c", "ab", "ba", "-cx", "", "a b", "xy", "xay", "*",
];

fn argv_tokens() -> impl Strategy<Value = Vec<&'static str>> {
    prop::collection::vec(select(TOKENS), 0..6)
}

fn argv() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(select(ARGS).prop_map(str::to_owned), 0..7)
}

const ACTIONS: &[Action] = &[Action::Allow, Action::Confirm, Action::Deny];

fn tool_rules() -> impl Strategy<Value = Vec<ToolRule>> {
    prop::collection::vec(
        (select(ACTIONS), name_pattern()).prop_map(|(action, p)| ToolRule {
            pattern: NamePattern::parse(&p).expect("pattern"),
            action,
            rate: None,
        }),
        0..6,
    )
}

fn command_rules() -> impl Strategy<Value = Vec<CommandRule>> {
    prop::collection::vec(
        (select(ACTIONS), argv_tokens()).prop_map(|(action, ts)| CommandRule {
            action,
            pattern: ArgvPattern::parse(&ts.join(" ")).expect("pattern"),
        }),
        0..6,
    )
}

proptest! {
    // Cheap cases; more of them make the agreement tests bite harder.
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn name_pattern_agrees_with_reference(p in name_pattern(), s in tool_name(), ci in any::<bool>()) {
        let np = NamePattern::parse(&p).expect("valid");
        prop_assert_eq!(np.matches(&s, ci), ref_glob(&chars(&p), &chars(&s), true, ci));
    }

    #[test]
    fn argv_pattern_agrees_with_reference(ts in argv_tokens(), args in argv()) {
        let p = ArgvPattern::parse(&ts.join(" ")).expect("valid");
        prop_assert_eq!(p.matches(&args), ref_argv(&ts, &args), "{:?} vs {:?}", ts, args);
    }

    /// `deny *` denies every tool, in any case, wherever it stands.
    #[test]
    fn deny_star_denies_every_tool(mut rs in tool_rules(), at in any::<prop::sample::Index>(), t in tool_name()) {
        let deny = ToolRule { pattern: NamePattern::parse("*").expect("p"), action: Action::Deny, rate: None };
        rs.insert(at.index(rs.len() + 1), deny);
        let d = evaluate_tool(&rs, &t).decision;
        prop_assert_eq!(d.action, Action::Deny);
        prop_assert!(d.rule.is_some());
    }

    /// A deny `*` token pattern denies every argv, wherever it stands.
    #[test]
    fn deny_star_denies_every_argv(mut rs in command_rules(), at in any::<prop::sample::Index>(), args in argv()) {
        let deny = CommandRule { action: Action::Deny, pattern: ArgvPattern::parse("*").expect("p") };
        rs.insert(at.index(rs.len() + 1), deny);
        let d = evaluate_command(&rs, &args).decision;
        prop_assert_eq!(d.action, Action::Deny);
        prop_assert!(d.rule.is_some());
    }

    /// Order never changes the action, for tools or commands.
    #[test]
    fn order_does_not_matter(
        (ts, ts2) in tool_rules().prop_flat_map(|rs| (Just(rs.clone()), Just(rs).prop_shuffle())),
        (cs, cs2) in command_rules().prop_flat_map(|rs| (Just(rs.clone()), Just(rs).prop_shuffle())),
        t in tool_name(),
        args in argv(),
    ) {
        prop_assert_eq!(evaluate_tool(&ts, &t).decision.action, evaluate_tool(&ts2, &t).decision.action);
        prop_assert_eq!(evaluate_command(&cs, &args).decision.action, evaluate_command(&cs2, &args).decision.action);
    }

    /// A deny tool pattern written in lower case denies every case variant
    /// of what it covers, whatever the allow rules say.
    #[test]
    fn tool_case_variants_stay_denied(
        name in "[a-z_]{1,10}",
        mask in prop::collection::vec(any::<bool>(), 1..8),
        mut rs in tool_rules(),
    ) {
        rs.push(ToolRule { pattern: NamePattern::parse(&name).expect("p"), action: Action::Deny, rate: None });
        rs.push(ToolRule { pattern: NamePattern::parse("*").expect("p"), action: Action::Allow, rate: None });
        let variant: String = name
            .chars()
            .zip(mask.iter().cycle())
            .map(|(c, &up)| if up { c.to_ascii_uppercase() } else { c })
            .collect();
        prop_assert_eq!(evaluate_tool(&rs, &variant).decision.action, Action::Deny);
    }
}

fn quick<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    // Generous for unoptimised builds on a loaded machine; a backtracking
    // matcher would take longer than the age of the universe here.
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{what} took {:?}",
        start.elapsed()
    );
    out
}

#[test]
fn many_star_tokens_are_fast_and_right() {
    let args = |n: usize, last: &str| -> Vec<String> {
        let mut v = vec!["a".to_owned(); n - 1];
        v.push(last.to_owned());
        v
    };
    // 30 `*` tokens, each followed by a literal, then one more literal.
    let text = format!("{}b", "* a ".repeat(30));
    let p = ArgvPattern::parse(&text).unwrap();
    assert!(!quick("no final b", || p.matches(&args(60, "a"))));
    assert!(quick("final b", || p.matches(&args(60, "b"))));
    assert!(!quick("too few a", || p.matches(&args(30, "b"))));
    assert!(quick("just enough a", || p.matches(&args(31, "b"))));
    // Nothing but stars matches anything.
    let stars = ArgvPattern::parse(&["*"; 30].join(" ")).unwrap();
    assert!(quick("only stars", || stars.matches(&args(60, "z"))));
    // Stars inside a token, against a long argument.
    let glob = ArgvPattern::parse(&format!("{}b", "*a".repeat(30))).unwrap();
    let long = "a".repeat(10_000);
    assert!(!quick("glob, no b", || glob.matches(std::slice::from_ref(&long))));
    assert!(quick("glob, b", || glob.matches(&[format!("{long}b")])));
    // And on tool names.
    let name = NamePattern::parse(&format!("{}b", "*a".repeat(40))).unwrap();
    assert!(!quick("name, no b", || name.matches(&long, true)));
    assert!(quick("name, b", || name.matches(&format!("{long}b"), false)));
}
