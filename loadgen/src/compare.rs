//! `loadgen compare a.json b.json`: every numeric figure found in both
//! files, with its change in percent. Works for run and sweep results alike
//! because it walks the JSON rather than a fixed schema.

use crate::error::{read_file, Result};
use serde_json::Value;
use std::path::Path;

/// Flattens numeric leaves to `path = value`; array elements are named by
/// their `label` (or `users`/`size`) so sweep points line up across files.
pub fn flatten(v: &Value, prefix: &str, out: &mut Vec<(String, f64)>) {
    match v {
        Value::Number(n) => {
            if let Some(f) = n.as_f64() {
                out.push((prefix.to_string(), f));
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(v, &p, out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let name = ["label", "users", "size"]
                    .iter()
                    .find_map(|k| item.get(k))
                    .map(|n| n.to_string().trim_matches('"').to_string())
                    .unwrap_or_else(|| i.to_string());
                flatten(item, &format!("{prefix}[{name}]"), out);
            }
        }
        _ => {}
    }
}

/// The comparison table as text.
pub fn compare(a: &Value, b: &Value) -> String {
    let (mut fa, mut fb) = (Vec::new(), Vec::new());
    flatten(a, "", &mut fa);
    flatten(b, "", &mut fb);
    let width = fa.iter().map(|(k, _)| k.len()).max().unwrap_or(6).max(6);
    let mut out = format!(
        "{:width$}  {:>14}  {:>14}  {:>9}\n",
        "figure", "a", "b", "change"
    );
    for (k, va) in &fa {
        let Some((_, vb)) = fb.iter().find(|(kb, _)| kb == k) else {
            continue;
        };
        let change = if *va == 0.0 {
            if *vb == 0.0 {
                "0.0%".to_string()
            } else {
                "n/a".to_string()
            }
        } else {
            format!("{:+.1}%", (vb - va) / va.abs() * 100.0)
        };
        out.push_str(&format!(
            "{k:width$}  {va:>14.3}  {vb:>14.3}  {change:>9}\n"
        ));
    }
    out
}

pub fn run_command(a: &Path, b: &Path) -> Result<()> {
    let va: Value = serde_json::from_slice(&read_file(a)?)?;
    let vb: Value = serde_json::from_slice(&read_file(b)?)?;
    print!("{}", compare(&va, &vb));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_change_by_label() {
        let a = serde_json::json!({"points":[{"label":"1","rps":100.0}]});
        let b = serde_json::json!({"points":[{"label":"1","rps":150.0}]});
        let t = compare(&a, &b);
        assert!(t.contains("points[1].rps"), "{t}");
        assert!(t.contains("+50.0%"), "{t}");
    }
}
