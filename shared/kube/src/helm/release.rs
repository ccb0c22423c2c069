//! What `helm status -o json` and `helm history -o json` say, reduced to the
//! fields Storefleet uses (the rest, including the rendered manifest and the
//! values, is deliberately not kept).

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// A release's state as Helm records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseState {
    Deployed,
    Failed,
    Superseded,
    Uninstalling,
    Uninstalled,
    PendingInstall,
    PendingUpgrade,
    PendingRollback,
    Unknown(String),
}

impl ReleaseState {
    pub fn parse(state: &str) -> Self {
        match state {
            "deployed" => Self::Deployed,
            "failed" => Self::Failed,
            "superseded" => Self::Superseded,
            "uninstalling" => Self::Uninstalling,
            "uninstalled" => Self::Uninstalled,
            "pending-install" => Self::PendingInstall,
            "pending-upgrade" => Self::PendingUpgrade,
            "pending-rollback" => Self::PendingRollback,
            other => Self::Unknown(other.to_owned()),
        }
    }

    /// A `pending-*` state blocks every further upgrade with "another
    /// operation (install/upgrade/rollback) is in progress".
    pub fn is_pending(&self) -> bool {
        matches!(
            self,
            Self::PendingInstall | Self::PendingUpgrade | Self::PendingRollback
        )
    }
}

impl<'de> Deserialize<'de> for ReleaseState {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self::parse(&String::deserialize(deserializer)?))
    }
}

/// `helm status <release> -o json`, reduced.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReleaseStatus {
    pub name: String,
    pub namespace: String,
    /// The revision (`version` in Helm's JSON).
    #[serde(rename = "version")]
    pub revision: u32,
    pub info: ReleaseInfo,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReleaseInfo {
    pub status: ReleaseState,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub last_deployed: Option<DateTime<Utc>>,
}

/// One line of `helm history <release> -o json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Revision {
    pub revision: u32,
    #[serde(default)]
    pub updated: Option<DateTime<Utc>>,
    pub status: ReleaseState,
    #[serde(default)]
    pub chart: String,
    #[serde(default)]
    pub app_version: String,
    #[serde(default)]
    pub description: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_json_and_ignores_manifest_and_values() {
        let json = include_str!("../../fixtures/helm/status-pending-install.json");
        let status: ReleaseStatus = serde_json::from_str(json).unwrap();
        assert_eq!(status.name, "store-abcd1234");
        assert_eq!(status.revision, 1);
        assert_eq!(status.info.status, ReleaseState::PendingInstall);
        assert!(status.info.status.is_pending());
        assert!(status.info.last_deployed.is_some());
    }

    #[test]
    fn parses_history_json() {
        let json = include_str!("../../fixtures/helm/history.json");
        let history: Vec<Revision> = serde_json::from_str(json).unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].status, ReleaseState::Superseded);
        assert_eq!(history[1].status, ReleaseState::PendingUpgrade);
        assert_eq!(
            ReleaseState::parse("bogus"),
            ReleaseState::Unknown("bogus".into())
        );
    }
}
