//! The chain's steps as data: which event starts each, which function runs
//! it, the status a store must be in for it to run, what marks it done, and
//! whether the sweep may send its event again. `chain::step::begin` (the
//! handlers' guard), the sweep's re-drive and the dead-letter map read this
//! table, so no function encodes another's internals.

use crate::{ActivityKind, EventType, Status};

/// What shows that a step happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    /// An entry of this kind in the store's activity log.
    Activity(ActivityKind),
    /// The store's namespace is no longer active: its deletion started or
    /// it is gone, the rest is the cluster's (asked in the cluster, not the
    /// database).
    NamespaceDeletionStarted,
    /// The store reached this status.
    Status(Status),
}

/// One step of the chain (docs/events.md, "The chain").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// What the step is called in the activity log ("the provisioning step
    /// has not happened yet").
    pub name: &'static str,
    /// The Knative Service that runs it.
    pub function: &'static str,
    /// The event that starts it (a Trigger routes it to `function`).
    pub starts_on: EventType,
    /// The status the store must be in: a late or repeated event for a
    /// store that moved on is acknowledged and changes nothing.
    pub expects: Status,
    pub done: Done,
    /// Whether the sweep sends `starts_on` again when the step has not
    /// happened for `STOREFLEET_REDRIVE_AFTER_SECONDS`. The readiness check
    /// is not re-driven: the sweep re-checks every unsettled store itself.
    pub redriven: bool,
}

/// create-store: namespace, credentials, `helm upgrade --install`.
pub const INSTALL: Step = Step {
    name: "provisioning",
    function: "create-store",
    starts_on: EventType::StoreRequested,
    expects: Status::Provisioning,
    done: Done::Activity(ActivityKind::Installed),
    redriven: true,
};

/// readiness-checker: the installed store becomes ready (or fails).
pub const READINESS: Step = Step {
    name: "readiness",
    function: "readiness-checker",
    starts_on: EventType::StoreInstalled,
    expects: Status::Provisioning,
    done: Done::Status(Status::Ready),
    redriven: false,
};

/// delete-store: `helm uninstall`, then the namespace's deletion.
pub const TEARDOWN: Step = Step {
    name: "deletion",
    function: "delete-store",
    starts_on: EventType::StoreDeleteRequested,
    expects: Status::Deleting,
    done: Done::NamespaceDeletionStarted,
    redriven: true,
};

/// Every step, in the order a store goes through them.
pub const STEPS: [Step; 3] = [INSTALL, READINESS, TEARDOWN];

impl Step {
    /// The step `event_type` starts, if any (`None`: a notification such
    /// as `store.ready`, or a source's event).
    pub fn started_by(event_type: EventType) -> Option<&'static Step> {
        STEPS.iter().find(|step| step.starts_on == event_type)
    }

    /// The step the sweep re-drives for a store in `status`, if any.
    pub fn redriven_in(status: Status) -> Option<&'static Step> {
        STEPS
            .iter()
            .find(|step| step.redriven && step.expects == status)
    }

    /// Whether it takes the store down (its failure says "deleting").
    pub fn is_teardown(&self) -> bool {
        self.expects == Status::Deleting
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_storefleet_event_starts_at_most_one_step() {
        for ty in EventType::ALL {
            let starting = STEPS.iter().filter(|s| s.starts_on == ty).count();
            assert!(starting <= 1, "{ty} starts {starting} steps");
            if starting == 1 {
                assert!(
                    ty.is_storefleet(),
                    "{ty}: a step starts on our own events only"
                );
            }
        }
    }

    #[test]
    fn a_status_has_at_most_one_redriven_step() {
        for status in Status::ALL {
            let n = STEPS
                .iter()
                .filter(|s| s.redriven && s.expects == status)
                .count();
            assert!(n <= 1, "{status}: {n} re-driven steps");
        }
        assert_eq!(Step::redriven_in(Status::Provisioning), Some(&INSTALL));
        assert_eq!(Step::redriven_in(Status::Deleting), Some(&TEARDOWN));
        assert_eq!(Step::redriven_in(Status::Ready), None);
    }

    #[test]
    fn notifications_and_sources_start_no_step() {
        for ty in [
            EventType::StoreReady,
            EventType::StoreFailed,
            EventType::StoreDeleted,
            EventType::Ping,
            EventType::ApiServerAdd,
        ] {
            assert_eq!(Step::started_by(ty), None, "{ty}");
        }
        assert_eq!(Step::started_by(EventType::StoreRequested), Some(&INSTALL));
        assert!(TEARDOWN.is_teardown() && !INSTALL.is_teardown());
    }
}
