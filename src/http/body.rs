//! Request-body framing. A `Content-Length` body stays where it landed in the read buffer (no
//! copy); a chunked body is decoded incrementally, resumably, into a reused per-connection buffer.

use super::error::HttpError;

/// Trailers are read and dropped; this bounds how many bytes of them we tolerate.
const MAX_TRAILER_BYTES: usize = 8 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Size,
    Data(u64),
    DataEnd,
    Trailers,
    Done,
}

/// Decodes `Transfer-Encoding: chunked` from a buffer that only grows while the body is read, so
/// the decoder keeps its position and never rescans what it has already decoded.
#[derive(Debug)]
pub struct ChunkedDecoder {
    state: State,
    pos: usize,
    trailer_bytes: usize,
    limit: u64,
}

impl ChunkedDecoder {
    pub fn new(limit: u64) -> Self {
        ChunkedDecoder {
            state: State::Size,
            pos: 0,
            trailer_bytes: 0,
            limit,
        }
    }

    /// Decodes what `input` holds (the bytes after the head), appending data to `out`.
    /// Returns the encoded length once the last chunk and trailers are in, `None` for more.
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<Option<usize>, HttpError> {
        loop {
            let rest = &input[self.pos..];
            match self.state {
                State::Size => match httparse::parse_chunk_size(rest) {
                    Ok(httparse::Status::Complete((used, size))) => {
                        if (out.len() as u64).saturating_add(size) > self.limit {
                            return Err(HttpError::BodyTooLarge { limit: self.limit });
                        }
                        self.pos += used;
                        self.state = if size == 0 {
                            State::Trailers
                        } else {
                            State::Data(size)
                        };
                    }
                    Ok(httparse::Status::Partial) if rest.len() > 1024 => {
                        return Err(HttpError::Malformed("chunk size line too long".into()))
                    }
                    Ok(httparse::Status::Partial) => return Ok(None),
                    Err(_) => return Err(HttpError::Malformed("invalid chunk size".into())),
                },
                State::Data(remaining) => {
                    if rest.is_empty() {
                        return Ok(None);
                    }
                    let take = rest
                        .len()
                        .min(usize::try_from(remaining).unwrap_or(usize::MAX));
                    out.extend_from_slice(&rest[..take]);
                    self.pos += take;
                    let left = remaining - take as u64;
                    self.state = if left == 0 {
                        State::DataEnd
                    } else {
                        State::Data(left)
                    };
                }
                State::DataEnd => {
                    if rest.len() < 2 {
                        return Ok(None);
                    }
                    if &rest[..2] != b"\r\n" {
                        return Err(HttpError::Malformed("chunk not followed by CRLF".into()));
                    }
                    self.pos += 2;
                    self.state = State::Size;
                }
                State::Trailers => {
                    let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else {
                        if self.trailer_bytes + rest.len() > MAX_TRAILER_BYTES {
                            return Err(HttpError::HeadTooLarge);
                        }
                        return Ok(None);
                    };
                    self.pos += eol + 2;
                    self.trailer_bytes += eol + 2;
                    if self.trailer_bytes > MAX_TRAILER_BYTES {
                        return Err(HttpError::HeadTooLarge);
                    }
                    if eol == 0 {
                        self.state = State::Done;
                    }
                }
                State::Done => return Ok(Some(self.pos)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_across_any_split() {
        let wire = b"4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nX-Trailer: y\r\n\r\nNEXT";
        for split in 0..wire.len() {
            let mut dec = ChunkedDecoder::new(1024);
            let mut out = Vec::new();
            let first = dec.decode(&wire[..split], &mut out).unwrap();
            let done = match first {
                Some(n) => n,
                None => dec.decode(wire, &mut out).unwrap().unwrap(),
            };
            assert_eq!(out, b"Wikipedia", "split at {split}");
            assert_eq!(&wire[done..], b"NEXT");
        }
    }

    #[test]
    fn enforces_the_limit_before_reading_data() {
        let mut dec = ChunkedDecoder::new(4);
        let err = dec.decode(b"10\r\n", &mut Vec::new()).unwrap_err();
        assert!(matches!(err, HttpError::BodyTooLarge { .. }));
    }

    #[test]
    fn rejects_garbage() {
        let mut dec = ChunkedDecoder::new(1024);
        assert!(dec.decode(b"zz\r\n", &mut Vec::new()).is_err());
        let mut dec = ChunkedDecoder::new(1024);
        assert!(dec.decode(b"1\r\nab\r\n", &mut Vec::new()).is_err());
    }
}
