//! The runner against a fake `helm`: a script that records its argv and
//! answers as each test tells it to. (The real helm runs in
//! `tests/real_cluster/`.)

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;

struct FakeHelm {
    dir: tempfile::TempDir,
}

impl FakeHelm {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let script = format!(
            r#"#!/usr/bin/env bash
dir='{dir}'
printf '%s\n' "$*" >> "$dir/argv.log"
printf '%s\n' "${{HELM_DRIVER:-unset}}" >> "$dir/driver.log"
env > "$dir/env.log"
cmd="$1"
if [[ -f "$dir/$cmd.sleep" ]]; then
  trap 'echo TERM >> "$dir/signals.log"; exit 143' TERM
  sleep "$(cat "$dir/$cmd.sleep")" & wait $!
fi
if [[ -f "$dir/$cmd.stdout" ]]; then cat "$dir/$cmd.stdout"; fi
if [[ -f "$dir/$cmd.stderr" ]]; then cat "$dir/$cmd.stderr" >&2; fi
exit "$(cat "$dir/$cmd.rc" 2>/dev/null || echo 0)"
"#,
            dir = dir.path().display()
        );
        let path = dir.path().join("helm");
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let fake = Self { dir };
        // By default there is no release.
        fake.on("history", "", "Error: release: not found\n", 1);
        fake
    }

    fn bin(&self) -> PathBuf {
        self.dir.path().join("helm")
    }

    fn on(&self, command: &str, stdout: &str, stderr: &str, rc: i32) {
        let dir = self.dir.path();
        std::fs::write(dir.join(format!("{command}.stdout")), stdout).unwrap();
        std::fs::write(dir.join(format!("{command}.stderr")), stderr).unwrap();
        std::fs::write(dir.join(format!("{command}.rc")), rc.to_string()).unwrap();
    }

    fn sleep_on(&self, command: &str, seconds: u32) {
        std::fs::write(
            self.dir.path().join(format!("{command}.sleep")),
            seconds.to_string(),
        )
        .unwrap();
    }

    fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(file)).unwrap_or_default()
    }

    fn calls(&self) -> Vec<String> {
        self.read("argv.log").lines().map(str::to_owned).collect()
    }

    fn helm(&self) -> Helm {
        let mut config = HelmConfig::new(
            self.bin(),
            "/opt/storefleet/helm/store",
            HelmConfig::parse_values_list("/values/local.yaml, /values/extra.yaml"),
        );
        config.stop_grace = Duration::from_secs(2);
        Helm::new(config)
    }
}

fn store() -> StoreRelease {
    StoreRelease {
        id: StoreId::parse("abcd1234").unwrap(),
        host: "abcd1234.localhost".into(),
    }
}

fn history_line(revision: u32, status: &str, updated: &str) -> String {
    format!(
        r#"[{{"revision":{revision},"updated":"{updated}","status":"{status}","chart":"store-0.1.0","app_version":"6.8","description":"x"}}]"#
    )
}

const LONG_AGO: &str = "2026-01-01T00:00:00.5Z";

#[tokio::test]
async fn upgrade_install_passes_the_chart_interface_and_nothing_else() {
    let fake = FakeHelm::new();
    let run = fake.helm().upgrade_install(&store()).await.unwrap();
    assert_eq!(run.recovered, None);
    assert_eq!(
        fake.calls(),
        [
            "history store-abcd1234 --namespace store-abcd1234 -o json --max 1",
            "upgrade --install store-abcd1234 /opt/storefleet/helm/store --namespace store-abcd1234 \
             -f /values/local.yaml -f /values/extra.yaml --set storeId=abcd1234 \
             --set-string ingress.host=abcd1234.localhost --set existingSecret=store-credentials \
             --set existingAdminSecret=store-admin --timeout 178s",
        ]
    );
    let upgrade = &fake.calls()[1];
    assert!(!upgrade.contains("--wait") && !upgrade.contains("--create-namespace"));
    // Release records in ConfigMaps, whatever the function's environment says:
    // the per-store roles grant no Secret reads (helm/platform RBAC).
    assert_eq!(fake.read("driver.log"), "configmap\nconfigmap\n");
}

#[tokio::test]
async fn helm_gets_only_the_allowlisted_environment() {
    // cargo runs this test with CARGO_* variables (and whatever the shell
    // had, DATABASE_URL in the chain suites): none may reach helm.
    assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
    let fake = FakeHelm::new();
    fake.helm().upgrade_install(&store()).await.unwrap();
    let names: Vec<String> = fake
        .read("env.log")
        .lines()
        .filter_map(|line| line.split_once('=').map(|(name, _)| name.to_owned()))
        .collect();
    // bash adds its own few (PWD, SHLVL, _, OLDPWD).
    let bash_own = ["PWD", "SHLVL", "_", "OLDPWD"];
    let stray: Vec<&String> = names
        .iter()
        .filter(|name| {
            !HELM_ENV_ALLOWLIST.contains(&name.as_str())
                && !["NO_COLOR", "HELM_DRIVER"].contains(&name.as_str())
                && !bash_own.contains(&name.as_str())
        })
        .collect();
    assert!(stray.is_empty(), "helm inherited {stray:?}");
    assert!(names.iter().any(|name| name == "PATH"), "helm needs PATH");
}

#[test]
fn set_values_are_escaped() {
    assert_eq!(escape_set_value(r"a,b\c"), r"a\,b\\c");
}

#[tokio::test]
async fn helm_failure_becomes_a_one_line_reason() {
    let fake = FakeHelm::new();
    fake.on(
        "upgrade",
        "",
        "WARNING: kubeconfig is group-readable\nError: INSTALLATION FAILED: execution error at (store/templates/ingress.yaml:3:4): ingress.host is required\n",
        1,
    );
    let err = fake.helm().upgrade_install(&store()).await.unwrap_err();
    assert!(!err.is_retryable());
    assert_eq!(
        err.to_string(),
        "helm upgrade --install of store-abcd1234 failed: INSTALLATION FAILED: execution error at (store/templates/ingress.yaml:3:4): ingress.host is required"
    );
}

#[tokio::test]
async fn a_stale_pending_install_is_uninstalled_then_installed() {
    let fake = FakeHelm::new();
    fake.on(
        "history",
        &history_line(1, "pending-install", LONG_AGO),
        "",
        0,
    );
    let run = fake.helm().upgrade_install(&store()).await.unwrap();
    assert_eq!(
        run.recovered,
        Some(Recovery::Uninstalled {
            from: ReleaseState::PendingInstall
        })
    );
    let calls = fake.calls();
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert!(calls[1].starts_with(
        "uninstall store-abcd1234 --namespace store-abcd1234 --wait --cascade foreground"
    ));
    assert!(calls[2].starts_with("upgrade --install"));
}

#[tokio::test]
async fn a_stale_pending_upgrade_is_rolled_back_then_upgraded() {
    let fake = FakeHelm::new();
    fake.on(
        "history",
        &history_line(3, "pending-upgrade", LONG_AGO),
        "",
        0,
    );
    let run = fake.helm().upgrade_install(&store()).await.unwrap();
    assert_eq!(
        run.recovered,
        Some(Recovery::RolledBack {
            from: ReleaseState::PendingUpgrade
        })
    );
    let calls = fake.calls();
    assert_eq!(
        calls[1],
        "rollback store-abcd1234 --namespace store-abcd1234 --timeout 178s"
    );
    assert!(calls[2].starts_with("upgrade --install"));
}

#[tokio::test]
async fn a_young_pending_release_belongs_to_a_running_helm_and_is_left_alone() {
    let fake = FakeHelm::new();
    let just_now = chrono::Utc::now().to_rfc3339();
    fake.on(
        "history",
        &history_line(1, "pending-install", &just_now),
        "",
        0,
    );
    let err = fake.helm().upgrade_install(&store()).await.unwrap_err();
    assert!(matches!(err, Error::ReleaseLocked { .. }), "{err}");
    assert!(err.is_retryable());
    assert_eq!(fake.calls().len(), 1, "only the history was read");
}

#[tokio::test]
async fn helms_own_pending_error_is_retryable() {
    let fake = FakeHelm::new();
    fake.on(
        "upgrade",
        "",
        "Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress\n",
        1,
    );
    let err = fake.helm().upgrade_install(&store()).await.unwrap_err();
    assert!(matches!(err, Error::ReleaseLocked { .. }), "{err}");
}

#[tokio::test]
async fn uninstall_waits_in_the_foreground_and_treats_not_found_as_done() {
    let fake = FakeHelm::new();
    let id = store().id;
    fake.on(
        "uninstall",
        "release \"store-abcd1234\" uninstalled\n",
        "",
        0,
    );
    let (outcome, _) = fake.helm().uninstall(&id).await.unwrap();
    assert_eq!(outcome, Uninstalled::Removed);
    assert_eq!(
        fake.calls(),
        [
            "uninstall store-abcd1234 --namespace store-abcd1234 --wait --cascade foreground --timeout 298s"
        ]
    );
    // The message Helm 4.3.1 prints for a release that is not there.
    fake.on(
        "uninstall",
        "",
        "Error: uninstall: Release not loaded: store-abcd1234: release: not found\n",
        1,
    );
    let (outcome, _) = fake.helm().uninstall(&id).await.unwrap();
    assert_eq!(outcome, Uninstalled::NotFound);
}

#[tokio::test]
async fn status_and_history_are_parsed() {
    let fake = FakeHelm::new();
    let id = store().id;
    fake.on("status", "", "Error: release: not found\n", 1);
    assert_eq!(fake.helm().status(&id).await.unwrap(), None);
    assert!(fake.helm().history(&id).await.unwrap().is_empty());

    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/helm");
    fake.on(
        "status",
        &std::fs::read_to_string(fixtures.join("status-pending-install.json")).unwrap(),
        "",
        0,
    );
    fake.on(
        "history",
        &std::fs::read_to_string(fixtures.join("history.json")).unwrap(),
        "",
        0,
    );
    let status = fake.helm().status(&id).await.unwrap().unwrap();
    assert_eq!(status.info.status, ReleaseState::PendingInstall);
    assert_eq!(fake.helm().history(&id).await.unwrap().len(), 2);

    fake.on("status", "not json", "", 0);
    let err = fake.helm().status(&id).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::HelmOutput {
                operation: "status",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn above_the_cap_callers_are_told_to_come_back_later() {
    let fake = FakeHelm::new();
    fake.sleep_on("uninstall", 2);
    let mut config = fake.helm().config().clone();
    config.max_in_flight = 1;
    let helm = Helm::new(config);
    let id = store().id;
    let slow = {
        let helm = helm.clone();
        let id = id.clone();
        tokio::spawn(async move { helm.uninstall(&id).await })
    };
    // Wait until the first helm is really running.
    for _ in 0..100 {
        if !fake.calls().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let err = helm.upgrade_install(&store()).await.unwrap_err();
    assert!(matches!(err, Error::Busy { limit: 1 }), "{err}");
    assert!(err.is_retryable());
    slow.await.unwrap().unwrap();
    // The permit is returned: the next call runs.
    helm.upgrade_install(&store()).await.unwrap();
}

#[tokio::test]
async fn a_helm_past_its_bound_gets_sigterm_and_a_timeout_error() {
    let fake = FakeHelm::new();
    fake.sleep_on("upgrade", 30);
    let mut config = fake.helm().config().clone();
    config.install_timeout = Duration::from_secs(1);
    let histogram = duration_histogram().unwrap();
    let helm = Helm::new(config).with_duration_histogram(histogram.clone());
    let started = std::time::Instant::now();
    let err = helm.upgrade_install(&store()).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::HelmTimeout {
                operation: "upgrade_install",
                ..
            }
        ),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    // helm was asked to stop (so it can mark the release failed), not killed outright.
    assert_eq!(fake.read("signals.log").trim(), "TERM");
    assert_eq!(
        histogram
            .with_label_values(&["upgrade_install", "timeout"])
            .get_sample_count(),
        1
    );
    assert_eq!(
        histogram
            .with_label_values(&["history", "error"])
            .get_sample_count(),
        1
    );
}

#[tokio::test]
async fn durations_are_returned_and_recorded() {
    let fake = FakeHelm::new();
    let histogram = duration_histogram().unwrap();
    let helm = fake.helm().with_duration_histogram(histogram.clone());
    let run = helm.upgrade_install(&store()).await.unwrap();
    assert!(run.duration > Duration::ZERO);
    assert_eq!(
        histogram
            .with_label_values(&["upgrade_install", "ok"])
            .get_sample_count(),
        1
    );
}

#[tokio::test]
async fn a_missing_binary_is_a_clear_error() {
    let helm = Helm::new(HelmConfig::new("/nonexistent/helm", "chart", vec![]));
    let err = helm.upgrade_install(&store()).await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot run helm binary /nonexistent/helm"),
        "{err}"
    );
}
