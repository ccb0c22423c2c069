//! Store ids: 8 random characters of `[a-z0-9]`, and validation of ids that
//! come from request paths before they reach any query.

use rand::Rng;
use rand::distr::Alphanumeric;

use crate::Error;

pub const ID_LEN: usize = 8;

/// A new random store id (36^8 ≈ 2.8e12 values; a collision is caught by the
/// primary key and retried by the caller).
pub fn new_store_id() -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .map(|b| (b as char).to_ascii_lowercase())
        .take(ID_LEN)
        .collect()
}

pub fn is_store_id(id: &str) -> bool {
    id.len() == ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// A path id, checked before any SQL: `../`, SQL fragments and unicode are a
/// 404 that says what an id looks like (not a 400: a malformed id names no store).
pub fn parse_store_id(id: &str) -> Result<&str, Error> {
    if is_store_id(id) {
        Ok(id)
    } else {
        Err(Error::NotFound(format!(
            "no store with id {id:?}: store ids are 8 characters of [a-z0-9]"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_valid() {
        for _ in 0..1000 {
            assert!(is_store_id(&new_store_id()));
        }
    }

    #[test]
    fn rejects_non_ids() {
        for bad in [
            "",
            "../etc/p",
            "abc",
            "ABCDEFGH",
            "a' OR 1=1",
            "abcdéfgh",
            "abcdefghi",
            "abc-defg",
        ] {
            assert!(parse_store_id(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_store_id("k7m2q9xd").unwrap(), "k7m2q9xd");
    }
}
