//! Raw-bytes tests of the HTTP/1.1 engine against a real server process.

mod common;

use std::io::Read;
use std::time::Duration;

use common::Server;

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    for _ in 0..5 {
        let r = c.roundtrip(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(r.status, 200);
        assert_eq!(r.body, br#"{"status":"ok"}"#);
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.header("date").map(str::len), Some(29));
        assert!(r.header("connection").is_none());
    }
}

#[test]
fn http10_closes_unless_keep_alive_is_asked_for() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    let r = c.roundtrip(b"GET /healthz HTTP/1.0\r\n\r\n");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.closed_within(Duration::from_secs(3)));

    let mut c = server.connect();
    let r = c.roundtrip(b"GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_eq!(r.header("connection"), Some("keep-alive"));
    assert_eq!(
        c.roundtrip(b"GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            .status,
        200
    );
}

#[test]
fn connection_close_is_honoured() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    let r = c.roundtrip(b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.closed_within(Duration::from_secs(3)));
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    c.send(
        b"GET /healthz HTTP/1.1\r\n\r\n\
          GET /nope HTTP/1.1\r\n\r\n\
          POST /status HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc\
          HEAD /healthz HTTP/1.1\r\n\r\n\
          GET /status HTTP/1.1\r\n\r\n",
    );
    assert_eq!(c.read_response(false).status, 200);
    c.read_response(false).assert_error(404);
    c.read_response(false).assert_error(405);
    let head = c.read_response(true);
    assert_eq!(
        (head.status, head.header("content-length")),
        (200, Some("15"))
    );
    let status = c.read_response(false);
    assert_eq!(status.json()["cores"], 1);
    assert!(c.pending().is_empty(), "HEAD must not send a body");
}

#[test]
fn head_sends_headers_only() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    c.send(b"HEAD /status HTTP/1.1\r\n\r\n");
    let r = c.read_response(true);
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-length")
            .unwrap()
            .parse::<usize>()
            .unwrap()
            > 0
    );
    // The next response must start right away: no body bytes in between.
    assert_eq!(c.roundtrip(b"GET /healthz HTTP/1.1\r\n\r\n").status, 200);
}

#[test]
fn options_and_wrong_methods_report_allow() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    let r = c.roundtrip(b"OPTIONS /status HTTP/1.1\r\n\r\n");
    assert_eq!(
        (r.status, r.header("allow")),
        (200, Some("GET, HEAD, OPTIONS"))
    );
    let r = c.roundtrip(b"DELETE /metrics HTTP/1.1\r\n\r\n");
    r.assert_error(405);
    assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS"));
    let r = c.roundtrip(b"TRACE /status HTTP/1.1\r\n\r\n");
    r.assert_error(405);
    c.roundtrip(b"GET /api/v1/nothing HTTP/1.1\r\n\r\n")
        .assert_error(404);
}

#[test]
fn verb_tunnelling_on_post() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    for raw in [
        &b"POST /status HTTP/1.1\r\nX-HTTP-Method: GET\r\nContent-Length: 0\r\n\r\n"[..],
        b"POST /status HTTP/1.1\r\nX-HTTP-Method-Override: get\r\nContent-Length: 0\r\n\r\n",
        b"POST /status HTTP/1.1\r\nX-Method-Override: GET\r\nContent-Length: 0\r\n\r\n",
        b"POST /status?method=GET HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
    ] {
        let r = c.roundtrip(raw);
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(raw));
        assert_eq!(r.json()["cores"], 1);
    }
    // Tunnelling is for POST only: a GET cannot become a DELETE.
    let r = c.roundtrip(b"GET /status HTTP/1.1\r\nX-HTTP-Method: DELETE\r\n\r\n");
    assert_eq!(r.status, 200);
}

#[test]
fn chunked_request_bodies_keep_the_framing() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    c.send(
        b"POST /api/v2/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\
          5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n\
          GET /healthz HTTP/1.1\r\n\r\n",
    );
    c.read_response(false).assert_error(400);
    assert_eq!(c.read_response(false).status, 200);
}

#[test]
fn expect_100_continue_is_answered_before_the_body() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    c.send(b"POST /api/v2/x HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    let interim = c.read_response(false);
    assert_eq!(interim.status, 100);
    c.send(b"body");
    c.read_response(false).assert_error(400);
}

#[test]
fn large_bodies_are_gzipped_when_accepted() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    let plain = c.roundtrip(b"GET /metrics HTTP/1.1\r\n\r\n");
    assert!(plain.header("content-encoding").is_none());
    let r = c.roundtrip(b"GET /metrics HTTP/1.1\r\nAccept-Encoding: gzip, br\r\n\r\n");
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(r.header("vary"), Some("Accept-Encoding"));
    let mut text = String::new();
    flate2::read::GzDecoder::new(&r.body[..])
        .read_to_string(&mut text)
        .unwrap();
    assert!(text.contains("percore_http_responses_total{class=\"2xx\"}"));
    // Small bodies are not worth it.
    let small = c.roundtrip(b"GET /healthz HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n");
    assert!(small.header("content-encoding").is_none());
}

#[test]
fn status_and_metrics_report_per_core_figures() {
    let server = Server::start_with(&[], &["--cores", "2"]);
    let mut c = server.connect();
    let status = c.roundtrip(b"GET /status HTTP/1.1\r\n\r\n").json();
    assert_eq!(status["cores"], 2);
    assert_eq!(status["connections_per_core"].as_array().unwrap().len(), 2);
    let open: u64 = status["connections_per_core"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert!(open >= 1);
    c.roundtrip(b"GET /nope HTTP/1.1\r\n\r\n");
    let metrics = String::from_utf8(c.roundtrip(b"GET /metrics HTTP/1.1\r\n\r\n").body).unwrap();
    assert!(
        metrics.contains("percore_http_responses_total{class=\"4xx\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("percore_open_connections{core=\"1\"}"));
    assert!(metrics.contains("percore_http_request_duration_seconds_bucket{le=\"+Inf\"}"));
    assert!(metrics.contains("percore_bytes_received_total"));
}

#[test]
fn service_namespace_answers_in_the_envelope() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    // Without a session or an API key, DreamFactory's 400.
    c.roundtrip(b"GET /api/v2 HTTP/1.1\r\n\r\n")
        .assert_error(400);
    let token = server.admin_token();
    let list = c.roundtrip(
        format!("GET /api/v2 HTTP/1.1\r\nX-DreamFactory-Session-Token: {token}\r\n\r\n").as_bytes(),
    );
    assert_eq!(list.status, 200);
    assert!(list.json()["services"].is_array());
    let r = c.roundtrip(
        format!("GET /api/v2/no%20such/_table/t?filter=a%3D1 HTTP/1.1\r\nX-DreamFactory-Session-Token: {token}\r\n\r\n")
            .as_bytes(),
    );
    r.assert_error(404);
    assert_eq!(r.json()["error"]["message"], "Service 'no such' not found.");
}
