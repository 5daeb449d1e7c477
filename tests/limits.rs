//! Each limit and timeout of the engine, with its status and the envelope, against a real server.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::Server;

#[test]
fn oversized_request_line_is_431_then_close() {
    let server = Server::start(&[("PERCORE_HTTP__MAX_HEAD_BYTES", "2048")]);
    let mut c = server.connect();
    let mut raw = b"GET /".to_vec();
    raw.extend(std::iter::repeat_n(b'a', 4096));
    raw.extend_from_slice(b" HTTP/1.1\r\n\r\n");
    let r = c.roundtrip(&raw);
    r.assert_error(431);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.closed_within(Duration::from_secs(3)));
}

#[test]
fn oversized_headers_are_431() {
    let server = Server::start(&[("PERCORE_HTTP__MAX_HEAD_BYTES", "2048")]);
    let mut c = server.connect();
    let big = format!(
        "GET /healthz HTTP/1.1\r\nX-Big: {}\r\n\r\n",
        "v".repeat(3000)
    );
    c.roundtrip(big.as_bytes()).assert_error(431);
}

#[test]
fn too_many_headers_are_431() {
    let server = Server::start(&[("PERCORE_HTTP__MAX_HEADERS", "8")]);
    let mut c = server.connect();
    let mut raw = String::from("GET /healthz HTTP/1.1\r\n");
    for i in 0..9 {
        raw.push_str(&format!("X-H{i}: v\r\n"));
    }
    raw.push_str("\r\n");
    c.roundtrip(raw.as_bytes()).assert_error(431);
    let mut ok = server.connect();
    assert_eq!(
        ok.roundtrip(b"GET /healthz HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n")
            .status,
        200
    );
}

#[test]
fn body_over_the_limit_is_413_before_the_body_is_sent() {
    let server = Server::start(&[("PERCORE_HTTP__MAX_BODY_BYTES", "1000")]);
    let mut c = server.connect();
    // No body bytes follow: the answer must come from Content-Length alone.
    let r = c.roundtrip(b"POST /api/v2/x HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n");
    r.assert_error(413);
    assert!(c.closed_within(Duration::from_secs(3)));
    // At the limit is fine.
    let mut c = server.connect();
    let mut raw = b"POST /api/v2/x HTTP/1.1\r\nContent-Length: 1000\r\n\r\n".to_vec();
    raw.extend(std::iter::repeat_n(b'x', 1000));
    c.roundtrip(&raw).assert_error(400);
}

#[test]
fn chunked_body_over_the_limit_is_413() {
    let server = Server::start(&[("PERCORE_HTTP__MAX_BODY_BYTES", "10")]);
    let mut c = server.connect();
    c.roundtrip(
        b"POST /api/v2/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n",
    )
    .assert_error(413);
}

#[test]
fn malformed_requests_are_400_then_close() {
    let server = Server::start(&[]);
    for raw in [
        &b"GET / HTTP/1.1\r\nBad Header\r\n\r\n"[..],
        b"GET /\x01 HTTP/1.1\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        b"POST /api/v2/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ] {
        let mut c = server.connect();
        let r = c.roundtrip(raw);
        r.assert_error(400);
        assert_eq!(r.header("connection"), Some("close"));
        assert!(
            c.closed_within(Duration::from_secs(3)),
            "{}",
            String::from_utf8_lossy(raw)
        );
    }
}

#[test]
fn unsupported_transfer_coding_is_501() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    c.roundtrip(b"POST /api/v2/x HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")
        .assert_error(501);
}

#[test]
fn slow_headers_get_408_then_close() {
    let server = Server::start(&[("PERCORE_HTTP__HEADER_TIMEOUT", "300ms")]);
    let mut c = server.connect();
    let started = Instant::now();
    // Slowloris: a byte at a time, never finishing the head.
    for b in b"GET /healthz HTTP/1.1\r\nX-A: " {
        if c.stream.write_all(&[*b]).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let r = c.read_response(false);
    r.assert_error(408);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(c.closed_within(Duration::from_secs(3)));
}

#[test]
fn slow_bodies_get_408() {
    let server = Server::start(&[("PERCORE_HTTP__BODY_TIMEOUT", "300ms")]);
    let mut c = server.connect();
    c.roundtrip(b"POST /api/v2/x HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc")
        .assert_error(408);
}

#[test]
fn idle_keep_alive_connections_are_closed() {
    let server = Server::start(&[("PERCORE_HTTP__IDLE_TIMEOUT", "300ms")]);
    let mut c = server.connect();
    assert_eq!(c.roundtrip(b"GET /healthz HTTP/1.1\r\n\r\n").status, 200);
    assert!(c.closed_within(Duration::from_secs(3)));
}

#[test]
fn connections_past_the_per_core_cap_get_503_with_retry_after() {
    let server = Server::start(&[("PERCORE_LIMITS__MAX_CONNECTIONS_PER_CORE", "2")]);
    let mut a = server.connect();
    let mut b = server.connect();
    assert_eq!(a.roundtrip(b"GET /healthz HTTP/1.1\r\n\r\n").status, 200);
    assert_eq!(b.roundtrip(b"GET /healthz HTTP/1.1\r\n\r\n").status, 200);
    let mut c = server.connect();
    let r = c.roundtrip(b"GET /healthz HTTP/1.1\r\n\r\n");
    r.assert_error(503);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert!(c.closed_within(Duration::from_secs(3)));
    // Accepted connections keep working, and a freed slot is usable again.
    assert_eq!(a.roundtrip(b"GET /healthz HTTP/1.1\r\n\r\n").status, 200);
    drop(b);
    // The server notices the close on its own schedule; retry until the slot is free.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut d = server.connect();
        let status = d.roundtrip(b"GET /healthz HTTP/1.1\r\n\r\n").status;
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the freed slot was never reused");
        std::thread::sleep(Duration::from_millis(100));
    }
}
