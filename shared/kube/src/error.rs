use std::time::Duration;

/// Everything that can go wrong in a Kubernetes action.
///
/// Messages are written for the person reading the store's activity log and
/// never contain a secret value: the store Secret's data is never formatted
/// into an error (see [`crate::secret::SecretValue`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A store id that is not 8 characters of `[a-z0-9]`.
    #[error(transparent)]
    InvalidStoreId(#[from] storefleet_domain::InvalidStoreId),

    /// Configuration that cannot work (a malformed subject list, a bad URL, ...).
    #[error("invalid configuration: {0}")]
    Config(String),

    /// A namespace with the store's name exists but Storefleet does not own it.
    #[error(
        "refusing to delete namespace {namespace}: it does not carry app.kubernetes.io/managed-by=storefleet and storefleet.io/store-id={store_id}"
    )]
    ForeignNamespace { namespace: String, store_id: String },

    /// The store's Secret is absent or lacks a key (a store not provisioned yet,
    /// or one being deleted).
    #[error("the credentials of store {store_id} are not available: {reason}")]
    CredentialsUnavailable { store_id: String, reason: String },

    /// Too many helm operations in flight in this process: answer 429 so the
    /// broker retries later.
    #[error("too many helm operations in flight (limit {limit}); retry later")]
    Busy { limit: usize },

    /// Another helm operation on this release is running right now (helm's
    /// "another operation is in progress"); retry later.
    #[error("another helm operation on release {release} is in progress; retry later")]
    ReleaseLocked { release: String },

    /// helm ran and failed; `reason` is the first meaningful line of its stderr.
    #[error("helm {operation} of {release} failed: {reason}")]
    Helm {
        operation: &'static str,
        release: String,
        reason: String,
    },

    /// helm did not finish in time and was stopped.
    #[error("helm {operation} of {release} did not finish within {timeout:?} and was stopped")]
    HelmTimeout {
        operation: &'static str,
        release: String,
        timeout: Duration,
    },

    /// The helm binary could not be started at all.
    #[error("cannot run helm binary {bin}: {source}")]
    HelmSpawn {
        bin: String,
        #[source]
        source: std::io::Error,
    },

    /// helm printed output this crate does not understand.
    #[error("cannot parse the output of helm {operation}: {source}")]
    HelmOutput {
        operation: &'static str,
        #[source]
        source: serde_json::Error,
    },

    /// The Kubernetes API answered with an error or could not be reached.
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),

    /// No kubeconfig and not in a cluster.
    #[error("cannot build a Kubernetes client (set KUBECONFIG or run in a cluster): {0}")]
    ClientConfig(String),
}

impl Error {
    /// The API server refused the call for lack of permission (`403`).
    pub fn is_forbidden(&self) -> bool {
        matches!(self, Error::Kube(kube::Error::Api(status)) if status.code == 403)
    }

    /// Whether the caller should answer "retry later" (429/503) rather than
    /// marking the store failed: the condition is expected to pass by itself.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Busy { .. } | Error::ReleaseLocked { .. } | Error::HelmTimeout { .. } => true,
            Error::Kube(kube::Error::Api(status)) => {
                status.code == 429 || status.code == 409 || status.code >= 500
            }
            // Connection errors, timeouts of the HTTP client and the like.
            Error::Kube(_) => true,
            _ => false,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16) -> Error {
        Error::Kube(kube::Error::Api(Box::new(
            kube::core::Status::failure("x", "Reason").with_code(code),
        )))
    }

    #[test]
    fn retry_later_only_for_conditions_that_pass_by_themselves() {
        assert!(Error::Busy { limit: 4 }.is_retryable());
        assert!(
            Error::ReleaseLocked {
                release: "store-x".into()
            }
            .is_retryable()
        );
        assert!(api(429).is_retryable());
        assert!(api(503).is_retryable());
        assert!(api(409).is_retryable());
        assert!(!api(403).is_retryable(), "RBAC needs a person");
        assert!(!api(422).is_retryable(), "an invalid object stays invalid");
        assert!(
            !Error::ForeignNamespace {
                namespace: "n".into(),
                store_id: "s".into()
            }
            .is_retryable()
        );
        assert!(
            !Error::Helm {
                operation: "upgrade --install",
                release: "store-x".into(),
                reason: "bad chart".into()
            }
            .is_retryable()
        );
    }

    #[test]
    fn only_a_403_is_forbidden() {
        assert!(api(403).is_forbidden());
        assert!(
            !api(403).is_retryable(),
            "a lasting 403 is a missing permission"
        );
        assert!(!api(404).is_forbidden());
        assert!(!Error::Busy { limit: 1 }.is_forbidden());
    }
}
