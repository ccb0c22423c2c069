//! The store's two Secrets, generated, created once and never rotated:
//! `store-credentials` (MySQL's passwords, WordPress's salts: mounted into
//! MySQL and WordPress, never read by a function) and `store-admin` (the
//! WordPress administrator's login: mounted into the setup only, and read
//! back by list-stores for the credentials route — its only Secret).

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{ObjectMeta, PostParams};
use kube::{Api, Client};
use rand::seq::IndexedRandom;

use crate::names::{STORE_ADMIN_SECRET_NAME, STORE_SECRET_NAME};
use crate::{Error, Result, StoreId};

/// Letters and digits without the look-alikes `0 O o 1 l I`, so a password
/// read off a screen or dictated can be typed back without guessing.
const UNAMBIGUOUS_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
/// 32 characters of a 56-character alphabet: about 186 bits.
pub const PASSWORD_LENGTH: usize = 32;
/// WordPress' own salt generator makes 64 characters.
pub const SALT_LENGTH: usize = 64;
/// The WordPress administrator the setup creates: this prefix and
/// [`ADMIN_SUFFIX_LENGTH`] random lowercase letters and digits, so a login
/// guesser knows neither half of the login (WordPress' default is `admin`).
pub const ADMIN_USER_PREFIX: &str = "admin-";
pub const ADMIN_SUFFIX_LENGTH: usize = 8;
const ADMIN_SUFFIX_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";

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
        .map(|_| {
            char::from(
                *UNAMBIGUOUS_ALPHABET
                    .choose(&mut rng)
                    .expect("alphabet is not empty"),
            )
        })
        .collect();
    SecretValue(value)
}

/// `admin-` and 8 random characters (40 bits: not a secret, but not a guess).
fn admin_user() -> String {
    let mut rng = rand::rng();
    let suffix: String = (0..ADMIN_SUFFIX_LENGTH)
        .map(|_| {
            char::from(
                *ADMIN_SUFFIX_ALPHABET
                    .choose(&mut rng)
                    .expect("alphabet is not empty"),
            )
        })
        .collect();
    format!("{ADMIN_USER_PREFIX}{suffix}")
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
            admin_user: admin_user(),
            admin_password: random_string(PASSWORD_LENGTH),
            admin_email: admin_email.to_owned(),
            salts: std::array::from_fn(|_| random_string(SALT_LENGTH)),
        }
    }

    /// The Kubernetes objects, `store-credentials` then `store-admin`. Never
    /// log them: k8s-openapi's `Debug` of a Secret prints its data.
    pub fn to_secrets(&self, id: &StoreId) -> [Secret; 2] {
        let mut credentials = vec![
            (KEY_MYSQL_ROOT_PASSWORD, self.mysql_root_password.expose()),
            (KEY_MYSQL_PASSWORD, self.mysql_password.expose()),
        ];
        credentials.extend(
            SALT_KEYS
                .iter()
                .copied()
                .zip(self.salts.iter().map(SecretValue::expose)),
        );
        let admin = vec![
            (KEY_ADMIN_USER, self.admin_user.as_str()),
            (KEY_ADMIN_PASSWORD, self.admin_password.expose()),
            (KEY_ADMIN_EMAIL, self.admin_email.as_str()),
        ];
        [
            opaque_secret(id, STORE_SECRET_NAME, credentials),
            opaque_secret(id, STORE_ADMIN_SECRET_NAME, admin),
        ]
    }
}

fn opaque_secret(id: &StoreId, name: &str, data: Vec<(&str, &str)>) -> Secret {
    let data: BTreeMap<String, ByteString> = data
        .into_iter()
        .map(|(key, value)| (key.to_owned(), ByteString(value.as_bytes().to_vec())))
        .collect();
    Secret {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(id.namespace()),
            labels: Some(id.ownership_labels()),
            ..ObjectMeta::default()
        },
        type_: Some("Opaque".to_owned()),
        data: Some(data),
        ..Secret::default()
    }
}

/// What [`ensure_store_secret`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretOutcome {
    /// At least one of the two Secrets was created now.
    Created,
    /// Both Secrets were already there and were left exactly as they are.
    AlreadyExisted,
}

/// Create the store's two Secrets where they do not exist yet.
///
/// Create, never apply or replace: a retried `store.requested` event must not
/// rotate the passwords of a store whose database was initialised with the
/// first ones. A 409 from the API server means an earlier attempt won, and
/// that Secret is kept. (Create is also all the per-store role allows: no
/// function may read, change or delete a Secret there.)
pub async fn ensure_store_secret(
    client: &Client,
    id: &StoreId,
    admin_email: &str,
) -> Result<SecretOutcome> {
    let api: Api<Secret> = Api::namespaced(client.clone(), &id.namespace());
    let mut outcome = SecretOutcome::AlreadyExisted;
    for secret in StoreSecret::generate(admin_email).to_secrets(id) {
        match api.create(&PostParams::default(), &secret).await {
            Ok(_) => outcome = SecretOutcome::Created,
            Err(kube::Error::Api(status)) if status.is_already_exists() => {}
            Err(err) => return Err(err.into()),
        }
    }
    Ok(outcome)
}

/// The WordPress administrator's login, for `GET /api/stores/{id}/credentials`.
#[derive(Debug, Clone)]
pub struct AdminCredentials {
    pub admin_user: String,
    pub admin_password: SecretValue,
}

/// Read the administrator's login from the store's Secret `store-admin`.
pub async fn read_credentials(client: &Client, id: &StoreId) -> Result<AdminCredentials> {
    let api: Api<Secret> = Api::namespaced(client.clone(), &id.namespace());
    let unavailable = |reason: &str| Error::CredentialsUnavailable {
        store_id: id.to_string(),
        reason: reason.to_owned(),
    };
    let secret = api
        .get_opt(STORE_ADMIN_SECRET_NAME)
        .await?
        .ok_or_else(|| unavailable("the Secret store-admin does not exist"))?;
    let data = secret.data.unwrap_or_default();
    let field = |key: &str| -> Result<String> {
        let bytes = data
            .get(key)
            .ok_or_else(|| unavailable(&format!("the Secret has no key {key}")))?;
        String::from_utf8(bytes.0.clone())
            .map_err(|_| unavailable(&format!("the key {key} is not UTF-8")))
    };
    Ok(AdminCredentials {
        admin_user: field(KEY_ADMIN_USER)?,
        admin_password: SecretValue(field(KEY_ADMIN_PASSWORD)?),
    })
}

#[cfg(test)]
mod tests {
    use http::Method;
    use serde_json::json;

    use super::*;
    use crate::testing::{Exchange, scripted, status};

    const SECRETS: &str = "/api/v1/namespaces/store-abcd1234/secrets";

    fn id() -> StoreId {
        StoreId::parse("abcd1234").unwrap()
    }

    #[test]
    fn generated_values_have_the_promised_shape_and_differ() {
        let a = StoreSecret::generate("owner@example.com");
        let b = StoreSecret::generate("owner@example.com");
        for password in [&a.mysql_root_password, &a.mysql_password, &a.admin_password] {
            assert_eq!(password.expose().len(), PASSWORD_LENGTH);
            assert!(
                password
                    .expose()
                    .bytes()
                    .all(|c| UNAMBIGUOUS_ALPHABET.contains(&c))
            );
            assert!(!password.expose().contains(['0', 'O', 'o', '1', 'l', 'I']));
        }
        for salt in &a.salts {
            assert_eq!(salt.expose().len(), SALT_LENGTH);
        }
        assert_ne!(a.admin_password, b.admin_password);
        assert_ne!(a.mysql_password, a.mysql_root_password);
        assert!(a.admin_user.starts_with("admin-"), "{}", a.admin_user);
        assert_eq!(a.admin_user.len(), "admin-".len() + ADMIN_SUFFIX_LENGTH);
        assert_ne!(a.admin_user, b.admin_user, "a random admin login per store");
    }

    #[test]
    fn debug_output_never_shows_a_value() {
        let secret = StoreSecret::generate("owner@example.com");
        let printed = format!("{secret:?} {:?}", secret.admin_password);
        for value in [
            &secret.mysql_root_password,
            &secret.mysql_password,
            &secret.admin_password,
        ]
        .into_iter()
        .chain(secret.salts.iter())
        {
            assert!(
                !printed.contains(value.expose()),
                "a value leaked into Debug"
            );
        }
        assert!(printed.contains("<redacted>"));
    }

    #[test]
    fn the_two_secrets_hold_every_key_the_chart_reads_and_share_none() {
        let [credentials, admin] = StoreSecret::generate("owner@example.com").to_secrets(&id());
        assert_eq!(
            credentials.metadata.name.as_deref(),
            Some("store-credentials")
        );
        assert_eq!(admin.metadata.name.as_deref(), Some("store-admin"));
        for secret in [&credentials, &admin] {
            assert_eq!(secret.metadata.namespace.as_deref(), Some("store-abcd1234"));
            assert!(id().owns(secret.metadata.labels.as_ref()));
        }
        let keys = |s: &Secret| s.data.as_ref().unwrap().keys().cloned().collect::<Vec<_>>();
        let mut expected: Vec<String> = [KEY_MYSQL_ROOT_PASSWORD, KEY_MYSQL_PASSWORD]
            .into_iter()
            .chain(SALT_KEYS)
            .map(str::to_owned)
            .collect();
        expected.sort();
        assert_eq!(keys(&credentials), expected);
        // What the owner is shown, and nothing list-stores must not read.
        assert_eq!(
            keys(&admin),
            [KEY_ADMIN_EMAIL, KEY_ADMIN_PASSWORD, KEY_ADMIN_USER]
        );
        assert_eq!(admin.data.unwrap()[KEY_ADMIN_EMAIL].0, b"owner@example.com");
    }

    #[tokio::test]
    async fn creates_the_secrets_when_absent() {
        let (client, api) = scripted(vec![
            Exchange::new(Method::POST, format!("{SECRETS}?"), 201, json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "store-credentials"}}))
                .body(|body| {
                    assert_eq!(body["metadata"]["name"], "store-credentials");
                    assert_eq!(body["type"], "Opaque");
                    assert_eq!(body["data"].as_object().unwrap().len(), 10);
                }),
            Exchange::new(Method::POST, format!("{SECRETS}?"), 201, json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "store-admin"}}))
                .body(|body| {
                    assert_eq!(body["metadata"]["name"], "store-admin");
                    assert_eq!(body["data"].as_object().unwrap().len(), 3);
                }),
        ]);
        assert_eq!(
            ensure_store_secret(&client, &id(), "a@b.c").await.unwrap(),
            SecretOutcome::Created
        );
        api.await.unwrap();
    }

    #[tokio::test]
    async fn keeps_an_existing_secret_on_409_and_never_writes_it() {
        // Only the POSTs are scripted: a PUT or PATCH (rotation) would fail the test.
        let exists = |name: &str| {
            Exchange::new(
                Method::POST,
                format!("{SECRETS}?"),
                409,
                status(
                    409,
                    "AlreadyExists",
                    &format!("secrets \"{name}\" already exists"),
                ),
            )
        };
        let (client, api) = scripted(vec![exists("store-credentials"), exists("store-admin")]);
        assert_eq!(
            ensure_store_secret(&client, &id(), "a@b.c").await.unwrap(),
            SecretOutcome::AlreadyExisted
        );
        api.await.unwrap();
    }

    #[tokio::test]
    async fn reads_the_admin_login() {
        let (client, api) = scripted(vec![
            Exchange::new(
                Method::GET,
                format!("{SECRETS}/store-admin"),
                200,
                json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "store-admin"},
                       "data": {"wordpress-admin-user": "YWRtaW4=", "wordpress-admin-password": "czNjcjN0UGFzcw=="}}),
            ),
            Exchange::new(
                Method::GET,
                format!("{SECRETS}/store-admin"),
                404,
                status(404, "NotFound", "not found"),
            ),
        ]);
        let credentials = read_credentials(&client, &id()).await.unwrap();
        assert_eq!(credentials.admin_user, "admin");
        assert_eq!(credentials.admin_password.expose(), "s3cr3tPass");
        assert!(!format!("{credentials:?}").contains("s3cr3tPass"));
        let err = read_credentials(&client, &id()).await.unwrap_err();
        assert!(matches!(err, Error::CredentialsUnavailable { .. }), "{err}");
        api.await.unwrap();
    }
}
