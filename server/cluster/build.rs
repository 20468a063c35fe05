//! Compiles the internal node-to-node .proto files with protox (no system protoc).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "weir/internal/v1/raft.proto",
        "weir/internal/v1/partitions.proto",
    ];
    for f in files {
        println!("cargo:rerun-if-changed=proto/{f}");
    }
    let fds = protox::compile(files, ["proto"])?;
    // Batches travel as `Bytes`: no copy between the wire and the log.
    tonic_prost_build::configure()
        .bytes(".weir.internal.v1.ForwardedProduce.batch")
        .bytes(".weir.internal.v1.ForwardedFetched.batches")
        .bytes(".weir.internal.v1.GroupRecord")
        .bytes(".weir.internal.v1.RecordHeader")
        .compile_fds(fds)?;
    Ok(())
}
