//! Incremental HTTP/1.1 response reader: httparse for the head, then a
//! small state machine for Content-Length, chunked and read-until-close
//! bodies. Bodies are skipped without copying unless a body check or id
//! capture needs them.

use crate::request::find;

/// The response head may not exceed this; beyond it the peer is broken.
pub const MAX_HEAD: usize = 64 * 1024;
const MAX_HEADERS: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolError {
    BadHead,
    HeadTooLarge,
    BadChunk,
}

/// What a finished response told us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Done {
    pub status: u16,
    /// False when the server asked to close (or spoke HTTP/1.0).
    pub keep_alive: bool,
    /// False when `expect` was set and the body did not contain it.
    pub body_ok: bool,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Head,
    Length(u64),
    ChunkSize,
    ChunkData(u64),
    ChunkDataEnd,
    Trailer,
    UntilClose,
}

pub struct ResponseReader {
    state: State,
    status: u16,
    keep_alive: bool,
    head_request: bool,
    keep_body: bool,
    expect: Option<Vec<u8>>,
    body: Vec<u8>,
}

/// Result of feeding bytes: how many were consumed, and the response if it
/// completed within them.
pub type Advance = Result<(usize, Option<Done>), ProtocolError>;

impl ResponseReader {
    pub fn new(head_request: bool, expect: Option<Vec<u8>>, keep_body: bool) -> Self {
        ResponseReader {
            state: State::Head,
            status: 0,
            keep_alive: true,
            head_request,
            keep_body: keep_body || expect.is_some(),
            expect,
            body: Vec::new(),
        }
    }

    /// The body of the last completed response, when bodies are kept.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Back to the start of a response (after a connection reset).
    pub fn reset(&mut self) {
        self.state = State::Head;
        self.body.clear();
    }

    /// Consumes bytes from `data` until one response completes or the
    /// data runs out.
    pub fn advance(&mut self, data: &[u8]) -> Advance {
        let mut used = 0;
        loop {
            let rest = &data[used..];
            match self.state {
                State::Head => {
                    let n = match self.parse_head(rest)? {
                        Some(n) => n,
                        None => return Ok((used, None)),
                    };
                    used += n;
                    if let State::Length(0) = self.state {
                        return Ok((used, Some(self.finish())));
                    }
                    if let State::Head = self.state {
                        // No body at all (HEAD, 204, 304, 1xx).
                        return Ok((used, Some(self.finish())));
                    }
                }
                State::Length(left) => {
                    let n = (left as usize).min(rest.len());
                    self.keep(&rest[..n]);
                    used += n;
                    if n as u64 == left {
                        return Ok((used, Some(self.finish())));
                    }
                    self.state = State::Length(left - n as u64);
                    return Ok((used, None));
                }
                State::ChunkSize => {
                    let Some(eol) = find(rest, b"\r\n") else {
                        return Ok((used, None));
                    };
                    let line =
                        std::str::from_utf8(&rest[..eol]).map_err(|_| ProtocolError::BadChunk)?;
                    let hex = line.split(';').next().unwrap_or("").trim();
                    let size = u64::from_str_radix(hex, 16).map_err(|_| ProtocolError::BadChunk)?;
                    used += eol + 2;
                    self.state = if size == 0 {
                        State::Trailer
                    } else {
                        State::ChunkData(size)
                    };
                }
                State::ChunkData(left) => {
                    let n = (left as usize).min(rest.len());
                    self.keep(&rest[..n]);
                    used += n;
                    if (n as u64) < left {
                        self.state = State::ChunkData(left - n as u64);
                        return Ok((used, None));
                    }
                    self.state = State::ChunkDataEnd;
                }
                State::ChunkDataEnd => {
                    if rest.len() < 2 {
                        return Ok((used, None));
                    }
                    if &rest[..2] != b"\r\n" {
                        return Err(ProtocolError::BadChunk);
                    }
                    used += 2;
                    self.state = State::ChunkSize;
                }
                State::Trailer => {
                    let Some(eol) = find(rest, b"\r\n") else {
                        return Ok((used, None));
                    };
                    used += eol + 2;
                    if eol == 0 {
                        return Ok((used, Some(self.finish())));
                    }
                }
                State::UntilClose => {
                    self.keep(rest);
                    return Ok((data.len(), None));
                }
            }
        }
    }

    /// The peer closed the connection: completes a read-until-close body,
    /// anything else was cut short.
    pub fn eof(&mut self) -> Option<Done> {
        match self.state {
            State::UntilClose => {
                self.keep_alive = false;
                Some(self.finish())
            }
            _ => None,
        }
    }

    fn keep(&mut self, bytes: &[u8]) {
        if self.keep_body {
            self.body.extend_from_slice(bytes);
        }
    }

    fn finish(&mut self) -> Done {
        let body_ok = match &self.expect {
            Some(e) => find(&self.body, e).is_some(),
            None => true,
        };
        self.state = State::Head;
        Done {
            status: self.status,
            keep_alive: self.keep_alive,
            body_ok,
        }
    }

    /// Parses the head; `Ok(None)` means more bytes are needed.
    fn parse_head(&mut self, data: &[u8]) -> Result<Option<usize>, ProtocolError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut resp = httparse::Response::new(&mut headers);
        let n = match resp.parse(data) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) if data.len() > MAX_HEAD => {
                return Err(ProtocolError::HeadTooLarge)
            }
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(_) => return Err(ProtocolError::BadHead),
        };
        let status = resp.code.unwrap_or(0);
        let mut keep_alive = resp.version == Some(1);
        let mut length = None;
        let mut chunked = false;
        for h in resp.headers.iter() {
            if h.name.eq_ignore_ascii_case("content-length") {
                let v = std::str::from_utf8(h.value).map_err(|_| ProtocolError::BadHead)?;
                length = Some(
                    v.trim()
                        .parse::<u64>()
                        .map_err(|_| ProtocolError::BadHead)?,
                );
            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = h.value.eq_ignore_ascii_case(b"chunked")
                    || find(&h.value.to_ascii_lowercase(), b"chunked").is_some();
            } else if h.name.eq_ignore_ascii_case("connection") {
                let v = h.value.to_ascii_lowercase();
                if find(&v, b"close").is_some() {
                    keep_alive = false;
                } else if find(&v, b"keep-alive").is_some() {
                    keep_alive = true;
                }
            }
        }
        self.status = status;
        self.keep_alive = keep_alive;
        self.body.clear();
        let bodiless = self.head_request || status / 100 == 1 || status == 204 || status == 304;
        self.state = if bodiless {
            State::Head
        } else if chunked {
            State::ChunkSize
        } else if let Some(len) = length {
            State::Length(len)
        } else {
            State::UntilClose
        };
        Ok(Some(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_bytewise(r: &mut ResponseReader, data: &[u8]) -> Vec<Done> {
        // Feeding one byte at a time exercises every partial-input path.
        let mut buf = Vec::new();
        let mut out = Vec::new();
        for &b in data {
            buf.push(b);
            loop {
                let (used, done) = r.advance(&buf).unwrap();
                buf.drain(..used);
                match done {
                    Some(d) => out.push(d),
                    None => break,
                }
            }
        }
        out
    }

    #[test]
    fn content_length_and_pipelined() {
        let mut r = ResponseReader::new(false, Some(b"lo".to_vec()), false);
        let two = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 404 NF\r\nContent-Length: 0\r\n\r\n";
        let got = feed_bytewise(&mut r, two);
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].status, got[0].body_ok), (200, true));
        assert_eq!((got[1].status, got[1].body_ok), (404, false));
    }

    #[test]
    fn chunked_with_trailer() {
        let mut r = ResponseReader::new(false, Some(b"world".to_vec()), false);
        let data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=1\r\n world\r\n0\r\nX: y\r\n\r\n";
        let got = feed_bytewise(&mut r, data);
        assert_eq!(got.len(), 1);
        assert!(got[0].body_ok && got[0].keep_alive);
        assert_eq!(r.body(), b"hello world");
    }

    #[test]
    fn until_close_and_http10() {
        let mut r = ResponseReader::new(false, None, true);
        let (used, done) = r.advance(b"HTTP/1.0 200 OK\r\n\r\nabc").unwrap();
        assert_eq!((used, done), (22, None));
        let d = r.eof().unwrap();
        assert!(!d.keep_alive);
        assert_eq!(r.body(), b"abc");
    }

    #[test]
    fn garbage_is_an_error() {
        let mut r = ResponseReader::new(false, None, false);
        assert!(r.advance(b"NOT HTTP AT ALL\r\n\r\n").is_err());
    }
}
