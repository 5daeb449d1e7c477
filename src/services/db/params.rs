//! DreamFactory's `_table` parameters, with their aliases, parsed and validated before any SQL
//! is planned. Field names here are only syntax-checked; the planner checks them against the
//! schema.

use percore_connector::Value;
use serde_json::Map;

use super::error::DbApiError;
use crate::api::Query;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    pub field: String,
    pub desc: bool,
    /// `Some(true)` for NULLS FIRST, `Some(false)` for NULLS LAST.
    pub nulls_first: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Aggregate {
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

/// One entry of `fields`: a column, `*`, or an aggregate with an optional alias
/// (`COUNT(*)`, `SUM(score) AS total`), the latter only meaningful with `group`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    All,
    Column(String),
    Aggregate {
        func: Aggregate,
        column: Option<String>,
        alias: String,
    },
}

#[derive(Debug, Default, Clone)]
pub struct TableParams {
    pub fields: Vec<Field>,
    pub filter: Option<String>,
    /// Values for `:name` placeholders in the filter.
    pub params: Map<String, serde_json::Value>,
    pub order: Vec<OrderBy>,
    pub group: Vec<String>,
    pub having: Option<String>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    pub include_count: bool,
    pub count_only: bool,
    pub ids: Option<Vec<String>>,
    pub id_field: Option<Vec<String>>,
    pub related: Vec<String>,
    pub include_schema: bool,
    pub continue_on_error: bool,
    pub rollback: bool,
    pub force: bool,
    pub refresh: bool,
}

fn flag(q: &Query<'_>, names: &[&str]) -> bool {
    q.get_any(names)
        .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes" | ""))
}

fn number(q: &Query<'_>, names: &[&str]) -> Result<Option<u64>, DbApiError> {
    match q.get_any(names) {
        None | Some("") => Ok(None),
        Some(v) => v.trim().parse::<u64>().map(Some).map_err(|_| {
            DbApiError::BadRequest(format!(
                "Invalid value for '{}': must be a whole number.",
                names[0]
            ))
        }),
    }
}

pub(super) fn csv(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// Letters, digits, `_`, `$` and `.`: what a column name may contain in a parameter. Anything
/// else is refused before the schema check, so error messages never echo SQL back.
pub fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == '.' || c == '-')
}

fn name(s: &str, what: &str) -> Result<String, DbApiError> {
    if valid_name(s) {
        Ok(s.to_string())
    } else {
        Err(DbApiError::BadRequest(format!(
            "Invalid {what}: '{}'.",
            truncate(s)
        )))
    }
}

pub fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

impl TableParams {
    /// Parses the query string; `body` may carry `filter`, `params` and `ids` too (DreamFactory
    /// accepts them in the body for PUT, PATCH and DELETE).
    pub fn parse(
        q: &Query<'_>,
        body: Option<&Map<String, serde_json::Value>>,
    ) -> Result<TableParams, DbApiError> {
        let mut p = TableParams {
            fields: parse_fields(q.get_any(&["fields", "select"]).unwrap_or(""))?,
            filter: q
                .get_any(&["filter", "where"])
                .filter(|f| !f.trim().is_empty())
                .map(String::from),
            order: parse_order(q.get_any(&["order", "sort", "order_by"]).unwrap_or(""))?,
            group: csv(q.get_any(&["group", "group_by"]).unwrap_or(""))
                .iter()
                .map(|g| name(g, "group field"))
                .collect::<Result<_, _>>()?,
            having: q
                .get("having")
                .filter(|h| !h.trim().is_empty())
                .map(String::from),
            limit: number(q, &["limit", "top"])?,
            offset: number(q, &["offset", "skip"])?,
            include_count: flag(q, &["include_count"]),
            count_only: flag(q, &["count_only"]),
            ids: q.get("ids").map(csv),
            id_field: q.get("id_field").map(csv),
            related: csv(q.get("related").unwrap_or("")),
            include_schema: flag(q, &["include_schema"]),
            continue_on_error: flag(q, &["continue"]),
            rollback: flag(q, &["rollback"]),
            force: flag(q, &["force"]),
            refresh: flag(q, &["refresh"]),
            params: Map::new(),
        };
        if let Some(raw) = q.get("params") {
            p.params = serde_json::from_str(raw).map_err(|_| {
                DbApiError::BadRequest("Invalid 'params': expected a JSON object.".into())
            })?;
        }
        if let Some(body) = body {
            if p.filter.is_none() {
                p.filter = body
                    .get("filter")
                    .and_then(|f| f.as_str())
                    .map(String::from);
            }
            if let Some(serde_json::Value::Object(params)) = body.get("params") {
                p.params.extend(params.clone());
            }
            if p.ids.is_none() {
                p.ids = match body.get("ids") {
                    Some(serde_json::Value::String(s)) => Some(csv(s)),
                    Some(serde_json::Value::Array(a)) => Some(a.iter().map(id_text).collect()),
                    _ => None,
                };
            }
        }
        if p.continue_on_error && p.rollback {
            return Err(DbApiError::BadRequest(
                "Rollback and continue operations can not be requested at the same time.".into(),
            ));
        }
        if let Some(fields) = &p.id_field {
            for f in fields {
                name(f, "id_field")?;
            }
        }
        for r in &p.related {
            if r != "*" {
                name(r, "relation")?;
            }
        }
        Ok(p)
    }

    /// Value of a `:name` parameter; `params` keys may be given with or without the colon.
    pub fn param(&self, name: &str) -> Option<Value> {
        self.params
            .get(name)
            .or_else(|| self.params.get(&format!(":{name}")))
            .map(Value::from_json)
    }
}

fn id_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn parse_fields(raw: &str) -> Result<Vec<Field>, DbApiError> {
    let mut out = Vec::new();
    for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if item == "*" {
            out.push(Field::All);
            continue;
        }
        match item.find('(') {
            Some(open) => out.push(parse_aggregate(item, open)?),
            None => out.push(Field::Column(name(item, "field")?)),
        }
    }
    Ok(out)
}

/// `FUNC(col|*) [AS alias]`.
fn parse_aggregate(item: &str, open: usize) -> Result<Field, DbApiError> {
    let bad = || DbApiError::BadRequest(format!("Invalid aggregate field: '{}'.", truncate(item)));
    let func = match item[..open].trim().to_ascii_uppercase().as_str() {
        "COUNT" => Aggregate::Count,
        "SUM" => Aggregate::Sum,
        "AVG" => Aggregate::Avg,
        "MIN" => Aggregate::Min,
        "MAX" => Aggregate::Max,
        _ => return Err(bad()),
    };
    let close = item.find(')').ok_or_else(bad)?;
    let inner = item[open + 1..close].trim();
    let column = match inner {
        "*" if func == Aggregate::Count => None,
        c if valid_name(c) => Some(c.to_string()),
        _ => return Err(bad()),
    };
    let rest = item[close + 1..].trim();
    let alias = if rest.is_empty() {
        format!(
            "{}_{}",
            format!("{func:?}").to_lowercase(),
            column.as_deref().unwrap_or("all")
        )
    } else {
        let alias = rest
            .strip_prefix("AS ")
            .or_else(|| rest.strip_prefix("as "))
            .ok_or_else(bad)?
            .trim();
        if !valid_name(alias) {
            return Err(bad());
        }
        alias.to_string()
    };
    Ok(Field::Aggregate {
        func,
        column,
        alias,
    })
}

pub(super) fn parse_order(raw: &str) -> Result<Vec<OrderBy>, DbApiError> {
    if raw.contains(';') {
        return Err(DbApiError::BadRequest(
            "Invalid order: ';' is not allowed.".into(),
        ));
    }
    let mut out = Vec::new();
    for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let words: Vec<&str> = item.split_whitespace().collect();
        let field = name(words[0], "order field")?;
        let upper: Vec<String> = words[1..].iter().map(|w| w.to_ascii_uppercase()).collect();
        let rest: Vec<&str> = upper.iter().map(String::as_str).collect();
        let (desc, nulls) = match rest.as_slice() {
            [] => (false, &[][..]),
            ["ASC", tail @ ..] => (false, tail),
            ["DESC", tail @ ..] => (true, tail),
            tail => (false, tail),
        };
        let nulls_first = match nulls {
            [] => None,
            ["NULLS", "FIRST"] => Some(true),
            ["NULLS", "LAST"] => Some(false),
            _ => {
                return Err(DbApiError::BadRequest(format!(
                    "Invalid order: '{}'.",
                    truncate(item)
                )))
            }
        };
        out.push(OrderBy {
            field,
            desc,
            nulls_first,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(qs: &str) -> Result<TableParams, DbApiError> {
        TableParams::parse(&Query::parse(qs), None)
    }

    #[test]
    fn aliases_and_values() {
        let p = parse("select=id,name&where=a%3D1&top=5&skip=10&sort=name%20desc%20nulls%20last,id&include_count=true").unwrap();
        assert_eq!(
            p.fields,
            vec![Field::Column("id".into()), Field::Column("name".into())]
        );
        assert_eq!(p.filter.as_deref(), Some("a=1"));
        assert_eq!(
            (p.limit, p.offset, p.include_count),
            (Some(5), Some(10), true)
        );
        assert_eq!(
            p.order,
            vec![
                OrderBy {
                    field: "name".into(),
                    desc: true,
                    nulls_first: Some(false)
                },
                OrderBy {
                    field: "id".into(),
                    desc: false,
                    nulls_first: None
                }
            ]
        );
    }

    #[test]
    fn aggregates() {
        let p = parse("fields=city,COUNT(*),sum(score)%20AS%20total&group=city").unwrap();
        assert_eq!(
            p.fields[1],
            Field::Aggregate {
                func: Aggregate::Count,
                column: None,
                alias: "count_all".into()
            }
        );
        assert_eq!(
            p.fields[2],
            Field::Aggregate {
                func: Aggregate::Sum,
                column: Some("score".into()),
                alias: "total".into()
            }
        );
    }

    #[test]
    fn injection_shaped_input_is_refused() {
        for qs in [
            "order=id;DROP%20TABLE%20x",
            "order=id%20desc%20limit%201",
            "fields=id,name%20from%20users--",
            "fields=COUNT(*)%20x%20y",
            "group=a%20b",
            "id_field=id%27",
            "related=x%20y",
            "limit=1%20OR%201=1",
            "continue=true&rollback=true",
        ] {
            assert!(parse(qs).is_err(), "{qs} was accepted");
        }
    }
}
