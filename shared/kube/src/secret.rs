//! The store's Secret `store-credentials`: generated passwords and salts,
//! created once and never rotated, read back for the credentials route.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{ObjectMeta, PostParams};
use kube::{Api, Client};
use rand::seq::IndexedRandom;

use crate::names::STORE_SECRET_NAME;
use crate::{Error, Result, StoreId};

/// Letters and digits without the look-alikes `0 O o 1 l I`, so a password
/// read off a screen or dictated can be typed back without guessing.
const UNAMBIGUOUS_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
/// 32 characters of a 56-character alphabet: about 185 bits.
pub const PASSWORD_LENGTH: usize = 32;
/// WordPress' own salt generator makes 64 characters.
pub const SALT_LENGTH: usize = 64;
/// The WordPress administrator the setup creates.
pub const ADMIN_USER: &str = "admin";

pub const KEY_MYSQL_ROOT_PASSWORD: &str = "mysql-root-password";
pub const KEY_MYSQL_PASSWORD: &str = "mysql-password";
pub const KEY_ADMIN_USER: &str = "wordpress-admin-user";
pub const KEY_ADMIN_PASSWORD: &str = "wordpress-admin-password";
pub const KEY_ADMIN_EMAIL: &str = "wordpress-admin-email";
/// The eight WordPress keys and salts: identical across replicas, because the
/// Store API's Cart-Token and the login cookies are signed with them.
pub const SALT_KEYS: [&str; 8] = [
    "wordpress-auth-key",
    "wordpress-secure-auth-key",
    "wordpress-logged-in-key",
    "wordpress-nonce-key",
    "wordpress-auth-salt",
    "wordpress-secure-auth-salt",
    "wordpress-logged-in-salt",
    "wordpress-nonce-salt",
];

/// A secret string. Its `Debug` is redacted and it has no `Display`, so it
/// cannot reach a log line or an error message by accident; read it with
/// [`SecretValue::expose`] only where it is really needed.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(<redacted>)")
    }
}

/// `length` characters of [`UNAMBIGUOUS_ALPHABET`] from `rand::rng()`: a
/// ChaCha12 CSPRNG seeded from the operating system (and periodically
/// reseeded), with uniform choice (no modulo bias).
fn random_string(length: usize) -> SecretValue {
    let mut rng = rand::rng();
    let value = (0..length)
        .map(|_| char::from(*UNAMBIGUOUS_ALPHABET.choose(&mut rng).expect("alphabet is not empty")))
        .collect();
    SecretValue(value)
}

/// The generated content of one store's Secret.
#[derive(Debug, Clone)]
pub struct StoreSecret {
    pub mysql_root_password: SecretValue,
    pub mysql_password: SecretValue,
    pub admin_user: String,
    pub admin_password: SecretValue,
    pub admin_email: String,
    /// In the order of [`SALT_KEYS`].
    pub salts: [SecretValue; 8],
}

impl StoreSecret {
    pub fn generate(admin_email: &str) -> Self {
        Self {
            mysql_root_password: random_string(PASSWORD_LENGTH),
            mysql_password: random_string(PASSWORD_LENGTH),
            admin_user: ADMIN_USER.to_owned(),
            admin_password: random_string(PASSWORD_LENGTH),
            admin_email: admin_email.to_owned(),
            salts: std::array::from_fn(|_| random_string(SALT_LENGTH)),
        }
    }

    /// The Kubernetes object. Never log it: k8s-openapi's `Debug` of a Secret
    /// prints its data.
    pub fn to_secret(&self, id: &StoreId) -> Secret {
        let mut data = BTreeMap::new();
        let mut put = |key: &str, value: &str| {
            data.insert(key.to_owned(), ByteString(value.as_bytes().to_vec()));
        };
        put(KEY_MYSQL_ROOT_PASSWORD, self.mysql_root_password.expose());
        put(KEY_MYSQL_PASSWORD, self.mysql_password.expose());
        put(KEY_ADMIN_USER, &self.admin_user);
        put(KEY_ADMIN_PASSWORD, self.admin_password.expose());
        put(KEY_ADMIN_EMAIL, &self.admin_email);
        for (key, salt) in SALT_KEYS.iter().zip(&self.salts) {
            put(key, salt.expose());
        }
        Secret {
            metadata: ObjectMeta {
                name: Some(STORE_SECRET_NAME.to_owned()),
                namespace: Some(id.namespace()),
                labels: Some(id.ownership_labels()),
                ..ObjectMeta::default()
            },
            type_: Some("Opaque".to_owned()),
            data: Some(data),
            ..Secret::default()
        }
    }
}

/// What [`ensure_store_secret`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretOutcome {
    Created,
    /// The Secret was already there and was left exactly as it is.
    AlreadyExisted,
}

/// Create the store's Secret if it does not exist yet.
///
/// Create, never apply or replace: a retried `store.requested` event must not
/// rotate the passwords of a store whose database was initialised with the
/// first ones. A 409 from the API server means an earlier attempt won, and
/// its Secret is kept.
pub async fn ensure_store_secret(client: &Client, id: &StoreId, admin_email: &str) -> Result<SecretOutcome> {
    let api: Api<Secret> = Api::namespaced(client.clone(), &id.namespace());
    let secret = StoreSecret::generate(admin_email).to_secret(id);
    match api.create(&PostParams::default(), &secret).await {
        Ok(_) => Ok(SecretOutcome::Created),
        Err(kube::Error::Api(status)) if status.is_already_exists() => Ok(SecretOutcome::AlreadyExisted),
        Err(err) => Err(err.into()),
    }
}

/// The WordPress administrator's login, for `GET /api/stores/{id}/credentials`.
#[derive(Debug, Clone)]
pub struct AdminCredentials {
    pub admin_user: String,
    pub admin_password: SecretValue,
}

/// Read the administrator's login from the store's Secret.
pub async fn read_credentials(client: &Client, id: &StoreId) -> Result<AdminCredentials> {
    let api: Api<Secret> = Api::namespaced(client.clone(), &id.namespace());
    let unavailable = |reason: &str| Error::CredentialsUnavailable {
        store_id: id.to_string(),
        reason: reason.to_owned(),
    };
    let secret = api
        .get_opt(STORE_SECRET_NAME)
        .await?
        .ok_or_else(|| unavailable("the Secret store-credentials does not exist"))?;
    let data = secret.data.unwrap_or_default();
    let field = |key: &str| -> Result<String> {
        let bytes = data
            .get(key)
            .ok_or_else(|| unavailable(&format!("the Secret has no key {key}")))?;
        String::from_utf8(bytes.0.clone()).map_err(|_| unavailable(&format!("the key {key} is not UTF-8")))
    };
    Ok(AdminCredentials {
        admin_user: field(KEY_ADMIN_USER)?,
        admin_password: SecretValue(field(KEY_ADMIN_PASSWORD)?),
    })
}
