//! `_schema`: list, describe, create, alter and drop tables and fields, in DreamFactory's schema
//! JSON. DDL cannot bind values, so every name is checked and every default is rendered as a
//! literal by rules strict enough to be safe on all three dialects.

use percore_connector::{ColumnType, Database, Dialect, TableSchema};
use serde_json::{json, Map, Value as Json};

use super::error::DbApiError;
use super::params::{truncate, valid_name};
use super::service::DbService;
use crate::http::Response;

/// DreamFactory's description of one table.
pub fn describe_json(t: &TableSchema) -> Json {
    let fields: Vec<Json> = t
        .columns
        .iter()
        .map(|c| {
            let fk = t.foreign_keys.iter().find(|f| f.column == c.name);
            json!({
                "name": c.name,
                "label": label(&c.name),
                "type": if c.auto_increment && c.is_primary_key { "id" } else { c.ty.as_str() },
                "db_type": c.db_type,
                "length": c.length,
                "precision": c.precision,
                "scale": c.scale,
                "default": c.default,
                "required": !c.allow_null && c.default.is_none() && !c.auto_increment,
                "allow_null": c.allow_null,
                "auto_increment": c.auto_increment,
                "is_primary_key": c.is_primary_key,
                "is_unique": c.is_unique,
                "is_foreign_key": fk.is_some(),
                "ref_table": fk.map(|f| f.ref_table.clone()),
                "ref_field": fk.map(|f| f.ref_column.clone()),
            })
        })
        .collect();
    let related: Vec<Json> = t
        .foreign_keys
        .iter()
        .map(|f| {
            json!({
                "name": format!("{}_by_{}", f.ref_table, f.column),
                "type": "belongs_to",
                "field": [f.column],
                "ref_table": f.ref_table,
                "ref_field": [f.ref_column],
            })
        })
        .collect();
    json!({
        "name": t.name,
        "label": label(&t.name),
        "plural": label(&t.name),
        "primary_key": t.primary_key,
        "field": fields,
        "related": related,
    })
}

fn label(name: &str) -> String {
    name.split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The tables, as `{"name","label"}` objects or, with `as_list`, as plain names.
pub async fn list<D: Database>(
    svc: &DbService<D>,
    refresh: bool,
    as_list: bool,
) -> Result<Response, DbApiError> {
    let names = svc.table_names(refresh).await?;
    let resource: Vec<Json> = names
        .iter()
        .map(|n| {
            if as_list {
                json!(n)
            } else {
                json!({ "name": n, "label": label(n) })
            }
        })
        .collect();
    Ok(Response::json_value(200, &json!({ "resource": resource })))
}

pub async fn describe<D: Database>(
    svc: &DbService<D>,
    table: &str,
    field: Option<&str>,
) -> Result<Response, DbApiError> {
    let schema = svc.table(table).await?;
    let mut described = describe_json(&schema);
    let relations = super::related::relations(svc, &schema).await?;
    described["related"] = relations
        .iter()
        .map(super::related::Relation::to_json)
        .collect();
    match field {
        None => Ok(Response::json_value(200, &described)),
        Some(f) => described["field"]
            .as_array()
            .and_then(|fields| fields.iter().find(|x| x["name"] == f))
            .map(|x| Response::json_value(200, x))
            .ok_or_else(|| {
                DbApiError::NotFound(format!(
                    "Field '{}' does not exist in table '{table}'.",
                    truncate(f)
                ))
            }),
    }
}

/// POST `_schema`: creates the tables described (`{"resource":[{"name":..,"field":[..]}]}`).
pub async fn create<D: Database>(
    svc: &DbService<D>,
    tables: &[Map<String, Json>],
) -> Result<Response, DbApiError> {
    if tables.is_empty() {
        return Err(DbApiError::BadRequest(
            "No table definitions in the request.".into(),
        ));
    }
    let dialect = svc.db.dialect();
    let mut created = Vec::new();
    for t in tables {
        let name = table_name(t)?;
        let fields = t.get("field").and_then(Json::as_array).ok_or_else(|| {
            DbApiError::BadRequest(format!("Table '{name}' has no 'field' list."))
        })?;
        let mut sql = String::from("CREATE TABLE ");
        dialect.quote_ident(&mut sql, name);
        sql.push_str(" (");
        let mut primary = Vec::new();
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            let f = f
                .as_object()
                .ok_or_else(|| DbApiError::BadRequest("Each field must be an object.".into()))?;
            column_sql(dialect, f, &mut sql, &mut primary)?;
        }
        if !primary.is_empty() {
            sql.push_str(", PRIMARY KEY (");
            for (i, p) in primary.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                dialect.quote_ident(&mut sql, p);
            }
            sql.push(')');
        }
        sql.push(')');
        svc.db.execute_batch(&sql).await?;
        created.push(json!({ "name": name }));
    }
    svc.schema_changed();
    Ok(Response::json_value(201, &json!({ "resource": created })))
}

/// PUT/PATCH `_schema/{t}`: adds the fields the table does not have yet.
pub async fn alter<D: Database>(
    svc: &DbService<D>,
    table: &str,
    def: &Map<String, Json>,
) -> Result<Response, DbApiError> {
    let schema = svc.table(table).await?;
    let dialect = svc.db.dialect();
    let fields = def
        .get("field")
        .and_then(Json::as_array)
        .ok_or_else(|| DbApiError::BadRequest("Give a 'field' list to add.".into()))?;
    for f in fields {
        let f = f
            .as_object()
            .ok_or_else(|| DbApiError::BadRequest("Each field must be an object.".into()))?;
        let name = f.get("name").and_then(Json::as_str).unwrap_or_default();
        if schema.column(name).is_some() {
            continue;
        }
        let mut sql = String::from("ALTER TABLE ");
        dialect.quote_ident(&mut sql, &schema.name);
        sql.push_str(" ADD ");
        let mut primary = Vec::new();
        column_sql(dialect, f, &mut sql, &mut primary)?;
        if !primary.is_empty() {
            return Err(DbApiError::BadRequest(
                "A primary key cannot be added to an existing table.".into(),
            ));
        }
        svc.db.execute_batch(&sql).await?;
    }
    svc.schema_changed();
    describe(svc, table, None).await
}

pub async fn drop_table<D: Database>(
    svc: &DbService<D>,
    table: &str,
) -> Result<Response, DbApiError> {
    let schema = svc.table(table).await?;
    let mut sql = String::from("DROP TABLE ");
    svc.db.dialect().quote_ident(&mut sql, &schema.name);
    svc.db.execute_batch(&sql).await?;
    svc.schema_changed();
    Ok(Response::json_value(200, &json!({ "name": schema.name })))
}

pub async fn drop_field<D: Database>(
    svc: &DbService<D>,
    table: &str,
    field: &str,
) -> Result<Response, DbApiError> {
    let schema = svc.table(table).await?;
    let col = schema.column(field).ok_or_else(|| {
        DbApiError::NotFound(format!(
            "Field '{}' does not exist in table '{table}'.",
            truncate(field)
        ))
    })?;
    let dialect = svc.db.dialect();
    let mut sql = String::from("ALTER TABLE ");
    dialect.quote_ident(&mut sql, &schema.name);
    sql.push_str(" DROP COLUMN ");
    dialect.quote_ident(&mut sql, &col.name);
    svc.db.execute_batch(&sql).await?;
    svc.schema_changed();
    Ok(Response::json_value(200, &json!({ "name": col.name })))
}

fn table_name(t: &Map<String, Json>) -> Result<&str, DbApiError> {
    let name = t.get("name").and_then(Json::as_str).unwrap_or_default();
    if valid_name(name) {
        Ok(name)
    } else {
        Err(DbApiError::BadRequest(format!(
            "Invalid table name '{}'.",
            truncate(name)
        )))
    }
}

/// One column definition from DreamFactory's field JSON.
fn column_sql(
    d: &dyn Dialect,
    f: &Map<String, Json>,
    sql: &mut String,
    primary: &mut Vec<String>,
) -> Result<(), DbApiError> {
    let name = f.get("name").and_then(Json::as_str).unwrap_or_default();
    if !valid_name(name) {
        return Err(DbApiError::BadRequest(format!(
            "Invalid field name '{}'.",
            truncate(name)
        )));
    }
    let type_name = f.get("type").and_then(Json::as_str).unwrap_or("string");
    let ty = ColumnType::parse(type_name).ok_or_else(|| {
        DbApiError::BadRequest(format!(
            "Unknown field type '{}' for '{name}'.",
            truncate(type_name)
        ))
    })?;
    d.quote_ident(sql, name);
    sql.push(' ');
    if ty == ColumnType::Id {
        sql.push_str(d.auto_increment_pk());
        return Ok(());
    }
    let number = |k: &str| {
        f.get(k)
            .and_then(Json::as_u64)
            .and_then(|n| u32::try_from(n).ok())
    };
    let length = number("length").or_else(|| number("size"));
    let precision = number("precision").map(|p| (p, number("scale").unwrap_or(0)));
    sql.push_str(&d.column_type_sql(ty, length, precision));
    let allow_null = f.get("allow_null").and_then(Json::as_bool).unwrap_or(true);
    let is_primary = f
        .get("is_primary_key")
        .and_then(Json::as_bool)
        .unwrap_or(false);
    if !allow_null || is_primary {
        sql.push_str(" NOT NULL");
    }
    if let Some(default) = f.get("default").filter(|v| !v.is_null()) {
        sql.push_str(" DEFAULT ");
        literal(sql, default)?;
    }
    if f.get("is_unique").and_then(Json::as_bool).unwrap_or(false) {
        sql.push_str(" UNIQUE");
    }
    if is_primary {
        primary.push(name.to_string());
    }
    if let Some(ref_table) = f
        .get("ref_table")
        .and_then(Json::as_str)
        .filter(|s| !s.is_empty())
    {
        let ref_field = f.get("ref_field").and_then(Json::as_str).unwrap_or("id");
        if !valid_name(ref_table) || !valid_name(ref_field) {
            return Err(DbApiError::BadRequest(
                "Invalid 'ref_table' or 'ref_field'.".into(),
            ));
        }
        sql.push_str(" REFERENCES ");
        d.quote_ident(sql, ref_table);
        sql.push_str(" (");
        d.quote_ident(sql, ref_field);
        sql.push(')');
    }
    Ok(())
}

/// A DEFAULT literal. Strings may not contain backslashes or control characters (MySQL reads
/// backslash escapes inside literals, so refusing them is what keeps one rule safe everywhere).
fn literal(sql: &mut String, v: &Json) -> Result<(), DbApiError> {
    match v {
        Json::Bool(b) => sql.push_str(if *b { "TRUE" } else { "FALSE" }),
        Json::Number(n) => sql.push_str(&n.to_string()),
        Json::String(s) if s.chars().all(|c| c != '\\' && !c.is_control()) && s.len() <= 1024 => {
            sql.push('\'');
            sql.push_str(&s.replace('\'', "''"));
            sql.push('\'');
        }
        _ => {
            return Err(DbApiError::BadRequest(
                "Invalid default: use a number, a boolean or a plain string.".into(),
            ))
        }
    }
    Ok(())
}
