//! Reference server for the side-by-side benchmark (`bench/side_by_side.sh`).
//!
//! A deliberately plain, idiomatic hyper 1.x HTTP/1.1 server on a tokio
//! `current_thread` runtime, i.e. exactly one thread, so that it can be pinned
//! to the same single core as `percore serve --cores 1` and compared fairly.
//! Every request, whatever its method or path, gets `200 OK` with
//! `content-type: application/json` and the body `{"status":"ok"}`, which is
//! what percore's `GET /healthz` returns; hyper adds `date` and
//! `content-length` itself.
//!
//! Usage: `hyper_ref [--listen ADDR:PORT] [--header-timeout SECS]`
//!
//! Arguments are parsed by hand so the bench package needs no CLI crate.

use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

const DEFAULT_LISTEN: &str = "127.0.0.1:8090";
/// Same value as percore's default `[http] header_timeout`, so both servers pay
/// for arming a per-request header-read timer.
const DEFAULT_HEADER_TIMEOUT_SECS: u64 = 10;
const BODY: &[u8] = br#"{"status":"ok"}"#;

const USAGE: &str = "\
usage: hyper_ref [--listen ADDR:PORT] [--header-timeout SECS]

  --listen ADDR:PORT     address to bind (default 127.0.0.1:8090; port 0 picks one)
  --header-timeout SECS  hyper's header-read timeout, 0 disables (default 10,
                         matching percore's default header_timeout)
  -h, --help             print this help

Answers every request with 200 application/json {\"status\":\"ok\"}, HTTP/1.1
keep-alive, one tokio current_thread runtime (one thread).";

struct Args {
    listen: SocketAddr,
    header_timeout: Option<Duration>,
}

/// Accepts `--flag value` and `--flag=value`.
fn parse_args(mut argv: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut listen = DEFAULT_LISTEN.to_string();
    let mut header_timeout_secs = DEFAULT_HEADER_TIMEOUT_SECS;
    while let Some(arg) = argv.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg, None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| argv.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--listen" => listen = value("--listen")?,
            "--header-timeout" => {
                let v = value("--header-timeout")?;
                header_timeout_secs = v
                    .parse()
                    .map_err(|_| format!("--header-timeout: not a whole number of seconds: {v}"))?;
            }
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    let listen = listen
        .parse()
        .map_err(|_| format!("--listen: not an ADDR:PORT socket address: {listen}"))?;
    let header_timeout =
        (header_timeout_secs > 0).then(|| Duration::from_secs(header_timeout_secs));
    Ok(Some(Args {
        listen,
        header_timeout,
    }))
}

async fn handle(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut resp = Response::new(Full::new(Bytes::from_static(BODY)));
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(resp)
}

async fn serve(args: Args) -> std::io::Result<()> {
    let listener = TcpListener::bind(args.listen).await?;
    let local = listener.local_addr()?;
    println!("hyper_ref listening on {local}");
    // The bench script waits for this line through a pipe, so flush it now.
    std::io::stdout().flush()?;

    let mut builder = http1::Builder::new();
    builder.keep_alive(true);
    if let Some(t) = args.header_timeout {
        builder.timer(TokioTimer::new()).header_read_timeout(t);
    } else {
        builder.header_read_timeout(None);
    }

    loop {
        let (stream, _peer) = match listener.accept().await {
            Ok(conn) => conn,
            // EMFILE/ECONNABORTED and friends must not kill the server; back
            // off briefly so a descriptor shortage does not spin the core.
            Err(e) => {
                eprintln!("hyper_ref: accept: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        // Small responses: without NODELAY, Nagle + delayed ACK can stall a
        // keep-alive connection by tens of milliseconds, and the benchmark
        // would measure that instead of the server.
        let _ = stream.set_nodelay(true);
        let conn = builder.serve_connection(TokioIo::new(stream), service_fn(handle));
        // current_thread runtime: every spawned task runs on this one thread.
        tokio::spawn(async move {
            // Resets and early closes by the load generator are normal at the
            // end of a run; they are not worth reporting.
            let _ = conn.await;
        });
    }
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("hyper_ref: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hyper_ref: cannot build tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hyper_ref: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &[&str]) -> Result<Option<Args>, String> {
        parse_args(v.iter().map(|s| s.to_string()))
    }

    #[test]
    fn defaults() {
        let a = parse(&[]).unwrap().unwrap();
        assert_eq!(a.listen, DEFAULT_LISTEN.parse().unwrap());
        assert_eq!(a.header_timeout, Some(Duration::from_secs(10)));
    }

    #[test]
    fn both_flag_forms() {
        let a = parse(&["--listen", "127.0.0.1:9000", "--header-timeout=0"])
            .unwrap()
            .unwrap();
        assert_eq!(a.listen, "127.0.0.1:9000".parse().unwrap());
        assert_eq!(a.header_timeout, None);
        let a = parse(&["--listen=127.0.0.1:0"]).unwrap().unwrap();
        assert_eq!(a.listen.port(), 0);
    }

    #[test]
    fn errors_and_help() {
        assert!(parse(&["--help"]).unwrap().is_none());
        assert!(parse(&["--listen"]).is_err());
        assert!(parse(&["--listen", "nope"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
        assert!(parse(&["--header-timeout", "x"]).is_err());
    }
}
