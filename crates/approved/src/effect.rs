//! What a change to keyward.toml does, read from the parsed files rather
//! than from their lines: a line diff can be made to look harmless by
//! layout (a moved table, a key that lines up with another table's), the
//! parsed values cannot. Shown with the line diff, as a reviewer's summary.

use toml::{Table, Value};

/// Longest value shown in full.
const MAX_VALUE_CHARS: usize = 120;

/// One line per changed setting (`~ services.s.rules[0].methods: ["GET"]
/// → (none)`), in key order; `None` when either text is not TOML.
pub fn changes(old: &str, new: &str) -> Option<Vec<String>> {
    let old: Table = old.parse().ok()?;
    let new: Table = new.parse().ok()?;
    let mut out = Vec::new();
    tables("", &old, &new, &mut out);
    Some(out)
}

fn tables(path: &str, old: &Table, new: &Table, out: &mut Vec<String>) {
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let p = join(path, k);
        match (old.get(k), new.get(k)) {
            (Some(a), Some(b)) => values(&p, a, b, out),
            (Some(a), None) => out.push(format!("- {p}{}", shown(a))),
            (None, Some(b)) => out.push(format!("+ {p}{}", shown(b))),
            (None, None) => {}
        }
    }
}

fn values(path: &str, old: &Value, new: &Value, out: &mut Vec<String>) {
    match (old, new) {
        (Value::Table(a), Value::Table(b)) => tables(path, a, b, out),
        (Value::Array(a), Value::Array(b)) if all_tables(a) && all_tables(b) => {
            for i in 0..a.len().max(b.len()) {
                let p = format!("{path}[{i}]");
                match (a.get(i), b.get(i)) {
                    (Some(x), Some(y)) => values(&p, x, y, out),
                    (Some(_), None) => out.push(format!("- {p}")),
                    (None, Some(_)) => out.push(format!("+ {p}")),
                    (None, None) => {}
                }
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(format!("~ {path}: {} → {}", inline(a), inline(b))),
    }
}

fn all_tables(a: &[Value]) -> bool {
    !a.is_empty() && a.iter().all(Value::is_table)
}

/// ` = VALUE` for a plain value; nothing for a table (its keys are in the
/// line diff).
fn shown(v: &Value) -> String {
    match v {
        Value::Table(_) => String::new(),
        Value::Array(a) if all_tables(a) => String::new(),
        v => format!(" = {}", inline(v)),
    }
}

fn inline(v: &Value) -> String {
    // TOML's own form escapes control characters (with backslashes that
    // must not be doubled); `shown` escapes what it leaves raw (a
    // bidirectional or invisible character in a string).
    let text = keyward_audit::shown::shown(&v.to_string()).into_owned();
    match text.char_indices().nth(MAX_VALUE_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

fn join(path: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    let key = if bare {
        key.to_string()
    } else {
        // Every character not printable ASCII as an escape (`\u{202e}`).
        format!("\"{}\"", key.escape_default())
    };
    if path.is_empty() {
        key
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moved_table_is_no_change_and_a_widened_rule_is_one() {
        let old = "[services.s]\nbase_url = \"https://x\"\n[[services.s.rules]]\naction = \"allow\"\nmethods = [\"GET\"]\npaths = [\"/**\"]\n";
        let new = "[[services.s.rules]]\naction = \"allow\"\npaths = [\"/**\"]\n\n[services.s]\nbase_url = \"https://x\"\n\n[services.other]\nbase_url = \"https://y\"\n";
        assert_eq!(
            changes(old, new).unwrap(),
            [
                "+ services.other",
                "- services.s.rules[0].methods = [\"GET\"]",
            ]
        );
    }

    #[test]
    fn values_rules_and_odd_keys() {
        let old = "[servers.gh.tools]\n\"get_*\" = \"allow\"\n[[services.s.rules]]\naction = \"deny\"\npaths = [\"/a\"]\n";
        let new = "[servers.gh.tools]\n\"get_*\" = \"allow\"\n\"*\" = \"allow\"\n[[services.s.rules]]\naction = \"allow\"\npaths = [\"/a\"]\n[[services.s.rules]]\naction = \"deny\"\npaths = [\"/b\"]\n";
        assert_eq!(
            changes(old, new).unwrap(),
            [
                "+ servers.gh.tools.\"*\" = \"allow\"",
                "~ services.s.rules[0].action: \"deny\" → \"allow\"",
                "+ services.s.rules[1]",
            ]
        );
    }

    #[test]
    fn escapes_and_bounds() {
        let old = "a = 1\n";
        let new = format!("a = 1\n\"k\\u001b\" = \"{}\"\n", "x".repeat(500));
        let c = changes(old, &new).unwrap();
        assert_eq!(c.len(), 1);
        assert!(!c[0].contains('\u{1b}'), "{c:?}");
        assert!(c[0].starts_with("+ \"k\\u{1b}\" = \"xxx"), "{c:?}");
        assert!(c[0].ends_with('…') && c[0].chars().count() < 200, "{c:?}");
        assert!(changes("a = ", "a = 1").is_none());
        // A bidirectional override in a value is escaped too.
        let c = changes(old, "a = 1\nb = \"x\u{202e}y\"\n").unwrap();
        assert!(
            !c[0].contains('\u{202e}') && c[0].contains("x\\u{202e}y"),
            "{c:?}"
        );
        assert_eq!(changes(old, old).unwrap(), Vec::<String>::new());
    }
}
