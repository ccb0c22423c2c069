//! What a tenant reads when a store fails (`failure_reason`, the `failed`
//! entry of the activity log): fixed, tenant-safe sentences. The raw cause —
//! helm's stderr, kube and database errors, kubeconfig paths, internal URLs,
//! the body a dead letter carries (which anyone who can reach
//! `/dead-letters` could write) — goes to the log only, next to the store id,
//! where the platform team looks.

use crate::domain::Engine;

/// create-store's install step failed for a reason a person must act on.
pub fn install_failed(engine: Engine) -> String {
    format!(
        "the {} store could not be installed; the platform team can see why in the platform's logs. Delete the store and create it again, or ask them.",
        engine.display_name()
    )
}

/// delete-store refused: the namespace is not one Storefleet manages.
pub const DELETE_REFUSED: &str = "the store could not be deleted: its namespace is not managed by Storefleet. Ask the platform team; deleting the store again is safe.";

/// A step event whose deliveries ran out (the dead-letter sink).
pub fn retries_exhausted(engine: Engine, deleting: bool) -> String {
    if deleting {
        "the deletion did not complete: a platform service kept failing through every retry. Delete the store again; the platform team can see why in the platform's logs.".into()
    } else {
        format!(
            "the {} store could not be set up: a platform service kept failing through every retry. Delete the store and create it again; the platform team can see why in the platform's logs.",
            engine.display_name()
        )
    }
}

/// A step that ran out of retries on back-pressure only: not a failure.
pub const RETRIES_EXHAUSTED_BUSY: &str = "the platform was busy through every retry of a step; the store keeps its status and the sweep retries the step";

/// readiness-checker: a ready store's namespace is gone or going.
pub const NAMESPACE_VANISHED: &str = "the store's resources were removed from the cluster while it was ready; the platform team can see why in the platform's logs. Delete the store and create it again, or ask them.";

/// readiness-checker: the namespace of a store still provisioning is being
/// deleted, and not by Storefleet.
pub const NAMESPACE_DELETED_UNASKED: &str = "the store's resources are being removed from the cluster although nobody asked to delete the store; the platform team can see why in the platform's logs. Delete the store and create it again, or ask them.";

/// What a provisioning store waits for before its workloads say anything
/// (the `waiting` entries of the activity log; the workloads' own waits are
/// `storefleet_kube::readiness::Wait`).
pub const WAITING_FOR_NAMESPACE: &str = "the store's space in the cluster is being created";
pub const WAITING_FOR_INSTALL: &str = "the store is being installed";
/// The storefront check's answer names the ingress controller's internal
/// address and what each page showed: the log has it.
pub const WAITING_FOR_STOREFRONT: &str = "the storefront does not answer yet";

/// A dead-lettered cluster event (no status change).
pub const CLUSTER_EVENT_DROPPED: &str =
    "a cluster event about the store could not be handled; the next sweep looks at the store again";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_name_the_engine_and_nothing_internal() {
        assert!(install_failed(Engine::WooCommerce).contains("WooCommerce"));
        assert!(install_failed(Engine::Medusa).contains("Medusa"));
        assert!(retries_exhausted(Engine::WooCommerce, false).contains("WooCommerce"));
        assert!(retries_exhausted(Engine::WooCommerce, true).contains("deletion"));
    }
}
