//! The system database's schema, as versioned migrations written through the connector's
//! dialect so one definition serves SQLite, PostgreSQL and MySQL. Each migration runs once; the
//! version row records how far a database has come, and an instance refuses to run against a
//! database newer than it understands.

use percore_connector::{ColumnType, Dialect, Value};

use crate::services::AnyDb;

/// The schema version this build writes and understands.
pub const CURRENT: i64 = 3;

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error("the system database is at schema version {found}, newer than this percore understands ({CURRENT}); upgrade percore")]
    TooNew { found: i64 },
    #[error("system database: {0}")]
    Db(#[from] percore_connector::DbError),
}

#[derive(Clone, Copy)]
struct Col<'a> {
    name: &'a str,
    ty: ColumnType,
    length: Option<u32>,
    null: bool,
    extra: &'a str,
}

const fn col<'a>(
    name: &'a str,
    ty: ColumnType,
    length: Option<u32>,
    null: bool,
    extra: &'a str,
) -> Col<'a> {
    Col {
        name,
        ty,
        length,
        null,
        extra,
    }
}

fn create_table(d: &dyn Dialect, table: &str, id: bool, cols: &[Col<'_>]) -> String {
    create_table_fk(d, table, id, cols, &[])
}

/// A foreign key: `(column, referenced table, ON DELETE action)`, always to the table's `id`.
/// Table-level clauses, since MySQL ignores `REFERENCES` written on a column.
type Fk<'a> = (&'a str, &'a str, &'a str);

fn create_table_fk(
    d: &dyn Dialect,
    table: &str,
    id: bool,
    cols: &[Col<'_>],
    fks: &[Fk<'_>],
) -> String {
    let mut sql = String::from("CREATE TABLE ");
    d.quote_ident(&mut sql, table);
    sql.push_str(" (");
    if id {
        d.quote_ident(&mut sql, "id");
        sql.push(' ');
        sql.push_str(d.auto_increment_pk());
    }
    for (i, c) in cols.iter().enumerate() {
        if id || i > 0 {
            sql.push_str(", ");
        }
        d.quote_ident(&mut sql, c.name);
        sql.push(' ');
        sql.push_str(&d.column_type_sql(c.ty, c.length, None));
        sql.push_str(if c.null { " NULL" } else { " NOT NULL" });
        if !c.extra.is_empty() {
            sql.push(' ');
            sql.push_str(c.extra);
        }
    }
    for (column, ref_table, on_delete) in fks {
        sql.push_str(", FOREIGN KEY (");
        d.quote_ident(&mut sql, column);
        sql.push_str(") REFERENCES ");
        d.quote_ident(&mut sql, ref_table);
        sql.push_str(" (");
        d.quote_ident(&mut sql, "id");
        sql.push_str(") ON DELETE ");
        sql.push_str(on_delete);
    }
    sql.push(')');
    sql
}

/// Version 1: users (admins are users with `is_sys_admin`), roles, and revoked sessions.
fn v1(d: &dyn Dialect) -> Vec<String> {
    use ColumnType::*;
    vec![
        create_table(
            d,
            "percore_user",
            true,
            &[
                col("email", String, Some(255), false, "UNIQUE"),
                col("password_hash", String, Some(255), true, ""),
                col("name", String, Some(255), true, ""),
                col("first_name", String, Some(255), true, ""),
                col("last_name", String, Some(255), true, ""),
                col("is_sys_admin", Boolean, None, false, "DEFAULT FALSE"),
                col("is_active", Boolean, None, false, "DEFAULT TRUE"),
                col("role_id", BigInt, None, true, ""),
                col("created_date", BigInt, None, false, ""),
                col("last_login_date", BigInt, None, true, ""),
            ],
        ),
        create_table(
            d,
            "percore_role",
            true,
            &[
                col("name", String, Some(64), false, "UNIQUE"),
                col("description", String, Some(255), true, ""),
                col("is_active", Boolean, None, false, "DEFAULT TRUE"),
            ],
        ),
        // A revoked session stays listed until its refresh window would have ended anyway.
        create_table(
            d,
            "percore_revoked_token",
            false,
            &[
                col("jti", String, Some(64), false, "PRIMARY KEY"),
                col("expires_at", BigInt, None, false, ""),
            ],
        ),
    ]
}

/// Version 2: database services managed through `/api/v2/system/service`.
fn v2(d: &dyn Dialect) -> Vec<String> {
    use ColumnType::*;
    vec![create_table(
        d,
        "percore_service",
        true,
        &[
            col("name", String, Some(64), false, "UNIQUE"),
            col("label", String, Some(255), true, ""),
            col("description", String, Some(1024), true, ""),
            col("type", String, Some(16), false, ""),
            // The service's `config` object as JSON text (the connector settings).
            col("config", Text, None, false, ""),
            col("is_active", Boolean, None, false, "DEFAULT TRUE"),
            col("created_date", BigInt, None, false, ""),
            col("last_modified_date", BigInt, None, false, ""),
        ],
    )]
}

/// Version 3: what the rest of the system API serves: role service access, apps and per-app
/// user roles, CORS entries, lookups, event scripts, and the change counter other instances
/// poll. Names follow DreamFactory's tables behind a `percore_` prefix, so relations read as
/// DreamFactory's (`role_service_access_by_role_id`).
fn v3(d: &dyn Dialect) -> Vec<String> {
    use ColumnType::*;
    let dates = [
        col("created_date", BigInt, None, true, ""),
        col("last_modified_date", BigInt, None, true, ""),
    ];
    let with_dates = |cols: &[Col<'static>]| [cols, &dates[..]].concat();
    let mut role_dates = Vec::new();
    for c in ["created_date", "last_modified_date"] {
        let mut sql = std::string::String::from("ALTER TABLE ");
        d.quote_ident(&mut sql, "percore_role");
        sql.push_str(" ADD COLUMN ");
        d.quote_ident(&mut sql, c);
        sql.push_str(" BIGINT NULL");
        role_dates.push(sql);
    }
    let mut version_insert = std::string::String::from("INSERT INTO ");
    d.quote_ident(&mut version_insert, "percore_change");
    version_insert.push_str(" (id, version) VALUES (1, 0)");
    vec![
        create_table_fk(
            d,
            "percore_role_service_access",
            true,
            &with_dates(&[
                col("role_id", Integer, None, false, ""),
                // NULL: every service (DreamFactory's NULL service_id).
                col("service_id", BigInt, None, true, ""),
                col("component", String, Some(255), true, ""),
                col("verb_mask", Integer, None, false, "DEFAULT 0"),
                col("requestor_mask", Integer, None, false, "DEFAULT 1"),
                // DreamFactory's `filters` array as JSON text.
                col("filters", Text, None, true, ""),
                col("filter_op", String, Some(3), false, "DEFAULT 'AND'"),
            ]),
            &[("role_id", "percore_role", "CASCADE")],
        ),
        create_table_fk(
            d,
            "percore_app",
            true,
            &with_dates(&[
                col("name", String, Some(64), false, "UNIQUE"),
                col("api_key", String, Some(255), false, "UNIQUE"),
                col("description", String, Some(255), true, ""),
                col("is_active", Boolean, None, false, "DEFAULT TRUE"),
                col("type", Integer, None, false, "DEFAULT 0"),
                col("role_id", Integer, None, true, ""),
            ]),
            &[("role_id", "percore_role", "SET NULL")],
        ),
        create_table_fk(
            d,
            "percore_user_to_app_to_role",
            true,
            &[
                col("user_id", Integer, None, false, ""),
                col("app_id", Integer, None, false, ""),
                col("role_id", Integer, None, false, ""),
            ],
            &[
                ("user_id", "percore_user", "CASCADE"),
                ("app_id", "percore_app", "CASCADE"),
                ("role_id", "percore_role", "CASCADE"),
            ],
        ),
        create_table(
            d,
            "percore_cors_config",
            true,
            &with_dates(&[
                col("path", String, Some(255), false, ""),
                col("description", String, Some(255), true, ""),
                col("origin", String, Some(255), false, "DEFAULT '*'"),
                col("header", String, Some(1024), false, "DEFAULT '*'"),
                col("exposed_header", String, Some(1024), true, ""),
                // DreamFactory's verb mask of the methods allowed.
                col("method", Integer, None, false, "DEFAULT 0"),
                col("max_age", Integer, None, false, "DEFAULT 3600"),
                col(
                    "supports_credentials",
                    Boolean,
                    None,
                    false,
                    "DEFAULT FALSE",
                ),
                col("enabled", Boolean, None, false, "DEFAULT TRUE"),
            ]),
        ),
        create_table(
            d,
            "percore_lookup",
            true,
            &with_dates(&[
                col("name", String, Some(64), false, "UNIQUE"),
                col("value", Text, None, true, ""),
                col("private", Boolean, None, false, "DEFAULT FALSE"),
                col("description", String, Some(255), true, ""),
            ]),
        ),
        create_table(
            d,
            "percore_event_script",
            true,
            &with_dates(&[
                // The event, e.g. `db._table.contact.get.pre_process`.
                col("name", String, Some(128), false, "UNIQUE"),
                col("type", String, Some(32), false, "DEFAULT 'javascript'"),
                col("content", Text, None, true, ""),
                // Engine settings as JSON text, e.g. `{"timeout_ms":100}`.
                col("config", Text, None, true, ""),
                col("is_active", Boolean, None, false, "DEFAULT FALSE"),
                col(
                    "allow_event_modification",
                    Boolean,
                    None,
                    false,
                    "DEFAULT FALSE",
                ),
            ]),
        ),
        // One row; every change through the system API bumps it, and other instances sharing
        // the database poll it to know when to reload.
        create_table(
            d,
            "percore_change",
            false,
            &[
                col("id", Integer, None, false, "PRIMARY KEY"),
                col("version", BigInt, None, false, ""),
            ],
        ),
        version_insert,
    ]
    .into_iter()
    .chain(role_dates)
    .collect()
}

/// Brings `db` to [`CURRENT`], or refuses a database that is newer.
pub async fn migrate(db: &AnyDb) -> Result<i64, MigrationError> {
    let d = db.dialect();
    let mut version_table = String::new();
    d.quote_ident(&mut version_table, "percore_schema_version");
    db.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {version_table} (version BIGINT NOT NULL)"
    ))
    .await?;
    let rows = db
        .query(&format!("SELECT MAX(version) FROM {version_table}"), &[])
        .await?;
    let found = match rows.rows.first().and_then(|r| r.first()) {
        Some(Value::Int(v)) => *v,
        Some(Value::Text(t)) => t.parse().unwrap_or(0),
        _ => 0,
    };
    if found > CURRENT {
        return Err(MigrationError::TooNew { found });
    }
    let migrations: [fn(&dyn Dialect) -> Vec<String>; 3] = [v1, v2, v3];
    for (i, migration) in migrations.iter().enumerate() {
        let version = i as i64 + 1;
        if version <= found {
            continue;
        }
        for statement in migration(d) {
            db.execute_batch(&statement).await?;
        }
        let mut insert = format!("INSERT INTO {version_table} (version) VALUES (");
        d.placeholder(&mut insert, 1);
        insert.push(')');
        db.execute(&insert, &[Value::Int(version)]).await?;
        tracing::info!(version, "system database migrated");
    }
    Ok(CURRENT.max(found))
}
