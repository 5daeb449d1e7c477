//! `related`: DreamFactory's relations, each fetched with one batched query for the whole page
//! of rows (DreamFactory issues one query per row, the N+1 pattern behind its slow `related`).
//!
//! Relations are derived from foreign keys: `belongs_to` from this table's keys
//! (`{ref_table}_by_{column}`), `has_many` from other tables' keys pointing here
//! (`{table}_by_{column}`), and `many_many` through a junction table holding keys to this table
//! and another (`{other}_by_{junction}`).

use std::collections::HashMap;

use percore_connector::{Database, Row, TableSchema, Value};
use serde_json::{Map, Value as Json};

use super::error::DbApiError;
use super::filter::Bindings;
use super::params::{csv, parse_order, truncate, OrderBy};
use super::service::DbService;
use crate::api::Query;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    BelongsTo,
    HasMany,
    ManyMany {
        junction: String,
        junction_field: String,
        junction_ref_field: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    pub name: String,
    pub kind: Kind,
    /// The column of this table whose values are matched.
    pub field: String,
    pub ref_table: String,
    /// The column of `ref_table` matched against `field`.
    pub ref_field: String,
}

impl Relation {
    pub fn to_json(&self) -> Json {
        let mut m = serde_json::json!({
            "name": self.name,
            "type": match self.kind { Kind::BelongsTo => "belongs_to", Kind::HasMany => "has_many", Kind::ManyMany { .. } => "many_many" },
            "field": [self.field],
            "ref_table": self.ref_table,
            "ref_field": [self.ref_field],
        });
        if let Kind::ManyMany {
            junction,
            junction_field,
            junction_ref_field,
        } = &self.kind
        {
            m["junction_table"] = junction.clone().into();
            m["junction_field"] = serde_json::json!([junction_field]);
            m["junction_ref_field"] = serde_json::json!([junction_ref_field]);
        }
        m
    }
}

/// Every relation of `table`. Needs the other tables' schemas (cached per core after the first
/// call), since `has_many` and `many_many` are declared on them.
pub async fn relations<D: Database>(
    svc: &DbService<D>,
    table: &TableSchema,
) -> Result<Vec<Relation>, DbApiError> {
    let mut out: Vec<Relation> = table
        .foreign_keys
        .iter()
        .map(|fk| Relation {
            name: format!("{}_by_{}", svc.public_name(&fk.ref_table), fk.column),
            kind: Kind::BelongsTo,
            field: fk.column.clone(),
            ref_table: fk.ref_table.clone(),
            ref_field: fk.ref_column.clone(),
        })
        .collect();
    for name in svc.table_names(false).await?.iter() {
        let other = match svc.table(name).await {
            Ok(t) => t,
            Err(DbApiError::NotFound(_)) => continue,
            Err(e) => return Err(e),
        };
        for fk in other
            .foreign_keys
            .iter()
            .filter(|fk| fk.ref_table == table.name)
        {
            out.push(Relation {
                name: format!("{}_by_{}", svc.public_name(&other.name), fk.column),
                kind: Kind::HasMany,
                field: fk.ref_column.clone(),
                ref_table: other.name.clone(),
                ref_field: fk.column.clone(),
            });
            // A junction: this key plus a key to some other table.
            for far in other.foreign_keys.iter().filter(|f| f.column != fk.column) {
                out.push(Relation {
                    name: format!(
                        "{}_by_{}",
                        svc.public_name(&far.ref_table),
                        svc.public_name(&other.name)
                    ),
                    kind: Kind::ManyMany {
                        junction: other.name.clone(),
                        junction_field: fk.column.clone(),
                        junction_ref_field: far.column.clone(),
                    },
                    field: fk.ref_column.clone(),
                    ref_table: far.ref_table.clone(),
                    ref_field: far.ref_column.clone(),
                });
            }
        }
    }
    Ok(out)
}

/// The relations named by `related` (`*` for all); an unknown name is a 400.
pub fn select<'r>(
    all: &'r [Relation],
    requested: &[String],
) -> Result<Vec<&'r Relation>, DbApiError> {
    if requested.iter().any(|r| r == "*") {
        return Ok(all.iter().collect());
    }
    requested
        .iter()
        .map(|name| {
            all.iter().find(|r| &r.name == name).ok_or_else(|| {
                DbApiError::BadRequest(format!(
                    "Invalid relationship '{}'.",
                    super::params::truncate(name)
                ))
            })
        })
        .collect()
}

fn key(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Int(i) => Some(i.to_string()),
        Value::Text(s) => Some(s.clone()),
        other => Some(other.to_json().to_string()),
    }
}

/// Adds each relation to each record: one query per relation for the whole page.
pub async fn attach<D: Database>(
    svc: &DbService<D>,
    columns: &[String],
    rows: &[Row],
    relations: &[&Relation],
    opts: &[RelOpts],
    records: &mut [Map<String, Json>],
) -> Result<(), DbApiError> {
    for (ri, rel) in relations.iter().enumerate() {
        let Some(idx) = columns.iter().position(|c| c == &rel.field) else {
            return Err(DbApiError::BadRequest(format!(
                "Relationship '{}' needs field '{}' in 'fields'.",
                rel.name, rel.field
            )));
        };
        let mut seen = HashMap::new();
        let keys: Vec<Value> = rows
            .iter()
            .filter_map(|r| key(&r[idx]).map(|k| (k, r[idx].clone())))
            .filter(|(k, _)| seen.insert(k.clone(), ()).is_none())
            .map(|(_, v)| v)
            .collect();
        let mut grouped: HashMap<String, Vec<Json>> = HashMap::new();
        if !keys.is_empty() {
            let (sql, values) = related_query(svc, rel, &opts[ri], keys).await?;
            let result = svc.db.query(&sql, &values).await?;
            let out_cols: Vec<&String> = result
                .columns
                .iter()
                .filter(|c| *c != KEY && *c != RANK)
                .collect();
            let gi = result.columns.iter().position(|c| c == KEY).unwrap_or(0);
            for row in &result.rows {
                let Some(k) = key(&row[gi]) else { continue };
                let obj: Map<String, Json> = result
                    .columns
                    .iter()
                    .zip(row)
                    .filter(|(c, _)| out_cols.contains(c))
                    .map(|(c, v)| (c.clone(), v.to_json()))
                    .collect();
                grouped.entry(k).or_default().push(Json::Object(obj));
            }
        }
        for (record, row) in records.iter_mut().zip(rows) {
            let found = key(&row[idx]).and_then(|k| grouped.get(&k));
            let value = match rel.kind {
                Kind::BelongsTo => found.and_then(|v| v.first().cloned()).unwrap_or(Json::Null),
                _ => Json::Array(found.cloned().unwrap_or_default()),
            };
            record.insert(rel.name.clone(), value);
        }
    }
    Ok(())
}

/// Per-relation options from the query string: `{name}.fields`, `{name}.order`,
/// `{name}.limit` (the limit applies per parent record).
#[derive(Debug, Default)]
pub struct RelOpts {
    pub fields: Vec<String>,
    pub order: Vec<OrderBy>,
    pub limit: Option<u64>,
}

impl RelOpts {
    pub fn parse(query: &Query<'_>, name: &str) -> Result<RelOpts, DbApiError> {
        let get = |suffix: &str| query.get(&format!("{name}.{suffix}"));
        let limit = match get("limit") {
            None | Some("") => None,
            Some(v) => Some(v.trim().parse::<u64>().map_err(|_| {
                DbApiError::BadRequest(format!(
                    "Invalid value for '{name}.limit': must be a whole number."
                ))
            })?),
        };
        Ok(RelOpts {
            fields: get("fields")
                .map(csv)
                .unwrap_or_default()
                .into_iter()
                .filter(|f| f != "*")
                .collect(),
            order: parse_order(get("order").unwrap_or(""))?,
            limit,
        })
    }
}

/// The batched query for one relation: every related row of every parent in the page, keyed
/// by the parent's value as `__percore_key`. A per-parent limit uses `ROW_NUMBER()` partitioned
/// by that key, so it stays one query.
async fn related_query<D: Database>(
    svc: &DbService<D>,
    rel: &Relation,
    opts: &RelOpts,
    keys: Vec<Value>,
) -> Result<(String, Vec<Value>), DbApiError> {
    let d = svc.db.dialect();
    let target = svc.table(&rel.ref_table).await?;
    let column = |name: &str| {
        target.column(name).map(|c| c.name.clone()).ok_or_else(|| {
            DbApiError::BadRequest(format!(
                "Invalid field '{}' for relationship '{}'.",
                truncate(name),
                rel.name
            ))
        })
    };
    let fields: Vec<String> = if opts.fields.is_empty() {
        target.columns.iter().map(|c| c.name.clone()).collect()
    } else {
        opts.fields
            .iter()
            .map(|f| column(f))
            .collect::<Result<_, _>>()?
    };
    // The parent's value, on the junction for many_many, on the target otherwise.
    let mut key = String::new();
    match &rel.kind {
        Kind::ManyMany { junction_field, .. } => {
            key.push_str("j.");
            d.quote_ident(&mut key, junction_field);
        }
        _ => {
            key.push_str("t.");
            d.quote_ident(&mut key, &rel.ref_field);
        }
    }
    let mut order = String::new();
    for (i, o) in opts.order.iter().enumerate() {
        order.push_str(if i == 0 { "" } else { ", " });
        order.push_str("t.");
        d.quote_ident(&mut order, &column(&o.field)?);
        order.push_str(if o.desc { " DESC" } else { " ASC" });
    }
    let mut b = Bindings::default();
    let mut inner = String::from("SELECT ");
    inner.push_str(&key);
    inner.push_str(" AS ");
    d.quote_ident(&mut inner, KEY);
    for f in &fields {
        inner.push_str(", t.");
        d.quote_ident(&mut inner, f);
    }
    if opts.limit.is_some() {
        let by = if order.is_empty() {
            target
                .primary_key
                .iter()
                .map(|k| format!("t.{}", quoted(d, k)))
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            order.clone()
        };
        inner.push_str(&format!(
            ", ROW_NUMBER() OVER (PARTITION BY {key}{}{by}) AS ",
            if by.is_empty() { "" } else { " ORDER BY " }
        ));
        d.quote_ident(&mut inner, RANK);
    }
    inner.push_str(" FROM ");
    match &rel.kind {
        Kind::ManyMany {
            junction,
            junction_ref_field,
            ..
        } => {
            d.quote_ident(&mut inner, junction);
            inner.push_str(" j JOIN ");
            d.quote_ident(&mut inner, &target.name);
            inner.push_str(" t ON t.");
            d.quote_ident(&mut inner, &rel.ref_field);
            inner.push_str(" = j.");
            d.quote_ident(&mut inner, junction_ref_field);
        }
        _ => {
            d.quote_ident(&mut inner, &target.name);
            inner.push_str(" t");
        }
    }
    inner.push_str(" WHERE ");
    inner.push_str(&key);
    in_list(&mut inner, &mut b, d, keys);
    let sql = match opts.limit {
        Some(limit) => {
            let mut outer = String::from("SELECT * FROM (");
            outer.push_str(&inner);
            outer.push_str(") x WHERE ");
            d.quote_ident(&mut outer, RANK);
            outer.push_str(&format!(" <= {limit} ORDER BY "));
            d.quote_ident(&mut outer, RANK);
            outer
        }
        None if !order.is_empty() => format!("{inner} ORDER BY {order}"),
        None => inner,
    };
    Ok((sql, b.values))
}

/// Output columns that carry the grouping key and the per-parent rank, not data.
const KEY: &str = "__percore_key";
const RANK: &str = "__percore_rn";

fn quoted(d: &dyn percore_connector::Dialect, name: &str) -> String {
    let mut s = String::new();
    d.quote_ident(&mut s, name);
    s
}

fn in_list(
    sql: &mut String,
    b: &mut Bindings,
    d: &'static dyn percore_connector::Dialect,
    keys: Vec<Value>,
) {
    sql.push_str(" IN (");
    for (i, k) in keys.into_iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        b.bind(sql, d, k);
    }
    sql.push(')');
}

/// The relations a request names (empty when it names none).
pub async fn relations_for<D: Database>(
    svc: &DbService<D>,
    table: &TableSchema,
    requested: &[String],
) -> Result<Vec<Relation>, DbApiError> {
    if requested.is_empty() {
        return Ok(Vec::new());
    }
    let all = relations(svc, table).await?;
    Ok(select(&all, requested)?.into_iter().cloned().collect())
}

/// `params` with the relations' local fields added to an explicit `fields` list.
pub fn with_key_fields(
    params: &super::params::TableParams,
    relations: &[Relation],
) -> super::params::TableParams {
    use super::params::Field;
    let mut fields = params.fields.clone();
    if !fields.is_empty() && !fields.contains(&Field::All) {
        for rel in relations {
            let f = Field::Column(rel.field.clone());
            if !fields.contains(&f) {
                fields.push(f);
            }
        }
    }
    super::params::TableParams {
        fields,
        related: Vec::new(),
        ..params.clone()
    }
}

/// Rows as JSON objects with their related records attached.
pub async fn records_with<D: Database>(
    svc: &DbService<D>,
    query: &Query<'_>,
    rows: &percore_connector::Rows,
    relations: &[Relation],
) -> Result<Vec<Map<String, Json>>, DbApiError> {
    let opts = relations
        .iter()
        .map(|r| RelOpts::parse(query, &r.name))
        .collect::<Result<Vec<_>, _>>()?;
    let mut records: Vec<Map<String, Json>> = rows
        .rows
        .iter()
        .map(|r| {
            rows.columns
                .iter()
                .zip(r)
                .map(|(c, v)| (c.clone(), v.to_json()))
                .collect()
        })
        .collect();
    let chosen: Vec<&Relation> = relations.iter().collect();
    attach(svc, &rows.columns, &rows.rows, &chosen, &opts, &mut records).await?;
    Ok(records)
}
