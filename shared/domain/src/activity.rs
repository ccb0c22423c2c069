use crate::text::text_enum;

text_enum! {
    /// The kinds of entry in a store's activity log (`store_events.kind`,
    /// the `kind` of `GET /api/stores/{id}/events`; docs/events.md).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum ActivityKind("activity kind") {
        /// `POST /api/stores` created the store.
        Requested = "requested",
        /// create-store applied the namespace, credentials and helm release.
        Installed = "installed",
        /// readiness-checker: what the store waits for (once per distinct reason).
        Waiting = "waiting",
        Ready = "ready",
        Failed = "failed",
        /// The sweep sent a step's request event again.
        Redriven = "redriven",
        /// delete-store ran `helm uninstall` and asked for the namespace's deletion.
        Uninstalled = "uninstalled",
        Deleted = "deleted",
        /// An event whose deliveries ran out and that changed no status.
        DeadLetter = "dead-letter",
        /// The owner's `DELETE` moved the store to `deleting`.
        DeleteRequested = "delete-requested",
        /// A repeated `DELETE` re-sent a stale request's event.
        DeleteReRequested = "delete-re-requested",
        /// A route committed the store but could not send its event.
        EmitFailed = "emit-failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_passes_the_columns_check() {
        // store_events.kind CHECK (kind ~ '^[a-z][a-z0-9_.-]{0,63}$')
        for kind in ActivityKind::ALL {
            let text = kind.as_str();
            assert!(text.len() <= 64, "{text}");
            assert!(text.starts_with(|c: char| c.is_ascii_lowercase()), "{text}");
            assert!(
                text.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c)),
                "{text}"
            );
            assert_eq!(ActivityKind::parse(text), Some(kind));
        }
    }

    #[test]
    fn docs_events_md_lists_every_kind() {
        let doc = include_str!("../../../docs/events.md");
        let table = doc
            .split("## Activity log")
            .nth(1)
            .expect("docs/events.md has an Activity log section");
        for kind in ActivityKind::ALL {
            assert!(
                table.contains(&format!("| `{kind}` |")),
                "docs/events.md's activity table has no row for {kind}"
            );
        }
    }
}
