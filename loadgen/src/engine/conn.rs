//! One connection's request loop and its keep-alive socket.

use super::response::ResponseReader;
use super::stats::{Failure, Stats};
use super::{Shared, Take};
use crate::request::Renderer;
use monoio::buf::IoBufMut;
use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
use monoio::net::TcpStream;
use std::cell::RefCell;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const READ_BUF: usize = 64 * 1024;
/// Progress counters are flushed to the shared atomics this often.
const FLUSH_EVERY: u64 = 64;
const TIMER_TICK: Duration = Duration::from_millis(1);

/// A keep-alive connection with its owned buffers (monoio I/O takes
/// buffers by value, so they are moved out and back around each call).
struct Conn {
    addr: SocketAddr,
    stream: Option<TcpStream>,
    rbuf: Vec<u8>,
    pos: usize,
    wbuf: Vec<u8>,
    reader: ResponseReader,
    capture: bool,
    /// Responses completed in the current batch; survives a timeout.
    completed: usize,
}

/// Counts finished requests for the progress line without touching the
/// shared atomics on every request.
struct Tally<'a> {
    shared: &'a Shared,
    done: u64,
    failed: u64,
}

impl Tally<'_> {
    fn add(&mut self, done: u64, failed: u64) {
        self.done += done;
        self.failed += failed;
        if self.done >= FLUSH_EVERY {
            self.flush();
        }
    }
    fn flush(&mut self) {
        self.shared.done.fetch_add(self.done, Ordering::Relaxed);
        self.shared.failed.fetch_add(self.failed, Ordering::Relaxed);
        self.done = 0;
        self.failed = 0;
    }
}

impl Drop for Tally<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

impl Conn {
    fn new(shared: &Shared) -> Conn {
        let cfg = &shared.cfg;
        Conn {
            addr: cfg.addr,
            stream: None,
            rbuf: Vec::with_capacity(READ_BUF),
            pos: 0,
            wbuf: Vec::with_capacity(4096),
            reader: ResponseReader::new(cfg.plan.is_head(), cfg.expect.clone(), cfg.capture_ids),
            capture: cfg.capture_ids,
            completed: 0,
        }
    }

    /// Drops the socket and restores buffers a cancelled call may have taken.
    fn reset(&mut self) {
        self.stream = None;
        self.pos = 0;
        self.rbuf.clear();
        if self.rbuf.capacity() == 0 {
            self.rbuf = Vec::with_capacity(READ_BUF);
        }
        if self.wbuf.capacity() == 0 {
            self.wbuf = Vec::with_capacity(4096);
        }
        self.reader.reset();
    }

    /// Sends the `k` requests in `wbuf` and reads `k` responses, recording
    /// each against `origin`.
    async fn exchange(
        &mut self,
        k: usize,
        origin: Instant,
        record: bool,
        stats: &RefCell<Stats>,
    ) -> Result<(), Failure> {
        self.completed = 0;
        if self.stream.is_none() {
            let s = TcpStream::connect_addr(self.addr)
                .await
                .map_err(|_| Failure::Connect)?;
            let _ = s.set_nodelay(true);
            self.stream = Some(s);
        }
        let stream = self.stream.as_mut().expect("connected above");
        let wbuf = std::mem::take(&mut self.wbuf);
        let (res, mut wbuf) = stream.write_all(wbuf).await;
        wbuf.clear();
        self.wbuf = wbuf;
        res.map_err(|_| Failure::Read)?;
        while self.completed < k {
            let (used, done) = self
                .reader
                .advance(&self.rbuf[self.pos..])
                .map_err(|_| Failure::Read)?;
            self.pos += used;
            let done = match done {
                Some(d) => Some(d),
                None => {
                    compact(&mut self.rbuf, &mut self.pos);
                    let rbuf = std::mem::take(&mut self.rbuf);
                    let (start, cap) = (rbuf.len(), rbuf.capacity());
                    let (res, slice) = stream.read(rbuf.slice_mut(start..cap)).await;
                    self.rbuf = slice.into_inner();
                    match res {
                        Ok(0) => Some(self.reader.eof().ok_or(Failure::Read)?),
                        Ok(_) => None,
                        Err(_) => return Err(Failure::Read),
                    }
                }
            };
            let Some(done) = done else { continue };
            self.completed += 1;
            let now = Instant::now();
            if record {
                let mut st = stats.borrow_mut();
                st.response(done.status, done.body_ok, now - origin, now);
                if self.capture {
                    collect_ids(self.reader.body(), &mut st.ids);
                }
            }
            if !done.keep_alive {
                self.stream = None;
                self.pos = 0;
                self.rbuf.clear();
                if self.completed < k {
                    return Err(Failure::Read);
                }
                break;
            }
        }
        Ok(())
    }

    /// Runs one batch under the timeout, recording failures; returns the
    /// number of requests that ended in a failure.
    async fn batch(
        &mut self,
        k: usize,
        origin: Instant,
        record: bool,
        timeout: Duration,
        stats: &RefCell<Stats>,
    ) -> u64 {
        let res = if timeout.is_zero() {
            Ok(self.exchange(k, origin, record, stats).await)
        } else {
            monoio::time::timeout(timeout, self.exchange(k, origin, record, stats)).await
        };
        let failure = match res {
            Ok(Ok(())) => return 0,
            Ok(Err(f)) => f,
            Err(_) => Failure::Timeout,
        };
        let lost = (k - self.completed) as u64;
        self.reset();
        if record {
            stats.borrow_mut().failure(failure, lost, Instant::now());
        }
        if failure == Failure::Connect {
            // Back off so a dead target is not hammered in a hot loop.
            monoio::time::sleep(Duration::from_millis(1)).await;
        }
        lost
    }
}

/// Makes room at the end of the read buffer for the next read.
fn compact(rbuf: &mut Vec<u8>, pos: &mut usize) {
    if *pos == rbuf.len() {
        rbuf.clear();
        *pos = 0;
    } else if rbuf.capacity() - rbuf.len() < 4096 {
        if *pos > 0 {
            rbuf.drain(..*pos);
            *pos = 0;
        }
        if rbuf.capacity() - rbuf.len() < 4096 {
            rbuf.reserve(rbuf.capacity());
        }
    }
}

/// Scans a JSON body for `"id":N` values (DreamFactory returns created
/// records as `{"resource":[{"id":N},...]}`).
fn collect_ids(body: &[u8], out: &mut Vec<u64>) {
    let mut rest = body;
    while let Some(i) = crate::request::find(rest, b"\"id\"") {
        rest = &rest[i + 4..];
        let after = rest
            .iter()
            .position(|b| !b" \t:".contains(b))
            .unwrap_or(rest.len());
        let digits: Vec<u8> = rest[after..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .copied()
            .collect();
        if let Ok(id) = std::str::from_utf8(&digits).unwrap_or("").parse() {
            out.push(id);
        }
    }
}

fn renderer(shared: &Shared, j: usize) -> Renderer {
    let seed = 0x9E37_79B9_7F4A_7C15u64.wrapping_mul(j as u64 + 1);
    shared.cfg.plan.renderer(seed, shared.cursor.clone())
}

pub(super) async fn closed_loop(shared: &Shared, j: usize, stats: &RefCell<Stats>) {
    let cfg = &shared.cfg;
    let mut conn = Conn::new(shared);
    let mut render = renderer(shared, j);
    let mut tally = Tally {
        shared,
        done: 0,
        failed: 0,
    };
    let depth = cfg.pipeline.max(1);
    loop {
        let now = Instant::now();
        let (k, record) = match shared.take(depth, now) {
            Take::Stop => break,
            Take::Warmup(k) => (k, false),
            Take::Measured(k) => (k, true),
        };
        for _ in 0..k {
            render.render(&mut conn.wbuf);
        }
        // The clock starts before a (re)connect, as ab's does.
        let origin = Instant::now();
        if record {
            stats.borrow_mut().mark_send(origin);
        }
        let lost = conn.batch(k, origin, record, cfg.timeout, stats).await;
        tally.add(k as u64, lost);
    }
}

pub(super) async fn open_loop(shared: &Shared, j: usize, rate: f64, stats: &RefCell<Stats>) {
    let cfg = &shared.cfg;
    let mut conn = Conn::new(shared);
    let mut render = renderer(shared, j);
    let mut tally = Tally {
        shared,
        done: 0,
        failed: 0,
    };
    let users = cfg.users as u64;
    let warm = shared.open_warmup_count(rate);
    let due = |i: u64| shared.start + Duration::from_secs_f64(i as f64 / rate);
    let mut i = j as u64;
    loop {
        let measured_index = i.checked_sub(warm);
        let stop = match (cfg.stop, measured_index) {
            (super::Stop::Count(n), Some(m)) => m >= n,
            (super::Stop::Duration(d), _) => due(i) >= due(warm) + d,
            _ => false,
        };
        if stop {
            break;
        }
        let intended = due(i);
        // monoio's timer wheel ticks in milliseconds and wakes late, which
        // would add up to a tick to every latency: wake a tick early instead.
        let wake = intended.checked_sub(TIMER_TICK).unwrap_or(intended);
        if wake > Instant::now() {
            monoio::time::sleep_until(monoio::time::Instant::from_std(wake)).await;
        }
        let record = measured_index.is_some();
        render.render(&mut conn.wbuf);
        let sent = Instant::now();
        // Sent early: time from the real send. Sent late: from the due time
        // (the coordinated-omission correction) unless disabled.
        let origin = if cfg.co_correction {
            intended.min(sent)
        } else {
            sent
        };
        if record {
            stats.borrow_mut().mark_send(origin);
        }
        let lost = conn.batch(1, origin, record, cfg.timeout, stats).await;
        tally.add(1, lost);
        i += users;
    }
}
