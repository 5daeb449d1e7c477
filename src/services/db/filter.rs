//! DreamFactory's filter grammar as a real parser: [`lex`] makes tokens, [`parse`] an AST, and
//! [`sql`] writes parameterised SQL through the connector's dialect, checking every field
//! against the table's schema. Values never become SQL text.
//!
//! ```text
//! expr    := or
//! or      := xor (("OR" | "||" | "NOR") xor)*
//! xor     := and ("XOR" and)*
//! and     := not (("AND" | "&&") not)*
//! not     := "NOT" not | primary
//! primary := "(" expr ")" | field predicate
//! predicate := cmp operand | ["NOT"] "IN" "(" operand ("," operand)* ")"
//!            | ["NOT"] "LIKE" operand | "STARTS" "WITH" operand | "ENDS" "WITH" operand
//!            | "CONTAINS" operand | "IS" ["NOT"] "NULL"
//! cmp     := "=" | "!=" | "<>" | ">" | ">=" | "<" | "<=" | EQ | NE | GT | GTE | LT | LTE
//! operand := 'text' | "text" | number | TRUE | FALSE | NULL | :param | {lookup}
//! ```

mod lex;
mod parse;
mod sql;

pub use parse::{parse, CmpOp, Expr, LikeKind, Operand};
pub use sql::{table_columns, to_sql, Bindings, SqlContext};

use thiserror::Error;

/// Why a filter was refused; every variant is a 400 naming the problem.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FilterError {
    #[error("Invalid filter: unexpected character '{ch}' at position {at}.")]
    UnexpectedChar { ch: char, at: usize },
    #[error("Invalid filter: unterminated string starting at position {at}.")]
    UnterminatedString { at: usize },
    #[error("Invalid filter: expected {expected} at position {at}, found {found}.")]
    Expected {
        expected: &'static str,
        found: String,
        at: usize,
    },
    #[error("Invalid or unparsable field in filter: '{0}'.")]
    UnknownField(String),
    #[error("Invalid filter: parameter ':{0}' was not given in 'params'.")]
    MissingParam(String),
    #[error("Invalid filter: unknown lookup '{{{0}}}'.")]
    UnknownLookup(String),
    #[error("Invalid filter: nested too deeply.")]
    TooDeep,
    #[error("Invalid filter: too long.")]
    TooLong,
    #[error("Invalid filter: too many conditions.")]
    TooComplex,
}
