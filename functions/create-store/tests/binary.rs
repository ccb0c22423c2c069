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
        storefleet_shared::testing::start_answer_and_stop(env!("CARGO_BIN_EXE_create-store"));
    assert!(status.success(), "exit status {status}");
}

/// Missing or malformed configuration stops the start with a message naming the variable.
#[test]
fn refuses_to_start_with_bad_configuration() {
    let bin = env!("CARGO_BIN_EXE_create-store");
    let cases: [(&[(&str, &str)], &str); 4] = [
        // deliveries cannot be authenticated without an issuer (issue 11 item 12)
        (
            &[
                ("DATABASE_URL", "postgres://x@127.0.0.1/x"),
                ("K_SINK", "http://127.0.0.1:9/"),
                ("STOREFLEET_MIGRATE_ON_START", "false"),
            ],
            "STOREFLEET_EVENTS_OIDC_ISSUER",
        ),
        (&[("K_SINK", "http://127.0.0.1:9/")], "DATABASE_URL"),
        (&[("DATABASE_URL", "postgres://x@127.0.0.1/x")], "K_SINK"),
        (
            &[
                ("DATABASE_URL", "postgres://x@127.0.0.1/x"),
                ("K_SINK", "http://127.0.0.1:9/"),
                ("PORT", "http"),
            ],
            "PORT",
        ),
    ];
    for (vars, named) in cases {
        let output = std::process::Command::new(bin)
            .env_clear()
            .envs(vars.iter().copied())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(named), "{stderr}");
    }
}
