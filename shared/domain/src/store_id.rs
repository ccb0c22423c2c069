use std::collections::BTreeMap;
use std::fmt;

use rand::Rng;
use rand::distr::Alphanumeric;

use crate::labels::{MANAGED_BY_LABEL, MANAGED_BY_VALUE, STORE_ID_LABEL};

/// What every name built from a store id starts with: its namespace and its
/// helm release are `store-<id>`.
const NAME_PREFIX: &str = "store-";

/// A text that is not a store id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid store id {0:?}: expected 8 characters of [a-z0-9]")]
pub struct InvalidStoreId(pub String);

/// A validated store id: 8 characters of `[a-z0-9]`.
///
/// Validating once here means every name built from it (namespace, release,
/// label value) is a valid DNS label and a valid helm release name, no
/// argument passed to helm can start with `-`, and an id from a request path
/// is checked before any query. As a column (`stores.id`, whose CHECK is the
/// same rule) it is read without a second check.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, sqlx::Type)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct StoreId(String);

impl StoreId {
    pub const LEN: usize = 8;

    pub fn parse(id: &str) -> Result<Self, InvalidStoreId> {
        if Self::is_valid(id) {
            Ok(Self(id.to_owned()))
        } else {
            Err(InvalidStoreId(id.to_owned()))
        }
    }

    pub fn is_valid(id: &str) -> bool {
        id.len() == Self::LEN
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    }

    /// A new random id (36^8 ≈ 2.8e12 values; a collision is caught by the
    /// primary key and retried by the caller).
    pub fn random() -> Self {
        Self(
            rand::rng()
                .sample_iter(Alphanumeric)
                .map(|b| (b as char).to_ascii_lowercase())
                .take(Self::LEN)
                .collect(),
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `store-<id>`
    pub fn namespace(&self) -> String {
        format!("{NAME_PREFIX}{}", self.0)
    }

    /// `store-<id>` (the helm release lives in the namespace of the same name).
    pub fn release(&self) -> String {
        self.namespace()
    }

    /// The id from a namespace name `store-<id>`, if it is one.
    pub fn from_namespace(namespace: &str) -> Option<Self> {
        namespace
            .strip_prefix(NAME_PREFIX)
            .and_then(|id| Self::parse(id).ok())
    }

    /// The two ownership labels every object Storefleet creates carries.
    pub fn ownership_labels(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (MANAGED_BY_LABEL.to_owned(), MANAGED_BY_VALUE.to_owned()),
            (STORE_ID_LABEL.to_owned(), self.0.clone()),
        ])
    }

    /// Whether `labels` say this object is Storefleet's and belongs to this store.
    pub fn owns(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        labels.is_some_and(|labels| {
            labels.get(MANAGED_BY_LABEL).map(String::as_str) == Some(MANAGED_BY_VALUE)
                && labels.get(STORE_ID_LABEL) == Some(&self.0)
        })
    }
}

impl AsRef<str> for StoreId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for StoreId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for StoreId {
    type Err = InvalidStoreId;
    fn from_str(id: &str) -> Result<Self, InvalidStoreId> {
        Self::parse(id)
    }
}

impl fmt::Display for StoreId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for StoreId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreId({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_eight_lowercase_alphanumerics() {
        let id = StoreId::parse("k7m2q9xd").unwrap();
        assert_eq!(id.namespace(), "store-k7m2q9xd");
        assert_eq!(id.release(), "store-k7m2q9xd");
        assert_eq!(StoreId::from_namespace("store-k7m2q9xd"), Some(id));
    }

    #[test]
    fn random_ids_are_valid() {
        for _ in 0..1000 {
            assert!(StoreId::is_valid(StoreId::random().as_str()));
        }
    }

    #[test]
    fn rejects_anything_else() {
        for bad in [
            "",
            "k7m2q9x",
            "k7m2q9xdd",
            "K7M2Q9XD",
            "-7m2q9xd",
            "k7m2q9x.",
            "k7m2 9xd",
            "ä7m2q9x",
            "../etc/p",
            "a' OR 1=1",
            "abcdéfgh",
            "abc-defg",
        ] {
            let err = StoreId::parse(bad).unwrap_err();
            assert!(err.to_string().contains("8 characters"), "{bad:?}: {err}");
        }
        assert_eq!(StoreId::from_namespace("kube-system"), None);
        assert_eq!(StoreId::from_namespace("store-kube-sys"), None);
    }

    #[test]
    fn ownership_needs_both_labels_with_the_matching_id() {
        let id = StoreId::parse("abcd1234").unwrap();
        assert!(id.owns(Some(&id.ownership_labels())));
        let other = StoreId::parse("zzzz9999").unwrap();
        assert!(!id.owns(Some(&other.ownership_labels())));
        let mut only_id = id.ownership_labels();
        only_id.remove(MANAGED_BY_LABEL);
        assert!(!id.owns(Some(&only_id)));
        let mut wrong_manager = id.ownership_labels();
        wrong_manager.insert(MANAGED_BY_LABEL.into(), "Helm".into());
        assert!(!id.owns(Some(&wrong_manager)));
        assert!(!id.owns(None));
    }
}
