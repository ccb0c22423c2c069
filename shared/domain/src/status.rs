use crate::text::text_enum;

text_enum! {
    /// The lifecycle of a store.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum Status("store status") {
        Provisioning = "provisioning",
        Ready = "ready",
        Failed = "failed",
        Deleting = "deleting",
        Deleted = "deleted",
    }
}

impl Status {
    /// The statuses an owner sees and may delete from (everything but `deleted`).
    pub const LIVE: [Status; 4] = [
        Status::Provisioning,
        Status::Ready,
        Status::Failed,
        Status::Deleting,
    ];

    /// The statuses a handler or the sweep still has to move on, or keep an
    /// eye on (`ready`: its namespace may vanish).
    pub const WATCHED: [Status; 3] = [Status::Provisioning, Status::Ready, Status::Deleting];

    pub fn is_live(self) -> bool {
        self != Status::Deleted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_text_agree() {
        for status in Status::ALL {
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(status.as_str())
            );
            assert_eq!(status.as_str().parse::<Status>(), Ok(status));
        }
        let err = "gone".parse::<Status>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown store status \"gone\" (known: provisioning, ready, failed, deleting, deleted)"
        );
    }
}
