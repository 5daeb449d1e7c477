//! Property tests for the filter parser: it never panics, and the SQL it writes carries every
//! value as a bound parameter, whatever the value holds.

use percore::services::db::filter::{parse, Expr, Operand};
use proptest::prelude::*;

fn literal_values(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::And(a, b) | Expr::Or(a, b) | Expr::Xor(a, b) => {
            literal_values(a, out);
            literal_values(b, out);
        }
        Expr::Not(e) => literal_values(e, out),
        Expr::Cmp { value, .. } | Expr::Like { value, .. } => push(value, out),
        Expr::In { values, .. } => values.iter().for_each(|v| push(v, out)),
        Expr::Between { low, high, .. } => {
            push(low, out);
            push(high, out);
        }
        Expr::IsNull { .. } => {}
    }
}

fn push(op: &Operand, out: &mut Vec<String>) {
    if let Operand::Literal(percore_connector::Value::Text(s)) = op {
        out.push(s.clone());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_panics_on_any_text(s in "\\PC{0,200}") {
        let _ = parse(&s);
    }

    #[test]
    fn never_panics_on_filter_shaped_text(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("a".to_string()), Just("=".to_string()), Just("(".to_string()), Just(")".to_string()),
                Just("AND".to_string()), Just("OR".to_string()), Just("NOT".to_string()), Just("IN".to_string()),
                Just("'x'".to_string()), Just("1".to_string()), Just(",".to_string()), Just("IS".to_string()),
                Just("NULL".to_string()), Just("LIKE".to_string()), Just(":p".to_string()), Just("{user.id}".to_string()),
            ],
            0..40,
        )
    ) {
        let _ = parse(&parts.join(" "));
    }

    /// A quoted string round-trips into one bound value, whatever it contains.
    #[test]
    fn string_values_stay_values(v in "\\PC{0,60}") {
        let quoted = format!("name = '{}'", v.replace('\'', "''").replace('\\', "\\\\"));
        let expr = parse(&quoted).unwrap();
        let mut values = Vec::new();
        literal_values(&expr, &mut values);
        prop_assert_eq!(values, vec![v]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// The row encoder's string escaping (word-at-a-time) agrees with serde_json on any text.
    #[test]
    fn json_string_escaping_matches_serde_json(s in "(\\PC|[\\x00-\\x1f\"\\\\])*") {
        let mut out = Vec::new();
        percore_connector::value::write_json_string(&mut out, &s);
        prop_assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&s).unwrap());
    }
}
