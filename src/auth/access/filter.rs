//! Server-side filters (`{name, operator, value}` rows) to a filter [`Expr`], built directly
//! rather than by writing filter text and parsing it: no quoting to get wrong, and a value can
//! never turn into syntax. Field names must be plain identifiers (the SQL writer still checks
//! them against the table's schema); values become literals or `{lookup}`s, bound as parameters
//! like every other filter value.

use percore_connector::Value;

use super::{FilterOp, ServerFilter};
use crate::services::db::filter::{CmpOp, Expr, LikeKind, Operand};

/// Conditions per row. The combined expression is a chain as deep as it is long, walked
/// recursively by the SQL writer; the client filter parser allows 256 for the same reason, and
/// a role's rows are ORed on top of this.
pub const MAX_FILTERS: usize = 64;

/// Longer than any database's identifier limit (PostgreSQL 63, MySQL 64 bytes).
const MAX_FIELD_LEN: usize = 128;

/// Why a row's filters were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadFilter {
    #[error("field '{0}' is not a plain identifier (letters, digits and '_')")]
    Field(String),
    #[error("unknown operator '{0}'")]
    Operator(String),
    #[error("field '{field}': {reason}")]
    Value { field: String, reason: &'static str },
    #[error("more than {MAX_FILTERS} filters")]
    TooMany,
}

/// The expression a row's filters make, `None` when it has none.
pub fn compile(filters: &[ServerFilter], op: FilterOp) -> Result<Option<Expr>, BadFilter> {
    if filters.len() > MAX_FILTERS {
        return Err(BadFilter::TooMany);
    }
    let mut combined: Option<Expr> = None;
    for f in filters {
        let cond = condition(f)?;
        combined = Some(match combined {
            None => cond,
            Some(left) => join(op, left, cond),
        });
    }
    Ok(combined)
}

pub fn join(op: FilterOp, left: Expr, right: Expr) -> Expr {
    match op {
        FilterOp::And => Expr::And(Box::new(left), Box::new(right)),
        FilterOp::Or => Expr::Or(Box::new(left), Box::new(right)),
    }
}

fn condition(f: &ServerFilter) -> Result<Expr, BadFilter> {
    if !is_identifier(&f.name) {
        return Err(BadFilter::Field(f.name.clone()));
    }
    let field = f.name.clone();
    let bad = |reason| BadFilter::Value {
        field: f.name.clone(),
        reason,
    };
    // Operators as DreamFactory's UI writes them ("not in", "starts with") and as its filter
    // grammar does ("<>", "gte"): case and spacing do not matter.
    let words: Vec<&str> = f.operator.split_whitespace().collect();
    let op = words.join(" ").to_ascii_uppercase();
    let cmp = match op.as_str() {
        "=" | "==" | "EQ" => Some(CmpOp::Eq),
        "!=" | "<>" | "NE" => Some(CmpOp::Ne),
        ">" | "GT" => Some(CmpOp::Gt),
        ">=" | "GTE" => Some(CmpOp::Ge),
        "<" | "LT" => Some(CmpOp::Lt),
        "<=" | "LTE" => Some(CmpOp::Le),
        _ => None,
    };
    if let Some(op) = cmp {
        let value = operand(&f.value, true).map_err(bad)?;
        // `= null` is IS NULL, as in the filter grammar: `field = NULL` in SQL is never true.
        if value == Operand::Literal(Value::Null) && matches!(op, CmpOp::Eq | CmpOp::Ne) {
            return Ok(Expr::IsNull {
                field,
                negated: op == CmpOp::Ne,
            });
        }
        return Ok(Expr::Cmp { field, op, value });
    }
    let like = |negated, kind| -> Result<Expr, BadFilter> {
        Ok(Expr::Like {
            field: field.clone(),
            negated,
            kind,
            value: operand(&f.value, false).map_err(bad)?,
        })
    };
    match op.as_str() {
        "IN" | "NOT IN" => Ok(Expr::In {
            field: field.clone(),
            negated: op == "NOT IN",
            values: list(&f.value).map_err(bad)?,
        }),
        "LIKE" => like(false, LikeKind::Pattern),
        "NOT LIKE" => like(true, LikeKind::Pattern),
        "CONTAINS" => like(false, LikeKind::Contains),
        "STARTS WITH" => like(false, LikeKind::StartsWith),
        "ENDS WITH" => like(false, LikeKind::EndsWith),
        "IS NULL" | "IS NOT NULL" => Ok(Expr::IsNull {
            field: field.clone(),
            negated: op == "IS NOT NULL",
        }),
        _ => Err(BadFilter::Operator(f.operator.clone())),
    }
}

/// Letters, digits and `_`, not starting with a digit. No dots: a server filter is on a column
/// of the table being queried, never on another table's.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= MAX_FIELD_LEN
        && chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// A value: `{lookup}`, a quoted string, or, when `typed`, a number, `true`/`false` or `null`
/// read as such (as they would be in filter text); anything else is text as written.
fn operand(value: &str, typed: bool) -> Result<Operand, &'static str> {
    let t = value.trim();
    if let Some(name) = t.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
        let name = name.trim();
        let ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '.');
        return if ok {
            Ok(Operand::Lookup(name.to_string()))
        } else {
            Err("malformed lookup")
        };
    }
    for quote in ['\'', '"'] {
        if let Some(inner) = t
            .strip_prefix(quote)
            .and_then(|s| s.strip_suffix(quote))
            .filter(|_| t.len() >= 2)
        {
            let doubled = format!("{quote}{quote}");
            return Ok(Operand::Literal(Value::Text(
                inner.replace(&doubled, &quote.to_string()),
            )));
        }
    }
    // Unquoted, "x{user.id}" reads as a lookup inside text, which a bound value cannot
    // express; taking it literally would silently match nothing, so refuse it. Quoted, braces
    // are plain text.
    if t.find('{').is_some_and(|open| t[open..].contains('}')) {
        return Err("a lookup must be the whole value");
    }
    if !typed {
        return Ok(Operand::Literal(Value::Text(value.to_string())));
    }
    let literal = if let Ok(n) = t.parse::<i64>() {
        Value::Int(n)
    } else if is_decimal(t) {
        t.parse::<f64>()
            .map(Value::Float)
            .map_err(|_| "malformed number")?
    } else if t.eq_ignore_ascii_case("true") {
        Value::Bool(true)
    } else if t.eq_ignore_ascii_case("false") {
        Value::Bool(false)
    } else if t.eq_ignore_ascii_case("null") {
        Value::Null
    } else {
        Value::Text(value.to_string())
    };
    Ok(Operand::Literal(literal))
}

/// Digits with a point or exponent; keeps `inf` and `NaN`, which `f64` parses, as text.
fn is_decimal(t: &str) -> bool {
    t.bytes().any(|b| b.is_ascii_digit())
        && t.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
}

/// `a, b, c` or `(a, b, c)`; commas inside quotes belong to the value.
fn list(value: &str) -> Result<Vec<Operand>, &'static str> {
    let t = value.trim();
    let t = t
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or(t);
    let mut items = Vec::new();
    let mut quote = None;
    let mut start = 0;
    for (i, c) in t.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, ',') => {
                items.push(&t[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&t[start..]);
    if items.iter().any(|i| i.trim().is_empty()) {
        return Err("IN needs a comma-separated list of values, none empty");
    }
    items.into_iter().map(|i| operand(i, true)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::db::filter::parse;

    fn one(name: &str, operator: &str, value: &str) -> Result<Expr, BadFilter> {
        let f = ServerFilter {
            name: name.into(),
            operator: operator.into(),
            value: value.into(),
        };
        compile(&[f], FilterOp::And).map(|e| e.expect("one condition"))
    }

    #[test]
    fn every_operator_matches_the_filter_grammar() {
        for (op, value, text) in [
            ("=", "5", "a = 5"),
            ("!=", "x", "a != 'x'"),
            (">", "1.5", "a > 1.5"),
            (">=", "{user.id}", "a >= {user.id}"),
            ("<", "-3", "a < -3"),
            ("<=", "'7'", "a <= '7'"),
            ("in", "(1, 'b,c', {user.id})", "a IN (1, 'b,c', {user.id})"),
            ("NOT  IN", "x,y", "a NOT IN ('x', 'y')"),
            ("like", "J%", "a LIKE 'J%'"),
            ("contains", "5", "a CONTAINS '5'"),
            ("starts with", "{user.email}", "a STARTS WITH {user.email}"),
            ("ENDS WITH", "@example.com", "a ENDS WITH '@example.com'"),
            ("is null", "", "a IS NULL"),
            ("IS NOT NULL", "ignored", "a IS NOT NULL"),
            ("=", "null", "a IS NULL"),
            ("=", "TRUE", "a = true"),
        ] {
            assert_eq!(
                one("a", op, value),
                Ok(parse(text).unwrap()),
                "{op} {value}"
            );
        }
    }

    #[test]
    fn values_never_become_syntax() {
        let e = one("name", "=", "x' OR 1=1 --").unwrap();
        assert_eq!(
            e,
            Expr::Cmp {
                field: "name".into(),
                op: CmpOp::Eq,
                value: Operand::Literal(Value::Text("x' OR 1=1 --".into())),
            }
        );
        assert_eq!(
            one("n", "=", "inf"),
            Ok(Expr::Cmp {
                field: "n".into(),
                op: CmpOp::Eq,
                value: Operand::Literal(Value::Text("inf".into())),
            })
        );
    }

    #[test]
    fn malformed_values_and_fields_are_refused() {
        assert!(matches!(
            one("a", "=", "id-{user.id}"),
            Err(BadFilter::Value { .. })
        ));
        assert!(matches!(
            one("a", "=", "{user id}"),
            Err(BadFilter::Value { .. })
        ));
        assert_eq!(one("a", "=", "'{x}'"), Ok(parse("a = '{x}'").unwrap()));
        assert!(matches!(one("a", "in", ""), Err(BadFilter::Value { .. })));
        assert!(matches!(
            one("a", "in", "1,,2"),
            Err(BadFilter::Value { .. })
        ));
        assert!(matches!(
            one("a", "between", "1"),
            Err(BadFilter::Operator(_))
        ));
        assert_eq!(one("naïve_ß", "=", "1").map(|_| ()), Ok(()));
        assert_eq!(
            one(&"a".repeat(129), "=", "1").map(|_| ()),
            Err(BadFilter::Field("a".repeat(129)))
        );
        let many = vec![
            ServerFilter {
                name: "a".into(),
                operator: "=".into(),
                value: "1".into(),
            };
            MAX_FILTERS + 1
        ];
        assert_eq!(compile(&many, FilterOp::Or), Err(BadFilter::TooMany));
        assert_eq!(compile(&[], FilterOp::Or), Ok(None));
    }
}
