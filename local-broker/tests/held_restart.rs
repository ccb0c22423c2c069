//! The local-broker binary behind addresses its starter holds (as the
//! lifecycle test platform runs it): started on port 0 it says which ports
//! it got (`STOREFLEET_BOUND_ADDRESS_FILE`), and with `--ingress-url` its
//! tokens' issuer is the held address, so a restarted broker on new ports
//! is the same broker to the functions.

#![allow(
    clippy::unwrap_used,
    reason = "test code: clippy.toml's allow-unwrap-in-tests misses the helpers of tests/ (rust-clippy#11119)"
)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use local_broker::held::{HeldAddress, wait_bound};
use serde_json::Value;

struct Broker(Child);

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary on port 0 and waits for the ports it wrote it bound.
async fn start(ingress_url: &str, bound_file: &Path) -> (Broker, SocketAddr, SocketAddr) {
    let _ = std::fs::remove_file(bound_file);
    let manifests = Path::new(env!("CARGO_MANIFEST_DIR")).join("../knative");
    let child = Command::new(env!("CARGO_BIN_EXE_local-broker"))
        .args(["--listen", "127.0.0.1:0", "--ingress-listen", "127.0.0.1:0"])
        .args(["--ingress-url", ingress_url])
        .arg("--manifests")
        .arg(manifests)
        .args(["--dashboard-dir", "/nonexistent"])
        .args(["--no-apiserver-source", "--no-ping-source"])
        .env(storefleet_shared::server::BOUND_ADDRESS_FILE, bound_file)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let mut broker = Broker(child);
    let mut bound = Vec::new();
    for name in ["gateway", "ingress"] {
        let addr = wait_bound(bound_file, Some(name), Duration::from_secs(30), || {
            matches!(broker.0.try_wait(), Ok(None))
        })
        .await;
        bound.push(addr.unwrap_or_else(|| panic!("the broker wrote no {name} address")));
    }
    (broker, bound[0], bound[1])
}

async fn issuer(url: &str) -> String {
    let document: Value = reqwest::get(format!("{url}/.well-known/openid-configuration"))
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    document["issuer"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_broker_behind_held_addresses_keeps_its_address_and_issuer() {
    let dir = tempfile::tempdir().unwrap();
    let bound_file: PathBuf = dir.path().join("bound");
    let runtime = tokio::runtime::Handle::current();
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let gateway = HeldAddress::bind(loopback, &runtime).unwrap();
    let ingress = HeldAddress::bind(loopback, &runtime).unwrap();

    let mut ports = Vec::new();
    for run in ["first", "restarted"] {
        let (broker, gateway_bound, ingress_bound) = start(&ingress.url(), &bound_file).await;
        assert_ne!(gateway_bound, ingress_bound);
        assert_ne!(
            ingress_bound,
            ingress.addr(),
            "the broker bound a port of its own"
        );
        gateway.forward_to(Some(gateway_bound));
        ingress.forward_to(Some(ingress_bound));
        let health = reqwest::get(format!("{}/healthz", gateway.url()))
            .await
            .unwrap();
        assert!(health.status().is_success(), "{run}: {}", health.status());
        // the issuer is the held address, whichever port this run got, and
        // it is what the listener itself says too
        assert_eq!(issuer(&ingress.url()).await, ingress.url(), "{run}");
        assert_eq!(
            issuer(&format!("http://{ingress_bound}")).await,
            ingress.url(),
            "{run}"
        );
        ports.push(ingress_bound);
        gateway.forward_to(None);
        ingress.forward_to(None);
        drop(broker);
        // down: the held address refuses (accepted and closed at once)
        assert!(
            reqwest::get(format!("{}/healthz", gateway.url()))
                .await
                .is_err(),
            "{run}: the held gateway answered with no broker behind it"
        );
    }
    assert_eq!(ports.len(), 2);
}

#[test]
fn an_ingress_url_that_is_not_http_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_local-broker"))
        .args(["--ingress-url", "ftp://127.0.0.1:1/", "--check"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("expected an http:// or https:// URL"),
        "{stderr}"
    );
}
