//! The typed fields of an [`Event`](crate::Event): what kind of call it
//! was ([`Kind`]), what was decided ([`Decision`]) and who answered an
//! approval ([`Channel`]).
//!
//! Each value is written as exactly the string keyward wrote before these
//! fields had types, so older logs verify and read, and new lines look as
//! they always did. Any other string reads as `Other(text)` and is written
//! back unchanged: a log outlives the code that wrote it, and a record
//! from another version must still read. (Verification hashes the raw line
//! bytes, never a re-serialisation, so only reading needs that fallback.)
//!
//! Build a value from its text with `From<&str>` / `From<String>` /
//! `FromStr` (never failing: an unknown text is `Other`); print it with
//! `Display`. `Other` is meant for texts that are none of the known ones:
//! `Kind::Other("http".into())` is written as `http` but is not equal to
//! [`Kind::Http`]; parse texts rather than building `Other` by hand.

use std::borrow::Cow;
use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Declares an enum whose unit variants each stand for one fixed word, and
/// the two tables between them (`word`, `from_word`), written once. The
/// variants after `;` (those that carry a value, and `Other`) are copied
/// as they are; their text is the enum's own business.
macro_rules! words {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $word:literal, )*
            ;
            $($rest:tt)*
        }
    ) => {
        $(#[$meta])*
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            $($rest)*
        }

        impl $name {
            /// The fixed word of a unit variant; `None` for the others.
            fn word(&self) -> Option<&'static str> {
                match self {
                    $( $name::$variant => Some($word), )*
                    _ => None,
                }
            }

            /// The unit variant spelled `word`, if any.
            fn from_word(word: &str) -> Option<$name> {
                match word {
                    $( $word => Some($name::$variant), )*
                    _ => None,
                }
            }

            /// Every unit variant, for the tests.
            #[cfg(test)]
            pub(crate) const WORDS: &'static [$name] = &[ $( $name::$variant, )* ];
        }
    };
}

/// The conversions every field type has, on top of its own
/// `Display` and `parse`.
macro_rules! conversions {
    ($name:ident) => {
        impl From<&str> for $name {
            fn from(s: &str) -> $name {
                $name::parse(Cow::Borrowed(s))
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> $name {
                $name::parse(Cow::Owned(s))
            }
        }

        impl From<&String> for $name {
            fn from(s: &String) -> $name {
                $name::parse(Cow::Borrowed(s))
            }
        }

        impl FromStr for $name {
            type Err = Infallible;
            fn from_str(s: &str) -> Result<$name, Infallible> {
                Ok($name::from(s))
            }
        }

        /// Compares the written text: `kind == "http"`.
        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                writes_as(self, other)
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                writes_as(self, other)
            }
        }
    };
}

/// Writes the text `write` makes, honouring width, fill and precision
/// (`{:<12}`) as a `str` does: readers print these fields in columns.
fn padded(
    f: &mut fmt::Formatter<'_>,
    write: impl FnOnce(&mut dyn fmt::Write) -> fmt::Result,
) -> fmt::Result {
    if f.width().is_none() && f.precision().is_none() {
        return write(f);
    }
    let mut text = String::new();
    write(&mut text)?;
    f.pad(&text)
}

/// Whether `v` is written as exactly `text` (without building the text).
fn writes_as(v: &impl fmt::Display, text: &str) -> bool {
    struct Rest<'a>(&'a str);
    impl fmt::Write for Rest<'_> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let rest = self.0.strip_prefix(s).ok_or(fmt::Error)?;
            self.0 = rest;
            Ok(())
        }
    }
    let mut rest = Rest(text);
    fmt::write(&mut rest, format_args!("{v}")).is_ok() && rest.0.is_empty()
}

/// Serde through the text (`Display` out, `From<String>` in), for the
/// types whose values carry data inside their word (`grant <id>`,
/// `allow for 5m (grant <id>)`): derive can spell a fixed word per
/// variant and an untagged fallback, but not a word with a value in it.
macro_rules! serde_as_text {
    ($name:ident) => {
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<$name, D::Error> {
                String::deserialize(deserializer).map($name::from)
            }
        }
    };
}

words! {
    /// What kind of call (or act) a record is about.
    // Derived serde: every known kind is one fixed word, and an unknown
    // one falls back to the untagged `Other`. `rename_all` must agree with
    // the words below (a test checks every variant).
    #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Kind {
        /// An `http_request` to a configured service.
        Http = "http",
        /// A call of an upstream MCP server's tool.
        Tool = "tool",
        /// A `run_command` of a configured command.
        Command = "command",
        /// A read of an upstream MCP server's resource.
        Resource = "resource",
        /// A get of an upstream MCP server's prompt.
        Prompt = "prompt",
        /// A `run_workflow` run: `allow` when every step ran, else the
        /// decision of the step that stopped it. Each step's call has its
        /// own record, with `run` set.
        Workflow = "workflow",
        /// A `request_access` call.
        Access = "access",
        /// An approval question: asked, or answered.
        Approval = "approval",
        /// The human acting on keyward itself: lock, unlock, revoke,
        /// dashboard log-in and log-out.
        Admin = "admin",
        /// keyward.toml: an edit pending approval, an approval made or
        /// refused.
        Config = "config",
        ;
        /// A kind this version does not know (an older or newer keyward's).
        #[serde(untagged)]
        Other(String),
    }
}

impl Kind {
    /// The written text.
    pub fn as_str(&self) -> &str {
        match self {
            Kind::Other(s) => s,
            known => known.word().unwrap_or_default(),
        }
    }

    fn parse(s: Cow<'_, str>) -> Kind {
        Kind::from_word(&s).unwrap_or_else(|| Kind::Other(s.into_owned()))
    }
}

/// The empty text, as before the field had a type; every writer sets it.
impl Default for Kind {
    fn default() -> Kind {
        Kind::Other(String::new())
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

conversions!(Kind);

words! {
    /// What was decided. For a call: whether it was made. For an approval
    /// record: asked, or the answer. For `admin` and `config`: what the
    /// human did.
    #[derive(Clone, Debug, PartialEq, Eq, Hash)]
    pub enum Decision {
        /// The call was let through (by the policy, a human or a grant)
        /// and made; `status` says how it went, `error` why it failed on
        /// the way if it did. A workflow run that completed.
        Allow = "allow",
        /// Refused: by a rule, by a human's answer, by the timeout or the
        /// lock (`channel` says which), or a config approval refused.
        Deny = "deny",
        /// Refused by a rule's rate limit.
        RateLimited = "rate_limited",
        /// Stopped before the upstream by something other than a rule: an
        /// unknown service, server or tool, invalid arguments, a secret or
        /// program that could not be resolved; `error` says what.
        Error = "error",
        /// An approval question was asked (kind `approval`).
        Asked = "asked",
        /// keyward was locked: every call refused until unlocked.
        Lock = "lock",
        /// keyward was unlocked.
        Unlock = "unlock",
        /// A passphrase given to unlock (or to the dashboard) was wrong.
        WrongPassphrase = "wrong_passphrase",
        /// Grants revoked through the control socket (`keyward approvals
        /// revoke`); `rule` says which.
        Revoke = "revoke",
        /// A dashboard log-in.
        Login = "login",
        /// A dashboard log-in with a wrong passphrase.
        LoginFailed = "login_failed",
        /// A dashboard log-out.
        Logout = "logout",
        /// `keyward serve` is serving the approved config; an edit to
        /// keyward.toml waits for `keyward config approve`.
        Pending = "pending",
        /// keyward.toml was approved (`rule` holds its hash).
        Approved = "approved",
        ;
        /// An approval question answered yes (kind `approval`), written
        /// `allow once`, `allow for the session` or `allow for 5m`, then
        /// ` (grant ID)` when the answer created a grant. A no is
        /// [`Decision::Deny`].
        Allowed {
            allowance: Allowance,
            grant: Option<String>,
        },
        /// One grant revoked on the dashboard: `revoke grant ID`.
        RevokeGrant(String),
        /// Every grant revoked on the dashboard: `revoke all (N grant(s))`.
        RevokeAll(usize),
        /// A decision this version does not know (an older or newer
        /// keyward's).
        Other(String),
    }
}

/// What a yes to an approval question allows.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Allowance {
    /// `allow once`: this call.
    Once,
    /// `allow for the session`: this call, and a grant until the agent's
    /// session ends.
    Session,
    /// `allow for 5m`: this call, and a grant for a while; the duration as
    /// written (`90s`, `5m`, `1h`).
    For(String),
}

impl Allowance {
    fn parse(s: &str) -> Option<Allowance> {
        match s {
            "allow once" => Some(Allowance::Once),
            "allow for the session" => Some(Allowance::Session),
            _ => s
                .strip_prefix("allow for ")
                .filter(|d| !d.is_empty())
                .map(|d| Allowance::For(d.to_string())),
        }
    }
}

impl Allowance {
    fn write(&self, w: &mut dyn fmt::Write) -> fmt::Result {
        match self {
            Allowance::Once => w.write_str("allow once"),
            Allowance::Session => w.write_str("allow for the session"),
            Allowance::For(d) => write!(w, "allow for {d}"),
        }
    }
}

impl fmt::Display for Allowance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        padded(f, |w| self.write(w))
    }
}

impl Decision {
    fn parse(s: Cow<'_, str>) -> Decision {
        Decision::known(&s).unwrap_or_else(|| Decision::Other(s.into_owned()))
    }

    /// The decision `s` spells, if it is a known one. Every branch takes
    /// `s` apart into pieces that `Display` puts back together exactly.
    fn known(s: &str) -> Option<Decision> {
        if let Some(d) = Decision::from_word(s) {
            return Some(d);
        }
        if let Some(id) = s.strip_prefix("revoke grant ") {
            return Some(Decision::RevokeGrant(id.to_string()));
        }
        if let Some(n) = s
            .strip_prefix("revoke all (")
            .and_then(|r| r.strip_suffix(" grant(s))"))
        {
            // `+2` or `02` parse as 2 but would be written back as `2`.
            return n
                .parse::<usize>()
                .ok()
                .filter(|v| v.to_string() == n)
                .map(Decision::RevokeAll);
        }
        let (allowance, grant) = match s.split_once(" (grant ") {
            Some((head, rest)) => (head, Some(rest.strip_suffix(')')?)),
            None => (s, None),
        };
        Some(Decision::Allowed {
            allowance: Allowance::parse(allowance)?,
            grant: grant.map(str::to_string),
        })
    }
}

/// The empty text, as before the field had a type; every writer sets it.
impl Default for Decision {
    fn default() -> Decision {
        Decision::Other(String::new())
    }
}

impl Decision {
    fn write(&self, w: &mut dyn fmt::Write) -> fmt::Result {
        if let Some(word) = self.word() {
            return w.write_str(word);
        }
        match self {
            Decision::Allowed { allowance, grant } => {
                allowance.write(w)?;
                match grant {
                    Some(g) => write!(w, " (grant {g})"),
                    None => Ok(()),
                }
            }
            Decision::RevokeGrant(id) => write!(w, "revoke grant {id}"),
            Decision::RevokeAll(n) => write!(w, "revoke all ({n} grant(s))"),
            Decision::Other(s) => w.write_str(s),
            // The unit variants, written above.
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        padded(f, |w| self.write(w))
    }
}

conversions!(Decision);
serde_as_text!(Decision);

words! {
    /// How a call was approved, or who answered an approval question.
    #[derive(Clone, Debug, PartialEq, Eq, Hash)]
    pub enum Channel {
        /// The human answered in the calling MCP client's own form.
        Elicitation = "elicitation",
        /// The human answered on the dashboard (or acted there: `admin`).
        Dashboard = "dashboard",
        /// The human answered with `keyward approvals`.
        Cli = "cli",
        /// Nobody answered within the approval timeout: denied.
        Timeout = "timeout",
        /// keyward was locked while the question waited: denied.
        Lock = "lock",
        /// The answer had already let another call through (one answer,
        /// one call): denied.
        Replay = "replay",
        ;
        /// No one was asked: the grant `grant <ID>` covered the call.
        Grant(String),
        /// A channel this version does not know (an older or newer
        /// keyward's).
        Other(String),
    }
}

impl Channel {
    fn parse(s: Cow<'_, str>) -> Channel {
        if let Some(c) = Channel::from_word(&s) {
            return c;
        }
        match s.strip_prefix("grant ") {
            Some(id) => Channel::Grant(id.to_string()),
            None => Channel::Other(s.into_owned()),
        }
    }
}

impl Channel {
    fn write(&self, w: &mut dyn fmt::Write) -> fmt::Result {
        if let Some(word) = self.word() {
            return w.write_str(word);
        }
        match self {
            Channel::Grant(id) => write!(w, "grant {id}"),
            Channel::Other(s) => w.write_str(s),
            // The unit variants, written above.
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        padded(f, |w| self.write(w))
    }
}

conversions!(Channel);
serde_as_text!(Channel);

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn json(s: &str) -> String {
        serde_json::to_string(s).expect("json")
    }

    /// Writes `v`, checks it is written as `text` (plain and as JSON) and
    /// that `text` reads back as `v`, through every way in.
    fn round_trips<T>(v: &T, text: &str)
    where
        T: fmt::Display + fmt::Debug + PartialEq + Serialize + for<'de> Deserialize<'de>,
        T: for<'a> From<&'a str> + From<String> + FromStr<Err = Infallible>,
    {
        assert_eq!(v.to_string(), text);
        assert_eq!(serde_json::to_string(v).expect("json"), json(text));
        assert_eq!(&T::from(text), v, "{text}");
        assert_eq!(&T::from(text.to_string()), v, "{text}");
        assert_eq!(&text.parse::<T>().expect("infallible"), v, "{text}");
        assert_eq!(
            &serde_json::from_str::<T>(&json(text)).expect("parse"),
            v,
            "{text}"
        );
    }

    /// Reading `text` and writing it back gives `text`, whatever it is.
    fn keeps<T>(text: &str) -> Result<(), TestCaseError>
    where
        T: fmt::Display + Serialize + for<'de> Deserialize<'de> + for<'a> From<&'a str>,
    {
        prop_assert_eq!(T::from(text).to_string(), text);
        let parsed: T = serde_json::from_str(&json(text)).expect("any string reads");
        prop_assert_eq!(serde_json::to_string(&parsed).expect("json"), json(text));
        Ok(())
    }

    fn decisions_with_data() -> Vec<(Decision, &'static str)> {
        let allowed = |allowance, grant: Option<&str>| Decision::Allowed {
            allowance,
            grant: grant.map(str::to_string),
        };
        vec![
            (allowed(Allowance::Once, None), "allow once"),
            (
                allowed(Allowance::Once, Some("9f2c")),
                "allow once (grant 9f2c)",
            ),
            (allowed(Allowance::Session, None), "allow for the session"),
            (
                allowed(Allowance::Session, Some("g-1")),
                "allow for the session (grant g-1)",
            ),
            (
                allowed(Allowance::For("5m".into()), Some("09525d9371260351")),
                "allow for 5m (grant 09525d9371260351)",
            ),
            (allowed(Allowance::For("90s".into()), None), "allow for 90s"),
            (
                Decision::RevokeGrant("c612f107".into()),
                "revoke grant c612f107",
            ),
            (Decision::RevokeAll(0), "revoke all (0 grant(s))"),
            (Decision::RevokeAll(12), "revoke all (12 grant(s))"),
        ]
    }

    #[test]
    fn every_known_kind_round_trips_to_its_word() {
        assert_eq!(Kind::WORDS.len(), 10);
        for k in Kind::WORDS {
            // The derived serde and the table of words agree.
            round_trips(k, k.word().expect("a word"));
            assert_eq!(k.as_str(), k.word().expect("a word"));
        }
        round_trips(&Kind::Http, "http");
        round_trips(&Kind::Config, "config");
    }

    #[test]
    fn every_known_decision_round_trips_to_its_text() {
        assert_eq!(Decision::WORDS.len(), 14);
        for d in Decision::WORDS {
            round_trips(d, d.word().expect("a word"));
        }
        round_trips(&Decision::RateLimited, "rate_limited");
        round_trips(&Decision::WrongPassphrase, "wrong_passphrase");
        for (d, text) in decisions_with_data() {
            round_trips(&d, text);
        }
    }

    #[test]
    fn every_known_channel_round_trips_to_its_text() {
        assert_eq!(Channel::WORDS.len(), 6);
        for c in Channel::WORDS {
            round_trips(c, c.word().expect("a word"));
        }
        round_trips(
            &Channel::Grant("09525d9371260351".into()),
            "grant 09525d9371260351",
        );
    }

    #[test]
    fn an_unknown_word_reads_as_other_and_is_written_back_the_same() {
        round_trips(&Kind::Other("teleport".into()), "teleport");
        round_trips(&Decision::Other("quarantined".into()), "quarantined");
        round_trips(&Channel::Other("pager".into()), "pager");
        // Near misses are not the known words.
        round_trips(&Kind::Other("HTTP".into()), "HTTP");
        round_trips(&Decision::Other("allow ".into()), "allow ");
        round_trips(&Decision::Other("allow for ".into()), "allow for ");
        round_trips(
            &Decision::Other("allow once (grant x".into()),
            "allow once (grant x",
        );
        round_trips(&Decision::Other("deny (grant x)".into()), "deny (grant x)");
        round_trips(
            &Decision::Other("revoke all (+2 grant(s))".into()),
            "revoke all (+2 grant(s))",
        );
        round_trips(
            &Decision::Other("revoke all (02 grant(s))".into()),
            "revoke all (02 grant(s))",
        );
        round_trips(&Channel::Other("grant".into()), "grant");
        round_trips(&Channel::Other(" grant x".into()), " grant x");
    }

    #[test]
    fn an_empty_field_reads_and_writes_as_before() {
        // `Event::default()` had empty strings.
        round_trips(&Kind::default(), "");
        round_trips(&Decision::default(), "");
        round_trips(&Channel::Other(String::new()), "");
    }

    #[test]
    fn a_field_that_is_not_a_string_is_an_error_not_a_panic() {
        assert!(serde_json::from_str::<Kind>("7").is_err());
        assert!(serde_json::from_str::<Decision>("null").is_err());
        assert!(serde_json::from_str::<Channel>("[\"cli\"]").is_err());
    }

    /// `keyward audit` prints the decision in a column (`{:<12}`), as it
    /// did when the field was a `String`.
    #[test]
    fn fields_print_in_columns_like_strings() {
        assert_eq!(format!("{:<8}|", Decision::Allow), "allow   |");
        assert_eq!(format!("{:>8}|", Kind::Http), "    http|");
        assert_eq!(format!("{:<8}|", Channel::Grant("g1".into())), "grant g1|");
        let yes = Decision::Allowed {
            allowance: Allowance::Once,
            grant: Some("g".into()),
        };
        assert_eq!(format!("{yes:<24}|"), format!("{:<24}|", yes.to_string()));
        assert_eq!(format!("{yes:.5}"), "allow");
        assert_eq!(
            format!("{:<6}|", Decision::RevokeAll(3)),
            "revoke all (3 grant(s))|"
        );
    }

    #[test]
    fn fields_compare_with_their_text() {
        assert!(Kind::Approval == "approval");
        assert!(Kind::Approval != "admin");
        assert_eq!(Decision::Allow, *"allow");
        assert!(Channel::Grant("g".into()) == "grant g");
        assert!(Channel::Grant("g".into()) != "grant");
        assert!(Channel::Grant("g".into()) != "grant gg");
        assert!(Kind::Other(String::new()) == "");
        assert!(Kind::Other("http".into()) == "http", "the text is compared");
    }

    /// Strings near the shapes that carry data, and any string at all.
    fn texts() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just(String::new()),
            Just("allow".to_string()),
            Just("allow once".to_string()),
            Just("allow for ".to_string()),
            Just("allow for the session".to_string()),
            Just(" (grant ".to_string()),
            Just(")".to_string()),
            Just("grant ".to_string()),
            Just("revoke grant ".to_string()),
            Just("revoke all (".to_string()),
            Just(" grant(s))".to_string()),
            Just("deny".to_string()),
            "[0-9+]{0,3}",
            "[a-z\\- ]{0,6}",
            any::<String>(),
        ];
        let answer = (
            prop_oneof![
                Just("allow once"),
                Just("allow for the session"),
                Just("allow for 5m"),
                Just("deny")
            ],
            proptest::option::of(any::<String>()),
        )
            .prop_map(|(a, g)| match g {
                Some(g) => format!("{a} (grant {g})"),
                None => a.to_string(),
            });
        prop_oneof![
            any::<String>(),
            answer,
            proptest::collection::vec(piece, 0..5).prop_map(|p| p.concat()),
        ]
    }

    proptest! {
        #[test]
        fn any_text_is_written_back_byte_for_byte(text in texts()) {
            keeps::<Kind>(&text)?;
            keeps::<Decision>(&text)?;
            keeps::<Channel>(&text)?;
        }

        #[test]
        fn a_text_that_is_no_known_one_is_other(text in texts()) {
            let known_kind = Kind::WORDS.iter().any(|k| k.as_str() == text);
            prop_assert_eq!(matches!(Kind::from(text.as_str()), Kind::Other(_)), !known_kind);
            if let Decision::Other(s) = Decision::from(text.as_str()) {
                prop_assert_eq!(s, text.clone());
            }
            if let Channel::Other(s) = Channel::from(text.as_str()) {
                prop_assert!(!text.starts_with("grant "));
                prop_assert_eq!(s, text);
            }
        }

        #[test]
        fn an_answer_with_a_grant_round_trips(
            allowance in prop_oneof![
                Just(Allowance::Once),
                Just(Allowance::Session),
                "[1-9][0-9]{0,3}[smh]".prop_map(Allowance::For),
            ],
            grant in proptest::option::of("[0-9a-f]{1,16}"),
        ) {
            let d = Decision::Allowed { allowance, grant };
            prop_assert_eq!(Decision::from(d.to_string()), d);
        }

        #[test]
        fn a_revoke_of_any_count_round_trips(n in any::<usize>()) {
            let d = Decision::RevokeAll(n);
            prop_assert_eq!(Decision::from(d.to_string()), d);
        }
    }
}
