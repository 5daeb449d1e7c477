//! The HTTP engine in-process, over scripted I/O: read splits, streaming responses and the
//! in-flight cap, with a handler written for the test.

use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use percore::http::scripted::ScriptedIo;
use percore::http::{conn, Engine, Handler, Limits, Request, Response};
use percore::metrics::CoreStats;
use percore::runtime::shutdown::Drain;
use proptest::prelude::*;

/// Echoes what it understood of the request, streams on `/stream`, fails a stream on
/// `/broken`, and takes its time on `/slow`.
struct TestApp;

impl Handler for TestApp {
    async fn call(&self, req: &Request<'_>) -> Response {
        match req.path() {
            "/stream" => {
                let chunks = (0..50).map(|i| Ok(Bytes::from(format!("{{\"row\":{i}}},"))));
                Response::stream(
                    200,
                    "application/json",
                    Box::pin(futures_util::stream::iter(chunks)),
                )
            }
            "/broken" => {
                let chunks = vec![
                    Ok(Bytes::from_static(b"[1,")),
                    Err(io::Error::other("db went away")),
                ];
                Response::stream(
                    200,
                    "application/json",
                    Box::pin(futures_util::stream::iter(chunks)),
                )
            }
            "/slow" => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                Response::text(200, "slow")
            }
            _ => Response::text(
                200,
                format!(
                    "{} {} q={} body={}",
                    req.method(),
                    req.path(),
                    req.query(),
                    String::from_utf8_lossy(req.body())
                ),
            ),
        }
    }
}

fn engine(limits: Limits) -> Engine {
    Engine::new(limits, Arc::new(CoreStats::default()), Drain::default())
}

fn peer() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 1))
}

/// Runs one connection over the given reads and returns the bytes written, without `Date`
/// lines (they depend on the clock, not the input).
fn run(reads: Vec<Vec<u8>>) -> String {
    let (io, written) = ScriptedIo::new(reads);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let engine = engine(Limits::default());
        conn::serve(io, peer(), &engine, &TestApp).await;
    });
    let out = String::from_utf8(written.take()).unwrap();
    out.lines()
        .filter(|l| !l.starts_with("Date: "))
        .collect::<Vec<_>>()
        .join("\n")
}

const REQUESTS: [&[u8]; 6] = [
    b"GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n",
    b"POST /b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
    b"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    b"HEAD /d HTTP/1.1\r\n\r\n",
    b"PUT /e HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok",
    b"GET /stream HTTP/1.1\r\nAccept-Encoding: identity\r\n\r\n",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// However the bytes of a pipelined burst are cut into reads, the responses are the same
    /// (the 100-continue interim aside, which depends on whether the body had arrived).
    #[test]
    fn any_split_of_valid_requests_parses_the_same(
        picks in proptest::collection::vec(0..REQUESTS.len(), 1..8),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let wire: Vec<u8> = picks.iter().flat_map(|&i| REQUESTS[i].to_vec()).collect();
        let whole = run(vec![wire.clone()]).replace("HTTP/1.1 100 Continue\n\n", "");
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(wire.len() + 1)).collect();
        points.sort_unstable();
        points.dedup();
        let mut reads = Vec::new();
        let mut last = 0;
        for p in points.into_iter().chain([wire.len()]) {
            if p > last {
                reads.push(wire[last..p].to_vec());
                last = p;
            }
        }
        let split = run(reads).replace("HTTP/1.1 100 Continue\n\n", "");
        prop_assert_eq!(&whole, &split);
        prop_assert_eq!(whole.matches("HTTP/1.1 200 OK").count(), picks.len());
    }
}

#[test]
fn streams_are_sent_chunked() {
    let out = run(vec![b"GET /stream HTTP/1.1\r\n\r\n".to_vec()]);
    assert!(out.contains("Transfer-Encoding: chunked"), "{out}");
    assert!(!out.contains("Content-Length"));
    assert!(out.contains("{\"row\":49},"));
    assert!(out.ends_with("0\n"), "{out:?}");
}

#[test]
fn streams_to_http10_end_with_the_connection() {
    let out = run(vec![
        b"GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /a HTTP/1.0\r\n\r\n".to_vec(),
    ]);
    assert!(out.contains("Connection: close"), "{out}");
    assert!(!out.contains("Transfer-Encoding"));
    assert_eq!(
        out.matches("HTTP/1.0 200").count(),
        1,
        "the connection must close after the stream"
    );
}

#[test]
fn a_failed_stream_is_cut_short_not_completed() {
    let out = run(vec![
        b"GET /broken HTTP/1.1\r\n\r\nGET /a HTTP/1.1\r\n\r\n".to_vec()
    ]);
    assert!(out.contains("[1,"));
    assert!(
        !out.contains("\n0\n"),
        "no terminating chunk after an error: {out:?}"
    );
    assert_eq!(out.matches("HTTP/1.1 200").count(), 1);
}

#[test]
fn gzip_streams_decode_to_the_same_rows() {
    use std::io::Read;
    let (io, written) = ScriptedIo::new(vec![
        b"GET /stream HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n".to_vec(),
    ]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async { conn::serve(io, peer(), &engine(Limits::default()), &TestApp).await });
    let raw = written.take();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let head = String::from_utf8_lossy(&raw[..split]);
    assert!(head.contains("Content-Encoding: gzip"), "{head}");
    // De-chunk, then gunzip.
    let mut body = Vec::new();
    let mut rest = &raw[split..];
    loop {
        let Ok(httparse::Status::Complete((used, size))) = httparse::parse_chunk_size(rest) else {
            panic!("bad chunk")
        };
        let size = size as usize;
        body.extend_from_slice(&rest[used..used + size]);
        rest = &rest[used + size + 2..];
        if size == 0 {
            break;
        }
    }
    let mut text = String::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_string(&mut text)
        .unwrap();
    assert!(text.starts_with("{\"row\":0},") && text.ends_with("{\"row\":49},"));
}

#[test]
fn requests_past_the_in_flight_cap_get_503() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    let (first, second) = local.block_on(&rt, async {
        let engine = Rc::new(engine(Limits {
            max_in_flight: 1,
            ..Limits::default()
        }));
        let mut outputs = Vec::new();
        let mut tasks = Vec::new();
        for _ in 0..2 {
            let (io, written) = ScriptedIo::new(vec![b"GET /slow HTTP/1.1\r\n\r\n".to_vec()]);
            outputs.push(written);
            let engine = Rc::clone(&engine);
            tasks.push(tokio::task::spawn_local(async move {
                conn::serve(io, peer(), &engine, &TestApp).await;
            }));
            tokio::task::yield_now().await;
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(engine.in_flight(), 0, "slots are given back");
        let text = |o: &Rc<RefCell<Vec<u8>>>| String::from_utf8(o.borrow().clone()).unwrap();
        (text(&outputs[0]), text(&outputs[1]))
    });
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    assert!(second.starts_with("HTTP/1.1 503"), "{second}");
    assert!(second.contains("Retry-After: 1"));
    assert!(second.contains("\"status_code\":503"));
}
