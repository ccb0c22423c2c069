//! Addresses without a port race (`local_broker::held`): the harness binds
//! each process's address once and keeps it; the process binds port 0, says
//! which port it got (`STOREFLEET_BOUND_ADDRESS_FILE`) and its held address
//! forwards there. A killed process's address refuses connections until it
//! is restarted. Picking a free port and binding it later once lost a
//! broker restart in CI: while the broker was down its port was taken.
//!
//! The forwarding runs on a runtime of its own, so it goes on whatever the
//! test's runtime does (a `#[sqlx::test]` has one thread, which a blocking
//! call in the test would otherwise stall).

use std::net::SocketAddr;
use std::sync::OnceLock;

use anyhow::Context as _;
pub use local_broker::held::{HeldAddress, wait_bound};

fn forwarding() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("held-addresses")
            .enable_all()
            .build()
            .expect("a runtime for the held addresses")
    })
}

/// A loopback address held for the caller (port 0: the system's choice).
pub fn hold() -> anyhow::Result<HeldAddress> {
    HeldAddress::bind(SocketAddr::from(([127, 0, 0, 1], 0)), forwarding().handle())
        .context("hold a loopback address")
}
