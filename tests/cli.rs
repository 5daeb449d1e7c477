//! The command line: configuration layering, validation errors naming the key, masking.

use std::process::Command;

fn percore(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_percore"));
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run percore");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn config_prints_the_effective_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.toml");
    std::fs::write(&file, "backlog = 77\n[http]\ngzip_level = 3\n").unwrap();
    let (code, out, err) = percore(
        &[
            "config",
            "--config",
            file.to_str().unwrap(),
            "--cores",
            "1",
            "--listen",
            "0.0.0.0:9000",
        ],
        &[("PERCORE_HTTP__GZIP_LEVEL", "4")],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("backlog = 77"), "{out}");
    assert!(
        out.contains("gzip_level = 4"),
        "env overrides the file: {out}"
    );
    assert!(
        out.contains("listen = \"0.0.0.0:9000\""),
        "flags override all: {out}"
    );
    assert!(out.contains("cores = \"1\""), "{out}");
}

#[test]
fn bad_values_stop_the_start_naming_the_key() {
    let (code, _, err) = percore(&["serve"], &[("PERCORE_BACKLOG", "lots")]);
    assert_eq!(code, 2);
    assert!(err.to_lowercase().contains("backlog"), "{err}");

    let (code, _, err) = percore(&["serve"], &[("PERCORE_HTTP__MAX_HEADERS", "1000")]);
    assert_eq!(code, 2);
    assert!(err.contains("http.max_headers"), "{err}");

    let (code, _, err) = percore(&["config", "--cores", "0"], &[]);
    assert_ne!(code, 0);
    assert!(err.contains("--cores"), "{err}");

    let (code, _, err) = percore(&["serve", "--cores", "4000,"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("configuration key `cores`"), "{err}");

    let (code, _, err) = percore(&["config", "--config", "/nonexistent.toml"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("does not exist"), "{err}");
}

#[test]
fn doctor_reports_every_check() {
    let (code, out, _) = percore(&["doctor"], &[]);
    // 1 only when a check fails outright, which depends on the host.
    assert!(
        code == 0 || (code == 1 && out.contains("[FAIL]")),
        "{code}\n{out}"
    );
    for check in ["open", "somaxconn", "port"] {
        assert!(
            out.to_lowercase().contains(check),
            "{check} missing from:\n{out}"
        );
    }
}
