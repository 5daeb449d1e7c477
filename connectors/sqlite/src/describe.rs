//! Introspection through `sqlite_master` and the table-valued pragmas (`pragma_table_info`,
//! `pragma_index_list`, `pragma_index_info`, `pragma_foreign_key_list`), all bound parameters.

use percore_connector::{Column, ColumnType, DbError, ForeignKey, TableSchema};
use rusqlite::OptionalExtension;

use crate::conn::Conn;
use crate::error::classify;
use crate::types::{column_type, type_args};

/// User tables and views of the main database, in byte order of their names.
pub(crate) fn tables(conn: &Conn) -> Result<Vec<String>, DbError> {
    // `substr` rather than LIKE: `_` is a LIKE wildcard.
    strings(
        conn,
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') \
         AND substr(name, 1, 7) <> 'sqlite_' ORDER BY name",
        "",
    )
}

struct RawColumn {
    name: String,
    declared: String,
    not_null: bool,
    default: Option<String>,
    pk: u32,
}

/// One table or view. SQLite resolves identifiers case-insensitively, so a name differing only
/// in ASCII case finds the table too (the exact spelling wins), and the schema carries the
/// name as it was created.
pub(crate) fn describe(conn: &Conn, table: &str) -> Result<Option<TableSchema>, DbError> {
    let found: Option<(String, String)> = conn
        .db
        .prepare_cached(
            "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') \
             AND name = ?1 COLLATE NOCASE ORDER BY name = ?1 DESC LIMIT 1",
        )
        .and_then(|mut s| {
            s.query_row([table], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .map_err(classify)?;
    let Some((name, kind)) = found else {
        return Ok(None);
    };
    let raw = raw_columns(conn, &name)?;
    let (unique, has_pk_index) = unique_columns(conn, &name)?;

    let mut keyed: Vec<&RawColumn> = raw.iter().filter(|c| c.pk > 0).collect();
    keyed.sort_by_key(|c| c.pk);
    let primary_key: Vec<String> = keyed.iter().map(|c| c.name.clone()).collect();
    // An INTEGER PRIMARY KEY of a rowid table aliases the rowid: SQLite assigns it.
    let rowid_alias = (kind == "table"
        && !has_pk_index
        && keyed.len() == 1
        && keyed[0].declared.eq_ignore_ascii_case("INTEGER"))
    .then(|| keyed[0].name.clone());

    let columns = raw
        .iter()
        .map(|c| {
            let declared_ty = column_type(&c.declared);
            let auto_increment = rowid_alias.as_deref() == Some(c.name.as_str());
            let (a, b) = type_args(&c.declared);
            let (length, precision, scale) = match declared_ty {
                ColumnType::String | ColumnType::Text | ColumnType::Binary | ColumnType::Other => {
                    (a, None, None)
                }
                ColumnType::Decimal | ColumnType::Float | ColumnType::Double => (None, a, b),
                _ => (None, None, None),
            };
            Column {
                name: c.name.clone(),
                ty: if auto_increment {
                    ColumnType::Id
                } else {
                    declared_ty
                },
                db_type: c.declared.clone(),
                length,
                precision,
                scale,
                allow_null: !c.not_null && !auto_increment,
                default: c.default.clone(),
                auto_increment,
                is_primary_key: c.pk > 0,
                is_unique: unique.contains(&c.name),
            }
        })
        .collect();
    Ok(Some(TableSchema {
        foreign_keys: foreign_keys(conn, &name)?,
        name,
        columns,
        primary_key,
    }))
}

fn raw_columns(conn: &Conn, table: &str) -> Result<Vec<RawColumn>, DbError> {
    let mut stmt = conn
        .db
        .prepare_cached(r#"SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?1) ORDER BY cid"#)
        .map_err(classify)?;
    let rows = stmt
        .query_map([table], |r| {
            Ok(RawColumn {
                name: r.get(0)?,
                declared: r.get(1)?,
                not_null: r.get(2)?,
                default: r.get(3)?,
                pk: r.get(4)?,
            })
        })
        .map_err(classify)?;
    rows.collect::<Result<_, _>>().map_err(classify)
}

/// Columns that a full (not partial) single-column UNIQUE index covers, and whether the
/// primary key has an index of its own (WITHOUT ROWID tables, non-INTEGER keys).
fn unique_columns(conn: &Conn, table: &str) -> Result<(Vec<String>, bool), DbError> {
    let mut stmt = conn
        .db
        .prepare_cached(r#"SELECT name, "unique", origin, partial FROM pragma_index_list(?1)"#)
        .map_err(classify)?;
    let indexes: Vec<(String, bool, String, bool)> = stmt
        .query_map([table], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .map_err(classify)?
        .collect::<Result<_, _>>()
        .map_err(classify)?;
    let mut unique = Vec::new();
    let mut has_pk_index = false;
    for (index, is_unique, origin, partial) in indexes {
        has_pk_index |= origin == "pk";
        if !is_unique || partial || origin == "pk" {
            continue;
        }
        let cols = strings(conn, "SELECT name FROM pragma_index_info(?1)", &index)?;
        if let [only] = cols.as_slice() {
            unique.push(only.clone());
        }
    }
    Ok((unique, has_pk_index))
}

fn foreign_keys(conn: &Conn, table: &str) -> Result<Vec<ForeignKey>, DbError> {
    let mut stmt = conn
        .db
        .prepare_cached(r#"SELECT seq, "table", "from", "to" FROM pragma_foreign_key_list(?1) ORDER BY id, seq"#)
        .map_err(classify)?;
    let raw: Vec<(usize, String, String, Option<String>)> = stmt
        .query_map([table], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .map_err(classify)?
        .collect::<Result<_, _>>()
        .map_err(classify)?;
    let mut out = Vec::with_capacity(raw.len());
    for (seq, ref_table, column, to) in raw {
        // `REFERENCES parent` without columns means the parent's primary key.
        let ref_column = match to {
            Some(c) => c,
            None => {
                let pk = strings(
                    conn,
                    "SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk",
                    &ref_table,
                )?;
                pk.into_iter().nth(seq).unwrap_or_default()
            }
        };
        out.push(ForeignKey {
            column,
            ref_table,
            ref_column,
        });
    }
    Ok(out)
}

/// The first column of every row, as text; `arg` binds `?1` when the SQL has it.
fn strings(conn: &Conn, sql: &str, arg: &str) -> Result<Vec<String>, DbError> {
    let mut stmt = conn.db.prepare_cached(sql).map_err(classify)?;
    let args: &[&dyn rusqlite::ToSql] = if stmt.parameter_count() == 0 {
        &[]
    } else {
        &[&arg]
    };
    let rows = stmt
        .query_map(args, |r| r.get::<_, Option<String>>(0))
        .map_err(classify)?;
    let all: Vec<Option<String>> = rows.collect::<Result<_, _>>().map_err(classify)?;
    // Expression index columns have no name.
    Ok(all.into_iter().map(Option::unwrap_or_default).collect())
}
