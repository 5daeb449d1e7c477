//! Engine behaviour against the in-process stub server: exact counts,
//! open-loop rate, coordinated-omission correction and error kinds.

use loadgen::cli::LoadOpts;
use loadgen::engine::Driver;
use loadgen::report::RunReport;
use loadgen::request::ids::{Dist, IdSource};
use loadgen::request::Paths;
use loadgen::runner::{self, Defaults, RequestSpec};
use loadgen::stub_server::{ServeArgs, StubServer};
use loadgen::target::Url;
use std::time::Duration;

/// epoll, and io_uring where the kernel has it (else epoll again).
const DRIVERS: [Driver; 2] = [Driver::Legacy, Driver::Auto];

fn stub() -> StubServer {
    StubServer::start(&ServeArgs {
        listen: "127.0.0.1:0".into(),
        ..ServeArgs::default()
    })
    .unwrap()
}

fn opts() -> LoadOpts {
    LoadOpts {
        pipeline: 1,
        timeout: Duration::from_secs(10).into(),
        ..LoadOpts::default()
    }
}

fn spec(url: &str) -> RequestSpec {
    let url = Url::parse(url).unwrap();
    RequestSpec {
        label: "test".into(),
        paths: Paths::Fixed(url.path.clone()),
        url,
        method: "GET".into(),
        body: None,
        capture_ids: false,
    }
}

fn run(spec: &RequestSpec, o: &LoadOpts) -> RunReport {
    let headers = runner::headers(o, &spec.url).unwrap();
    runner::execute(
        spec,
        o,
        Defaults {
            requests: 1,
            users: 1,
        },
        &headers,
        None,
    )
    .unwrap()
    .report
}

#[test]
fn closed_loop_counts_are_exact() {
    let s = stub();
    let runs = [
        (1000, 10, 2, 1, Driver::Legacy),
        (997, 7, 3, 4, Driver::Legacy),
        (5, 20, 2, 1, Driver::Legacy),
        (501, 5, 2, 2, Driver::Auto),
    ];
    for (n, c, t, pipeline, driver) in runs {
        let o = LoadOpts {
            driver,
            requests: Some(n),
            users: Some(c),
            threads: Some(t),
            pipeline,
            warmup: Some("50".into()),
            ..opts()
        };
        let r = run(&spec(&s.url("/")), &o);
        assert_eq!(r.requests, n, "n={n} c={c} pipeline={pipeline}");
        assert_eq!((r.ok, r.error_total), (n, 0));
        assert!(r.rps > 0.0 && r.latency_ms.max >= r.latency_ms.min);
    }
}

#[test]
fn duration_mode_and_time_warmup() {
    let s = stub();
    let o = LoadOpts {
        duration: Some(Duration::from_millis(400).into()),
        warmup: Some("100ms".into()),
        users: Some(4),
        ..opts()
    };
    let r = run(&spec(&s.url("/")), &o);
    assert!(r.requests > 100, "{r:?}");
    assert!(
        (0.35..0.6).contains(&r.elapsed_s),
        "elapsed {}",
        r.elapsed_s
    );
}

#[test]
fn open_loop_rate_holds_within_two_percent() {
    for driver in DRIVERS {
        open_loop_rate(driver);
    }
}

fn open_loop_rate(driver: Driver) {
    let s = stub();
    let o = LoadOpts {
        rate: Some(2000.0),
        requests: Some(3000),
        users: Some(20),
        driver,
        ..opts()
    };
    let r = run(&spec(&s.url("/")), &o);
    assert_eq!(r.requests, 3000);
    assert!((r.rps - 2000.0).abs() / 2000.0 < 0.02, "rate {}", r.rps);
    let o = LoadOpts {
        requests: None,
        duration: Some(Duration::from_millis(1500).into()),
        warmup: Some("200ms".into()),
        ..o
    };
    let r = run(&spec(&s.url("/")), &o);
    assert!((r.rps - 2000.0).abs() / 2000.0 < 0.02, "rate {}", r.rps);
    assert!(
        (r.requests as f64 - 3000.0).abs() < 60.0,
        "requests {}",
        r.requests
    );
}

#[test]
fn co_correction_raises_latency_when_the_server_stalls() {
    let stalled = |uncorrected: bool| {
        // Requests arriving 300..800 ms after start wait until 800 ms.
        let s = StubServer::start(&ServeArgs {
            listen: "127.0.0.1:0".into(),
            stall_after_ms: Some(300),
            stall_for_ms: 500,
            ..ServeArgs::default()
        })
        .unwrap();
        let o = LoadOpts {
            rate: Some(1000.0),
            requests: Some(1500),
            users: Some(10),
            uncorrected,
            ..opts()
        };
        run(&spec(&s.url("/")), &o)
    };
    let corrected = stalled(false);
    let raw = stalled(true);
    assert_eq!(corrected.requests, 1500);
    // A quarter of the schedule fell in the stall: p90 shows queueing delay.
    assert!(
        corrected.latency_ms.p90 > 100.0,
        "corrected {:?}",
        corrected.latency_ms
    );
    assert!(
        raw.latency_ms.p90 < 50.0,
        "uncorrected {:?}",
        raw.latency_ms
    );
    assert!(
        raw.latency_ms.max > 300.0,
        "the stall itself is still seen: {:?}",
        raw.latency_ms
    );
}

#[test]
fn errors_are_counted_by_kind() {
    for driver in DRIVERS {
        errors_by_kind(driver);
    }
}

fn errors_by_kind(driver: Driver) {
    let s = stub();
    let o = LoadOpts {
        requests: Some(40),
        users: Some(4),
        driver,
        ..opts()
    };
    let e = |path: &str, o: &LoadOpts| run(&spec(&s.url(path)), o).errors;
    assert_eq!(e("/status/404", &o).status_4xx, 40);
    assert_eq!(e("/status/500", &o).status_5xx, 40);
    assert_eq!(e("/drop", &o).read, 40);
    let body = LoadOpts {
        expect: Some("absent".into()),
        ..o.clone()
    };
    assert_eq!(e("/", &body).body, 40);
    let slow = LoadOpts {
        requests: Some(4),
        users: Some(2),
        timeout: Duration::from_millis(200).into(),
        driver,
        ..opts()
    };
    assert_eq!(e("/delay/3000", &slow).timeout, 4);
    // Nothing listens on port 1.
    let dead = run(&spec("http://127.0.0.1:1/"), &o);
    assert_eq!((dead.errors.connect, dead.requests), (40, 40));
    // Connection: close and chunked responses are not errors.
    assert_eq!(e("/close", &o).total(), 0);
    let chunked = LoadOpts {
        expect: Some("world".into()),
        ..o.clone()
    };
    assert_eq!(e("/chunked", &chunked).total(), 0);
}

#[test]
fn login_token_and_api_key_are_sent() {
    let s = stub();
    let o = LoadOpts {
        requests: Some(10),
        users: Some(2),
        login: Some("a@b.c:secret".into()),
        expect: Some("stub-token".into()),
        ..opts()
    };
    let r = run(&spec(&s.url("/whoami")), &o);
    assert_eq!((r.requests, r.error_total), (10, 0));
}

#[test]
fn templates_and_url_lists() {
    let s = stub();
    let url = Url::parse(&s.url("/")).unwrap();
    let mut sp = spec(&s.url("/"));
    sp.paths = Paths::Template {
        path: "/status/{id}".into(),
        ids: IdSource::parse_range("200..200", Dist::Zipf).unwrap(),
    };
    let o = LoadOpts {
        requests: Some(50),
        users: Some(3),
        ..opts()
    };
    assert_eq!(run(&sp, &o).ok, 50);
    sp.paths = Paths::List(vec!["/status/404".into(), "/".into()]);
    let r = run(&sp, &o);
    assert_eq!(
        (r.errors.status_4xx, r.ok, url.port),
        (25, 25, s.addr.port())
    );
}
