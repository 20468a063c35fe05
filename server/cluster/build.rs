//! Compiles the internal node-to-node .proto files with protox (no system protoc).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = ["weir/internal/v1/raft.proto"];
    for f in files {
        println!("cargo:rerun-if-changed=proto/{f}");
    }
    let fds = protox::compile(files, ["proto"])?;
    tonic_prost_build::configure().compile_fds(fds)?;
    Ok(())
}
