//! Streaming a result row by row in bounded memory.
//!
//! A producer task on the core's `LocalSet` owns a pooled connection and the open result, and
//! sends rows through a bounded channel: when the consumer is slow the producer waits, the
//! socket buffer fills, and the server pauses. Rows go one by one, so the first is on its way
//! as soon as it arrives; batching happens by itself, because the producer decodes everything
//! already buffered from the socket before it yields, and the consumer then takes the whole
//! run in one wake-up. Dropping the stream closes the channel; the producer notices at once
//! (even while waiting on the server), abandons the connection and kills the statement rather
//! than reading the rest of a large result.

use std::rc::Rc;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use mysql_async::prelude::Queryable;
use percore_connector::{Columns, DbError, ErrorKind, Row, RowStream, Value};
use tokio::sync::{mpsc, oneshot};
use tokio::time::timeout;

use crate::convert::{to_params, Decoder};
use crate::error::{classify, connection_lost};
use crate::exec::{decode_row, describe_columns};
use crate::pool::PooledConn;

/// Rows in flight between producer and consumer: the memory bound, besides socket buffers.
const DEPTH: usize = 1024;

/// Why a stream did not start, and whether it failed on a reused connection that went stale
/// (so the caller may retry on a fresh one).
pub(crate) struct StartError {
    pub(crate) error: DbError,
    pub(crate) stale: bool,
}

impl From<DbError> for StartError {
    fn from(error: DbError) -> Self {
        StartError {
            error,
            stale: false,
        }
    }
}

/// How the producer left the result.
enum Outcome {
    /// Read to its end (possibly ending in a server error): the connection is reusable.
    Finished,
    /// The consumer went away with rows unread.
    Abandoned,
    /// The connection failed.
    Broken(mysql_async::Error),
}

/// Starts the statement and returns once its columns are known; rows follow as they come.
/// `limit` bounds the wait for the first answer; the statement's total run time is bounded
/// by the server-side timeout set on the connection.
pub(crate) async fn start(
    mut pc: PooledConn,
    limit: Duration,
    sql: String,
    params: &[Value],
) -> Result<RowStream, StartError> {
    let params = to_params(params)?;
    if pc.unusable() {
        return Err(DbError::unavailable("The database connection was lost.").into());
    }
    let (head_tx, head_rx) = oneshot::channel::<Result<Columns, StartError>>();
    let (tx, rx) = mpsc::channel::<Result<Row, DbError>>(DEPTH);
    tokio::task::spawn_local(async move {
        pc.busy = true;
        let json = pc.json_columns();
        let opened = {
            let conn = pc.conn();
            timeout(limit, conn.exec_iter(sql.as_str(), params)).await
        };
        let result = match opened {
            Ok(Ok(result)) => result,
            Ok(Err(err)) => {
                pc.settle();
                if connection_lost(&err) {
                    pc.mark_broken(&err);
                }
                let error = classify(&err);
                let _ = head_tx.send(Err(StartError {
                    error,
                    stale: pc.went_stale(),
                }));
                return;
            }
            Err(_) => {
                let _ = head_tx.send(Err(DbError::timeout().into()));
                return;
            }
        };
        let meta = result.columns().unwrap_or_else(|| Vec::new().into());
        let (columns, decoders) = describe_columns(&meta, &json);
        if head_tx.send(Ok(columns)).is_err() {
            return;
        }
        match produce(result, &decoders, &tx).await {
            Outcome::Finished => pc.settle(),
            Outcome::Broken(err) => {
                pc.settle();
                pc.mark_broken(&err);
            }
            // `busy` stays set, so the guard kills the statement and closes the connection
            // instead of draining the rest of the result.
            Outcome::Abandoned => {}
        }
    });
    match head_rx.await {
        Ok(Ok(columns)) => Ok(RowStream {
            columns,
            rows: stream::unfold(rx, |mut rx| async move { Some((rx.recv().await?, rx)) })
                .boxed_local(),
        }),
        Ok(Err(err)) => Err(err),
        Err(_) => Err(DbError::new(ErrorKind::Internal, "The database stream ended early.").into()),
    }
}

/// Reads the result into the channel.
async fn produce(
    mut result: mysql_async::QueryResult<'_, 'static, mysql_async::BinaryProtocol>,
    decoders: &Rc<[Decoder]>,
    tx: &mpsc::Sender<Result<Row, DbError>>,
) -> Outcome {
    loop {
        let next = tokio::select! {
            biased;
            _ = tx.closed() => return Outcome::Abandoned,
            next = result.next() => next,
        };
        match next {
            Ok(Some(row)) => {
                if tx.send(Ok(decode_row(decoders, row))).await.is_err() {
                    return Outcome::Abandoned;
                }
            }
            Ok(None) => {
                // Further result sets (procedure calls) are drained, not streamed.
                return match result.drop_result().await {
                    Err(err) if connection_lost(&err) => Outcome::Broken(err),
                    _ => Outcome::Finished,
                };
            }
            Err(err) => {
                let _ = tx.send(Err(classify(&err))).await;
                return if connection_lost(&err) {
                    Outcome::Broken(err)
                } else {
                    Outcome::Finished
                };
            }
        }
    }
}
