//! Filter tokens. Keywords are case-insensitive; identifiers are Unicode letters, digits and
//! `_` (and `.` for qualified names), so a look-alike character simply fails the schema check.

use super::FilterError;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    Str(String),
    Int(i64),
    Float(f64),
    Param(String),
    Lookup(String),
    LParen,
    RParen,
    Comma,
    Op(&'static str),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub at: usize,
}

/// Filters are short; this bounds parser work on hostile input.
pub const MAX_FILTER_LEN: usize = 16 * 1024;

pub fn lex(input: &str) -> Result<Vec<Token>, FilterError> {
    if input.len() > MAX_FILTER_LEN {
        return Err(FilterError::TooLong);
    }
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = input.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let next = chars.get(i + 1).map(|&(_, c)| c);
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let (tok, len) = match c {
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            ',' => (Tok::Comma, 1),
            '=' if next == Some('=') => (Tok::Op("="), 2),
            '=' => (Tok::Op("="), 1),
            '!' if next == Some('=') => (Tok::Op("!="), 2),
            '<' if next == Some('>') => (Tok::Op("!="), 2),
            '<' if next == Some('=') => (Tok::Op("<="), 2),
            '<' => (Tok::Op("<"), 1),
            '>' if next == Some('=') => (Tok::Op(">="), 2),
            '>' => (Tok::Op(">"), 1),
            '&' if next == Some('&') => (Tok::Op("AND"), 2),
            '|' if next == Some('|') => (Tok::Op("OR"), 2),
            '\'' | '"' => {
                let (s, len) =
                    string(&chars[i..], c).ok_or(FilterError::UnterminatedString { at })?;
                (Tok::Str(s), len)
            }
            ':' => {
                let len = word_len(&chars[i + 1..]);
                if len == 0 {
                    return Err(FilterError::UnexpectedChar { ch: c, at });
                }
                let name = chars[i + 1..i + 1 + len].iter().map(|&(_, c)| c).collect();
                (Tok::Param(name), len + 1)
            }
            '{' => {
                let end = chars[i..]
                    .iter()
                    .position(|&(_, c)| c == '}')
                    .ok_or(FilterError::UnexpectedChar { ch: c, at })?;
                let name: String = chars[i + 1..i + end].iter().map(|&(_, c)| c).collect();
                (Tok::Lookup(name.trim().to_string()), end + 1)
            }
            c if c.is_ascii_digit() || (c == '-' && next.is_some_and(|n| n.is_ascii_digit())) => {
                let len = 1 + chars[i + 1..]
                    .iter()
                    .take_while(|&&(_, c)| c.is_ascii_digit() || c == '.' || c == 'e' || c == 'E')
                    .count();
                let text: String = chars[i..i + len].iter().map(|&(_, c)| c).collect();
                let tok = match text.parse::<i64>() {
                    Ok(n) => Tok::Int(n),
                    Err(_) => Tok::Float(
                        text.parse()
                            .map_err(|_| FilterError::UnexpectedChar { ch: c, at })?,
                    ),
                };
                (tok, len)
            }
            c if c.is_alphabetic() || c == '_' => {
                let len = word_len(&chars[i..]);
                let word: String = chars[i..i + len].iter().map(|&(_, c)| c).collect();
                let tok = keyword(&word).map_or(Tok::Ident(word), Tok::Op);
                (tok, len)
            }
            c => return Err(FilterError::UnexpectedChar { ch: c, at }),
        };
        out.push(Token { tok, at });
        i += len;
    }
    Ok(out)
}

fn word_len(chars: &[(usize, char)]) -> usize {
    chars
        .iter()
        .take_while(|&&(_, c)| c.is_alphanumeric() || c == '_' || c == '.')
        .count()
}

/// A quoted string; the quote is escaped by doubling it (`'O''Brien'`) or with a backslash.
fn string(chars: &[(usize, char)], quote: char) -> Option<(String, usize)> {
    let mut s = String::new();
    let mut i = 1;
    while i < chars.len() {
        let c = chars[i].1;
        if c == '\\' && i + 1 < chars.len() {
            s.push(chars[i + 1].1);
            i += 2;
        } else if c == quote {
            if chars.get(i + 1).map(|&(_, c)| c) == Some(quote) {
                s.push(quote);
                i += 2;
            } else {
                return Some((s, i + 1));
            }
        } else {
            s.push(c);
            i += 1;
        }
    }
    None
}

fn keyword(word: &str) -> Option<&'static str> {
    const WORDS: [(&str, &str); 22] = [
        ("AND", "AND"),
        ("OR", "OR"),
        ("NOT", "NOT"),
        ("NOR", "NOR"),
        ("XOR", "XOR"),
        ("IN", "IN"),
        ("LIKE", "LIKE"),
        ("IS", "IS"),
        ("NULL", "NULL"),
        ("STARTS", "STARTS"),
        ("ENDS", "ENDS"),
        ("WITH", "WITH"),
        ("CONTAINS", "CONTAINS"),
        ("TRUE", "TRUE"),
        ("FALSE", "FALSE"),
        ("EQ", "="),
        ("NE", "!="),
        ("GT", ">"),
        ("GTE", ">="),
        ("LT", "<"),
        ("LTE", "<="),
        ("BETWEEN", "BETWEEN"),
    ];
    WORDS
        .iter()
        .find(|(w, _)| w.eq_ignore_ascii_case(word))
        .map(|&(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn lexes_words_symbols_and_literals() {
        assert_eq!(
            toks("(age >= 30) and name like 'O''Brien%' || id in (1,2.5)"),
            vec![
                Tok::LParen,
                Tok::Ident("age".into()),
                Tok::Op(">="),
                Tok::Int(30),
                Tok::RParen,
                Tok::Op("AND"),
                Tok::Ident("name".into()),
                Tok::Op("LIKE"),
                Tok::Str("O'Brien%".into()),
                Tok::Op("OR"),
                Tok::Ident("id".into()),
                Tok::Op("IN"),
                Tok::LParen,
                Tok::Int(1),
                Tok::Comma,
                Tok::Float(2.5),
                Tok::RParen,
            ]
        );
        assert_eq!(toks("a = :p AND b = {user.id}")[2], Tok::Param("p".into()));
        assert_eq!(
            toks("a = :p AND b = {user.id}")[6],
            Tok::Lookup("user.id".into())
        );
        assert_eq!(
            toks("x GTE -4"),
            vec![Tok::Ident("x".into()), Tok::Op(">="), Tok::Int(-4)]
        );
    }

    #[test]
    fn rejects_sql_punctuation() {
        assert!(matches!(
            lex("a = 1; DROP TABLE t"),
            Err(FilterError::UnexpectedChar { ch: ';', .. })
        ));
        assert!(matches!(
            lex("a = 1 -- x"),
            Err(FilterError::UnexpectedChar { .. })
        ));
        assert!(matches!(
            lex("a = 'open"),
            Err(FilterError::UnterminatedString { .. })
        ));
    }
}
