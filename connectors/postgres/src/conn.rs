//! One connection: the tokio-postgres client, its statement cache, and the timeout and
//! error handling every statement goes through.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::time::Duration;

use futures_util::{FutureExt, TryStreamExt};
use percore_connector::{Columns, DbError, Row, Rows, Value};
use tokio_postgres::{Client, NoTls, Statement};

use crate::decode::{self, Dec};
use crate::encode;
use crate::error::{self, Failure};

/// Statements cached per connection before the cache is emptied. The API builds SQL from a
/// small set of shapes, so a busy service stays far below this; dynamic filters do not grow
/// server memory without bound.
const STATEMENT_CACHE: usize = 512;

/// Extra time the client-side timer grants beyond the server's `statement_timeout`, so the
/// server's cancel (a clean error, connection kept) normally wins.
const TIMER_SLACK: Duration = Duration::from_secs(1);

/// A prepared statement with what every execution needs, computed once.
pub(crate) struct Prepared {
    pub statement: Statement,
    pub columns: Columns,
    pub decoders: Vec<Dec>,
}

pub(crate) struct Conn {
    client: Client,
    statements: RefCell<HashMap<String, Rc<Prepared>>>,
    /// Set when an error or a timeout leaves the connection unfit; it is then dropped from
    /// the pool and closes once its last in-flight user lets go.
    broken: Cell<bool>,
    /// Client-side limit on one statement; `None` when the statement timeout is disabled.
    limit: Option<Duration>,
}

/// Opens a connection and prepares its session, all within `connect_timeout`.
pub(crate) async fn connect(
    pg: &tokio_postgres::Config,
    init_sql: &str,
    config: &crate::Config,
) -> Result<Rc<Conn>, DbError> {
    let opening = async {
        // TLS would plug in here: `pg.connect(tls)` with a `MakeTlsConnect`; the rest is the same.
        let (client, connection) = pg
            .connect(NoTls)
            .await
            .map_err(|e| error::connect_error(&e))?;
        // The connection future does the socket I/O for every request; it ends when the client
        // is dropped or the server goes away, after which `client.is_closed()` is true.
        tokio::task::spawn_local(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "postgres connection ended");
            }
        });
        client
            .batch_execute(init_sql)
            .await
            .map_err(|e| error::connect_error(&e))?;
        Ok(client)
    };
    let client = match tokio::time::timeout(config.connect_timeout, opening).await {
        Ok(result) => result?,
        Err(_) => {
            return Err(DbError::unavailable(
                "The database is unavailable: connect timed out.",
            ))
        }
    };
    let limit =
        (!config.statement_timeout.is_zero()).then(|| config.statement_timeout + TIMER_SLACK);
    Ok(Rc::new(Conn {
        client,
        statements: RefCell::new(HashMap::new()),
        broken: Cell::new(false),
        limit,
    }))
}

impl Conn {
    pub fn usable(&self) -> bool {
        !self.broken.get() && !self.client.is_closed()
    }

    pub fn mark_broken(&self) {
        self.broken.set(true);
    }

    pub fn limit(&self) -> Option<Duration> {
        self.limit
    }

    /// Rows of a query. `retry` allows one re-prepare after a stale cached plan; it must be
    /// false inside a transaction, which the failed attempt has already aborted.
    pub async fn query(&self, sql: &str, params: &[Value], retry: bool) -> Result<Rows, DbError> {
        self.retrying(sql, retry, || async move {
            let (prepared, stream) = self.rows(sql, params).await?;
            let mut stream = pin!(stream);
            let mut rows: Vec<Row> = Vec::new();
            while let Some(row) = stream.try_next().await? {
                rows.push(decode::decode_row(&row, &prepared.decoders).map_err(Attempt::Input)?);
            }
            Ok(Rows {
                columns: prepared.columns.clone(),
                rows,
            })
        })
        .await
    }

    pub async fn execute(&self, sql: &str, params: &[Value], retry: bool) -> Result<u64, DbError> {
        self.retrying(sql, retry, || async move {
            let prepared = self.prepared(sql).await?;
            let bound =
                encode::bind_all(params, prepared.statement.params()).map_err(Attempt::Input)?;
            Ok(self
                .client
                .execute_raw(&prepared.statement, bound.iter())
                .await?)
        })
        .await
    }

    /// Starts a query and hands back its row stream; the first row is the caller's to await.
    pub async fn start(
        &self,
        sql: &str,
        params: &[Value],
    ) -> Result<(Rc<Prepared>, tokio_postgres::RowStream), DbError> {
        self.retrying(sql, true, || self.rows(sql, params)).await
    }

    async fn rows(
        &self,
        sql: &str,
        params: &[Value],
    ) -> Result<(Rc<Prepared>, tokio_postgres::RowStream), Attempt> {
        let prepared = self.prepared(sql).await?;
        let bound =
            encode::bind_all(params, prepared.statement.params()).map_err(Attempt::Input)?;
        let stream = self
            .client
            .query_raw(&prepared.statement, bound.iter())
            .await?;
        Ok((prepared, stream))
    }

    /// Parameterless statements (DDL, BEGIN/COMMIT), through the simple-query protocol.
    pub async fn batch(&self, sql: &str) -> Result<(), DbError> {
        let result = self
            .timed(async { self.client.batch_execute(sql).await.map_err(Attempt::Pg) })
            .await;
        result.map_err(|attempt| self.settle(attempt, sql).error)
    }

    async fn retrying<T, F, Fut>(&self, sql: &str, retry: bool, attempt: F) -> Result<T, DbError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, Attempt>>,
    {
        match self.timed(attempt()).await {
            Ok(v) => Ok(v),
            Err(failed) => {
                let failure = self.settle(failed, sql);
                if !(failure.stale_plan && retry) {
                    return Err(failure.error);
                }
                self.timed(attempt())
                    .await
                    .map_err(|failed| self.settle(failed, sql).error)
            }
        }
    }

    /// Bounds one statement on the client side. Reaching this limit means the server's own
    /// timeout did not answer (a hung server or a dead network): cancel what runs there and
    /// retire the connection rather than trust its state.
    async fn timed<T>(&self, work: impl Future<Output = Result<T, Attempt>>) -> Result<T, Attempt> {
        let Some(limit) = self.limit else {
            return work.await;
        };
        match tokio::time::timeout(limit, work).await {
            Ok(result) => result,
            Err(_) => {
                self.abandon();
                Err(Attempt::Input(DbError::timeout()))
            }
        }
    }

    /// Retires the connection and asks the server to stop whatever it is running for it.
    pub fn abandon(&self) {
        self.broken.set(true);
        let token = self.client.cancel_token();
        tokio::task::spawn_local(async move {
            let _ = token.cancel_query(NoTls).await;
        });
    }

    /// Ends an open transaction without waiting, for a session dropped inside one. The first
    /// poll of `batch_execute` queues its request on the connection (as tokio-postgres's own
    /// `Transaction` drop does), so the ROLLBACK runs before anything a later user sends; its
    /// answer is discarded. A request that cannot even be queued means the connection is gone.
    pub fn rollback_detached(&self) {
        if let Some(Err(_)) = self.client.batch_execute("ROLLBACK").now_or_never() {
            self.broken.set(true);
        }
    }

    /// Classifies a failed attempt and applies what it says to this connection.
    fn settle(&self, attempt: Attempt, sql: &str) -> Failure {
        let failure = match attempt {
            Attempt::Pg(e) => error::classify(&e),
            Attempt::Input(error) => Failure {
                error,
                broken: false,
                stale_plan: false,
            },
        };
        if failure.broken {
            self.broken.set(true);
        }
        if failure.stale_plan {
            self.statements.borrow_mut().remove(sql);
        }
        failure
    }

    async fn prepared(&self, sql: &str) -> Result<Rc<Prepared>, Attempt> {
        if let Some(p) = self.statements.borrow().get(sql) {
            return Ok(p.clone());
        }
        let statement = self.client.prepare(sql).await?;
        let prepared = Rc::new(Prepared {
            columns: statement
                .columns()
                .iter()
                .map(|c| c.name().to_owned())
                .collect(),
            decoders: statement
                .columns()
                .iter()
                .map(|c| decode::decoder(c.type_()))
                .collect(),
            statement,
        });
        let mut cache = self.statements.borrow_mut();
        if cache.len() >= STATEMENT_CACHE {
            cache.clear();
        }
        cache.insert(sql.to_owned(), prepared.clone());
        Ok(prepared)
    }
}

/// An attempt's failure before classification: a driver error, or one of ours.
pub(crate) enum Attempt {
    Pg(tokio_postgres::Error),
    Input(DbError),
}

impl From<tokio_postgres::Error> for Attempt {
    fn from(e: tokio_postgres::Error) -> Self {
        Attempt::Pg(e)
    }
}

/// Classifies a driver error met outside [`Conn`]'s helpers (a streamed row), marking the
/// connection when it is broken.
pub(crate) fn stream_error(conn: &Conn, e: &tokio_postgres::Error) -> DbError {
    let failure = error::classify(e);
    if failure.broken {
        conn.mark_broken();
    }
    failure.error
}
