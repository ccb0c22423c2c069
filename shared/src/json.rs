//! `Json<T>` whose rejections are problems that say what to fix, with the
//! serde path of the offending field (`name: invalid type: integer …`).
//!
//! Every request body of the API is a JSON object. serde's derived structs
//! also accept a JSON array (the fields in declaration order), so
//! `["woocommerce","x"]` would create a store; the body's first token is
//! checked to be `{` before the fields are read.

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;

use crate::Error;

/// Like `axum::Json`, but a malformed body answers problem+json and only a
/// JSON object is a body.
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // the content type first, as axum::Json does: a form post is a 415
        // whatever its size or shape
        if !is_json_content_type(req.headers()) {
            return Err(unsupported_media_type());
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|err| from_rejection(JsonRejection::from(err)))?;
        check_object(&bytes)?;
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => Err(from_rejection(rejection)),
        }
    }
}

/// `application/json` or any `application/…+json`, parameters allowed (axum's rule).
fn is_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json") || subtype.to_ascii_lowercase().ends_with("+json"))
}

/// `400` unless the body is a JSON object. A body that is not JSON at all is
/// left to the parser, whose error gives the position.
fn check_object(bytes: &[u8]) -> Result<(), Error> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Ok(());
    };
    let kind = match value {
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Null => "null",
        serde_json::Value::Object(_) => return Ok(()),
    };
    Err(Error::BadRequest(format!(
        "the body must be a JSON object ({{\"field\": …}}), not {kind}"
    )))
}

fn unsupported_media_type() -> Error {
    Error::UnsupportedMediaType("send the body with Content-Type: application/json".into())
}

fn from_rejection(rejection: JsonRejection) -> Error {
    use std::error::Error as _;
    match rejection {
        JsonRejection::JsonDataError(err) => {
            // the source carries the serde path ("name: invalid type …")
            let cause = err
                .source()
                .map(ToString::to_string)
                .unwrap_or_else(|| err.body_text());
            Error::Validation(format!("the JSON body does not match the schema: {cause}"))
        }
        JsonRejection::JsonSyntaxError(err) => {
            let cause = err
                .source()
                .map(ToString::to_string)
                .unwrap_or_else(|| err.body_text());
            Error::BadRequest(format!("the body is not valid JSON: {cause}"))
        }
        JsonRejection::MissingJsonContentType(_) => unsupported_media_type(),
        JsonRejection::BytesRejection(err) => {
            if err.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                Error::PayloadTooLarge(format!(
                    "the body is larger than {} bytes",
                    crate::server::BODY_LIMIT_BYTES
                ))
            } else {
                Error::BadRequest(format!("the body could not be read: {}", err.body_text()))
            }
        }
        other => Error::BadRequest(other.body_text()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_objects_are_bodies() {
        assert!(check_object(br#" {"a":1}"#).is_ok());
        for (body, kind) in [
            (&br#"["woocommerce","x"]"#[..], "an array"),
            (br#"  ["u",7,true]"#, "an array"),
            (br#""x""#, "a string"),
            (b"7", "a number"),
            (b"true", "a boolean"),
            (b"null", "null"),
        ] {
            let err = check_object(body).unwrap_err().to_string();
            assert!(err.contains(kind), "{err}");
        }
        // not JSON: the parser says where
        assert!(check_object(b"[1,").is_ok());
    }

    #[test]
    fn json_content_types() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_TYPE, v.parse().unwrap());
            is_json_content_type(&h)
        };
        assert!(with("application/json"));
        assert!(with("Application/JSON; charset=utf-8"));
        assert!(with("application/merge-patch+json"));
        assert!(!with("text/plain"));
        assert!(!with("application/jsonx"));
        assert!(!with("json"));
        assert!(!is_json_content_type(&HeaderMap::new()));
    }
}
