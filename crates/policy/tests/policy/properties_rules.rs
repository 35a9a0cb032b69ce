//! Properties of rule evaluation over generated rule sets.

use keyward_policy::{Action, HttpRule, Method, NormalizedPath, PathPattern, evaluate_http};
use proptest::prelude::*;
use proptest::sample::select;

const PATTERNS: &[&str] = &[
    "/**",
    "/",
    "/v1/**",
    "/v1/charges",
    "/v1/charges/*",
    "/v1/charges/**",
    "/admin/**",
    "/v1/*/refunds",
    "/v1/ch_*",
    "/a/**/b",
    "/V1/**",
    "/*",
    "/v1/users:delete",
];
const METHODS: &[&str] = &["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"];
const ACTIONS: &[Action] = &[Action::Allow, Action::Confirm, Action::Deny];

fn rule() -> impl Strategy<Value = HttpRule> {
    (
        select(ACTIONS),
        prop::option::of(prop::collection::vec(select(METHODS), 1..3)),
        prop::collection::vec(select(PATTERNS), 1..3),
    )
        .prop_map(|(action, methods, paths)| HttpRule {
            action,
            methods: methods.map(|ms| {
                ms.iter()
                    .map(|m| Method::parse(m).expect("method"))
                    .collect()
            }),
            paths: paths
                .iter()
                .map(|p| PathPattern::parse(p).expect("pattern"))
                .collect(),
            rate: None,
        })
}

fn rules() -> impl Strategy<Value = Vec<HttpRule>> {
    prop::collection::vec(rule(), 0..8)
}

/// Valid paths, biased towards the patterns above.
fn path() -> impl Strategy<Value = NormalizedPath> {
    let seg = prop_oneof![
        select(
            &[
                "v1",
                "V1",
                "charges",
                "ch_1",
                "refunds",
                "admin",
                "ADMIN",
                "a",
                "b",
                "users:delete",
                "users%3Adelete"
            ][..]
        )
        .prop_map(str::to_owned),
        "[a-zA-Z0-9_~-]{1,5}",
    ];
    (prop::collection::vec(seg, 0..5), any::<bool>()).prop_filter_map(
        "valid path",
        |(segs, slash)| {
            let mut raw = format!("/{}", segs.join("/"));
            if slash && !segs.is_empty() {
                raw.push('/');
            }
            NormalizedPath::parse(&raw).ok()
        },
    )
}

fn method() -> impl Strategy<Value = Method> {
    select(METHODS).prop_map(|m| Method::parse(m).expect("method"))
}

fn flip_case(s: &str, mask: &[bool]) -> String {
    s.chars()
        .zip(mask.iter().cycle())
        .map(|(c, &flip)| if flip { c.to_ascii_uppercase() } else { c })
        .collect()
}

proptest! {
    /// `deny /**` denies everything, whatever other rules say and wherever
    /// it stands in the list.
    #[test]
    fn deny_everything_wins(mut rs in rules(), at in any::<prop::sample::Index>(), p in path(), m in method()) {
        let deny_all = HttpRule::parse_short(Action::Deny, "/**").expect("rule");
        rs.insert(at.index(rs.len() + 1), deny_all);
        let d = evaluate_http(&rs, &m, &p).decision;
        prop_assert_eq!(d.action, Action::Deny);
        prop_assert!(d.rule.is_some());
    }

    /// The order of the rules never changes the action.
    #[test]
    fn order_does_not_matter(
        (rs, shuffled) in rules().prop_flat_map(|rs| (Just(rs.clone()), Just(rs).prop_shuffle())),
        p in path(),
        m in method(),
    ) {
        prop_assert_eq!(evaluate_http(&rs, &m, &p).decision.action, evaluate_http(&shuffled, &m, &p).decision.action);
    }

    /// Without a matching allow or confirm rule nothing is let through.
    #[test]
    fn default_deny(rs in rules(), p in path(), m in method()) {
        let d = evaluate_http(&rs, &m, &p).decision;
        if d.action != Action::Deny {
            let r = d.rule.expect("a granting decision names its rule");
            prop_assert_eq!(rs[r.index].action, d.action);
            prop_assert_eq!(&rs[r.index].text(), &r.text);
        }
    }

    /// A deny rule written in lower case denies every case variant of the
    /// paths it covers, whatever allow rules say.
    #[test]
    fn case_variants_stay_denied(
        segs in prop::collection::vec("[a-z]{1,5}", 1..4),
        star in any::<bool>(),
        mask in prop::collection::vec(any::<bool>(), 1..8),
        mut rs in rules(),
        m in method(),
    ) {
        let exact = format!("/{}", segs.join("/"));
        let deny = if star { format!("/{}/**", segs[0]) } else { exact.clone() };
        rs.push(HttpRule::parse_short(Action::Deny, &deny).expect("rule"));
        rs.push(HttpRule::parse_short(Action::Allow, "/**").expect("rule"));
        let variant = NormalizedPath::parse(&flip_case(&exact, &mask)).expect("valid");
        prop_assert_eq!(evaluate_http(&rs, &m, &variant).decision.action, Action::Deny, "{}", variant);
    }
}
