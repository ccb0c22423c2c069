//! The built binary starts on a loopback port, answers /healthz and exits 0 on SIGTERM.

#![allow(
    clippy::unwrap_used,
    reason = "test code: clippy.toml's allow-unwrap-in-tests misses the helpers of tests/ (rust-clippy#11119)"
)]

#[test]
fn starts_answers_and_stops_on_sigterm() {
    if std::env::var_os("DATABASE_URL").is_none() {
        panic!("DATABASE_URL must point at a PostgreSQL server (make test-rust sets it)");
    }
    let status =
        storefleet_shared::testing::start_answer_and_stop(env!("CARGO_BIN_EXE_readiness-checker"));
    assert!(status.success(), "exit status {status}");
}
