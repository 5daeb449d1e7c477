//! The connection loop: read, frame, handle, write; repeat while keep-alive holds.
//!
//! Pipelined requests are answered in order by construction: one request is handled at a time,
//! and responses accumulate in the write buffer until no complete request is left in the read
//! buffer, so a pipelined burst costs one `write` instead of one per request.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{sleep, Sleep};

use super::body::ChunkedDecoder;
use super::engine::Engine;
use super::error::HttpError;
use super::method::Method;
use super::parse::{parse_head, Head};
use super::request::Request;
use super::response::{Body, Response};
use super::write::{self, encode_head, Context, Framing, GzipStream};
use super::Handler;
use crate::envelope::ApiError;

/// Read buffers start here and return here after a large request, so an idle connection costs
/// little memory however big its last request was.
const READ_BUF: usize = 8 * 1024;
const WRITE_BUF: usize = 8 * 1024;
/// Flush the write buffer once it holds this much, even mid-pipeline.
const FLUSH_AT: usize = 64 * 1024;
/// Bodies above this are written straight from the handler's buffer instead of being copied.
const DIRECT_WRITE_AT: usize = 32 * 1024;
/// After we decide to close, how long we keep reading (and discarding) so the peer receives our
/// response before a reset caused by its unread bytes.
const LINGER: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 256 * 1024;

enum Read {
    Data,
    Eof,
    Timeout,
    Drain,
}

/// Serves one connection until it closes. I/O errors end the connection; there is no one left
/// to tell.
pub async fn serve<S, H>(io: S, peer: SocketAddr, engine: &Engine, handler: &H)
where
    S: AsyncRead + AsyncWrite + Unpin,
    H: Handler,
{
    let mut conn = Conn {
        io,
        rbuf: BytesMut::with_capacity(READ_BUF),
        wbuf: Vec::with_capacity(WRITE_BUF),
        head: Head::default(),
        chunked: Vec::new(),
        engine,
    };
    let deadline = sleep(engine.limits.header_timeout);
    tokio::pin!(deadline);
    let _ = conn.run(peer, handler, deadline).await;
}

/// Answers 503 at once, without handling anything, for a connection past the per-core cap.
pub async fn reject_overloaded<S>(io: S, engine: &Engine)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut conn = Conn {
        io,
        rbuf: BytesMut::new(),
        wbuf: Vec::with_capacity(512),
        head: Head::default(),
        chunked: Vec::new(),
        engine,
    };
    engine.stats.overload_rejected();
    let _ = conn.respond_and_close(overloaded()).await;
}

fn overloaded() -> Response {
    Response::error(&ApiError::new(503, "Server is at capacity; retry shortly."))
        .header("Retry-After", "1")
}

struct Conn<'e, S> {
    io: S,
    rbuf: BytesMut,
    wbuf: Vec<u8>,
    head: Head,
    /// De-chunked request body; reused across requests.
    chunked: Vec<u8>,
    engine: &'e Engine,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<'_, S> {
    async fn run<H: Handler>(
        &mut self,
        peer: SocketAddr,
        handler: &H,
        mut deadline: Pin<&mut Sleep>,
    ) -> io::Result<()> {
        let limits = &self.engine.limits;
        let mut first = true;
        loop {
            // 1. Wait for the next request's first byte, unless one is already buffered.
            if self.rbuf.is_empty() {
                self.flush().await?;
                // A connection accepted while draining still gets its first request answered:
                // only connections that have been served and sit idle are closed.
                if self.engine.drain.is_draining() && !first {
                    return self.io.shutdown().await;
                }
                if !first {
                    deadline
                        .as_mut()
                        .reset(tokio::time::Instant::now() + limits.idle_timeout);
                }
                match self.read(deadline.as_mut(), !first).await? {
                    Read::Data => {}
                    Read::Eof | Read::Timeout | Read::Drain => return self.io.shutdown().await,
                }
            }
            // The header clock starts only if the head turns out incomplete: most requests
            // arrive whole in one read, and re-arming a timer costs more than parsing them.
            // (The first request's clock has run since the accept.)
            let mut header_clock = first;
            first = false;

            // 2. A complete head, within the size and time limits.
            loop {
                match parse_head(&self.rbuf, limits.max_headers, &mut self.head) {
                    Ok(true) if self.head.len > limits.max_head_bytes => {
                        return self.fail(HttpError::HeadTooLarge).await
                    }
                    Ok(true) => break,
                    Ok(false) if self.rbuf.len() >= limits.max_head_bytes => {
                        return self.fail(HttpError::HeadTooLarge).await
                    }
                    Ok(false) => {
                        if !header_clock {
                            header_clock = true;
                            deadline
                                .as_mut()
                                .reset(tokio::time::Instant::now() + limits.header_timeout);
                        }
                        // Answer what is already handled before waiting on a slow client.
                        self.flush().await?;
                        match self.read(deadline.as_mut(), false).await? {
                            Read::Data => {}
                            Read::Timeout => return self.fail(HttpError::Timeout).await,
                            Read::Eof | Read::Drain => return Ok(()),
                        }
                    }
                    Err(e) => return self.fail(e).await,
                }
            }
            let started = Instant::now();

            // 3. Body: refuse by Content-Length before reading any of it.
            if let Some(n) = self.head.content_length {
                if n > limits.max_body_bytes {
                    return self
                        .fail(HttpError::BodyTooLarge {
                            limit: limits.max_body_bytes,
                        })
                        .await;
                }
            }
            let Some(slot) = self.engine.admit() else {
                self.engine.stats.overload_rejected();
                if self.head.has_body() {
                    return self.respond_and_close(overloaded()).await;
                }
                let len = self.head.len;
                self.respond(overloaded(), false, true, started).await?;
                self.rbuf.advance(len);
                continue;
            };
            let body_end = match self.read_body(deadline.as_mut()).await? {
                Ok(Some(end)) => end,
                Ok(None) => return Ok(()),
                Err(e) => return self.fail(e).await,
            };

            // 4. Handle. The request borrows the buffers; the response owns its data.
            let response = {
                let body = if self.head.chunked {
                    &self.chunked[..]
                } else {
                    &self.rbuf[self.head.len..body_end]
                };
                let req = Request::new(&self.head, &self.rbuf, body, peer);
                handler.call(&req).await
            };
            drop(slot);

            // 5. Respond; keep the connection only if both sides and the drain state allow it.
            let keep_alive =
                self.head.keep_alive() && !response.close && !self.engine.drain.is_draining();
            let head_only = self.head.method() == Method::Head;
            if limits.access_log {
                tracing::info!(target: "percore::access", %peer, method = %self.head.method(),
                    target = %String::from_utf8_lossy(&self.rbuf[self.head.target.clone()]),
                    status = response.status);
            }
            self.rbuf.advance(body_end);
            if self.rbuf.is_empty() && self.rbuf.capacity() > 4 * READ_BUF {
                self.rbuf = BytesMut::with_capacity(READ_BUF);
            }
            let streamed_ok = self
                .respond(response, head_only, keep_alive, started)
                .await?;
            if !keep_alive || !streamed_ok {
                self.flush().await?;
                return self.linger_close().await;
            }
            if self.wbuf.len() >= FLUSH_AT {
                self.flush().await?;
            }
        }
    }

    /// Reads the body into place. `Ok(Ok(Some(end)))`: the body ends at `end` in the read buffer
    /// (for chunked bodies, the data is in `self.chunked`); `Ok(Ok(None))`: the peer went away.
    async fn read_body(
        &mut self,
        mut deadline: Pin<&mut Sleep>,
    ) -> io::Result<Result<Option<usize>, HttpError>> {
        let limits = &self.engine.limits;
        let start = self.head.len;
        if !self.head.has_body() {
            return Ok(Ok(Some(start)));
        }
        deadline
            .as_mut()
            .reset(tokio::time::Instant::now() + limits.body_timeout);
        let mut continued = false;
        if self.head.chunked {
            self.chunked.clear();
            let mut decoder = ChunkedDecoder::new(limits.max_body_bytes);
            loop {
                match decoder.decode(&self.rbuf[start..], &mut self.chunked) {
                    Ok(Some(used)) => return Ok(Ok(Some(start + used))),
                    Ok(None) => {}
                    Err(e) => return Ok(Err(e)),
                }
                if !continued {
                    continued = true;
                    self.send_continue().await?;
                }
                // Earlier pipelined responses go out before we wait on this body.
                self.flush().await?;
                match self.read(deadline.as_mut(), false).await? {
                    Read::Data => {}
                    Read::Timeout => return Ok(Err(HttpError::Timeout)),
                    Read::Eof | Read::Drain => return Ok(Ok(None)),
                }
            }
        }
        let len = self.head.content_length.unwrap_or(0) as usize;
        let end = start + len;
        if self.rbuf.len() < end {
            self.rbuf.reserve(end - self.rbuf.len());
        }
        while self.rbuf.len() < end {
            if !continued {
                continued = true;
                self.send_continue().await?;
            }
            self.flush().await?;
            match self.read(deadline.as_mut(), false).await? {
                Read::Data => {}
                Read::Timeout => return Ok(Err(HttpError::Timeout)),
                Read::Eof | Read::Drain => return Ok(Ok(None)),
            }
        }
        Ok(Ok(Some(end)))
    }

    /// `100 Continue`, only when the client asked for it and is waiting for it.
    async fn send_continue(&mut self) -> io::Result<()> {
        if self.head.expect_continue && self.head.minor_version >= 1 {
            self.wbuf
                .extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
            self.flush().await?;
        }
        Ok(())
    }

    async fn read(&mut self, deadline: Pin<&mut Sleep>, idle: bool) -> io::Result<Read> {
        if self.rbuf.capacity() - self.rbuf.len() < 1024 {
            self.rbuf.reserve(READ_BUF);
        }
        let drain = &self.engine.drain;
        tokio::select! {
            biased;
            n = self.io.read_buf(&mut self.rbuf) => {
                let n = n?;
                self.engine.stats.bytes_in(n);
                Ok(if n == 0 { Read::Eof } else { Read::Data })
            }
            _ = deadline => Ok(Read::Timeout),
            _ = drain.wait(), if idle => Ok(Read::Drain),
        }
    }

    /// Encodes a response. Returns `false` when a streamed body failed part-way, in which case
    /// the connection must close (the body on the wire is incomplete).
    async fn respond(
        &mut self,
        resp: Response,
        head_only: bool,
        keep_alive: bool,
        started: Instant,
    ) -> io::Result<bool> {
        let limits = &self.engine.limits;
        let date = self.engine.date.get();
        let cx = Context {
            date: &date,
            keep_alive,
            minor_version: self.head.minor_version,
            gzip: self.head.accept_gzip,
        };
        let status = resp.status;
        let mut ok = true;
        match &resp.body {
            Body::Empty => {
                let framing = if status == 204 || status == 304 {
                    Framing::NoBody
                } else {
                    Framing::Length(0)
                };
                encode_head(&mut self.wbuf, &resp, framing, false, &cx);
            }
            Body::Full(bytes) => {
                let gzip = cx.gzip
                    && bytes.len() >= limits.gzip_min_bytes
                    && compressible(resp.content_type);
                let body = if gzip {
                    write::gzip(bytes, limits.gzip_level)
                } else {
                    bytes.clone()
                };
                encode_head(
                    &mut self.wbuf,
                    &resp,
                    Framing::Length(body.len()),
                    gzip,
                    &cx,
                );
                if !head_only {
                    if body.len() >= DIRECT_WRITE_AT {
                        self.flush().await?;
                        self.io.write_all(&body).await?;
                        self.engine.stats.bytes_out(body.len());
                    } else {
                        self.wbuf.extend_from_slice(&body);
                    }
                }
            }
            Body::Stream(_) => {}
        }
        if let Body::Stream(mut stream) = resp.body {
            let framing = if self.head.minor_version == 0 {
                Framing::UntilClose
            } else {
                Framing::Chunked
            };
            let gzip = cx.gzip && compressible(resp.content_type);
            let head_resp = Response {
                body: Body::Empty,
                ..resp
            };
            encode_head(&mut self.wbuf, &head_resp, framing, gzip, &cx);
            if !head_only {
                let mut gz = gzip.then(|| GzipStream::new(limits.gzip_level));
                while let Some(chunk) = stream.next().await {
                    let Ok(chunk) = chunk else {
                        ok = false;
                        break;
                    };
                    let data = match gz.as_mut() {
                        Some(g) => g.feed(&chunk),
                        None => chunk.to_vec(),
                    };
                    self.push_body(&data, framing);
                    if self.wbuf.len() >= FLUSH_AT {
                        self.flush().await?;
                    }
                }
                if ok {
                    if let Some(g) = gz.take() {
                        let tail = g.finish();
                        self.push_body(&tail, framing);
                    }
                    if framing == Framing::Chunked {
                        self.wbuf.extend_from_slice(write::LAST_CHUNK);
                    }
                }
            }
            if framing == Framing::UntilClose {
                ok = false;
            }
        }
        self.engine.stats.record_response(status, started.elapsed());
        Ok(ok)
    }

    fn push_body(&mut self, data: &[u8], framing: Framing) {
        if framing == Framing::Chunked {
            write::encode_chunk(&mut self.wbuf, data);
        } else {
            self.wbuf.extend_from_slice(data);
        }
    }

    async fn flush(&mut self) -> io::Result<()> {
        if !self.wbuf.is_empty() {
            self.io.write_all(&self.wbuf).await?;
            self.engine.stats.bytes_out(self.wbuf.len());
            self.wbuf.clear();
            if self.wbuf.capacity() > 4 * FLUSH_AT {
                self.wbuf = Vec::with_capacity(WRITE_BUF);
            }
        }
        Ok(())
    }

    /// Answers a protocol error in the envelope, then closes: after a framing error we cannot
    /// know where the next request would start.
    async fn fail(&mut self, err: HttpError) -> io::Result<()> {
        self.respond_and_close(Response::error(&err.to_api())).await
    }

    async fn respond_and_close(&mut self, resp: Response) -> io::Result<()> {
        self.head.minor_version = self.head.minor_version.min(1);
        self.respond(resp, false, false, Instant::now()).await?;
        self.flush().await?;
        self.linger_close().await
    }

    /// Half-closes, then reads and discards for a moment: closing a socket with unread input
    /// makes the kernel send a reset, which can destroy the response we just wrote.
    async fn linger_close(&mut self) -> io::Result<()> {
        self.io.shutdown().await?;
        let mut scratch = [0u8; 4096];
        let mut discarded = 0;
        let linger = sleep(LINGER);
        tokio::pin!(linger);
        while discarded < LINGER_BYTES {
            tokio::select! {
                n = self.io.read(&mut scratch) => match n {
                    Ok(0) | Err(_) => break,
                    Ok(n) => discarded += n,
                },
                _ = &mut linger => break,
            }
        }
        Ok(())
    }
}

/// Whether gzip is worth trying for this content type (JSON and text, not images or archives).
fn compressible(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| {
        ct.starts_with("application/json")
            || ct.starts_with("text/")
            || ct.starts_with("application/xml")
            || ct.starts_with("application/javascript")
    })
}
