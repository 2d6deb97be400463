//! Human output: the validation report and claims as aligned text.

use oidc_rp::Report;
use serde_json::{Map, Value};
use std::fmt::Write;

/// The checks, one per line: mark, name, detail, rule.
pub fn report(report: &Report) -> String {
    let width = report
        .checks()
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for c in report.checks() {
        let mark = if c.passed { "✓" } else { "✗" };
        let _ = writeln!(
            out,
            "  {mark} {:width$}  {}  ({})",
            c.name,
            crate::term::inline(&c.detail),
            c.spec
        );
    }
    out
}

/// A claim value on one line: provider text, so every control character is made visible.
fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => crate::term::inline(&s.replace('\n', ", ")).into_owned(),
        other => crate::term::inline(&other.to_string()).into_owned(),
    }
}

/// Claims, one per line, sorted, with nested objects flattened as `parent.child`.
pub fn claims(claims: &Map<String, Value>) -> String {
    let mut rows: Vec<(String, String)> = Vec::new();
    for (k, v) in claims {
        let k = crate::term::inline(k);
        match v {
            Value::Object(inner) => {
                for (ik, iv) in inner {
                    rows.push((format!("{k}.{}", crate::term::inline(ik)), scalar(iv)));
                }
            }
            _ => rows.push((k.into_owned(), scalar(v))),
        }
    }
    rows.sort();
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (k, v) in rows {
        let _ = writeln!(out, "  {k:width$}  {v}");
    }
    out
}

/// Text on one line, at most `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let mut s: String = flat.chars().take(max).collect();
        s.push('…');
        s
    }
}
