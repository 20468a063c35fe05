//! The shared end-to-end harness (crate `weir-testkit`): `Server` runs the real `weir` binary.

pub use weir_testkit::*;
