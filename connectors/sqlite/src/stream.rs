//! `query_stream`: a blocking producer steps the statement on its own leased connection and
//! sends rows in batches through a bounded channel, so at most `CHANNEL_BATCHES + 1` batches of
//! a million-row result exist at once.
//!
//! The statement deadline covers time inside SQLite only: it is re-armed after each batch is
//! accepted, so a slow client is not mistaken for a slow query. Dropping the stream interrupts
//! the statement through the connection's [`Control`](crate::conn::Control) (the producer may
//! be deep in a sort, not waiting on the channel) and the lease goes home as usual.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use percore_connector::{DbError, Row, RowStream, Value};
use tokio::sync::{mpsc, oneshot};

use crate::conn::{CancelOnDrop, Conn, Role};
use crate::error::{classify, internal};
use crate::exec::{columns, prepare, read_row};
use crate::pool::{spawn_blocking, Lease};

const BATCH_ROWS: usize = 256;
const CHANNEL_BATCHES: usize = 2;

enum Msg {
    Rows(Vec<Row>),
    Failed(DbError),
    End,
}

/// What the producer reports before the first row.
enum Header {
    Columns(Vec<String>),
    /// The statement writes; rerun it on the writer.
    NeedsWriter,
}

/// Starts streaming on `lease`; `Ok(None)` when the statement must go to the writer instead.
pub(crate) async fn start(
    lease: Lease,
    sql: Arc<str>,
    params: Arc<[Value]>,
    timeout: Duration,
) -> Result<Option<RowStream>, DbError> {
    let cancel = CancelOnDrop::new(lease.conn());
    let (header_tx, header_rx) = oneshot::channel();
    let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
    let read_only = lease.role() == Role::Read;
    // Not awaited: the producer outlives this call and reports through the channels. A panic
    // in it closes the channel without `End`, which the stream reports as an error.
    drop(spawn_blocking(move || {
        produce(lease, &sql, &params, read_only, timeout, header_tx, tx)
    }));
    let header = header_rx
        .await
        .map_err(|_| internal("The SQLite worker failed before the first row."))??;
    match header {
        Header::NeedsWriter => {
            cancel.disarm();
            Ok(None)
        }
        Header::Columns(names) => Ok(Some(RowStream {
            columns: names.into(),
            rows: Box::pin(Batches {
                rx,
                current: Vec::new().into_iter(),
                finished: false,
                _cancel: cancel,
            }),
        })),
    }
}

fn produce(
    mut lease: Lease,
    sql: &str,
    params: &[Value],
    read_only: bool,
    timeout: Duration,
    header: oneshot::Sender<Result<Header, DbError>>,
    tx: mpsc::Sender<Msg>,
) {
    let mut header = Some(header);
    let result = lease.run(timeout, |conn| {
        step_all(conn, sql, params, read_only, timeout, &mut header, &tx)
    });
    if let Err(e) = result {
        // Before the header the caller is waiting on the oneshot; after it, on the channel.
        match header.take() {
            Some(h) => drop(h.send(Err(e))),
            None => drop(tx.blocking_send(Msg::Failed(e))),
        }
    }
    // `lease` drops here, on this blocking thread: the connection goes home.
}

fn step_all(
    conn: &Conn,
    sql: &str,
    params: &[Value],
    read_only: bool,
    timeout: Duration,
    header: &mut Option<oneshot::Sender<Result<Header, DbError>>>,
    tx: &mpsc::Sender<Msg>,
) -> Result<(), DbError> {
    let mut stmt = prepare(conn, sql, params)?;
    if read_only && !stmt.readonly() {
        if let Some(h) = header.take() {
            let _ = h.send(Ok(Header::NeedsWriter));
        }
        return Ok(());
    }
    let (names, kinds) = columns(&stmt);
    if let Some(h) = header.take() {
        if h.send(Ok(Header::Columns(names))).is_err() {
            return Ok(());
        }
    }
    let mut rows = stmt.raw_query();
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    while let Some(row) = rows.next().map_err(classify)? {
        batch.push(read_row(row, &kinds)?);
        if batch.len() == BATCH_ROWS {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ROWS));
            conn.ctl.disarm();
            if tx.blocking_send(Msg::Rows(full)).is_err() {
                return Ok(()); // the stream was dropped
            }
            conn.ctl.arm(timeout);
        }
    }
    if !batch.is_empty() && tx.blocking_send(Msg::Rows(batch)).is_err() {
        return Ok(());
    }
    let _ = tx.blocking_send(Msg::End);
    Ok(())
}

struct Batches {
    rx: mpsc::Receiver<Msg>,
    current: std::vec::IntoIter<Row>,
    finished: bool,
    /// Interrupts the producer's statement when the stream is dropped early.
    _cancel: CancelOnDrop,
}

impl Stream for Batches {
    type Item = Result<Row, DbError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(row) = this.current.next() {
                return Poll::Ready(Some(Ok(row)));
            }
            if this.finished {
                return Poll::Ready(None);
            }
            match std::task::ready!(this.rx.poll_recv(cx)) {
                Some(Msg::Rows(rows)) => this.current = rows.into_iter(),
                Some(Msg::End) => this.finished = true,
                Some(Msg::Failed(e)) => {
                    this.finished = true;
                    return Poll::Ready(Some(Err(e)));
                }
                None => {
                    this.finished = true;
                    return Poll::Ready(Some(Err(internal(
                        "The SQLite worker stopped before the end of the result.",
                    ))));
                }
            }
        }
    }
}
