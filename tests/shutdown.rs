//! Graceful shutdown: in-flight requests complete, idle connections close, new connections are
//! refused, and the process exits 0.

mod common;

use std::net::TcpStream;
use std::time::Duration;

use common::Server;

#[test]
fn sigterm_drains_in_flight_requests_and_refuses_new_connections() {
    let mut server = Server::start_with(&[], &["--cores", "2"]);
    let mut idle = server.connect();
    assert_eq!(idle.roundtrip(b"GET /healthz HTTP/1.1\r\n\r\n").status, 200);

    // A request whose body is still arriving when the signal lands.
    let mut busy = server.connect();
    busy.send(b"POST /api/v2/svc HTTP/1.1\r\nContent-Length: 10\r\n\r\nhello");
    std::thread::sleep(Duration::from_millis(100));
    server.signal(libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(200));

    // The idle keep-alive connection is closed without a response.
    assert!(idle.closed_within(Duration::from_secs(3)));
    // The in-flight request completes, told that the connection closes.
    busy.send(b"world");
    let r = busy.read_response(false);
    r.assert_error(400);
    assert_eq!(r.header("connection"), Some("close"));

    assert_eq!(server.wait_exit(Duration::from_secs(10)), Some(0));
    assert!(
        TcpStream::connect(server.addr).is_err(),
        "listener still open after exit"
    );
}

#[test]
fn sigint_with_nothing_in_flight_exits_promptly() {
    let mut server = Server::start(&[]);
    let mut c = server.connect();
    assert_eq!(c.roundtrip(b"GET /healthz HTTP/1.1\r\n\r\n").status, 200);
    server.signal(libc::SIGINT);
    assert_eq!(server.wait_exit(Duration::from_secs(5)), Some(0));
}

#[test]
fn new_connections_are_refused_while_draining() {
    let mut server = Server::start(&[("PERCORE_SHUTDOWN_TIMEOUT", "3s")]);
    let mut busy = server.connect();
    busy.send(b"POST /api/v2/svc HTTP/1.1\r\nContent-Length: 4\r\n\r\nab");
    std::thread::sleep(Duration::from_millis(100));
    server.signal(libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        TcpStream::connect(server.addr).is_err(),
        "accepting while draining"
    );
    busy.send(b"cd");
    busy.read_response(false).assert_error(400);
    assert_eq!(server.wait_exit(Duration::from_secs(5)), Some(0));
}

#[test]
fn a_connection_accepted_before_the_signal_gets_its_first_request_answered() {
    let mut server = Server::start(&[]);
    let mut quiet = server.connect();
    std::thread::sleep(Duration::from_millis(100));
    server.signal(libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(200));
    let r = quiet.roundtrip(b"GET /healthz HTTP/1.1\r\n\r\n");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(server.wait_exit(Duration::from_secs(5)), Some(0));
}
