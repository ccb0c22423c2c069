//! Addresses without a port race. Picking a free port (bind port 0, close,
//! hand the number to a child that binds it later) lets another process take
//! the port in between. Instead the parent binds the address and *keeps* the
//! listener: that is the child's address (its URL in the Triggers, across
//! restarts). The child binds port 0 itself, says which port it got
//! (`STOREFLEET_BOUND_ADDRESS_FILE`), and each connection to the held
//! address is passed on to that port. Nothing is released and bound again.
//! Used by `--run` ([`crate::supervise`]).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Handle;

/// A loopback address held by the harness, passed on to the process behind it.
pub struct HeldAddress {
    addr: SocketAddr,
    behind: Arc<Mutex<Option<SocketAddr>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl HeldAddress {
    /// Binds `addr` (port 0: one the system chooses) and forwards its
    /// connections on `runtime`.
    pub fn bind(addr: SocketAddr, runtime: &Handle) -> std::io::Result<HeldAddress> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let behind: Arc<Mutex<Option<SocketAddr>>> = Arc::default();
        let target = behind.clone();
        let accept = runtime.spawn(async move {
            let Ok(listener) = TcpListener::from_std(listener) else {
                tracing::error!(%addr, "cannot accept on the held address");
                return;
            };
            while let Ok((client, _)) = listener.accept().await {
                // Nothing behind the address (the process is down): the
                // connection is closed at once, as a refused one fails.
                let Some(to) = *target.lock().expect("not poisoned") else {
                    continue;
                };
                tokio::spawn(forward(client, to));
            }
        });
        Ok(HeldAddress {
            addr,
            behind,
            accept,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Pass connections on to `to` (the port the process bound), or refuse
    /// them (`None`: the process is down).
    pub fn forward_to(&self, to: Option<SocketAddr>) {
        *self.behind.lock().expect("not poisoned") = to;
    }
}

impl Drop for HeldAddress {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn forward(mut client: TcpStream, to: SocketAddr) {
    let Ok(mut server) = TcpStream::connect(to).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
}

/// Writes `NAME=HOST:PORT` lines (what [`read_bound`] reads with a name)
/// whole, as the functions write their one address
/// ([`storefleet_shared::server::write_bound_file`]).
pub fn write_bound(file: &std::path::Path, bound: &[(&str, SocketAddr)]) -> std::io::Result<()> {
    let text: String = bound
        .iter()
        .map(|(name, addr)| format!("{name}={addr}\n"))
        .collect();
    storefleet_shared::server::write_bound_file(file, &text)
}

/// Waits until a process wrote its bound address to `file` ([`read_bound`]),
/// or `alive` says it exited, or `within` passed (`None` then).
pub async fn wait_bound(
    file: &std::path::Path,
    name: Option<&str>,
    within: std::time::Duration,
    mut alive: impl FnMut() -> bool,
) -> Option<SocketAddr> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(bound) = read_bound(file, name) {
            return Some(bound);
        }
        if !alive() || tokio::time::Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Reads a bound address a process wrote to `file` (`HOST:PORT`, or
/// `NAME=HOST:PORT` lines when it has several listeners: `name` picks one).
pub fn read_bound(file: &std::path::Path, name: Option<&str>) -> Option<SocketAddr> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|line| match name {
        None => line.trim().parse().ok(),
        Some(name) => line
            .strip_prefix(name)?
            .strip_prefix('=')?
            .trim()
            .parse()
            .ok(),
    })
}
