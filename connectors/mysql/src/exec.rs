//! Running one statement on a pooled connection under the statement timeout.
//!
//! Statements with parameters go through the binary protocol (`exec_*`), which prepares them
//! once per connection and keeps them in the driver's per-connection LRU keyed by SQL text.
//! The server-side timeout set at connect normally ends a slow statement first, with an error
//! that leaves the connection usable; the client-side timer here is the backstop (MySQL's
//! timeout skips non-SELECT statements, and a stalled network answers nothing at all). When
//! it fires the connection is abandoned and the statement killed from a side connection.

use std::rc::Rc;
use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts};
use percore_connector::{Columns, DbError, Executed, Rows, Value};
use tokio::time::timeout;

use crate::convert::{to_params, Decoder};
use crate::error::{classify, connection_lost};
use crate::pool::{JsonColumns, PooledConn};

/// Extra time the client grants beyond the statement timeout, so the server's own timeout,
/// which keeps the connection, normally wins.
const GRACE: Duration = Duration::from_millis(500);

/// A zero statement timeout means none; a year stands in for "never" (tokio's timers take
/// any duration, but `Instant` arithmetic does not).
const NEVER: Duration = Duration::from_secs(365 * 24 * 3600);

pub(crate) fn client_limit(statement_timeout: Duration) -> Duration {
    if statement_timeout.is_zero() {
        NEVER
    } else {
        statement_timeout + GRACE
    }
}

/// Runs `work` on the connection under the client-side limit, and settles the connection's
/// state from the outcome.
async fn timed<T>(
    pc: &mut PooledConn,
    limit: Duration,
    work: impl AsyncFnOnce(&mut Conn) -> Result<T, mysql_async::Error>,
) -> Result<T, DbError> {
    if pc.unusable() {
        return Err(DbError::unavailable("The database connection was lost."));
    }
    pc.busy = true;
    match timeout(limit, work(pc.conn())).await {
        Ok(Ok(value)) => {
            pc.settle();
            Ok(value)
        }
        Ok(Err(err)) => {
            pc.settle();
            if connection_lost(&err) {
                pc.mark_broken(&err);
            }
            Err(classify(&err))
        }
        // `busy` stays set: the guard kills the statement and discards the connection when
        // it drops.
        Err(_) => Err(DbError::timeout()),
    }
}

pub(crate) async fn query(
    pc: &mut PooledConn,
    limit: Duration,
    sql: &str,
    params: &[Value],
) -> Result<Rows, DbError> {
    let params = to_params(params)?;
    let (meta, rows) = timed(pc, limit, async move |conn: &mut Conn| {
        let mut result = conn.exec_iter(sql, params).await?;
        let meta = result.columns().unwrap_or_else(|| Vec::new().into());
        let rows: Vec<mysql_async::Row> = result.collect().await?;
        // A procedure call can return more result sets; only the first is the answer.
        result.drop_result().await?;
        Ok((meta, rows))
    })
    .await?;
    let (columns, decoders) = describe_columns(&meta, &pc.json_columns());
    let rows = rows
        .into_iter()
        .map(|row| decode_row(&decoders, row))
        .collect();
    Ok(Rows { columns, rows })
}

pub(crate) async fn execute(
    pc: &mut PooledConn,
    limit: Duration,
    sql: &str,
    params: &[Value],
) -> Result<Executed, DbError> {
    let params = to_params(params)?;
    timed(pc, limit, async move |conn: &mut Conn| {
        conn.exec_drop(sql, params).await?;
        Ok(Executed {
            affected: conn.affected_rows(),
            last_insert_id: conn
                .last_insert_id()
                .filter(|&id| id != 0)
                .and_then(|id| i64::try_from(id).ok()),
        })
    })
    .await
}

/// Parameterless statements through the text protocol: DDL, and transaction control, which
/// is not worth a prepared statement.
pub(crate) async fn batch(pc: &mut PooledConn, limit: Duration, sql: &str) -> Result<(), DbError> {
    timed(pc, limit, async |conn: &mut Conn| {
        // Several `;`-separated statements arrive as several results; each must be read, and
        // an error in any one stops the batch.
        let result = conn.query_iter(sql).await?;
        result.drop_result().await
    })
    .await
}

pub(crate) fn describe_columns(
    meta: &[mysql_async::Column],
    json: &JsonColumns,
) -> (Columns, Rc<[Decoder]>) {
    let columns: Columns = meta.iter().map(|c| c.name_str().into_owned()).collect();
    let json = json.borrow();
    let decoders = meta
        .iter()
        .map(|c| match Decoder::for_column(c) {
            Decoder::Text if !json.is_empty() => {
                let key = (
                    c.org_table_str().into_owned(),
                    c.org_name_str().into_owned(),
                );
                if json.contains(&key) {
                    Decoder::Json
                } else {
                    Decoder::Text
                }
            }
            decoder => decoder,
        })
        .collect();
    (columns, decoders)
}

pub(crate) fn decode_row(decoders: &[Decoder], row: mysql_async::Row) -> Vec<Value> {
    row.unwrap()
        .into_iter()
        .zip(decoders)
        .map(|(value, decoder)| decoder.decode(value))
        .collect()
}

/// Ends a statement still running for an abandoned connection, from a short-lived side
/// connection, so the server stops working for nobody (and releases its locks). Best effort.
pub(crate) fn kill_query(opts: &Opts, connect_timeout: Duration, id: u32) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let opts = opts.clone();
    runtime.spawn(async move {
        let kill = async {
            let mut conn = Conn::new(opts).await?;
            conn.query_drop(format!("KILL QUERY {id}")).await?;
            conn.disconnect().await
        };
        if let Ok(Err(err)) = timeout(connect_timeout, kill).await {
            tracing::debug!(error = %err, "KILL QUERY failed");
        }
    });
}
