//! `Json<T>` whose rejections are problems that say what to fix, with the
//! serde path of the offending field (`name: invalid type: integer …`).

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};

use crate::Error;

/// Like `axum::Json`, but a malformed body answers problem+json.
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => Err(from_rejection(rejection)),
        }
    }
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
        JsonRejection::MissingJsonContentType(_) => {
            Error::UnsupportedMediaType("send the body with Content-Type: application/json".into())
        }
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
