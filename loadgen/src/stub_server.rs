//! A tiny blocking HTTP/1.1 server (a thread per connection) that stands in
//! for percore: tests and sweeps point at it, and it takes percore's
//! `serve --cores N --listen ADDR --data-dir DIR` flags so a sweep can start
//! it as `--server-bin`. Routes:
//!
//! - `/healthz` -> `{"status":"ok"}`; `/status` -> JSON; `/status/NNN` -> that status
//! - `/delay/MS` answers after MS milliseconds; `/chunked` uses chunked encoding
//! - `/close` answers with `Connection: close`; `/drop` closes without answering
//! - POST `.../session` -> a session token; POST `.../_table/...` -> created ids
//! - a one-table fake of `_schema` and `?count_only=true` for `loadgen seed`
//! - `/whoami` echoes the session token header; anything else -> `hello`
//!
//! With a stall window every request arriving inside it waits for its end,
//! the way a server pausing for GC or a checkpoint behaves.

use crate::error::Result;
use clap::Args;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Args, Clone, Default)]
pub struct ServeArgs {
    /// Accepted for command-line compatibility with percore.
    #[arg(long, default_value_t = 1)]
    pub cores: usize,
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
    /// Accepted for compatibility; unused.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Start of the stall window, in ms after start.
    #[arg(long)]
    pub stall_after_ms: Option<u64>,
    /// Length of the stall window, in ms.
    #[arg(long, default_value_t = 0)]
    pub stall_for_ms: u64,
    /// Ignored extra percore flags (e.g. --system-db URL).
    #[arg(long)]
    pub system_db: Option<String>,
}

pub struct StubServer {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept: Option<std::thread::JoinHandle<()>>,
}

struct State {
    start: Instant,
    stall: Option<(Duration, Duration)>,
    next_id: AtomicU64,
    /// Rows in the fake table; `None` until `_schema` creates it.
    rows: Mutex<Option<u64>>,
    stop: Arc<AtomicBool>,
}

impl StubServer {
    pub fn start(args: &ServeArgs) -> Result<StubServer> {
        let listener = TcpListener::bind(&args.listen)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let state = Arc::new(State {
            start: Instant::now(),
            stall: args.stall_after_ms.map(|a| {
                (
                    Duration::from_millis(a),
                    Duration::from_millis(args.stall_for_ms),
                )
            }),
            next_id: AtomicU64::new(1_000_001),
            rows: Mutex::new(None),
            stop: stop.clone(),
        });
        let accept = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if state.stop.load(Ordering::Relaxed) {
                    break;
                }
                if let Ok(conn) = conn {
                    let state = state.clone();
                    std::thread::spawn(move || serve_conn(conn, &state));
                }
            }
        });
        Ok(StubServer {
            addr,
            stop,
            accept: Some(accept),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for StubServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the blocking accept so the thread sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

fn serve_conn(mut conn: TcpStream, state: &State) {
    let _ = conn.set_nodelay(true);
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut chunk = [0u8; 16 * 1024];
    let mut out = Vec::with_capacity(16 * 1024);
    loop {
        let n = match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        let mut close = false;
        // Answer every complete request in the buffer (pipelining).
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut req = httparse::Request::new(&mut headers);
            let head = match req.parse(&buf) {
                Ok(httparse::Status::Complete(n)) => n,
                Ok(httparse::Status::Partial) => break,
                Err(_) => return,
            };
            let header = |name: &str| {
                req.headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case(name))
                    .map(|h| String::from_utf8_lossy(h.value).into_owned())
            };
            let len: usize = header("content-length")
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() < head + len {
                break;
            }
            let method = req.method.unwrap_or("GET").to_string();
            let path = req.path.unwrap_or("/").to_string();
            let token = header("x-dreamfactory-session-token").unwrap_or_default();
            let body: Vec<u8> = buf[head..head + len].to_vec();
            buf.drain(..head + len);
            stall(state);
            let req = Req {
                method: &method,
                path: &path,
                token: &token,
                body: &body,
            };
            match respond(&req, state, &mut out) {
                Reply::KeepAlive => {}
                Reply::Close => close = true,
                Reply::Drop => return,
            }
            if close {
                break;
            }
        }
        if !out.is_empty() && conn.write_all(&out).is_err() {
            return;
        }
        out.clear();
        if close {
            return;
        }
    }
}

fn stall(state: &State) {
    if let Some((after, len)) = state.stall {
        let now = state.start.elapsed();
        if now >= after && now < after + len {
            std::thread::sleep(after + len - now);
        }
    }
}

enum Reply {
    KeepAlive,
    Close,
    Drop,
}

struct Req<'a> {
    method: &'a str,
    path: &'a str,
    token: &'a str,
    body: &'a [u8],
}

fn respond(req: &Req<'_>, state: &State, out: &mut Vec<u8>) -> Reply {
    let (method, path, token) = (req.method, req.path, req.token);
    let mut write = |status: u16, body: &str, extra: &str| {
        let _ = write!(
            out,
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{extra}\r\n{body}",
            body.len()
        );
    };
    let route = path.split('?').next().unwrap_or("/");
    match route {
        "/healthz" => write(200, r#"{"status":"ok"}"#, ""),
        "/status" => write(200, r#"{"status":"ok","server":"loadgen-stub"}"#, ""),
        "/close" => {
            write(200, "bye", "Connection: close\r\n");
            return Reply::Close;
        }
        "/drop" => return Reply::Drop,
        "/whoami" => write(200, token, ""),
        "/chunked" => {
            let _ = write!(
                out,
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
            );
        }
        r if r.starts_with("/status/") => write(r[8..].parse().unwrap_or(500), "status", ""),
        r if r.starts_with("/delay/") => {
            std::thread::sleep(Duration::from_millis(r[7..].parse().unwrap_or(0)));
            write(200, "delayed", "");
        }
        r if method == "POST" && r.ends_with("/session") => {
            write(200, r#"{"session_token":"stub-token","id":1}"#, "")
        }
        r if method == "POST" && r.contains("/_table/") => {
            let records = serde_json::from_slice::<serde_json::Value>(req.body)
                .ok()
                .and_then(|v| v.get("resource").and_then(|r| r.as_array()).map(Vec::len))
                .unwrap_or(1) as u64;
            if let Some(n) = state.rows.lock().expect("not poisoned").as_mut() {
                *n += records;
            }
            let first = state.next_id.fetch_add(records, Ordering::Relaxed);
            let ids: Vec<String> = (first..first + records)
                .map(|id| format!(r#"{{"id":{id}}}"#))
                .collect();
            write(200, &format!(r#"{{"resource":[{}]}}"#, ids.join(",")), "");
        }
        r if r.contains("/_table/") && path.contains("count_only=true") => {
            match *state.rows.lock().expect("not poisoned") {
                Some(n) => write(200, &n.to_string(), ""),
                None => write(404, r#"{"error":{"code":404}}"#, ""),
            }
        }
        r if r.contains("/_schema") && (method == "POST" || method == "DELETE") => {
            *state.rows.lock().expect("not poisoned") = (method == "POST").then_some(0);
            write(200, r#"{"resource":[{"name":"contact"}]}"#, "");
        }
        _ => write(200, "hello", ""),
    }
    Reply::KeepAlive
}

/// `loadgen serve`: runs until killed.
pub fn run_command(args: ServeArgs) -> Result<()> {
    let server = StubServer::start(&args)?;
    println!("loadgen stub listening on {}", server.addr);
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}
