//! The system database's schema, as versioned migrations written through the connector's
//! dialect so one definition serves SQLite, PostgreSQL and MySQL. Each migration runs once; the
//! version row records how far a database has come, and an instance refuses to run against a
//! database newer than it understands.

use percore_connector::{ColumnType, Dialect, Value};

use crate::services::AnyDb;

/// The schema version this build writes and understands.
pub const CURRENT: i64 = 2;

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error("the system database is at schema version {found}, newer than this percore understands ({CURRENT}); upgrade percore")]
    TooNew { found: i64 },
    #[error("system database: {0}")]
    Db(#[from] percore_connector::DbError),
}

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
    let migrations: [fn(&dyn Dialect) -> Vec<String>; 2] = [v1, v2];
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
