//! Bearer tokens and users.
//!
//! A token is 32 random bytes, base64url; PostgreSQL keeps only its sha256
//! (hex). The token is shown once, when the user is created.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::users;
use crate::rate_limit::RateLimits;
use crate::{Error, Result};

/// The authenticated user of a request.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Caller {
    pub id: Uuid,
    pub name: String,
    pub is_admin: bool,
    pub max_stores: i32,
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new random token (256 bits).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "sft_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

impl<S> FromRequestParts<S> for Caller
where
    PgPool: FromRef<S>,
    std::sync::Arc<RateLimits>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Error;

    /// The token's rate limits are checked before its lookup, so a flood of
    /// requests (valid token or not) costs no database round trip.
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        let token = bearer_token(&parts.headers)?;
        let limits = std::sync::Arc::<RateLimits>::from_ref(state);
        let token_hash = hash_token(token);
        limits.admit(&token_hash)?;
        let pool = PgPool::from_ref(state);
        let caller = find_by_hash(&pool, &token_hash)
            .await?
            .ok_or_else(|| Error::InvalidToken("the token is not valid".into()))?;
        limits.verified(&token_hash);
        Ok(caller)
    }
}

/// The token of `Authorization: Bearer <token>` (RFC 6750 §2.1). The scheme
/// is case-insensitive (RFC 9110 §11.1: `bearer` is `Bearer`). Two
/// Authorization headers are a malformed request (`400 invalid_request`):
/// which one a proxy or the server would pick is not defined.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(header) = values.next() else {
        return Err(Error::Unauthorized(
            "send Authorization: Bearer <token>".into(),
        ));
    };
    if values.next().is_some() {
        return Err(Error::InvalidAuthorization(
            "send one Authorization header, not several".into(),
        ));
    }
    let malformed =
        || Error::InvalidToken("the Authorization header must be \"Bearer <token>\"".into());
    let value = header.to_str().map_err(|_| malformed())?.trim();
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        // another scheme (Basic …): no Bearer credentials at all, so the 401
        // carries no error code (RFC 6750 §3.1)
        return Err(Error::Unauthorized(
            "the Authorization scheme must be Bearer: send Authorization: Bearer <token>".into(),
        ));
    }
    let token = token.trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(malformed());
    }
    Ok(token)
}

pub async fn find_by_token(pool: &PgPool, token: &str) -> Result<Option<Caller>> {
    find_by_hash(pool, &hash_token(token)).await
}

async fn find_by_hash(pool: &PgPool, token_hash: &str) -> Result<Option<Caller>> {
    crate::db::users::find_by_token_hash(pool, token_hash).await
}

/// Validate a user or store name: 1..=64 characters after trimming, no
/// control characters, no invisible format characters (Unicode general
/// category Cf: U+200B zero width space, U+202E right-to-left override, …)
/// and no line or paragraph separators (U+2028, U+2029). Those render as
/// nothing or reorder what is shown, so two names that look alike, or a name
/// that reads as something else, could be told apart only by bytes.
pub fn validate_name(field: &str, raw: &str) -> Result<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(Error::Validation(format!("{field} must not be empty")));
    }
    if name.chars().count() > 64 {
        return Err(Error::Validation(format!(
            "{field} is {} characters long; at most 64 are allowed",
            name.chars().count()
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::Validation(format!(
            "{field} must not contain control characters"
        )));
    }
    if let Some(c) = name.chars().find(|&c| invisible(c)) {
        return Err(Error::Validation(format!(
            "{field} must not contain invisible or direction-changing characters (found U+{:04X})",
            u32::from(c)
        )));
    }
    Ok(name.to_owned())
}

fn invisible(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    matches!(
        c.general_category(),
        GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    )
}

/// A character [`validate_name`] refuses anywhere in a name.
fn refused_in_name(c: char) -> bool {
    c.is_control() || invisible(c)
}

/// [`validate_name`]'s rule as a JSON Schema `pattern`, so the API's document
/// says exactly which names are taken (a client's validator, and
/// schemathesis, generate and check from it): any leading and trailing
/// whitespace (trimmed), then 1 to 64 characters that start and end with
/// something other than whitespace and contain no refused character. The
/// classes are computed from the same predicates as `validate_name`
/// (`char::is_whitespace`, as `str::trim` uses, and [`refused_in_name`]);
/// BMP characters are written `\uXXXX` (ECMA-262 and Python `re`), others
/// as themselves.
pub fn name_pattern() -> String {
    fn escaped(c: char) -> String {
        if u32::from(c) <= 0xFFFF {
            format!("\\u{:04X}", u32::from(c))
        } else {
            c.to_string()
        }
    }
    fn push_range(out: &mut String, (first, last): (char, char)) {
        out.push_str(&escaped(first));
        if first != last {
            out.push('-');
            out.push_str(&escaped(last));
        }
    }
    /// A character class of the characters `keep` is true for (negated: `[^…]`).
    fn class(negated: bool, keep: impl Fn(char) -> bool) -> String {
        let mut out = String::from(if negated { "[^" } else { "[" });
        let mut run: Option<(char, char)> = None;
        for c in (0..=0x10FFFF_u32).filter_map(char::from_u32) {
            if !keep(c) {
                continue;
            }
            run = match run {
                Some((first, last)) if u32::from(last) + 1 == u32::from(c) => Some((first, c)),
                Some(done) => {
                    push_range(&mut out, done);
                    Some((c, c))
                }
                None => Some((c, c)),
            };
        }
        if let Some(done) = run {
            push_range(&mut out, done);
        }
        out.push(']');
        out
    }
    let space = class(false, char::is_whitespace);
    let inner = class(true, refused_in_name);
    let edge = class(true, |c| c.is_whitespace() || refused_in_name(c));
    format!("^{space}*{edge}(?:{inner}{{0,62}}{edge})?{space}*$")
}

/// The key under which user names are unique: Unicode's compatibility
/// caseless form (Unicode §3.13 D146: NFKC of the case-folded NFKC of the
/// case-folded NFD), so `Alice`, `alice`, `ＡＬＩＣＥ` (fullwidth) and
/// `STRASSE`/`straße` are one name.
pub fn name_key(name: &str) -> String {
    use caseless::Caseless;
    use unicode_normalization::UnicodeNormalization;
    name.nfd()
        .default_case_fold()
        .nfkc()
        .default_case_fold()
        .nfkc()
        .collect()
}

/// Create a user; returns the user and the token (the only time it exists in clear).
pub async fn create_user(
    pool: &PgPool,
    name: &str,
    max_stores: i32,
    is_admin: bool,
) -> Result<(Caller, String)> {
    let token = new_token();
    let user = users::insert(
        pool,
        users::NewUser {
            name,
            name_key: &name_key(name),
            token_hash: &hash_token(&token),
            max_stores,
            is_admin,
        },
    )
    .await?
    .ok_or_else(|| {
        Error::Conflict(format!(
            "the name {name:?} is taken: names are compared ignoring case and Unicode compatibility forms (e.g. fullwidth letters)"
        ))
    })?;
    Ok((user, token))
}

/// Upsert the bootstrap admin `admin` with the configured token, so the token
/// in the Secret always works (rotating the Secret rotates the token).
pub async fn ensure_bootstrap_admin(pool: &PgPool, token: &str, max_stores: i32) -> Result<()> {
    users::upsert_bootstrap_admin(pool, &hash_token(token), max_stores).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documents_name_pattern_takes_exactly_what_validate_name_takes() {
        let pattern = regex::Regex::new(&name_pattern()).expect("a valid regex");
        let long = "x".repeat(64);
        let too_long = "x".repeat(65);
        let padded = format!("  {long}\t\n");
        let inner_space = format!("a{}b", " ".repeat(62));
        let samples = [
            "a",
            "ab",
            "Demo shop",
            " Demo shop ",
            "\tshop\n",
            "\u{2028}shop\u{2029}",
            "Café Müller",
            "日本の店",
            "🛍 Shop",
            "\u{1F6CD}",
            "\u{E0001}x",
            "x\u{E0020}",
            "",
            " ",
            "\t\n\u{3000}",
            "a\tb",
            "a\u{7}b",
            "\u{0}",
            "a\u{85}b",
            "a\u{9F}",
            "ad\u{200B}min",
            "shop\u{202E}gpj",
            "\u{FEFF}alice",
            "a\u{2066}b",
            "line\u{2028}two",
            "a\u{AD}b",
            "\u{110BD}",
            &long,
            &too_long,
            &padded,
            &inner_space,
        ];
        for s in samples {
            assert_eq!(
                pattern.is_match(s),
                validate_name("name", s).is_ok(),
                "{s:?}: the pattern and validate_name disagree"
            );
        }
        // every refused or whitespace character and every 61st other one,
        // alone and between two letters
        for c in (0..=0x10FFFF_u32)
            .filter_map(char::from_u32)
            .filter(|&c| refused_in_name(c) || c.is_whitespace() || u32::from(c) % 61 == 0)
        {
            for s in [c.to_string(), format!("a{c}b")] {
                assert_eq!(
                    pattern.is_match(&s),
                    validate_name("name", &s).is_ok(),
                    "U+{:04X} in {s:?}",
                    u32::from(c)
                );
            }
        }
    }

    #[test]
    fn names_refuse_invisible_and_direction_characters() {
        for bad in [
            "ad\u{200B}min",   // zero width space (Cf)
            "shop\u{202E}gpj", // right-to-left override (Cf)
            "\u{FEFF}alice",   // byte order mark (Cf)
            "a\u{2066}b",      // left-to-right isolate (Cf)
            "line\u{2028}two", // line separator (Zl)
            "para\u{2029}two", // paragraph separator (Zp)
        ] {
            let err = validate_name("name", bad).unwrap_err().to_string();
            assert!(err.contains("invisible"), "{bad:?}: {err}");
            assert!(err.contains("U+"), "{err}");
        }
        for good in [
            "Café Müller",
            "日本の店",
            "🛍 Shop",
            "O'Brien & Sons",
            "Ünïcödé",
        ] {
            assert_eq!(validate_name("name", good).unwrap(), good);
        }
    }

    #[test]
    fn name_keys_fold_case_and_compatibility_forms() {
        let key = name_key("alice");
        for same in ["Alice", "ALICE", "ＡＬＩＣＥ", "ａｌｉｃｅ"] {
            assert_eq!(name_key(same), key, "{same}");
        }
        // full case folding, not lowercasing: ß is ss, final sigma is sigma
        assert_eq!(name_key("straße"), name_key("STRASSE"));
        assert_eq!(name_key("ΟΔΟΣ"), name_key("οδος"));
        assert_eq!(name_key("οδοσ"), name_key("οδος"));
        // compatibility forms: the ligature ﬁ is fi, ① is 1
        assert_eq!(name_key("ﬁle①"), name_key("file1"));
        // composed and decomposed é are one
        assert_eq!(name_key("Caf\u{e9}"), name_key("cafe\u{301}"));
        assert_ne!(name_key("alice"), name_key("alicia"));
        assert_eq!(name_key("admin"), "admin", "the bootstrap admin's key");
    }
}
