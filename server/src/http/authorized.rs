//! The application a request is for, opened once its bearer token is checked
//! against the tenant in its path: an extractor, so that no handler can reach a
//! store without it.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Path};
use axum::http::header;
use axum::http::request::Parts;

use super::error::ApiError;
use super::Server;
use crate::store::Store;

/// The store of `/{tenant}/{app}`, authorised.
pub struct Authorized(pub Store);

impl FromRequestParts<Arc<Server>> for Authorized {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, server: &Arc<Server>) -> Result<Self, ApiError> {
        let Path(params) =
            Path::<HashMap<String, String>>::from_request_parts(parts, server).await.map_err(|e| ApiError::invalid(e.body_text()))?;
        let (Some(tenant), Some(app)) = (params.get("tenant"), params.get("app")) else {
            return Err(ApiError::internal("a route without {tenant} and {app} asked for them"));
        };
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.get(..7).filter(|scheme| scheme.eq_ignore_ascii_case("bearer ")).map(|_| &value[7..]));
        server.tenants.authorize(tenant, bearer)?;
        Ok(Authorized(server.tenants.store(tenant, app).await?))
    }
}
