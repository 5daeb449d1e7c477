//! Seeding through a percore/DreamFactory database service: `_schema` to
//! create the table, then batched POSTs of records to `_table/contact`.

use super::data::{Contact, Rows};
use crate::blocking::{self, Response};
use crate::error::{Error, Result};
use crate::target::Url;
use serde_json::{json, Value};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(120);

pub struct HttpSeed<'a> {
    pub base: &'a Url,
    pub service: &'a str,
    pub table: &'a str,
    pub headers: &'a [(String, String)],
}

impl HttpSeed<'_> {
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Response> {
        let url = Url::parse(&format!(
            "{}/api/v2/{}{path}",
            self.base.base(),
            self.service
        ))?;
        let body = body.map(|b| b.to_string().into_bytes());
        blocking::request(method, &url, self.headers, body.as_deref(), TIMEOUT)
    }

    fn expect_ok(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Response> {
        let r = self.call(method, path, body)?;
        if r.status / 100 != 2 {
            return Err(Error::Http(format!(
                "{method} {path}: {} {}",
                r.status,
                r.text()
            )));
        }
        Ok(r)
    }

    /// Current row count, or `None` when the table does not exist.
    fn count(&self) -> Result<Option<u64>> {
        let r = self.call(
            "GET",
            &format!("/_table/{}?count_only=true", self.table),
            None,
        )?;
        if r.status / 100 != 2 {
            return Ok(None);
        }
        let v: Value = r.json().unwrap_or(Value::Null);
        Ok(v.as_u64()
            .or_else(|| v.get("count").and_then(Value::as_u64))
            .or_else(|| v.pointer("/meta/count").and_then(Value::as_u64))
            .or(Some(0)))
    }

    /// Creates and fills the table unless it already has `rows` rows.
    pub fn seed(&self, rows: u64, batch: usize) -> Result<bool> {
        match self.count()? {
            Some(n) if n == rows => return Ok(false),
            Some(_) => {
                self.expect_ok("DELETE", &format!("/_schema/{}", self.table), None)?;
            }
            None => {}
        }
        self.expect_ok("POST", "/_schema", Some(&schema(self.table)))?;
        let mut gen = Rows::new();
        let mut left = rows;
        while left > 0 {
            let n = left.min(batch as u64) as usize;
            let records: Vec<Value> = gen.by_ref().take(n).map(|c| record(&c)).collect();
            self.expect_ok(
                "POST",
                &format!("/_table/{}", self.table),
                Some(&json!({ "resource": records })),
            )?;
            left -= n as u64;
        }
        match self.count()? {
            Some(n) if n == rows => Ok(true),
            other => Err(Error::Http(format!(
                "after seeding the table reports {other:?} rows, expected {rows}"
            ))),
        }
    }
}

fn schema(table: &str) -> Value {
    let string = |name: &str, len: u32, index: bool| json!({"name": name, "type": "string", "length": len, "allow_null": false, "is_index": index});
    json!({"resource": [{
        "name": table,
        "label": "Contact",
        "field": [
            {"name": "id", "type": "id"},
            string("first_name", 64, false),
            string("last_name", 64, true),
            string("email", 128, false),
            string("city", 64, true),
            {"name": "age", "type": "integer", "allow_null": false},
            {"name": "score", "type": "double", "allow_null": false},
            {"name": "created_at", "type": "timestamp", "allow_null": false},
            {"name": "notes", "type": "text", "allow_null": true}
        ]
    }]})
}

fn record(c: &Contact) -> Value {
    json!({
        "first_name": c.first_name, "last_name": c.last_name, "email": c.email, "city": c.city,
        "age": c.age, "score": c.score, "created_at": c.created_at, "notes": c.notes
    })
}
