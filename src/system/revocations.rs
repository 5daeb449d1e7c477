//! Logged-out sessions, kept in the system database so a logout holds on every instance that
//! shares it and across restarts. Rows outlive their token's refresh window only until the next
//! prune.

use std::collections::HashSet;

use percore_connector::{DbError, Value};

use super::rows::{quoted, unix_now};
use crate::services::AnyDb;

fn table(db: &AnyDb) -> String {
    quoted(db, "percore_revoked_token")
}

/// Records `jti` as revoked until `until` (unix seconds). Revoking twice is not an error.
pub async fn revoke(db: &AnyDb, jti: &str, until: i64) -> Result<(), DbError> {
    let d = db.dialect();
    let mut sql = format!("INSERT INTO {} (", table(db));
    d.quote_ident(&mut sql, "jti");
    sql.push_str(", ");
    d.quote_ident(&mut sql, "expires_at");
    sql.push_str(") VALUES (");
    d.placeholder(&mut sql, 1);
    sql.push_str(", ");
    d.placeholder(&mut sql, 2);
    sql.push(')');
    match db
        .execute(&sql, &[Value::Text(jti.to_string()), Value::Int(until)])
        .await
    {
        Err(e) if e.kind == percore_connector::ErrorKind::Constraint => Ok(()),
        other => other.map(|_| ()),
    }
}

/// The revocations still in force; expired ones are pruned on the way.
pub async fn active(db: &AnyDb) -> Result<HashSet<String>, DbError> {
    let d = db.dialect();
    let now = Value::Int(unix_now());
    let mut prune = format!("DELETE FROM {} WHERE ", table(db));
    d.quote_ident(&mut prune, "expires_at");
    prune.push_str(" < ");
    d.placeholder(&mut prune, 1);
    db.execute(&prune, std::slice::from_ref(&now)).await?;
    let mut sql = String::from("SELECT ");
    d.quote_ident(&mut sql, "jti");
    sql.push_str(&format!(" FROM {}", table(db)));
    let rows = db.query(&sql, &[]).await?;
    Ok(rows
        .rows
        .into_iter()
        .filter_map(|r| match r.into_iter().next() {
            Some(Value::Text(t)) => Some(t),
            _ => None,
        })
        .collect())
}
