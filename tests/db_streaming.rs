//! A 1,000,000-row read streams in bounded memory: the server's peak RSS stays far below the
//! size of the response it sends.

mod common;

use std::io::Read;
use std::time::Duration;

use common::Server;

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap()
}

#[test]
fn a_million_rows_stream_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("big.sqlite");
    let con = rusqlite::Connection::open(&db).unwrap();
    con.execute_batch(
        "CREATE TABLE big (id INTEGER PRIMARY KEY, label TEXT NOT NULL);
         WITH RECURSIVE seq(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM seq WHERE g < 1000000)
         INSERT INTO big (id, label) SELECT g, printf('label-%012d-xxxxxxxx', g) FROM seq;",
    )
    .unwrap();
    drop(con);
    let config = dir.path().join("p.toml");
    std::fs::write(
        &config,
        format!(
            "[services.big]\ntype = \"sqlite\"\n[services.big.config]\ndatabase = \"{}\"\nmax_records = 2000000\n",
            db.display()
        ),
    )
    .unwrap();
    let server = Server::start(&[("PERCORE_CONFIG", config.to_str().unwrap())]);
    let baseline = peak_rss_kib(server.pid());

    let mut c = server.admin();
    c.stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let token = server.admin_token();
    c.send(format!("GET /api/v2/big/_table/big?limit=1000000 HTTP/1.1\r\nX-DreamFactory-Session-Token: {token}\r\nConnection: close\r\n\r\n").as_bytes());
    // Read and discard, counting: the client must not be what holds the rows either.
    let mut total = 0usize;
    let mut buf = vec![0u8; 256 * 1024];
    let mut head = Vec::new();
    loop {
        let n = c.stream.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        if head.len() < 4096 {
            head.extend_from_slice(&buf[..n.min(4096)]);
        }
        total += n;
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("Transfer-Encoding: chunked"));
    assert!(total > 45_000_000, "only {total} bytes");
    let grown_mib = (peak_rss_kib(server.pid()) - baseline) / 1024;
    assert!(
        grown_mib < 48,
        "peak RSS grew by {grown_mib} MiB while sending {} MiB",
        total >> 20
    );
}
