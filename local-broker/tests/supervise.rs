//! `--run`: the broker starts a function the way Knative runs its container,
//! but on loopback only (issue 11 item 15): it gets
//! `STOREFLEET_LISTEN_ADDRESS=127.0.0.1` besides `PORT` and `K_SERVICE`.

#![allow(
    clippy::unwrap_used,
    reason = "test code: clippy.toml's allow-unwrap-in-tests misses the helpers of tests/ (rust-clippy#11119)"
)]

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use local_broker::server::{self, Options};

#[tokio::test]
async fn a_run_function_is_told_to_listen_on_loopback_only() {
    let dir = tempfile::tempdir().unwrap();
    let seen = dir.path().join("env");
    // a stand-in function: records the environment it was started with
    let function = dir.path().join("fn-a");
    std::fs::write(
        &function,
        format!(
            "#!/bin/sh\nenv > '{}.tmp' && mv '{0}.tmp' '{0}'\nexec sleep 60\n",
            seen.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&function, std::fs::Permissions::from_mode(0o755)).unwrap();
    let running = server::start(Options {
        manifests: common::manifests(common::BASE),
        listen: "127.0.0.1:0".parse().unwrap(),
        ingress_listen: "127.0.0.1:0".parse().unwrap(),
        functions: BTreeMap::new(),
        run: BTreeMap::from([("fn-a".to_owned(), function)]),
        dashboard_dir: "/nonexistent".into(),
        mail_url: None,
        apiserver_source: false,
        ping_source: false,
        limits: Default::default(),
    })
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let env = loop {
        if let Ok(env) = std::fs::read_to_string(&seen) {
            break env;
        }
        assert!(Instant::now() < deadline, "fn-a was not started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    running.shutdown().await;
    let vars: Vec<&str> = env.lines().collect();
    assert!(
        vars.contains(&"STOREFLEET_LISTEN_ADDRESS=127.0.0.1"),
        "{vars:?}"
    );
    assert!(vars.contains(&"K_SERVICE=fn-a"), "{vars:?}");
    assert!(vars.iter().any(|v| v.starts_with("PORT=")), "{vars:?}");
}
