//! The `--dry-run` diff: exactly the lines that change, with every secret
//! value in them replaced by its masked preview, so that showing what
//! import would do never shows a value.

use keyward_vault::SecretValue;
use similar::TextDiff;

use crate::detect;

/// A unified diff of `before` → `after` for `label`, masked. Empty when the
/// texts are equal.
pub fn masked_diff(label: &str, before: &str, after: &str, secrets: &[SecretValue]) -> String {
    if before == after {
        return String::new();
    }
    let diff = TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(2)
        .header(label, label)
        .to_string();
    mask_all(&diff, secrets)
}

/// `text` with each secret, raw and as it appears escaped in JSON or
/// TOML strings, replaced by its masked preview. Longer values first, so
/// that a value containing another is masked whole.
pub fn mask_all(text: &str, secrets: &[SecretValue]) -> String {
    let mut values: Vec<&str> = secrets
        .iter()
        .filter_map(|s| std::str::from_utf8(s.expose()).ok())
        .filter(|s| !s.is_empty())
        .collect();
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    let mut out = text.to_string();
    for v in values {
        let mask = detect::mask(v);
        let json = serde_json::Value::from(v).to_string();
        let escaped = &json[1..json.len() - 1];
        out = out.replace(v, &mask);
        if escaped != v {
            out = out.replace(escaped, &mask);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_masks_values_and_their_escaped_form() {
        let secret = "kw_canary_diff_\"q\\x_0123456789";
        let before = format!(
            "{{\n  \"a\": 1,\n  \"t\": {}\n}}\n",
            serde_json::Value::from(secret)
        );
        let after = "{\n  \"a\": 1,\n  \"t\": \"keyward://t\"\n}\n";
        let d = masked_diff("f.json", &before, after, &[SecretValue::from_str(secret)]);
        assert!(d.contains("--- f.json"), "{d}");
        assert!(d.contains("+  \"t\": \"keyward://t\""), "{d}");
        assert!(!d.contains("kw_canary_diff"), "{d}");
        assert!(!d.contains("0123456789"), "{d}");
    }

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(masked_diff("f", "x\n", "x\n", &[]), "");
    }
}
