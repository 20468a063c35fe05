//! `weir admin recover`: the local way back when no admin key is left (all revoked, the
//! bootstrap file deleted). Run on the node's machine with the node stopped; it never talks to
//! the network.
//!
//! Owns writing the new key to `<data-dir>/bootstrap-admin.token` (0600, replacing what is
//! there). Must not print the key, and must not run beside a live node: the broker's data
//! directory lock refuses that.

use std::io::Write;
use std::path::PathBuf;

use weir_api::auth::bootstrap_token_path;
use weir_broker::metadata;

use crate::config;

/// Arguments of `weir admin recover`.
#[derive(Debug, clap::Args)]
pub struct RecoverArgs {
    /// The node's data directory (default ./weir-data).
    #[arg(long, env = "WEIR_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// The node's TOML config file, if it has one.
    #[arg(long, env = "WEIR_CONFIG")]
    config: Option<PathBuf>,
}

/// Creates a new `admin` key of tenant `default` (audited as `key.recover`) and writes it to
/// the bootstrap token file.
pub fn run(args: RecoverArgs) -> Result<(), String> {
    let overrides = config::Overrides {
        data_dir: args.data_dir,
        ..config::Overrides::default()
    };
    let config = config::resolve(args.config.as_deref(), overrides)?;
    let data = config.data_dir.clone();
    if config.cluster.is_some() {
        return Err(
            "a node of a cluster has no local way back: create a key with an admin key on any \
             node, or recover on a node run alone"
                .into(),
        );
    }
    if !data.join("raft").is_dir() && !data.join(metadata::LOCAL_LOG_DIR).is_dir() {
        return Err(format!("{} holds no weir data", data.display()));
    }
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let broker_config = crate::serve::broker_config(&config);
    let key = runtime.block_on(async {
        tokio::task::spawn_blocking(move || {
            let broker = crate::serve::open_alone(broker_config)
                .map_err(|e| format!("cannot open data directory {}: {e}", data.display()))?;
            let key = broker
                .recover_admin_key()
                .map_err(|e| format!("cannot create an admin key: {e}"))?;
            broker
                .shutdown()
                .map_err(|e| format!("cannot close the data directory cleanly: {e}"))?;
            Ok::<_, String>(key)
        })
        .await
        .map_err(|e| format!("opening the data directory panicked: {e}"))?
    })?;
    let path = bootstrap_token_path(&config.data_dir);
    write_private(&path, &format!("{}\n", key.secret))?;
    println!(
        "weir: new admin key {} of tenant default written to {} (mode 0600); \
         start the node and use it as the bearer credential",
        key.key.id,
        path.display()
    );
    Ok(())
}

/// Writes `text` to `path` with mode 0600, atomically (a temporary file, synced, renamed).
fn write_private(path: &std::path::Path, text: &str) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    let fail = |e: std::io::Error| format!("cannot write {}: {e}", tmp.display());
    let _ = std::fs::remove_file(&tmp);
    let mut file = weir_log::private::options()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(fail)?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
