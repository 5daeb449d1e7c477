//! A minimal synchronous HTTP/1.1 client for the few control requests
//! (login, seeding, readiness polls) that are not part of the measured load.

use crate::engine::ResponseReader;
use crate::error::{Error, Result};
use crate::target::Url;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> Result<serde_json::Value> {
        Ok(serde_json::from_slice(&self.body)?)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one request on a fresh connection and reads the whole response.
pub fn request(
    method: &str,
    url: &Url,
    headers: &[(String, String)],
    body: Option<&[u8]>,
    timeout: Duration,
) -> Result<Response> {
    let http = |e: std::io::Error| Error::Http(format!("{method} {}{}: {e}", url.base(), url.path));
    let mut stream = TcpStream::connect_timeout(&url.socket_addr()?, timeout).map_err(http)?;
    stream.set_read_timeout(Some(timeout)).map_err(http)?;
    stream.set_write_timeout(Some(timeout)).map_err(http)?;
    let mut req = format!(
        "{method} {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nUser-Agent: loadgen\r\n",
        url.path,
        url.authority()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body.unwrap_or_default());
    stream.write_all(&bytes).map_err(http)?;
    let mut reader = ResponseReader::new(method == "HEAD", None, true);
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let (used, done) = reader
            .advance(&buf)
            .map_err(|e| Error::Http(format!("{method} {}: bad response: {e:?}", url.path)))?;
        buf.drain(..used);
        let done = match done {
            Some(d) => Some(d),
            None => match stream.read(&mut chunk).map_err(http)? {
                0 => Some(reader.eof().ok_or_else(|| {
                    Error::Http(format!("{method} {}: connection closed early", url.path))
                })?),
                n => {
                    buf.extend_from_slice(&chunk[..n]);
                    None
                }
            },
        };
        if let Some(d) = done {
            return Ok(Response {
                status: d.status,
                body: reader.body().to_vec(),
            });
        }
    }
}

/// Polls `url` until it answers 200 or `limit` passes.
pub fn wait_ready(url: &Url, limit: Duration, mut alive: impl FnMut() -> Result<()>) -> Result<()> {
    let start = std::time::Instant::now();
    loop {
        alive()?;
        if let Ok(r) = request("GET", url, &[], None, Duration::from_secs(2)) {
            if r.status == 200 {
                return Ok(());
            }
        }
        if start.elapsed() > limit {
            return Err(Error::Server(format!(
                "{}{} not ready after {limit:?}",
                url.base(),
                url.path
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
