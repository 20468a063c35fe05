//! Embeds the web console (`web-ui/`, a TypeScript + Vite app) in the crate.
//!
//! When `web-ui/dist` is missing or older than any of the console's sources, runs `npm ci`
//! (only when `node_modules` is missing or older than `package-lock.json`) and `npm run build`
//! in `web-ui/`, under a file lock so parallel cargo builds (other target dirs, clippy, tests)
//! do not build it at the same time. A dist that is up to date costs a directory walk and no
//! npm at all. Then copies `dist/` into `OUT_DIR` and writes `OUT_DIR/ui_assets.rs`: a table
//! of path, content type, cache policy, ETag and `include_bytes!` of each file, served by
//! `rest/ui.rs`.
//!
//! Without npm the build fails and says why. `WEIR_UI_SKIP_BUILD=1` is the one way to build
//! without the console: then `/ui` answers that this binary has no console (unless a `dist`
//! already exists, which is embedded as it is).
//!
//! Also generates the server sides of the gRPC Fetch and Produce services (see
//! `grpc_services`).
//!
//! Must not: download anything itself (npm does, from the npm registry, at install time
//! only), or write anywhere but `web-ui/` (node_modules, dist) and `OUT_DIR`.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// The console's sources: a change to any of these makes `dist/` stale.
const INPUTS: [&str; 6] = [
    "src",
    "index.html",
    "package.json",
    "package-lock.json",
    "vite.config.ts",
    "tsconfig.json",
];

const SKIP_ENV: &str = "WEIR_UI_SKIP_BUILD";

fn main() {
    grpc_services();
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets it"));
    let ui = manifest.join("../../web-ui");
    println!("cargo:rerun-if-env-changed={SKIP_ENV}");
    for input in INPUTS {
        // A missing path would make cargo rerun this script on every build.
        if ui.join(input).exists() {
            println!("cargo:rerun-if-changed={}", ui.join(input).display());
        }
    }
    let dist = ui.join("dist");
    let skip = env::var_os(SKIP_ENV).is_some_and(|v| !v.is_empty() && v != "0");
    if !skip && let Err(e) = ensure_built(&ui, &dist) {
        panic!(
            "\n\nweir-api embeds the web console, and building it failed:\n  {e}\n\n\
             It needs Node.js >= 20.19 with npm on PATH (the first build also needs the npm \
             registry for `npm ci`). To build a binary without the console, set \
             {SKIP_ENV}=1.\n"
        );
    }
    let files = if dist.join("index.html").is_file() {
        collect(&dist).unwrap_or_else(|e| panic!("cannot read {}: {e}", dist.display()))
    } else {
        Vec::new()
    };
    let table = embed(&dist, &out.join("ui"), &files)
        .unwrap_or_else(|e| panic!("cannot embed the web console: {e}"));
    fs::write(out.join("ui_assets.rs"), table).expect("OUT_DIR is writable");
}

/// Builds `dist/` unless it is newer than every input.
fn ensure_built(ui: &Path, dist: &Path) -> Result<(), String> {
    if is_fresh(ui, dist)? {
        return Ok(());
    }
    // Parallel builds (another target dir, clippy and tests at once) take turns; the second
    // finds the first one's dist fresh.
    let lock = fs::File::open(ui.join("package.json"))
        .map_err(|e| format!("cannot open {}: {e}", ui.join("package.json").display()))?;
    lock.lock()
        .map_err(|e| format!("cannot lock web-ui/package.json: {e}"))?;
    if is_fresh(ui, dist)? {
        return Ok(());
    }
    let installed = ui.join("node_modules/.package-lock.json");
    if newest(&ui.join("package-lock.json"))? > modified(&installed) {
        // (No cargo:warning: cargo replays those on every later build.)
        npm(ui, &["ci", "--no-audit", "--no-fund"])?;
    }
    npm(ui, &["run", "build"])?;
    if !dist.join("index.html").is_file() {
        return Err("npm run build did not write web-ui/dist/index.html".into());
    }
    Ok(())
}

fn npm(dir: &Path, args: &[&str]) -> Result<(), String> {
    let output = Command::new("npm")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| {
            format!(
                "cannot run `npm {}`: {e} (is npm installed and on PATH?)",
                args.join(" ")
            )
        })?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "`npm {}` in {} failed ({}):\n{}\n{}",
        args.join(" "),
        dir.display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    ))
}

/// Whether `dist/index.html` (rewritten by every build) is newer than every input.
fn is_fresh(ui: &Path, dist: &Path) -> Result<bool, String> {
    let built = modified(&dist.join("index.html"));
    if built == SystemTime::UNIX_EPOCH {
        return Ok(false);
    }
    let mut latest = SystemTime::UNIX_EPOCH;
    for input in INPUTS {
        latest = latest.max(newest(&ui.join(input))?);
    }
    Ok(built >= latest)
}

/// Modification time, or the epoch when the file is missing.
fn modified(path: &Path) -> SystemTime {
    fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// Newest modification time of a file or of anything under a directory.
fn newest(path: &Path) -> Result<SystemTime, String> {
    let Ok(meta) = fs::metadata(path) else {
        return Ok(SystemTime::UNIX_EPOCH);
    };
    let mut latest = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    if meta.is_dir() {
        let entries =
            fs::read_dir(path).map_err(|e| format!("cannot list {}: {e}", path.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot list {}: {e}", path.display()))?;
            latest = latest.max(newest(&entry.path())?);
        }
    }
    Ok(latest)
}

/// Every file under `dir`, as paths relative to it with `/` separators, sorted.
fn collect(dir: &Path) -> std::io::Result<Vec<String>> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
        for entry in fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                walk(root, &path, out)?;
            } else if let Ok(rel) = path.strip_prefix(root) {
                let rel = rel.to_string_lossy().replace('\\', "/");
                if !rel.starts_with('.') {
                    out.push(rel);
                }
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    out.sort();
    Ok(out)
}

/// Copies the files into `dest` (so the crate never reads `web-ui/` while it compiles) and
/// returns the Rust source of the asset table.
fn embed(dist: &Path, dest: &Path, files: &[String]) -> std::io::Result<String> {
    if dest.exists() {
        fs::remove_dir_all(dest)?;
    }
    let mut table = String::from(
        "// Generated by build.rs from web-ui/dist: do not edit.\n\
         pub(crate) static ASSETS: &[Asset] = &[\n",
    );
    for rel in files {
        let copy = dest.join(rel);
        if let Some(parent) = copy.parent() {
            fs::create_dir_all(parent)?;
        }
        let bytes = fs::read(dist.join(rel))?;
        fs::write(&copy, &bytes)?;
        let _ = writeln!(
            table,
            "    Asset {{ path: {rel:?}, content_type: {ct:?}, immutable: {imm}, etag: \"\\\"{etag:016x}\\\"\", body: include_bytes!({copy:?}) }},",
            ct = content_type(rel),
            imm = rel.starts_with("assets/"),
            etag = fnv1a(&bytes),
            copy = copy.display().to_string(),
        );
    }
    table.push_str("];\n");
    Ok(table)
}

/// Server sides generated here rather than taken from weir-proto, written to
/// `OUT_DIR/weir.v1.{Fetch,Produce}.rs`:
/// - `weir.v1.Fetch` (proto/weir/v1/fetch.proto) with responses of our own type:
///   `grpc::fetch_codec` encodes a `FetchReply` into exactly the bytes of a `FetchResponse`,
///   reading batches from the segment files straight into the gRPC buffer. Requests are the
///   proto's `FetchRequest`.
/// - `weir.v1.Produce` (proto/weir/v1/produce.proto) without `ProduceStream`, which
///   `grpc::produce_stream` serves from the HTTP/2 frames themselves; the other methods are
///   the proto's, with prost's codec.
fn grpc_services() {
    use tonic_build::manual::{Builder, Method, Service};
    let fetch = |name: &str, route: &str| {
        Method::builder()
            .name(name)
            .route_name(route)
            .input_type("weir_proto::v1::FetchRequest")
            .output_type("crate::grpc::fetch_codec::FetchReply")
            .codec_path("crate::grpc::fetch_codec::FetchCodec")
    };
    let fetch = Service::builder()
        .name("Fetch")
        .package("weir.v1")
        .method(fetch("fetch", "Fetch").build())
        .method(
            fetch("fetch_stream", "FetchStream")
                .server_streaming()
                .build(),
        )
        .build();
    let unary = |name: &str, route: &str, message: &str| {
        Method::builder()
            .name(name)
            .route_name(route)
            .input_type(format!("weir_proto::v1::{message}Request"))
            .output_type(format!("weir_proto::v1::{message}Response"))
            .codec_path("tonic_prost::ProstCodec")
            .build()
    };
    let produce = Service::builder()
        .name("Produce")
        .package("weir.v1")
        .method(unary("produce", "Produce", "Produce"))
        .method(unary("init_producer", "InitProducer", "InitProducer"))
        .build();
    Builder::new()
        .build_client(false)
        .build_transport(false)
        .compile(&[fetch, produce]);
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// FNV-1a 64: a content hash for ETags (no dependency needed for a build script).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}
