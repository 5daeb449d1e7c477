//! The HTTP engine's hot path: request-head parsing, response encoding, and a whole pipelined
//! burst through the connection loop (in memory, no sockets: this measures our code, not the
//! kernel's).

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use percore::http::parse::{parse_head, Head};
use percore::http::scripted::ScriptedIo;
use percore::http::write::{encode_head, Context, Framing};
use percore::http::{conn, Engine, Handler, Limits, Request, Response};
use percore::metrics::CoreStats;
use percore::runtime::shutdown::Drain;

/// What a DreamFactory client typically sends: a session token, an API key, the usual browser
/// or SDK headers.
const TYPICAL: &[u8] = b"GET /api/v2/db/_table/contact/4711?fields=id,email HTTP/1.1\r\n\
Host: api.example.com\r\n\
User-Agent: df-sdk/2.0\r\n\
Accept: application/json\r\n\
Accept-Encoding: gzip, deflate\r\n\
X-DreamFactory-API-Key: 36fda24fe5588fa4285ac6c6c2fdfbdb6b6bc9834699774c9bf777f706d05a88\r\n\
X-DreamFactory-Session-Token: eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOjF9.sig\r\n\
Connection: keep-alive\r\n\r\n";

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Bytes(TYPICAL.len() as u64));
    let mut head = Head::default();
    g.bench_function("typical_head", |b| {
        b.iter(|| parse_head(black_box(TYPICAL), 64, &mut head).unwrap())
    });
    let tiny = b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n";
    g.bench_function("tiny_head", |b| {
        b.iter(|| parse_head(black_box(tiny), 64, &mut head).unwrap())
    });
    g.finish();
}

fn write(c: &mut Criterion) {
    let mut g = c.benchmark_group("write");
    let date = [b'D'; 29];
    let cx = Context {
        date: &date,
        keep_alive: true,
        minor_version: 1,
        gzip: false,
    };
    let resp = Response::json(200, Bytes::from_static(br#"{"status":"ok"}"#));
    let mut out = Vec::with_capacity(1024);
    g.bench_function("small_json_head", |b| {
        b.iter(|| {
            out.clear();
            encode_head(&mut out, black_box(&resp), Framing::Length(15), false, &cx);
        })
    });
    let rows: String = (0..100)
        .map(|i| format!("{{\"id\":{i},\"first_name\":\"Ada\",\"last_name\":\"Lovelace\",\"city\":\"London\"}},"))
        .collect();
    g.throughput(Throughput::Bytes(rows.len() as u64));
    g.bench_function("gzip_level1_8k", |b| {
        b.iter(|| percore::http::write::gzip(black_box(rows.as_bytes()), 1))
    });
    g.finish();
}

struct Fixed;

impl Handler for Fixed {
    async fn call(&self, _req: &Request<'_>) -> Response {
        Response::json(200, Bytes::from_static(br#"{"status":"ok"}"#))
    }
}

/// 32 pipelined requests through `conn::serve`: parse, dispatch, encode, one write.
fn connection(c: &mut Criterion) {
    let mut g = c.benchmark_group("connection");
    let burst: Vec<u8> = TYPICAL.repeat(32);
    g.throughput(Throughput::Elements(32));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let engine = Engine::new(
        Limits::default(),
        Arc::new(CoreStats::default()),
        Drain::default(),
    );
    let peer = SocketAddr::from(([127, 0, 0, 1], 1));
    g.bench_function("pipelined_32", |b| {
        b.iter(|| {
            let (io, written) = ScriptedIo::new(vec![burst.clone()]);
            rt.block_on(conn::serve(io, peer, &engine, &Fixed));
            let n = written.borrow().len();
            black_box(n)
        })
    });
    g.finish();
}

criterion_group!(benches, parse, write, connection);
criterion_main!(benches);
