//! Command-line clients of a running node: `weir topic`, `weir produce`, `weir consume` and
//! `weir cluster`.
//!
//! Owns the commands' shared pieces (connection flags, errors, tables) and the async runtime
//! they run on. Must not reach into the broker or the log: every command goes over gRPC like
//! any other client, so what works here works from anywhere.

pub mod cluster;
pub mod connect;
pub mod consume;
pub mod error;
pub mod produce;
mod table;
pub mod topic;

use std::future::Future;

pub use connect::{ConnectArgs, Connection};
pub use error::CliError;

/// Runs a client command to completion on a fresh multi-threaded runtime.
pub fn block_on<F>(command: F) -> Result<(), CliError>
where
    F: Future<Output = Result<(), CliError>>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| CliError::Io {
            what: "cannot start the async runtime".into(),
            source,
        })?;
    runtime.block_on(command)
}

/// Prints `value` as pretty JSON (the REST API's shapes).
pub(crate) fn print_json(value: &impl serde::Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::Usage(format!("cannot render json: {e}")))?;
    println!("{text}");
    Ok(())
}
