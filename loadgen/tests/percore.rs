//! Against a real percore when one is built (`LOADGEN_PERCORE`, not a
//! `PERCORE_*` name since percore reads those as configuration; else the
//! workspace's `target/release/percore`); skipped otherwise. Seeds the
//! default SQLite `db` service over HTTP, runs every scenario and a vertical
//! sweep with loadgen starting percore itself.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_loadgen");

fn percore_bin() -> Option<PathBuf> {
    let p = std::env::var_os("LOADGEN_PERCORE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../target/release/percore"
            ))
        });
    p.is_file().then_some(p)
}

/// The system admin percore creates on first start; every API call needs a session.
const ADMIN: &str = "admin@loadgen.test:loadgen-admin-pw";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts percore on a free port; returns it and its base URL.
fn start(bin: &PathBuf, data: &std::path::Path) -> (Server, String) {
    let mut child = Command::new(bin)
        .args([
            "serve",
            "--cores",
            "1",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(data)
        .env("PERCORE_ADMIN_EMAIL", ADMIN.split(':').next().unwrap())
        .env("PERCORE_ADMIN_PASSWORD", ADMIN.split(':').nth(1).unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(
            std::fs::File::create(data.join("stderr.log")).unwrap(),
        ))
        .spawn()
        .expect("start percore");
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(addr) = line.strip_prefix("percore listening on ") {
            return (server, format!("http://{}", addr.trim()));
        }
    }
    let log = std::fs::read_to_string(data.join("stderr.log")).unwrap_or_default();
    panic!("percore exited before listening: {log}");
}

fn loadgen(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{args:?}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[test]
fn scenarios_and_sweep_against_percore() {
    let Some(bin) = percore_bin() else {
        eprintln!("skipping: no percore binary (set LOADGEN_PERCORE)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_server, base) = start(&bin, dir.path());
    let schema = loadgen(&[
        "run",
        &format!("{base}/api/v2/db/_schema"),
        "-n",
        "1",
        "--admin-login",
        ADMIN,
    ]);
    assert!(schema.contains("Errors:        0"), "{schema}");
    {
        let seeded = loadgen(&[
            "seed",
            "--base",
            &base,
            "--rows",
            "3000",
            "--admin-login",
            ADMIN,
        ]);
        assert!(seeded.starts_with("seeded 3000"), "{seeded}");
        let ids = dir.path().join("ids.txt");
        let ids = ids.to_str().unwrap();
        for (name, n) in [
            ("simple-get", "500"),
            ("complex-get", "20"),
            ("post", "100"),
        ] {
            let out = loadgen(&[
                "scenario",
                name,
                "--base",
                &base,
                "--ids",
                "1..3000",
                "--ids-file",
                ids,
                "-n",
                n,
                "-c",
                "10",
                "--admin-login",
                ADMIN,
            ]);
            assert!(out.contains("Errors:        0"), "{name}: {out}");
        }
        let out = loadgen(&[
            "scenario",
            "delete",
            "--base",
            &base,
            "--ids-file",
            ids,
            "-c",
            "10",
            "--admin-login",
            ADMIN,
        ]);
        assert!(
            out.contains("Requests:      100") && out.contains("Errors:        0"),
            "{out}"
        );
        assert!(loadgen(&[
            "seed",
            "--base",
            &base,
            "--rows",
            "3000",
            "--admin-login",
            ADMIN
        ])
        .starts_with("already present"));
    }
    let out = dir.path().join("sweep");
    let bin = bin.to_str().unwrap();
    let text = loadgen(&[
        "sweep",
        "vertical",
        "--server-bin",
        bin,
        "--sizes",
        "1",
        "--path",
        "/healthz",
        "-n",
        "2000",
        "-c",
        "8",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        text.contains("vertical sweep") && out.join("vertical.svg").is_file(),
        "{text}"
    );
}
