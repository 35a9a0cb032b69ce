//! A rule about HTTP calls to one service: an action, the methods it covers
//! (all of them if none are listed), the path patterns, an optional rate.

use crate::{
    Action, Method, MethodError, NormalizedPath, PathPattern, PatternError, Rate, RateError,
};

/// One HTTP rule. Built by the config loader or [`HttpRule::parse_short`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRule {
    pub action: Action,
    /// `None` covers every method. `Some(empty)` covers none; see
    /// [`HttpRule::validate`].
    pub methods: Option<Vec<Method>>,
    /// The rule matches a path matching any of these.
    pub paths: Vec<PathPattern>,
    /// Applies to calls this rule decides (see [`crate::Verdict::rates`]).
    pub rate: Option<Rate>,
}

/// Why a rule was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RuleError {
    #[error("empty rule; write e.g. `GET,POST /v1/charges/**`")]
    Empty,
    #[error("a rule needs at least one path")]
    NoPaths,
    /// An explicitly empty method list matches nothing: a deny rule with one
    /// would silently deny nothing.
    #[error("a rule's method list is empty; leave it out to mean every method")]
    NoMethods,
    #[error("empty method in the method list (stray `,`)")]
    EmptyMethod,
    #[error("invalid method: {0}")]
    Method(#[from] MethodError),
    #[error(transparent)]
    Pattern(#[from] PatternError),
    #[error("invalid rate: {0}")]
    Rate(#[from] RateError),
}

impl HttpRule {
    /// The rule as a human reads it: `allow GET,HEAD /v1/charges
    /// /v1/charges/**`, with `*` for every method.
    pub fn text(&self) -> String {
        let methods = match &self.methods {
            None => "*".to_owned(),
            Some(ms) if ms.is_empty() => "(no methods)".to_owned(),
            Some(ms) => ms.iter().map(Method::as_str).collect::<Vec<_>>().join(","),
        };
        let paths: Vec<&str> = self.paths.iter().map(PathPattern::as_str).collect();
        format!("{} {} {}", self.action, methods, paths.join(" "))
    }

    /// Parses the CLI short form: `GET,POST /v1/charges/**`, `* /v1/**`, or
    /// `/v1/x` (no method list: every method). More than one path may
    /// follow, so the tail of [`HttpRule::text`] parses back.
    pub fn parse_short(action: Action, s: &str) -> Result<HttpRule, RuleError> {
        let mut words = s.split_whitespace().peekable();
        let first = words.peek().copied().ok_or(RuleError::Empty)?;
        let methods = if first.starts_with('/') {
            None
        } else {
            words.next();
            parse_methods(first)?
        };
        let paths = words
            .map(PathPattern::parse)
            .collect::<Result<Vec<_>, _>>()?;
        let rule = HttpRule {
            action,
            methods,
            paths,
            rate: None,
        };
        rule.validate()?;
        Ok(rule)
    }

    /// Checks what the public fields allow but a rule cannot mean: no paths,
    /// an empty method list, an invalid rate. Loaders building an `HttpRule`
    /// by hand should call it, since such a rule silently matches nothing.
    pub fn validate(&self) -> Result<(), RuleError> {
        if self.paths.is_empty() {
            return Err(RuleError::NoPaths);
        }
        if self.methods.as_ref().is_some_and(Vec::is_empty) {
            return Err(RuleError::NoMethods);
        }
        if let Some(rate) = &self.rate {
            rate.validate()?;
        }
        Ok(())
    }

    /// Whether the rule's method list covers `method`.
    pub(crate) fn covers_method(&self, method: &Method) -> bool {
        self.methods
            .as_ref()
            .is_none_or(|ms| ms.iter().any(|m| m == method))
    }

    /// Whether any of the rule's patterns matches `path`, ignoring ASCII
    /// case if `case_insensitive`. Which rules match which way is decided
    /// in [`crate::evaluate_http`].
    pub(crate) fn matches_path(&self, path: &NormalizedPath, case_insensitive: bool) -> bool {
        self.paths.iter().any(|p| p.matches(path, case_insensitive))
    }
}

/// `*` alone means every method; otherwise a comma-separated list.
fn parse_methods(s: &str) -> Result<Option<Vec<Method>>, RuleError> {
    if s == "*" {
        return Ok(None);
    }
    s.split(',')
        .map(|m| {
            if m.is_empty() {
                Err(RuleError::EmptyMethod)
            } else {
                Ok(Method::parse(m)?)
            }
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}
