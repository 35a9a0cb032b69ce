//! Argument patterns for allow-listed commands (`args` and `deny_args` of a
//! `[commands.NAME]` entry).
//!
//! A pattern is a list of tokens separated by spaces, matched against the
//! argv (the arguments after the program name) token by token:
//! - a token that is exactly `*` matches zero or more whole arguments;
//! - any other token matches exactly one argument, as a glob in which `*`
//!   matches any run of characters (spaces included) and everything else is
//!   literal: `--upload-pack*` matches `--upload-pack` and
//!   `--upload-pack=x`.
//!
//! So `issue *` matches `issue` and `issue list --limit 5`; `pr view *`
//! matches `pr view 12`; deny `* -c *` forbids a bare `-c` anywhere, and
//! deny `* --exec-path* *` any argument starting with `--exec-path`. The
//! empty pattern `""` matches only an empty argv.
//!
//! Matching is NOT done on the arguments joined by spaces: joining is
//! ambiguous (`["issue list"]` and `["issue", "list"]` join alike, and an
//! argument `"x --exec-path=/tmp"` would let a deny pattern see an option
//! the program never receives). Matching is case-sensitive: programs tell
//! `-C` from `-c`.
//!
//! # What to forbid
//!
//! Some arguments change what a program executes rather than what it acts
//! on, and turn an allowed command into arbitrary code execution. For git:
//! - `-c NAME=VALUE` and `--config-env=NAME=VAR` set any config value:
//!   `core.sshCommand`, `core.pager`, `core.fsmonitor` or
//!   `alias.x=!sh ...` each run a command of the agent's choosing;
//! - `--exec-path=DIR` runs git's helper programs from a directory the
//!   agent may have written to;
//! - `--upload-pack=CMD` / `-u CMD` (fetch, clone, ls-remote),
//!   `--receive-pack=CMD` (push) and `--exec=CMD` (archive) name the
//!   program git starts for the other end; with a local path as the remote
//!   it runs on this machine;
//! - `git grep -O CMD` (`--open-files-in-pager`) runs `CMD` on the hits;
//! - `-C DIR`, `--git-dir`, `--work-tree` point git at another repository,
//!   whose own `.git/config` (hooks, `core.fsmonitor`, aliases) then
//!   applies;
//! - aliases: a subcommand git does not know is looked up in `alias.*`,
//!   and an alias starting with `!` runs a shell, so a pattern that lets
//!   the agent choose the subcommand (`* ...` or `l*`) reaches every alias
//!   in the user's config.
//!
//! The strongest defence is an allow pattern that starts with a literal
//! subcommand (`log *`, `status`): git's global options (`-c`, `-C`,
//! `--exec-path`, `--git-dir`, `--config-env`) only work before the
//! subcommand, so no such pattern can let them in, and no alias can be
//! named. Deny patterns then remove the dangerous options of the allowed
//! subcommands: `* --upload-pack* *`, `* -u* *`, `* --receive-pack* *`,
//! `* --exec* *`, `* -O* *`, `* --open-files-in-pager* *`,
//! `* --output* *`. Write them with a trailing `*` inside
//! the token, so that attached forms (`--upload-pack=CMD`, `-uCMD`) are
//! caught too. Beware that git accepts any unambiguous prefix of a long
//! option (`--upload-pa=CMD`), so a deny pattern is a backstop, not a
//! proof: prefer allow patterns that leave no room for options at all
//! (`status`, `log --oneline -n 20`) where the task allows.

use std::fmt;
use std::str::FromStr;

use crate::wildcard::{self, ByteGlob, Element};

/// The longest pattern accepted, in bytes.
pub const MAX_ARGV_PATTERN_LEN: usize = 1024;

/// One token of a compiled pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    /// `*`: zero or more whole arguments.
    Any,
    /// Exactly this argument.
    Literal(String),
    /// One argument matching this glob (the token contains a `*`).
    Glob(Vec<ByteGlob>),
}

/// A validated argument pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgvPattern {
    /// The tokens joined by single spaces.
    text: String,
    tokens: Vec<Token>,
}

/// Why an argument pattern was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ArgvPatternError {
    #[error("argument pattern is {len} bytes long; at most {max} are allowed")]
    TooLong { len: usize, max: usize },
    #[error("argument pattern contains a control character at byte {at}")]
    ControlChar { at: usize },
    /// `**` reads like the path patterns' "any number of segments", but here
    /// a token containing it would match exactly one argument, silently
    /// narrowing a deny pattern.
    #[error(
        "`**` at byte {at} has no meaning in an argument pattern: a `*` token matches any \
         number of arguments, and `*` inside a token any run of characters"
    )]
    DoubleStar { at: usize },
}

impl ArgvPattern {
    /// Parses a pattern: tokens separated by ASCII whitespace, no control
    /// characters, at most [`MAX_ARGV_PATTERN_LEN`] bytes.
    pub fn parse(s: &str) -> Result<ArgvPattern, ArgvPatternError> {
        if s.len() > MAX_ARGV_PATTERN_LEN {
            return Err(ArgvPatternError::TooLong {
                len: s.len(),
                max: MAX_ARGV_PATTERN_LEN,
            });
        }
        if let Some((at, _)) = s
            .char_indices()
            .find(|&(_, c)| c.is_control() && !matches!(c, ' ' | '\t'))
        {
            return Err(ArgvPatternError::ControlChar { at });
        }
        if let Some(at) = s.find("**") {
            return Err(ArgvPatternError::DoubleStar { at });
        }
        let words: Vec<&str> = s.split_ascii_whitespace().collect();
        let tokens = words
            .iter()
            .map(|w| match *w {
                "*" => Token::Any,
                w if w.contains('*') => Token::Glob(ByteGlob::compile(w)),
                w => Token::Literal(w.to_owned()),
            })
            .collect();
        Ok(ArgvPattern {
            text: words.join(" "),
            tokens,
        })
    }

    /// The canonical text (tokens joined by single spaces); parsing it
    /// again gives an equal pattern.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the whole argv (without the program name) matches.
    pub fn matches(&self, argv: &[String]) -> bool {
        wildcard::matches(&self.tokens, argv)
    }
}

impl Element<String> for Token {
    fn is_star(&self) -> bool {
        *self == Token::Any
    }

    fn matches_one(&self, arg: &String) -> bool {
        match self {
            Token::Any => true,
            Token::Literal(l) => l == arg,
            Token::Glob(g) => wildcard::matches(g, arg.as_bytes()),
        }
    }
}

impl fmt::Display for ArgvPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for ArgvPattern {
    type Err = ArgvPatternError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ArgvPattern::parse(s)
    }
}
