//! Streamed reads: a producer task on the core owns an exclusive connection and feeds decoded
//! rows, in small batches, through a bounded channel. Memory stays bounded whatever the result
//! size: when the reader is slow, the channel fills, the producer stops reading the socket and
//! the server waits on TCP backpressure.

use std::pin::{pin, Pin};
use std::rc::Rc;
use std::time::Duration;

use futures_util::{stream, StreamExt};
use percore_connector::{DbError, Row, RowStream, Value};
use tokio::sync::mpsc;

use crate::conn::{self, Prepared};
use crate::decode;
use crate::pool::{Lease, Pool};

/// Rows per channel message: amortises the channel's cost without holding much.
const BATCH: usize = 64;
/// Batches in flight between producer and reader.
const DEPTH: usize = 4;

type Batch = Result<Vec<Row>, DbError>;

pub(crate) async fn query_stream(
    pool: &Rc<Pool>,
    sql: String,
    params: Vec<Value>,
) -> Result<RowStream, DbError> {
    let lease = pool.exclusive().await?;
    let (prepared, rows) = lease.conn().start(&sql, &params).await?;
    let columns = prepared.columns.clone();
    let (tx, rx) = mpsc::channel(DEPTH);
    tokio::task::spawn_local(produce(lease, prepared, rows, tx));
    Ok(RowStream {
        columns,
        rows: rows_of(rx).boxed_local(),
    })
}

async fn produce(
    lease: Lease,
    prepared: Rc<Prepared>,
    rows: tokio_postgres::RowStream,
    tx: mpsc::Sender<Batch>,
) {
    let conn = lease.conn();
    let mut rows = pin!(rows);
    let mut batch = Vec::with_capacity(BATCH);
    // Only the wait for the first row is timed here: after it, the server's statement timeout
    // covers the rest, and a slow reader is not the database's fault.
    let mut limit = conn.limit();
    loop {
        let item = tokio::select! {
            // The reader dropped the stream mid-result: stop the server rather than let it send
            // the remaining rows to a connection that would discard them.
            _ = tx.closed() => {
                conn.abandon();
                return;
            }
            item = next_row(rows.as_mut(), limit) => item,
        };
        limit = None;
        let row = match item {
            Err(error) => {
                conn.abandon();
                let _ = tx.send(Err(error)).await;
                return;
            }
            Ok(None) => {
                if !batch.is_empty() {
                    let _ = tx.send(Ok(batch)).await;
                }
                return;
            }
            // The server ended the query with this error; the connection stays usable.
            Ok(Some(Err(e))) => Err((conn::stream_error(conn, &e), false)),
            // Rows keep coming after a value we cannot decode: stop them.
            Ok(Some(Ok(row))) => {
                decode::decode_row(&row, &prepared.decoders).map_err(|e| (e, true))
            }
        };
        match row {
            Ok(row) => batch.push(row),
            Err((error, stop_server)) => {
                if stop_server {
                    conn.abandon();
                }
                // The rows before the error were good: deliver them, then the error.
                if !batch.is_empty() && tx.send(Ok(std::mem::take(&mut batch))).await.is_err() {
                    return;
                }
                let _ = tx.send(Err(error)).await;
                return;
            }
        }
        if batch.len() == BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            if tx.send(Ok(full)).await.is_err() {
                conn.abandon();
                return;
            }
        }
    }
}

type Next = Option<Result<tokio_postgres::Row, tokio_postgres::Error>>;

async fn next_row(
    rows: Pin<&mut tokio_postgres::RowStream>,
    limit: Option<Duration>,
) -> Result<Next, DbError> {
    let mut rows = rows;
    match limit {
        None => Ok(rows.next().await),
        Some(limit) => tokio::time::timeout(limit, rows.next())
            .await
            .map_err(|_| DbError::timeout()),
    }
}

/// The reader's side: batches flattened back into rows; ends after an error.
fn rows_of(rx: mpsc::Receiver<Batch>) -> impl futures_util::Stream<Item = Result<Row, DbError>> {
    stream::unfold(
        (rx, Vec::new().into_iter()),
        |(mut rx, mut current)| async move {
            loop {
                if let Some(row) = current.next() {
                    return Some((Ok(row), (rx, current)));
                }
                match rx.recv().await? {
                    Ok(batch) => current = batch.into_iter(),
                    Err(error) => {
                        rx.close();
                        return Some((Err(error), (rx, Vec::new().into_iter())));
                    }
                }
            }
        },
    )
}
