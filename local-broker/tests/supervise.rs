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
    let running = run_stand_in(&function).await;
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
    // the function binds a port of its own and says which (no free port
    // picked for it and bound later)
    assert!(vars.contains(&"PORT=0"), "{vars:?}");
    assert!(
        vars.iter()
            .any(|v| v.starts_with("STOREFLEET_BOUND_ADDRESS_FILE=/")),
        "{vars:?}"
    );
}

/// The function's address is held by the broker from the start and passes
/// each connection on to the port the function wrote it bound.
#[tokio::test]
async fn a_run_function_is_reached_through_the_address_the_broker_holds() {
    let dir = tempfile::tempdir().unwrap();
    // what the stand-in function "bound": a listener of this test
    let bound = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let function = dir.path().join("fn-a");
    std::fs::write(
        &function,
        format!(
            "#!/bin/sh\necho '{}' > \"$STOREFLEET_BOUND_ADDRESS_FILE\"\nexec sleep 60\n",
            bound.local_addr().unwrap()
        ),
    )
    .unwrap();
    let running = run_stand_in(&function).await;
    let held = running.bus.endpoints().functions["fn-a"].clone();
    let held = (held.host_str().unwrap().to_owned(), held.port().unwrap());
    assert_ne!(held.1, bound.local_addr().unwrap().port());
    let deadline = Instant::now() + Duration::from_secs(20);
    bound.set_nonblocking(true).unwrap();
    let reached = loop {
        let _client = tokio::net::TcpStream::connect((held.0.as_str(), held.1))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        if bound.accept().is_ok() {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
    };
    running.shutdown().await;
    assert!(
        reached,
        "a connection to fn-a's held address never reached the port it bound"
    );
}

/// The broker with `--run fn-a=<function>` (a stand-in script) and nothing else.
async fn run_stand_in(function: &std::path::Path) -> server::Running {
    std::fs::set_permissions(function, std::fs::Permissions::from_mode(0o755)).unwrap();
    server::start(Options {
        manifests: common::manifests(common::BASE),
        listen: "127.0.0.1:0".parse().unwrap(),
        ingress_listen: "127.0.0.1:0".parse().unwrap(),
        ingress_url: None,
        functions: BTreeMap::new(),
        run: BTreeMap::from([("fn-a".to_owned(), function.to_path_buf())]),
        dashboard_dir: "/nonexistent".into(),
        mail_url: None,
        apiserver_source: false,
        ping_source: false,
        limits: Default::default(),
    })
    .await
    .unwrap()
}
