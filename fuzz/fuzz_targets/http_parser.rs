//! Any bytes, cut into reads at fuzzer-chosen points, through the head parser, the chunked
//! decoder and the whole connection loop. The properties: no panic, no hang, and every
//! response the engine writes is a well-formed HTTP/1.x status line.
#![no_main]

use std::net::SocketAddr;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use percore::http::body::ChunkedDecoder;
use percore::http::parse::{parse_head, Head};
use percore::http::scripted::ScriptedIo;
use percore::http::{conn, Engine, Handler, Limits, Request, Response};
use percore::metrics::CoreStats;
use percore::runtime::shutdown::Drain;

struct Echo;

impl Handler for Echo {
    async fn call(&self, req: &Request<'_>) -> Response {
        Response::text(200, format!("{} {}", req.path(), req.body().len()))
    }
}

fuzz_target!(|data: &[u8]| {
    let mut head = Head::default();
    if let Ok(true) = parse_head(data, 64, &mut head) {
        let mut out = Vec::new();
        let _ = ChunkedDecoder::new(1 << 20).decode(&data[head.len..], &mut out);
    }

    // The first byte picks the read size, so splits are explored too.
    let Some((&cut, rest)) = data.split_first() else { return };
    let cut = usize::from(cut.max(1));
    let reads = rest.chunks(cut).map(<[u8]>::to_vec).collect();
    let (io, written) = ScriptedIo::new(reads);
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
    let limits = Limits { max_body_bytes: 1 << 16, max_head_bytes: 4096, ..Limits::default() };
    let engine = Engine::new(limits, Arc::new(CoreStats::default()), Drain::default());
    rt.block_on(conn::serve(io, SocketAddr::from(([127, 0, 0, 1], 1)), &engine, &Echo));
    let out = written.borrow();
    assert!(out.is_empty() || out.starts_with(b"HTTP/1."));
});
