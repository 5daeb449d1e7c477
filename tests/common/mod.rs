//! Test support: a real `percore` process on a free port, and a raw-bytes HTTP client that
//! checks framing itself instead of trusting a library to paper over mistakes.

#![allow(dead_code)] // Each test crate uses a different part of this module.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Server {
    pub addr: SocketAddr,
    child: Child,
    _data: Option<tempfile::TempDir>,
    /// The first system admin's credentials (the test default unless the test set its own).
    pub admin_email: String,
    admin_password: String,
    admin_token: std::cell::OnceCell<String>,
}

pub const ADMIN_EMAIL: &str = "admin@test.local";
pub const ADMIN_PASSWORD: &str = "test-admin-password";

impl Server {
    /// Starts `percore serve` on one core with extra `PERCORE_*` environment settings.
    pub fn start(env: &[(&str, &str)]) -> Server {
        Self::start_with(env, &["--cores", "1"])
    }

    pub fn start_with(env: &[(&str, &str)], args: &[&str]) -> Server {
        let data = tempfile::tempdir().expect("tempdir");
        let mut server = Self::start_in(data.path(), env, args);
        server._data = Some(data);
        server
    }

    /// A server on a data directory the caller keeps (to restart on the same state).
    pub fn start_in(data: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_percore"));
        let given = |name: &str, default: &str| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map_or(default.to_string(), |(_, v)| v.to_string())
        };
        let admin_email = given("PERCORE_ADMIN_EMAIL", ADMIN_EMAIL);
        let admin_password = given("PERCORE_ADMIN_PASSWORD", ADMIN_PASSWORD);
        cmd.env("PERCORE_ADMIN_EMAIL", &admin_email)
            .env("PERCORE_ADMIN_PASSWORD", &admin_password);
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data)
            .args(args)
            .env("PERCORE_LOG__LEVEL", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn percore");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read listening line");
        let addr = line
            .trim()
            .strip_prefix("percore listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .parse()
            .expect("address");
        Server {
            addr,
            child,
            _data: None,
            admin_email,
            admin_password,
            admin_token: std::cell::OnceCell::new(),
        }
    }

    /// A system admin's session token (logged in once per server).
    pub fn admin_token(&self) -> String {
        self.admin_token
            .get_or_init(|| {
                let body = serde_json::json!({"email": self.admin_email, "password": self.admin_password})
                    .to_string();
                let raw = format!(
                    "POST /api/v2/system/admin/session HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                let r = self.connect().roundtrip(raw.as_bytes());
                assert_eq!(r.status, 200, "admin login: {}", String::from_utf8_lossy(&r.body));
                r.json()["session_token"]
                    .as_str()
                    .expect("session_token")
                    .to_string()
            })
            .clone()
    }

    /// A connection whose [`db::call`]s carry a system admin's session.
    pub fn admin(&self) -> Client {
        let mut c = self.connect();
        c.token = Some(self.admin_token());
        c
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn connect(&self) -> Client {
        Client::connect(self.addr)
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as i32, sig);
        }
    }

    /// Waits for the process to exit, at most `limit`; returns its exit code.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Asserts DreamFactory's error envelope with this status.
    pub fn assert_error(&self, status: u16) {
        assert_eq!(
            self.status,
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        let v = self.json();
        assert_eq!(v["error"]["status_code"], status, "{v}");
        assert_eq!(v["error"]["code"], status, "{v}");
        assert!(v["error"]["message"].is_string(), "{v}");
    }
}

pub struct Client {
    pub stream: TcpStream,
    buf: Vec<u8>,
    /// Sent as `X-DreamFactory-Session-Token` by the request helpers.
    pub token: Option<String>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.set_nodelay(true).unwrap();
        Client {
            stream,
            buf: Vec::new(),
            token: None,
        }
    }

    pub fn send(&mut self, raw: &[u8]) -> &mut Self {
        self.stream.write_all(raw).expect("write");
        self
    }

    /// Sends one request and reads its response.
    pub fn roundtrip(&mut self, raw: &[u8]) -> Response {
        self.send(raw);
        self.read_response(false)
    }

    fn fill(&mut self) -> usize {
        let mut chunk = [0u8; 16 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                n
            }
            Err(e) => panic!(
                "read failed: {e} (have {:?})",
                String::from_utf8_lossy(&self.buf)
            ),
        }
    }

    /// Reads one response; `head_only` for responses to HEAD (no body whatever the headers say).
    pub fn read_response(&mut self, head_only: bool) -> Response {
        let (status, headers, head_len) = loop {
            let mut hs = [httparse::EMPTY_HEADER; 64];
            let mut r = httparse::Response::new(&mut hs);
            if let httparse::Status::Complete(n) = r.parse(&self.buf).expect("valid response head")
            {
                let headers = r
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_string(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect::<Vec<_>>();
                break (r.code.unwrap(), headers, n);
            }
            assert!(self.fill() > 0, "EOF before a complete response head");
        };
        self.buf.drain(..head_len);
        let mut resp = Response {
            status,
            headers,
            body: Vec::new(),
        };
        if head_only || status == 204 || status == 304 || status < 200 {
            return resp;
        }
        if let Some(len) = resp.header("content-length") {
            let len: usize = len.parse().expect("content-length");
            while self.buf.len() < len {
                assert!(self.fill() > 0, "EOF inside a Content-Length body");
            }
            resp.body = self.buf.drain(..len).collect();
        } else if resp.header("transfer-encoding") == Some("chunked") {
            loop {
                let (used, size) = loop {
                    if let Ok(httparse::Status::Complete(x)) = httparse::parse_chunk_size(&self.buf)
                    {
                        break x;
                    }
                    assert!(self.fill() > 0, "EOF inside chunked body");
                };
                let size = size as usize;
                while self.buf.len() < used + size + 2 {
                    assert!(self.fill() > 0, "EOF inside chunk");
                }
                resp.body.extend_from_slice(&self.buf[used..used + size]);
                assert_eq!(&self.buf[used + size..used + size + 2], b"\r\n");
                self.buf.drain(..used + size + 2);
                if size == 0 {
                    break;
                }
            }
        } else {
            while self.fill() > 0 {}
            resp.body = std::mem::take(&mut self.buf);
        }
        resp
    }

    /// True when the server has closed the connection (EOF, or a reset), waiting up to `limit`.
    pub fn closed_within(&mut self, limit: Duration) -> bool {
        self.stream.set_read_timeout(Some(limit)).unwrap();
        let mut byte = [0u8; 1];
        let closed = match self.stream.read(&mut byte) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
        };
        self.stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        closed
    }

    pub fn pending(&self) -> &[u8] {
        &self.buf
    }
}
pub mod db;
pub mod sys;
