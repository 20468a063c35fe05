//! Linker set-up for a Node addon: the N-API symbols are resolved by the node process at load.

fn main() {
    napi_build::setup();
}
