//! The template language of workflow steps: [minijinja], set up once here
//! so that the checks at load and the rendering at run time are the same.
//!
//! - strict undefined: a missing value is an error, never an empty string;
//! - no auto-escaping (the output is a path, a header, a JSON value, an
//!   argument — not HTML);
//! - no loader: a template cannot include, import or extend anything (the
//!   `multi_template` feature is not even compiled in);
//! - bounded: a fuel limit on the instructions one render may execute, and
//!   a cap on the bytes it may output ([`MAX_RENDERED_BYTES`]).
//!
//! Values are data. A value that looks like a template (`{{ x }}` in an
//! upstream's answer) is output as text and never evaluated: only the
//! template text from keyward.toml is compiled.

use std::collections::BTreeSet;
use std::io;

use minijinja::value::ValueKind;
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};

/// The most one template may output: 1 MiB.
pub const MAX_RENDERED_BYTES: usize = 1024 * 1024;

/// Instructions one render may execute (a loop over a huge input stops).
const FUEL: u64 = 200_000;

/// Why a template did not compile or render. The message never quotes a
/// value (minijinja's messages name operations and types, not values),
/// and the gateway scrubs it anyway.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(String);

impl TemplateError {
    fn of(e: &minijinja::Error) -> TemplateError {
        // `Display` of a minijinja error without the debug feature is one
        // line: the kind, its detail and the position.
        TemplateError(e.to_string())
    }
}

/// The environment every workflow template is compiled and rendered in.
pub(crate) fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_fuel(Some(FUEL));
    // Values mostly come from JSON, and go into URLs, headers and JSON:
    // booleans and null print as JSON spells them, not Python's `True`.
    env.set_formatter(|out, state, value| match value.kind() {
        ValueKind::Bool => out
            .write_str(if value.is_true() { "true" } else { "false" })
            .map_err(minijinja::Error::from),
        ValueKind::None => out.write_str("null").map_err(minijinja::Error::from),
        _ => minijinja::escape_formatter(out, state, value),
    });
    env
}

/// One template from keyward.toml: compiled once at load (so that a syntax
/// error is a config error) and kept as source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    source: String,
    /// The whole text is one `{{ expression }}`: where a typed value is
    /// wanted (tool arguments, a JSON body) it keeps its type.
    expression: Option<String>,
    /// The context names it reads, dotted: `incident`,
    /// `steps.alerts.summary`.
    references: BTreeSet<String>,
}

impl Template {
    /// Compiles `source`.
    pub fn parse(source: &str) -> Result<Template, TemplateError> {
        let env = environment();
        let globals: BTreeSet<String> = env.globals().map(|(k, _)| k.to_string()).collect();
        let tmpl = env
            .template_from_str(source)
            .map_err(|e| TemplateError::of(&e))?;
        let mut references = tmpl.undeclared_variables(true);
        let expression = whole_expression(source);
        if let Some(expr) = &expression {
            let e = env
                .compile_expression(expr)
                .map_err(|e| TemplateError::of(&e))?;
            references.extend(e.undeclared_variables(true));
        }
        let references = references
            .into_iter()
            .filter(|r| !globals.contains(first_segment(r)))
            .collect();
        Ok(Template {
            source: source.to_string(),
            expression: expression.map(str::to_string),
            references,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the template is a plain string (nothing to render).
    pub fn is_literal(&self) -> bool {
        !self.source.contains("{{") && !self.source.contains("{%") && !self.source.contains("{#")
    }

    /// Every context name the template reads, dotted (`steps.alerts.json`).
    /// Names bound inside the template (`{% set %}`, loop variables) and
    /// the environment's globals (`range`, `dict`, `namespace`) are not
    /// listed.
    pub fn references(&self) -> impl Iterator<Item = &str> {
        self.references.iter().map(String::as_str)
    }

    /// Renders to text, at most [`MAX_RENDERED_BYTES`].
    pub fn render(&self, ctx: &Value) -> Result<String, TemplateError> {
        let env = environment();
        let tmpl = env
            .template_from_str(&self.source)
            .map_err(|e| TemplateError::of(&e))?;
        let mut out = Bounded::default();
        match tmpl.render_captured_to(ctx.clone(), &mut out) {
            Ok(_) => {}
            Err(_) if out.over => {
                return Err(TemplateError(format!(
                    "the output is over {} KiB",
                    MAX_RENDERED_BYTES / 1024
                )));
            }
            Err(e) => return Err(TemplateError::of(&e)),
        }
        String::from_utf8(out.bytes).map_err(|_| TemplateError("the output is not UTF-8".into()))
    }

    /// A typed value: the expression's value when the whole template is
    /// one `{{ expression }}`, otherwise the rendered text. The caller
    /// bounds the size of what it does with a non-text value.
    pub fn eval(&self, ctx: &Value) -> Result<Value, TemplateError> {
        let Some(expr) = &self.expression else {
            return self.render(ctx).map(Value::from);
        };
        let env = environment();
        let e = env
            .compile_expression(expr)
            .map_err(|e| TemplateError::of(&e))?;
        let v = e.eval(ctx.clone()).map_err(|e| TemplateError::of(&e))?;
        if v.is_undefined() {
            return Err(TemplateError("undefined value".into()));
        }
        Ok(v)
    }
}

/// `{{ expr }}` and nothing else around it: the inner expression.
fn whole_expression(source: &str) -> Option<&str> {
    let inner = source
        .trim()
        .strip_prefix("{{")?
        .strip_suffix("}}")?
        .trim_start_matches('-')
        .trim_end_matches('-');
    let clean = !inner.contains("{{")
        && !inner.contains("}}")
        && !inner.contains("{%")
        && !inner.contains("{#");
    (clean && !inner.trim().is_empty()).then_some(inner.trim())
}

fn first_segment(dotted: &str) -> &str {
    dotted.split('.').next().unwrap_or(dotted)
}

/// An output that refuses to grow past [`MAX_RENDERED_BYTES`].
#[derive(Default)]
struct Bounded {
    bytes: Vec<u8>,
    over: bool,
}

impl io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.bytes.len() + buf.len() > MAX_RENDERED_BYTES {
            self.over = true;
            return Err(io::Error::other("template output too large"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(pairs: &[(&str, Value)]) -> Value {
        Value::from(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<std::collections::BTreeMap<_, _>>(),
        )
    }

    #[test]
    fn references_are_dotted_and_exclude_locals_and_globals() {
        let t = Template::parse(
            "/i/{{ incident }}/{{ steps.alerts.json.id }}{% set x = 1 %}{{ x }}{% for i in range(2) %}{{ i }}{% endfor %}",
        )
        .expect("compiles");
        let refs: Vec<&str> = t.references().collect();
        assert_eq!(refs, vec!["incident", "steps.alerts.json.id"]);
    }

    #[test]
    fn a_missing_value_is_an_error_not_an_empty_string() {
        let t = Template::parse("/i/{{ incident }}").expect("compiles");
        assert!(t.render(&ctx(&[])).is_err());
        let t = Template::parse("{{ steps.a.nope }}").expect("compiles");
        let steps = ctx(&[("a", ctx(&[("status", Value::from(200))]))]);
        assert!(t.render(&ctx(&[("steps", steps)])).is_err());
    }

    #[test]
    fn values_are_data_never_evaluated_nor_escaped() {
        let t = Template::parse("/i/{{ incident }}/alerts").expect("compiles");
        let hostile = "../../admin{{ 7*7 }}{% raw %}<&>";
        let out = t
            .render(&ctx(&[("incident", Value::from(hostile))]))
            .expect("renders");
        assert_eq!(out, format!("/i/{hostile}/alerts"));
        // The typed form returns the value itself, not a re-rendering.
        let t = Template::parse("{{ body }}").expect("compiles");
        let v = t
            .eval(&ctx(&[("body", Value::from("{{ secret }}"))]))
            .expect("evaluates");
        assert_eq!(v.as_str(), Some("{{ secret }}"));
    }

    #[test]
    fn a_whole_expression_keeps_its_type() {
        let c = ctx(&[("n", Value::from(5)), ("flag", Value::from(true))]);
        let t = Template::parse("{{ n }}").expect("compiles");
        assert_eq!(t.eval(&c).expect("eval").as_i64(), Some(5));
        let t = Template::parse("{{- n + 1 -}}").expect("compiles");
        assert_eq!(t.eval(&c).expect("eval").as_i64(), Some(6));
        let t = Template::parse("n={{ n }}").expect("compiles");
        assert_eq!(t.eval(&c).expect("eval").as_str(), Some("n=5"));
        let t = Template::parse("{{ a }}{{ b }}").expect("compiles");
        assert!(t.expression.is_none());
    }

    #[test]
    fn no_includes_and_bounded_output_and_fuel() {
        assert!(Template::parse("{% include 'x' %}").is_err());
        assert!(Template::parse("{% import 'x' as y %}").is_err());
        assert!(Template::parse("{{ unclosed").is_err());
        let t = Template::parse("{{ s * n }}").expect("compiles");
        let big = ctx(&[
            ("s", Value::from("x".repeat(1024))),
            ("n", Value::from(2048)),
        ]);
        let e = t.render(&big).expect_err("over the cap");
        assert!(e.to_string().contains("KiB"), "{e}");
        let t = Template::parse(
            "{% for i in range(n) %}{% for j in range(n) %}{% endfor %}{% endfor %}",
        )
        .expect("compiles");
        assert!(t.render(&ctx(&[("n", Value::from(10_000))])).is_err());
    }

    #[test]
    fn booleans_and_null_print_as_json_spells_them() {
        let t = Template::parse("{{ a }} {{ b }} {{ c }} {{ n }}").expect("compiles");
        let c = ctx(&[
            ("a", Value::from(true)),
            ("b", Value::from(false)),
            ("c", Value::from(())),
            ("n", Value::from(1.5)),
        ]);
        assert_eq!(t.render(&c).expect("renders"), "true false null 1.5");
    }

    #[test]
    fn literals_are_recognised() {
        assert!(Template::parse("/plain/path").expect("ok").is_literal());
        assert!(!Template::parse("/{{ x }}").expect("ok").is_literal());
    }
}
