//! Rows to DreamFactory's JSON, encoded as they arrive. Small results get a `Content-Length`
//! response; once a result passes [`STREAM_AT`] the rest is streamed chunked, so a million-row
//! read holds one chunk in memory, not the result.

use std::io;

use bytes::Bytes;
use futures_util::StreamExt;
use percore_connector::{value::write_json_string, DbError, Row, RowStream, Value};

use crate::http::response::JSON;
use crate::http::Response;

/// Results up to this size are sent whole; beyond it, chunked.
pub const STREAM_AT: usize = 64 * 1024;
/// Chunk size while streaming.
const CHUNK: usize = 32 * 1024;

/// Pre-encoded `"name":` keys, built once per result instead of once per row.
pub struct RowEncoder {
    keys: Vec<Vec<u8>>,
}

impl RowEncoder {
    pub fn new(columns: &[String]) -> Self {
        let keys = columns
            .iter()
            .map(|c| {
                let mut k = Vec::with_capacity(c.len() + 3);
                write_json_string(&mut k, c);
                k.push(b':');
                k
            })
            .collect();
        RowEncoder { keys }
    }

    pub fn write(&self, out: &mut Vec<u8>, row: &[Value]) {
        out.push(b'{');
        for (i, (key, value)) in self.keys.iter().zip(row).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(key);
            value.write_json(out);
        }
        out.push(b'}');
    }

    pub fn to_json(&self, columns: &[String], row: &[Value]) -> serde_json::Value {
        columns
            .iter()
            .zip(row)
            .map(|(c, v)| (c.clone(), v.to_json()))
            .collect::<serde_json::Map<_, _>>()
            .into()
    }
}

/// `{"resource":[rows...]<tail>}` where `tail` is e.g. `,"meta":{...}` (already encoded).
/// Reads up to [`STREAM_AT`] bytes first: if the rows end by then, one whole response; else a
/// chunked stream carrying on from where the buffer left off.
pub async fn resource_response(mut rows: RowStream, tail: Vec<u8>) -> Result<Response, DbError> {
    let encoder = RowEncoder::new(&rows.columns);
    let mut buf = Vec::with_capacity(4096);
    buf.extend_from_slice(b"{\"resource\":[");
    let mut first = true;
    while buf.len() < STREAM_AT {
        match rows.rows.next().await {
            Some(row) => {
                push_row(&encoder, &mut buf, &mut first, &row?);
            }
            None => {
                buf.push(b']');
                buf.extend_from_slice(&tail);
                buf.push(b'}');
                return Ok(Response::json(200, buf));
            }
        }
    }
    let state = Some((rows, encoder, buf, first, tail));
    let stream = futures_util::stream::unfold(state, |state| async move {
        let (mut rows, encoder, mut buf, mut first, tail) = state?;
        loop {
            if buf.len() >= CHUNK {
                let chunk = Bytes::from(std::mem::take(&mut buf));
                return Some((
                    Ok(chunk),
                    Some((rows, encoder, Vec::with_capacity(CHUNK + 1024), first, tail)),
                ));
            }
            match rows.rows.next().await {
                Some(Ok(row)) => push_row(&encoder, &mut buf, &mut first, &row),
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "database stream failed mid-response");
                    return Some((Err(io::Error::other(e.message)), None));
                }
                None => {
                    buf.push(b']');
                    buf.extend_from_slice(&tail);
                    buf.push(b'}');
                    return Some((Ok(Bytes::from(buf)), None));
                }
            }
        }
    });
    Ok(Response::stream(200, JSON, Box::pin(stream)))
}

fn push_row(encoder: &RowEncoder, buf: &mut Vec<u8>, first: &mut bool, row: &Row) {
    if !*first {
        buf.push(b',');
    }
    *first = false;
    encoder.write(buf, row);
}
