//! Tokens to an AST, by recursive descent with a depth bound (hostile filters cannot overflow
//! the stack).

use percore_connector::Value;

use super::lex::{lex, Tok, Token};
use super::FilterError;

const MAX_DEPTH: usize = 64;
/// Conditions per filter. Chains of AND/OR build a tree as deep as the chain is long, which
/// every later pass walks recursively; this bound keeps that walk shallow.
const MAX_CONDITIONS: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CmpOp {
    pub fn sql(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LikeKind {
    /// The client's own pattern, `%` and `_` included.
    Pattern,
    StartsWith,
    EndsWith,
    Contains,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Literal(Value),
    /// `:name`, bound from the request's `params`.
    Param(String),
    /// `{user.id}` and friends, substituted from the caller's session.
    Lookup(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Xor(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cmp {
        field: String,
        op: CmpOp,
        value: Operand,
    },
    In {
        field: String,
        negated: bool,
        values: Vec<Operand>,
    },
    Like {
        field: String,
        negated: bool,
        kind: LikeKind,
        value: Operand,
    },
    IsNull {
        field: String,
        negated: bool,
    },
    Between {
        field: String,
        low: Operand,
        high: Operand,
    },
}

impl Expr {
    /// Every field the expression names, for the schema check.
    pub fn fields(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.visit_fields(&mut out);
        out
    }

    fn visit_fields<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) | Expr::Xor(a, b) => {
                a.visit_fields(out);
                b.visit_fields(out);
            }
            Expr::Not(e) => e.visit_fields(out),
            Expr::Cmp { field, .. }
            | Expr::In { field, .. }
            | Expr::Like { field, .. }
            | Expr::IsNull { field, .. }
            | Expr::Between { field, .. } => out.push(field),
        }
    }
}

pub fn parse(input: &str) -> Result<Expr, FilterError> {
    let tokens = lex(input)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        end: input.len(),
        depth: 0,
        conditions: 0,
    };
    let expr = p.or()?;
    match p.peek() {
        None => Ok(expr),
        Some(_) => Err(p.expected("AND, OR or the end of the filter")),
    }
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    end: usize,
    depth: usize,
    conditions: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos).map(|t| &t.tok)
    }

    fn bump(&mut self) -> Option<Tok> {
        let t = self.tokens.get(self.pos).map(|t| t.tok.clone());
        self.pos += 1;
        t
    }

    fn eat_op(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Op(o)) if *o == op) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expected(&self, expected: &'static str) -> FilterError {
        let (found, at) = match self.tokens.get(self.pos) {
            Some(t) => (describe(&t.tok), t.at),
            None => ("the end of the filter".to_string(), self.end),
        };
        FilterError::Expected {
            expected,
            found,
            at,
        }
    }

    fn nested<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, FilterError>,
    ) -> Result<T, FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(FilterError::TooDeep);
        }
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.xor()?;
        loop {
            if self.eat_op("OR") {
                left = Expr::Or(Box::new(left), Box::new(self.xor()?));
            } else if self.eat_op("NOR") {
                let right = self.xor()?;
                left = Expr::Not(Box::new(Expr::Or(Box::new(left), Box::new(right))));
            } else {
                return Ok(left);
            }
        }
    }

    fn xor(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and()?;
        while self.eat_op("XOR") {
            left = Expr::Xor(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.not()?;
        while self.eat_op("AND") {
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, FilterError> {
        if self.eat_op("NOT") {
            return self.nested(|p| Ok(Expr::Not(Box::new(p.not()?))));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, FilterError> {
        match self.peek() {
            Some(Tok::LParen) => {
                self.pos += 1;
                let e = self.nested(|p| p.or())?;
                if self.bump() != Some(Tok::RParen) {
                    self.pos -= 1;
                    return Err(self.expected("')'"));
                }
                Ok(e)
            }
            Some(Tok::Ident(field)) => {
                let field = field.clone();
                self.pos += 1;
                self.conditions += 1;
                if self.conditions > MAX_CONDITIONS {
                    return Err(FilterError::TooComplex);
                }
                self.predicate(field)
            }
            _ => Err(self.expected("a field name or '('")),
        }
    }

    fn predicate(&mut self, field: String) -> Result<Expr, FilterError> {
        if let Some(Tok::Op(op)) = self.peek() {
            let cmp = match *op {
                "=" => Some(CmpOp::Eq),
                "!=" => Some(CmpOp::Ne),
                ">" => Some(CmpOp::Gt),
                ">=" => Some(CmpOp::Ge),
                "<" => Some(CmpOp::Lt),
                "<=" => Some(CmpOp::Le),
                _ => None,
            };
            if let Some(op) = cmp {
                self.pos += 1;
                let value = self.operand()?;
                // `= null` means IS NULL, as in DreamFactory.
                if value == Operand::Literal(Value::Null) && matches!(op, CmpOp::Eq | CmpOp::Ne) {
                    return Ok(Expr::IsNull {
                        field,
                        negated: op == CmpOp::Ne,
                    });
                }
                return Ok(Expr::Cmp { field, op, value });
            }
        }
        let negated = self.eat_op("NOT");
        if self.eat_op("IN") {
            return Ok(Expr::In {
                field,
                negated,
                values: self.list()?,
            });
        }
        if self.eat_op("LIKE") {
            return Ok(Expr::Like {
                field,
                negated,
                kind: LikeKind::Pattern,
                value: self.operand()?,
            });
        }
        if !negated {
            if self.eat_op("STARTS") {
                self.with()?;
                return Ok(Expr::Like {
                    field,
                    negated,
                    kind: LikeKind::StartsWith,
                    value: self.operand()?,
                });
            }
            if self.eat_op("ENDS") {
                self.with()?;
                return Ok(Expr::Like {
                    field,
                    negated,
                    kind: LikeKind::EndsWith,
                    value: self.operand()?,
                });
            }
            if self.eat_op("CONTAINS") {
                return Ok(Expr::Like {
                    field,
                    negated,
                    kind: LikeKind::Contains,
                    value: self.operand()?,
                });
            }
            if self.eat_op("BETWEEN") {
                let low = self.operand()?;
                if !self.eat_op("AND") {
                    return Err(self.expected("AND in BETWEEN"));
                }
                return Ok(Expr::Between {
                    field,
                    low,
                    high: self.operand()?,
                });
            }
            if self.eat_op("IS") {
                let negated = self.eat_op("NOT");
                if !self.eat_op("NULL") {
                    return Err(self.expected("NULL"));
                }
                return Ok(Expr::IsNull { field, negated });
            }
        }
        Err(self.expected("an operator (=, !=, >, IN, LIKE, IS NULL, ...)"))
    }

    fn with(&mut self) -> Result<(), FilterError> {
        if self.eat_op("WITH") {
            Ok(())
        } else {
            Err(self.expected("WITH"))
        }
    }

    fn list(&mut self) -> Result<Vec<Operand>, FilterError> {
        if self.bump() != Some(Tok::LParen) {
            self.pos -= 1;
            return Err(self.expected("'(' after IN"));
        }
        let mut values = vec![self.operand()?];
        loop {
            match self.bump() {
                Some(Tok::Comma) => values.push(self.operand()?),
                Some(Tok::RParen) => return Ok(values),
                _ => {
                    self.pos -= 1;
                    return Err(self.expected("',' or ')'"));
                }
            }
        }
    }

    fn operand(&mut self) -> Result<Operand, FilterError> {
        let v = match self.peek() {
            Some(Tok::Str(s)) => Operand::Literal(Value::Text(s.clone())),
            Some(Tok::Int(n)) => Operand::Literal(Value::Int(*n)),
            Some(Tok::Float(f)) => Operand::Literal(Value::Float(*f)),
            Some(Tok::Op("TRUE")) => Operand::Literal(Value::Bool(true)),
            Some(Tok::Op("FALSE")) => Operand::Literal(Value::Bool(false)),
            Some(Tok::Op("NULL")) => Operand::Literal(Value::Null),
            Some(Tok::Param(p)) => Operand::Param(p.clone()),
            Some(Tok::Lookup(l)) => Operand::Lookup(l.clone()),
            _ => return Err(self.expected("a value")),
        };
        self.pos += 1;
        Ok(v)
    }
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Ident(s) => format!("'{s}'"),
        Tok::Str(_) => "a string".into(),
        Tok::Int(_) | Tok::Float(_) => "a number".into(),
        Tok::Param(p) => format!("':{p}'"),
        Tok::Lookup(l) => format!("'{{{l}}}'"),
        Tok::LParen => "'('".into(),
        Tok::RParen => "')'".into(),
        Tok::Comma => "','".into(),
        Tok::Op(o) => format!("'{o}'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(field: &str, op: CmpOp, v: i64) -> Expr {
        Expr::Cmp {
            field: field.into(),
            op,
            value: Operand::Literal(Value::Int(v)),
        }
    }

    #[test]
    fn precedence_and_grouping() {
        let e = parse("a = 1 OR b = 2 AND c = 3").unwrap();
        assert_eq!(
            e,
            Expr::Or(
                Box::new(cmp("a", CmpOp::Eq, 1)),
                Box::new(Expr::And(
                    Box::new(cmp("b", CmpOp::Eq, 2)),
                    Box::new(cmp("c", CmpOp::Eq, 3))
                ))
            )
        );
        let e = parse("(a = 1) and (b GT 2)").unwrap();
        assert_eq!(
            e,
            Expr::And(
                Box::new(cmp("a", CmpOp::Eq, 1)),
                Box::new(cmp("b", CmpOp::Gt, 2))
            )
        );
    }

    #[test]
    fn every_predicate_form() {
        for f in [
            "a IN (1, 2)",
            "a NOT IN ('x')",
            "a LIKE 'x%'",
            "a NOT LIKE 'x%'",
            "a STARTS WITH 'x'",
            "a ends with 'x'",
            "a CONTAINS 'x'",
            "a IS NULL",
            "a is not null",
            "NOT (a = 1)",
            "a = 1 NOR b = 2",
            "a = 1 XOR b = 2",
            "a != :p",
            "a <> {user.id}",
            "a = null",
            "a between 1 and 5",
            "a >= 1.5 && b <= -2 || c = true",
        ] {
            parse(f).unwrap_or_else(|e| panic!("{f}: {e}"));
        }
        assert_eq!(
            parse("a = null").unwrap(),
            Expr::IsNull {
                field: "a".into(),
                negated: false
            }
        );
    }

    #[test]
    fn errors_name_the_problem() {
        let e = parse("a = ").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Invalid filter: expected a value at position 4, found the end of the filter."
        );
        assert!(matches!(parse("a 1"), Err(FilterError::Expected { .. })));
        assert!(matches!(parse("(a = 1"), Err(FilterError::Expected { .. })));
        assert!(matches!(
            parse("a = 1 b = 2"),
            Err(FilterError::Expected { .. })
        ));
        let deep = "(".repeat(100) + "a = 1" + &")".repeat(100);
        assert_eq!(parse(&deep), Err(FilterError::TooDeep));
        let nots = "NOT ".repeat(100) + "a = 1";
        assert_eq!(parse(&nots), Err(FilterError::TooDeep));
        let long = vec!["a = 1"; 300].join(" AND ");
        assert_eq!(parse(&long), Err(FilterError::TooComplex));
    }
}
