use crate::text::text_enum;

text_enum! {
    /// The CloudEvent types of the chain (docs/events.md): the
    /// `io.storefleet.*` types the functions send, and the Knative sources'.
    /// A handler matches on this, so a new type is a compile error in every
    /// handler until it says what it does with it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum EventType("CloudEvent type") {
        StoreRequested = "io.storefleet.store.requested",
        StoreInstalled = "io.storefleet.store.installed",
        StoreReady = "io.storefleet.store.ready",
        StoreFailed = "io.storefleet.store.failed",
        StoreDeleteRequested = "io.storefleet.store.delete-requested",
        StoreDeleted = "io.storefleet.store.deleted",
        /// The ApiServerSource (`mode: Resource`).
        ApiServerAdd = "dev.knative.apiserver.resource.add",
        ApiServerUpdate = "dev.knative.apiserver.resource.update",
        ApiServerDelete = "dev.knative.apiserver.resource.delete",
        /// The PingSource of the sweep.
        Ping = "dev.knative.sources.ping",
    }
}

impl EventType {
    /// Every `io.storefleet.*` type the functions emit (`knative/triggers.yaml`
    /// routes them; local-broker/tests/trigger_coverage.rs checks the routing).
    pub const STOREFLEET: [EventType; 6] = [
        EventType::StoreRequested,
        EventType::StoreInstalled,
        EventType::StoreReady,
        EventType::StoreFailed,
        EventType::StoreDeleteRequested,
        EventType::StoreDeleted,
    ];

    /// Whether Storefleet's functions send this type (its subject is a store id).
    pub fn is_storefleet(self) -> bool {
        Self::STOREFLEET.contains(&self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storefleet_types_are_the_io_storefleet_ones() {
        for ty in EventType::ALL {
            assert_eq!(
                ty.is_storefleet(),
                ty.as_str().starts_with("io.storefleet.")
            );
            assert_eq!(EventType::parse(ty.as_str()), Some(ty));
        }
        assert_eq!(EventType::parse("io.storefleet.store.nope"), None);
    }
}
