//! The instrument works: a quick run of the real binaries finishes, writes JSON of the
//! documented shape with every figure present, and every subscriber got every event. It says
//! nothing about speed: that is what `make bench` is for.
//!
//! Needs `copresence-server` built beside this package's binary (`cargo build --workspace`
//! first, as `make test` does), or in `COPRESENCE_BIN_DIR`.

use std::process::Command;

use serde_json::Value;

#[test]
fn quick_run_reports_every_figure() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let json = dir.path().join("BENCHMARKS.json");
    let markdown = dir.path().join("BENCHMARKS.md");
    let output = Command::new(env!("CARGO_BIN_EXE_copresence-bench"))
        .arg("--quick")
        .arg("--json")
        .arg(&json)
        .arg("--markdown")
        .arg(&markdown)
        .output()
        .expect("copresence-bench runs");
    assert!(
        output.status.success(),
        "copresence-bench --quick failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("Fan-out"), "a table is printed: {table}");

    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap())
        .expect("BENCHMARKS.json is JSON");
    let number = |row: &Value, key: &str| {
        row[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} is a number in {row}"))
    };

    let fanout = report["fanout"].as_array().expect("a fanout list");
    assert!(!fanout.is_empty());
    for row in fanout {
        for key in ["subscribers", "p50_ms", "p99_ms", "max_ms", "floor_p99_ms"] {
            number(row, key);
        }
        assert!(
            number(row, "p99_ms") > 0.0,
            "latencies were measured: {row}"
        );
        assert_eq!(row["delivered"], row["expected"], "no event lost: {row}");
        assert_eq!(
            row["floor_delivered"], row["expected"],
            "none on the floor: {row}"
        );
    }

    let memory = report["memory"].as_array().expect("a memory list");
    assert!(!memory.is_empty());
    for row in memory {
        for key in [
            "subscribers",
            "bytes_per_subscriber",
            "floor_bytes_per_subscriber",
        ] {
            number(row, key);
        }
        assert_eq!(
            row["all_received"], true,
            "every subscriber got the event: {row}"
        );
        assert_eq!(row["floor_all_received"], true, "on the floor too: {row}");
    }

    let ingest = &report["ingest"];
    assert!(
        number(ingest, "per_second") > 0.0,
        "heartbeats were answered: {ingest}"
    );
    number(ingest, "p99_ms");

    let md = std::fs::read_to_string(&markdown).expect("BENCHMARKS.md is written");
    assert!(md.contains("Fan-out") && md.contains("cores"), "{md}");
}
