//! Queries on `percore_user`. Every value is bound; the SQL differs between databases only
//! through the dialect's quoting and placeholders.

use percore_connector::{DbError, Value};

use super::rows::unix_now;
use crate::services::AnyDb;

pub struct NewUser<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    /// The display name; `first_name last_name` when absent.
    pub name: Option<&'a str>,
    pub is_sys_admin: bool,
    pub role_id: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub password_hash: Option<String>,
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub is_sys_admin: bool,
    pub is_active: bool,
    pub role_id: Option<i64>,
    pub last_login_date: Option<i64>,
}

const COLUMNS: [&str; 10] = [
    "id",
    "email",
    "password_hash",
    "name",
    "first_name",
    "last_name",
    "is_sys_admin",
    "is_active",
    "role_id",
    "last_login_date",
];

/// `SELECT cols FROM percore_user WHERE col = $1`.
fn select_by(db: &AnyDb, column: &str) -> String {
    let d = db.dialect();
    let mut sql = String::from("SELECT ");
    for (i, c) in COLUMNS.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        d.quote_ident(&mut sql, c);
    }
    sql.push_str(" FROM ");
    d.quote_ident(&mut sql, "percore_user");
    sql.push_str(" WHERE ");
    d.quote_ident(&mut sql, column);
    sql.push_str(" = ");
    d.placeholder(&mut sql, 1);
    sql
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Text(s) => Some(s.clone()),
        _ => None,
    }
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Text(s) => s.parse().ok(),
        _ => None,
    }
}

fn flag(v: &Value) -> bool {
    matches!(v, Value::Bool(true)) || matches!(v, Value::Int(1))
}

fn user(row: &[Value]) -> User {
    User {
        id: int(&row[0]).unwrap_or(0),
        email: text(&row[1]).unwrap_or_default(),
        password_hash: text(&row[2]),
        name: text(&row[3]),
        first_name: text(&row[4]),
        last_name: text(&row[5]),
        is_sys_admin: flag(&row[6]),
        is_active: flag(&row[7]),
        role_id: int(&row[8]),
        last_login_date: int(&row[9]),
    }
}

/// Email lookup is case-insensitive: stored lower-cased, looked up lower-cased.
pub async fn by_email(db: &AnyDb, email: &str) -> Result<Option<User>, DbError> {
    let rows = db
        .query(
            &select_by(db, "email"),
            &[Value::Text(email.trim().to_lowercase())],
        )
        .await?;
    Ok(rows.rows.first().map(|r| user(r)))
}

pub async fn by_id(db: &AnyDb, id: i64) -> Result<Option<User>, DbError> {
    let rows = db.query(&select_by(db, "id"), &[Value::Int(id)]).await?;
    Ok(rows.rows.first().map(|r| user(r)))
}

pub async fn count_admins(db: &AnyDb) -> Result<i64, DbError> {
    let d = db.dialect();
    let mut sql = String::from("SELECT COUNT(*) FROM ");
    d.quote_ident(&mut sql, "percore_user");
    sql.push_str(" WHERE ");
    d.quote_ident(&mut sql, "is_sys_admin");
    sql.push_str(" = ");
    d.placeholder(&mut sql, 1);
    let rows = db.query(&sql, &[Value::Bool(true)]).await?;
    Ok(rows
        .rows
        .first()
        .and_then(|r| r.first())
        .and_then(int)
        .unwrap_or(0))
}

pub async fn create(db: &AnyDb, u: &NewUser<'_>) -> Result<i64, DbError> {
    let d = db.dialect();
    let cols = [
        "email",
        "password_hash",
        "name",
        "first_name",
        "last_name",
        "is_sys_admin",
        "is_active",
        "role_id",
        "created_date",
    ];
    let mut sql = String::from("INSERT INTO ");
    d.quote_ident(&mut sql, "percore_user");
    sql.push_str(" (");
    for (i, c) in cols.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        d.quote_ident(&mut sql, c);
    }
    sql.push_str(") VALUES (");
    for i in 1..=cols.len() {
        if i > 1 {
            sql.push_str(", ");
        }
        d.placeholder(&mut sql, i);
    }
    sql.push(')');
    let name = match u.name {
        Some(n) => n.to_string(),
        None => format!("{} {}", u.first_name, u.last_name)
            .trim()
            .to_string(),
    };
    let values = [
        Value::Text(u.email.trim().to_lowercase()),
        Value::Text(u.password_hash.to_string()),
        Value::Text(name),
        Value::Text(u.first_name.to_string()),
        Value::Text(u.last_name.to_string()),
        Value::Bool(u.is_sys_admin),
        Value::Bool(true),
        u.role_id.map_or(Value::Null, Value::Int),
        Value::Int(unix_now()),
    ];
    let done = db.execute(&sql, &values).await?;
    match done.last_insert_id {
        Some(id) => Ok(id),
        None => Ok(by_email(db, u.email).await?.map_or(0, |u| u.id)),
    }
}

pub async fn touch_login(db: &AnyDb, id: i64) -> Result<i64, DbError> {
    let d = db.dialect();
    let now = unix_now();
    let mut sql = String::from("UPDATE ");
    d.quote_ident(&mut sql, "percore_user");
    sql.push_str(" SET ");
    d.quote_ident(&mut sql, "last_login_date");
    sql.push_str(" = ");
    d.placeholder(&mut sql, 1);
    sql.push_str(" WHERE ");
    d.quote_ident(&mut sql, "id");
    sql.push_str(" = ");
    d.placeholder(&mut sql, 2);
    db.execute(&sql, &[Value::Int(now), Value::Int(id)]).await?;
    Ok(now)
}

/// `UPDATE percore_user SET col = $1, ... WHERE id = $n` for the given columns; the names are
/// the caller's constants, the values are bound. (No "was a row changed" answer: MySQL counts
/// rows whose values did not change as unaffected.)
async fn update(db: &AnyDb, id: i64, changes: Vec<(&str, Value)>) -> Result<(), DbError> {
    if changes.is_empty() {
        return Ok(());
    }
    let d = db.dialect();
    let mut sql = String::from("UPDATE ");
    d.quote_ident(&mut sql, "percore_user");
    sql.push_str(" SET ");
    let mut values = Vec::with_capacity(changes.len() + 1);
    for (i, (column, value)) in changes.into_iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        d.quote_ident(&mut sql, column);
        sql.push_str(" = ");
        d.placeholder(&mut sql, i + 1);
        values.push(value);
    }
    sql.push_str(" WHERE ");
    d.quote_ident(&mut sql, "id");
    sql.push_str(" = ");
    d.placeholder(&mut sql, values.len() + 1);
    values.push(Value::Int(id));
    db.execute(&sql, &values).await.map(|_| ())
}

/// What a user may change about themselves (DreamFactory's profile); `None` leaves a field.
#[derive(Debug, Default)]
pub struct ProfileChange {
    pub email: Option<String>,
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

pub async fn update_profile(db: &AnyDb, id: i64, p: ProfileChange) -> Result<(), DbError> {
    let mut changes = Vec::new();
    if let Some(email) = p.email {
        changes.push(("email", Value::Text(email.trim().to_lowercase())));
    }
    for (column, value) in [
        ("name", p.name),
        ("first_name", p.first_name),
        ("last_name", p.last_name),
    ] {
        if let Some(v) = value {
            changes.push((column, Value::Text(v)));
        }
    }
    update(db, id, changes).await
}

pub async fn set_password_hash(db: &AnyDb, id: i64, hash: &str) -> Result<(), DbError> {
    update(
        db,
        id,
        vec![("password_hash", Value::Text(hash.to_string()))],
    )
    .await
}
