//! The `copresence` CLI against the real service, as a person or a script would run it.

use std::process::Stdio;
use std::time::Duration;

use copresence_tests::{bin, TestServer};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

fn cli(server: &TestServer, token: &str) -> Command {
    let mut command = Command::new(bin("copresence"));
    command
        .env("COPRESENCE_SERVER", &server.url)
        .env("COPRESENCE_TOKEN", token)
        .env("XDG_CONFIG_HOME", server.dir.path())
        .kill_on_drop(true);
    command
}

#[tokio::test]
async fn watch_json_sees_a_join_published_by_another_cli() {
    let server = TestServer::start(&[]).await;
    let ann = server.token("ann@contoso.test");
    let bo = server.token("bo@contoso.test");
    let mut watch = cli(&server, &ann)
        .args(["watch", "--json"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(watch.stdout.take().unwrap()).lines();
    let mut next_json = async || -> serde_json::Value {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("a line within 10 s")
            .unwrap()
            .expect("watch is still running");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON: {line:?}: {e}"))
    };
    let snapshot = loop {
        let value = next_json().await;
        if value["type"] == "snapshot" {
            break value;
        }
    };
    assert_eq!(snapshot["sites"][0]["site"]["id"], "contoso");

    let status = cli(&server, &bo)
        .args([
            "join",
            "contoso",
            "/products/pricing",
            "--session",
            "bo-cli",
            "--once",
        ])
        .status()
        .await
        .unwrap();
    assert!(status.success());
    let join = loop {
        let value = next_json().await;
        if value["type"] == "join" {
            break value;
        }
    };
    assert_eq!(join["member"]["user"]["name"], "Bo Chen");
    assert_eq!(join["member"]["sessions"][0]["page"], "/products/pricing");
    assert_eq!(join["member"]["sessions"][0]["client"], "cli");

    let status = cli(&server, &bo)
        .args(["leave", "contoso", "--session", "bo-cli"])
        .status()
        .await
        .unwrap();
    assert!(status.success());
    loop {
        if next_json().await["type"] == "leave" {
            break;
        }
    }
}

#[tokio::test]
async fn save_conflict_exits_3_and_names_the_last_saver() {
    let server = TestServer::start(&[]).await;
    let ann = server.token("ann@contoso.test");
    let bo = server.token("bo@contoso.test");
    let first = cli(&server, &bo)
        .args(["save", "contoso", "/products"])
        .output()
        .await
        .unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stdout).contains("version 1"));

    let stale = cli(&server, &ann)
        .args(["save", "contoso", "/products", "--base-version", "0"])
        .output()
        .await
        .unwrap();
    assert_eq!(stale.status.code(), Some(3));
    let message = String::from_utf8_lossy(&stale.stderr);
    assert!(message.contains("Bo Chen"), "{message}");
    assert!(message.contains("--force"), "{message}");

    let forced = cli(&server, &ann)
        .args([
            "save",
            "contoso",
            "/products",
            "--base-version",
            "0",
            "--force",
        ])
        .output()
        .await
        .unwrap();
    assert!(forced.status.success());
    assert!(String::from_utf8_lossy(&forced.stdout).contains("version 2"));
}

#[tokio::test]
async fn whoami_and_clear_errors_without_credentials() {
    let server = TestServer::start(&[]).await;
    let dee = server.token("dee@contoso.test");
    let out = cli(&server, &dee).arg("whoami").output().await.unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("<img src=x onerror=alert(1)>"));

    let refused = cli(&server, "cpt_wrong")
        .arg("sites")
        .output()
        .await
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&refused.stderr).is_empty());

    let mut no_server = Command::new(bin("copresence"));
    let out = no_server
        .arg("whoami")
        .env_remove("COPRESENCE_SERVER")
        .env_remove("COPRESENCE_TOKEN")
        .env("XDG_CONFIG_HOME", server.dir.path())
        .env("HOME", server.dir.path())
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("COPRESENCE_SERVER"));
}
