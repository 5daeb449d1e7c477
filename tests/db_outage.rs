//! A database that goes away and comes back: requests get 503 in the envelope within the
//! connect timeout while it is down, and the service recovers by itself. The outage is real: a
//! TCP relay in front of the local PostgreSQL is closed (dropping live connections) and reopened.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::Server;

/// Relays connections to `target` while up; `down()` refuses new ones and cuts the live ones.
struct Relay {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    live: Arc<Mutex<Vec<TcpStream>>>,
}

impl Relay {
    fn start(target: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let live = Arc::new(Mutex::new(Vec::new()));
        let (u, l) = (Arc::clone(&up), Arc::clone(&live));
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if !u.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(target) else {
                    continue;
                };
                l.lock()
                    .unwrap()
                    .extend([client.try_clone().unwrap(), server.try_clone().unwrap()]);
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    thread::spawn(move || {
                        let mut buf = [0u8; 16 * 1024];
                        while let Ok(n) = from.read(&mut buf) {
                            if n == 0 || to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                        let _ = to.shutdown(Shutdown::Both);
                    });
                }
            }
        });
        Relay { addr, up, live }
    }

    fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        for s in self.live.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    fn up(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

fn get(server: &Server, path: &str) -> common::Response {
    let mut c = server.admin();
    let token = server.admin_token();
    c.roundtrip(
        format!("GET /api/v2/{path} HTTP/1.1\r\nHost: t\r\nX-DreamFactory-Session-Token: {token}\r\n\r\n")
            .as_bytes(),
    )
}

#[test]
fn database_outage_gives_503_then_recovers() {
    let target: SocketAddr = "127.0.0.1:5432".parse().unwrap();
    if TcpStream::connect_timeout(&target, Duration::from_secs(2)).is_err() {
        assert!(
            std::env::var("PERCORE_REQUIRE_DBS").as_deref() != Ok("1"),
            "PostgreSQL unreachable"
        );
        eprintln!("SKIPPED: PostgreSQL unreachable");
        return;
    }
    let relay = Relay::start(target);
    let config = std::env::temp_dir().join(format!("percore-outage-{}.toml", std::process::id()));
    std::fs::write(
        &config,
        format!(
            "[services.pg]\ntype = \"pgsql\"\n[services.pg.config]\nurl = \"postgres://postgres@{}/test?connect_timeout=2\"\nstatement_timeout = \"3s\"\n",
            relay.addr
        ),
    )
    .unwrap();
    let server = Server::start(&[("PERCORE_CONFIG", config.to_str().unwrap())]);
    assert_eq!(get(&server, "pg/_table").status, 200);

    relay.down();
    for _ in 0..3 {
        let started = Instant::now();
        let r = get(&server, "pg/_table?refresh=true");
        r.assert_error(503);
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "503 took {:?}",
            started.elapsed()
        );
    }

    relay.up();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = get(&server, "pg/_table?refresh=true");
        if r.status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "did not recover: {}",
            String::from_utf8_lossy(&r.body)
        );
        thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn an_unreachable_database_answers_503_not_a_hang() {
    let config = std::env::temp_dir().join(format!("percore-dead-{}.toml", std::process::id()));
    std::fs::write(
        &config,
        "[services.dead]\ntype = \"mysql\"\n[services.dead.config]\nhost = \"127.0.0.1\"\nport = 1\n",
    )
    .unwrap();
    let server = Server::start(&[("PERCORE_CONFIG", config.to_str().unwrap())]);
    let started = Instant::now();
    get(&server, "dead/_table/x").assert_error(503);
    assert!(started.elapsed() < Duration::from_secs(8));
}
