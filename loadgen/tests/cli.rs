//! The `loadgen` binary end to end: outputs, compare, scenarios, seeding and
//! every sweep (the stub server stands in for percore via `--server-bin`
//! pointing at loadgen's own hidden `serve` command, or via given URLs).

use loadgen::stub_server::{ServeArgs, StubServer};
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_loadgen");

fn stub() -> StubServer {
    StubServer::start(&ServeArgs {
        listen: "127.0.0.1:0".into(),
        ..ServeArgs::default()
    })
    .unwrap()
}

fn loadgen(args: &[&str]) -> String {
    let out: Output = Command::new(BIN).args(args).output().expect("run loadgen");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "loadgen {args:?} failed\nstdout:\n{text}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn run_writes_json_and_csv_and_compare_reads_them() {
    let s = stub();
    let dir = tempfile::tempdir().unwrap();
    let (a, b, csv) = (
        dir.path().join("a.json"),
        dir.path().join("b.json"),
        dir.path().join("a.csv"),
    );
    let url = s.url("/");
    let text = loadgen(&[
        "run",
        &url,
        "-n",
        "300",
        "-c",
        "3",
        "--json",
        a.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
    ]);
    for needle in ["Requests:      300", "Requests/sec:", "p99.9"] {
        assert!(text.contains(needle), "{text}");
    }
    assert_eq!(json(&a)["requests"], 300);
    let csv_text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(csv_text.lines().count(), 2);
    loadgen(&[
        "run",
        &url,
        "-n",
        "600",
        "-c",
        "3",
        "--json",
        b.to_str().unwrap(),
    ]);
    let cmp = loadgen(&["compare", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert!(cmp.contains("requests") && cmp.contains("+100.0%"), "{cmp}");
}

#[test]
fn body_from_file_and_method() {
    let s = stub();
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body.json");
    std::fs::write(&body, r#"{"resource":[{"a":1},{"a":2}]}"#).unwrap();
    let at = format!("@{}", body.display());
    let text = loadgen(&[
        "run",
        &s.url("/api/v2/db/_table/t"),
        "-b",
        &at,
        "-n",
        "5",
        "--expect",
        "\"id\"",
    ]);
    assert!(
        text.contains("POST") && text.contains("Errors:        0"),
        "{text}"
    );
}

#[test]
fn scenarios_post_then_delete_and_errors_counted() {
    let s = stub();
    let dir = tempfile::tempdir().unwrap();
    let ids = dir.path().join("ids.txt");
    let base = format!("http://{}", s.addr);
    let common = [
        "--base",
        &base,
        "--ids-file",
        ids.to_str().unwrap(),
        "-c",
        "4",
    ];
    let post = loadgen(&[&["scenario", "post", "-n", "40"][..], &common[..]].concat());
    assert!(post.contains("Created ids:   40"), "{post}");
    let del = loadgen(&[&["scenario", "delete"][..], &common[..]].concat());
    assert!(
        del.contains("DELETE") && del.contains("Requests:      40"),
        "{del}"
    );
    // The stub has no DB API: a body check turns every answer into an error.
    let get = loadgen(
        &[
            &[
                "scenario",
                "complex-get",
                "-n",
                "20",
                "--expect",
                "first_name",
            ][..],
            &common[..],
        ]
        .concat(),
    );
    assert!(get.contains("Errors:        20 (body=20)"), "{get}");
    assert!(
        get.contains("filter=age%3E%3D30&order=last_name&limit=1000"),
        "{get}"
    );
}

#[cfg(feature = "sqlite")]
#[test]
fn seed_over_http_and_sqlite_is_idempotent() {
    let s = stub();
    let base = format!("http://{}", s.addr);
    let first = loadgen(&["seed", "--base", &base, "--rows", "2500", "--batch", "1000"]);
    assert!(first.starts_with("seeded 2500"), "{first}");
    let again = loadgen(&["seed", "--base", &base, "--rows", "2500"]);
    assert!(again.starts_with("already present"), "{again}");
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("seed.db").display());
    assert!(loadgen(&["seed", "--db", &db, "--rows", "3000"]).starts_with("seeded 3000"));
    assert!(loadgen(&["seed", "--db", &db, "--rows", "3000"]).starts_with("already present"));
    assert!(loadgen(&["seed", "--db", &db, "--rows", "100"]).starts_with("seeded 100"));
}

/// The local PostgreSQL and MariaDB, when running; skipped otherwise.
#[cfg(all(feature = "pg", feature = "mysql"))]
#[test]
fn seed_local_databases_when_available() {
    for url in [
        "postgres://postgres@127.0.0.1:5432/test",
        "mysql://root@127.0.0.1:3306/test",
    ] {
        if std::net::TcpStream::connect(url.split('@').nth(1).unwrap().split('/').next().unwrap())
            .is_err()
        {
            eprintln!("skipping {url}: not reachable");
            continue;
        }
        let table = "loadgen_seed_test";
        assert!(
            loadgen(&["seed", "--db", url, "--table", table, "--rows", "1500"])
                .starts_with("seeded 1500")
        );
        assert!(
            loadgen(&["seed", "--db", url, "--table", table, "--rows", "1500"])
                .starts_with("already present")
        );
        loadgen::seed::drop_db_table(url, table).unwrap();
    }
}

fn assert_sweep(dir: &Path, chart: &str, stdout: &str, heading: &str, runs: usize) {
    assert!(stdout.contains(heading), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(dir.join("table.txt"))
            .unwrap()
            .trim(),
        stdout
            .lines()
            .take_while(|l| !l.starts_with("Results in"))
            .collect::<Vec<_>>()
            .join("\n")
            .trim()
    );
    let svg = std::fs::read_to_string(dir.join(chart)).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("<polyline"),
        "{chart}"
    );
    assert_eq!(
        json(&dir.join("sweep.json"))["points"]
            .as_array()
            .unwrap()
            .len(),
        runs
    );
    let csv_rows = std::fs::read_to_string(dir.join("sweep.csv"))
        .unwrap()
        .lines()
        .count();
    assert!(csv_rows > runs, "{csv_rows} CSV lines for {runs} runs");
}

#[test]
fn vertical_sweep_starts_servers() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("v");
    let text = loadgen(&[
        "sweep",
        "vertical",
        "--server-bin",
        BIN,
        "--sizes",
        "1,2",
        "--path",
        "/healthz",
        "-n",
        "300",
        "-c",
        "4",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_sweep(
        &out,
        "vertical.svg",
        &text,
        "vertical sweep, GET /healthz",
        2,
    );
    assert!(out.join("run-1-cores.json").is_file() && out.join("run-2-cores.csv").is_file());
}

#[test]
fn vertical_sweep_with_urls_per_size() {
    let (a, b) = (stub(), stub());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("v");
    let urls = format!("{},{}", a.url(""), b.url(""));
    let text = loadgen(&[
        "sweep",
        "vertical",
        "--urls-per-size",
        &urls,
        "--path",
        "/",
        "-n",
        "200",
        "-c",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_sweep(&out, "vertical.svg", &text, "vertical sweep", 2);
}

#[test]
fn horizontal_sweep_behind_given_lb_and_nginx() {
    let (a, b) = (stub(), stub());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("h");
    let urls = format!("{},{}", a.url(""), b.url(""));
    let text = loadgen(&[
        "sweep",
        "horizontal",
        "--lb-url",
        &urls,
        "--path",
        "/healthz",
        "-n",
        "200",
        "-c",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_sweep(&out, "horizontal.svg", &text, "horizontal sweep", 2);
    for (lb, bin) in [
        ("nginx", "/usr/sbin/nginx"),
        ("haproxy", "/usr/sbin/haproxy"),
    ] {
        if !Path::new(bin).exists() {
            eprintln!("skipping the {lb} sweep: {bin} missing");
            continue;
        }
        let out = dir.path().join(lb);
        let text = loadgen(&[
            "sweep",
            "horizontal",
            "--lb",
            lb,
            "--server-bin",
            BIN,
            "--instances",
            "2",
            "--path",
            "/healthz",
            "-n",
            "300",
            "-c",
            "4",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_sweep(&out, "horizontal.svg", &text, "horizontal sweep", 2);
        assert_eq!(
            json(&out.join("sweep.json"))["points"][1]["report"]["error_total"],
            0
        );
    }
}

#[test]
fn concurrency_sweep_burst_and_steady() {
    let s = stub();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c");
    let text = loadgen(&[
        "sweep",
        "concurrency",
        "--base",
        &s.url(""),
        "--path",
        "/",
        "--users",
        "2,4",
        "--steady",
        "200ms",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_sweep(&out, "concurrency.svg", &text, "concurrency sweep", 2);
    let v = json(&out.join("sweep.json"));
    assert_eq!(v["points"][1]["burst"]["requests"], 4);
    assert!(v["points"][1]["steady"]["requests"].as_u64().unwrap() > 4);
    assert!(out.join("run-steady-4-users.json").is_file());
}
