//! Compiles the weir.v1 .proto files with protox (pure Rust, no system protoc) into prost
//! messages and tonic clients/servers. `bytes` fields become `bytes::Bytes` so batches pass
//! through without copies.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "weir/v1/common.proto",
        "weir/v1/produce.proto",
        "weir/v1/fetch.proto",
        "weir/v1/admin.proto",
        "weir/v1/groups.proto",
    ];
    for f in files {
        println!("cargo:rerun-if-changed={f}");
    }
    let fds = protox::compile(files, ["."])?;
    // The descriptors themselves, for clients and tests that walk every service and method.
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("weir_v1_descriptor.bin"),
        prost::Message::encode_to_vec(&fds),
    )?;
    tonic_prost_build::configure().bytes(".").compile_fds(fds)?;
    Ok(())
}
