//! weir-testkit: the test harness every end-to-end suite shares. It starts the real `weir`
//! binary on ephemeral loopback ports with its own data directory, reads the addresses it
//! prints, and stops it by PID (SIGTERM or SIGKILL).
//!
//! The binary is `$WEIR_BIN` when set, else `<target dir>/debug/weir` (the target dir is
//! `$CARGO_TARGET_DIR` or the workspace's `target/`); when it is missing, the first test
//! builds it once with `cargo build -p weir-server --bin weir` (bounded in time).
//!
//! Must not be a dependency of anything but tests.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a server may take to print its addresses.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a stopping server may take to exit.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long building a missing `weir` binary may take (a cold debug build of the server).
const BUILD_TIMEOUT: Duration = Duration::from_secs(600);

/// The `weir` binary to run, built first when missing.
pub fn weir_bin() -> PathBuf {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("WEIR_BIN") {
            return PathBuf::from(bin);
        }
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        // This crate sits at the workspace root's first level, like the others.
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| manifest.join("../target"), PathBuf::from);
        let bin = target.join("debug").join("weir");
        if !bin.exists() {
            build_weir(manifest);
        }
        assert!(
            bin.exists(),
            "{} is missing after building it",
            bin.display()
        );
        bin
    })
    .clone()
}

fn build_weir(manifest: &Path) {
    eprintln!("weir binary missing: running cargo build -p weir-server --bin weir");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut child = Command::new(cargo)
        .args(["build", "-p", "weir-server", "--bin", "weir"])
        .current_dir(manifest.join(".."))
        .spawn()
        .expect("spawn cargo build");
    let deadline = Instant::now() + BUILD_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().expect("wait for cargo") {
            assert!(status.success(), "cargo build of weir failed: {status}");
            return;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("building weir took longer than {BUILD_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A running `weir serve`.
#[derive(Debug)]
pub struct Server {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`
    pub http: String,
    /// `http://127.0.0.1:PORT` (for tonic clients)
    pub grpc: String,
    /// The data directory.
    pub data_dir: PathBuf,
    /// Everything the server printed on stdout after its addresses, line by line.
    pub stdout: mpsc::Receiver<String>,
    /// The bootstrap admin API key of the data directory (`bootstrap-admin.token`); `None`
    /// when the server runs with `--auth none` or the file was removed.
    pub token: Option<String>,
    _temp: Option<tempfile::TempDir>,
}

impl Server {
    /// Starts a server on a fresh temporary data directory.
    pub fn start() -> Server {
        let temp = tempfile::tempdir().expect("temp dir");
        let mut server = Server::start_in(temp.path(), &[]);
        server._temp = Some(temp);
        server
    }

    /// Starts a server on `data_dir` with extra arguments after `serve`.
    pub fn start_in(data_dir: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(weir_bin())
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--http-addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0"])
            .args(extra)
            .env("WEIR_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn weir");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let (mut http, mut grpc) = (None, None);
        let deadline = Instant::now() + START_TIMEOUT;
        while http.is_none() || grpc.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx.recv_timeout(left).unwrap_or_else(|_| {
                let _ = child.kill();
                panic!("weir did not print its addresses within {START_TIMEOUT:?}")
            });
            if let Some(a) = line.strip_prefix("weir: rest listening on ") {
                http = Some(a.to_owned());
            } else if let Some(a) = line.strip_prefix("weir: grpc listening on ") {
                grpc = Some(format!("http://{a}"));
            }
        }
        // Written before the addresses are printed.
        let token = std::fs::read_to_string(data_dir.join("bootstrap-admin.token"))
            .ok()
            .map(|t| t.trim().to_owned());
        Server {
            child: Some(child),
            http: http.unwrap(),
            grpc: grpc.unwrap(),
            data_dir: data_dir.to_path_buf(),
            stdout: rx,
            token,
            _temp: None,
        }
    }

    /// The bootstrap admin key; panics when there is none.
    pub fn admin_token(&self) -> &str {
        self.token
            .as_deref()
            .expect("the server has a bootstrap admin token")
    }

    /// `Bearer <bootstrap admin key>`, for an `Authorization` header.
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.admin_token())
    }

    /// An HTTP client that sends the bootstrap admin key with every request, with `timeout`.
    pub fn client(&self, timeout: Duration) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        let value = reqwest::header::HeaderValue::from_str(&self.bearer()).expect("header value");
        headers.insert(reqwest::header::AUTHORIZATION, value);
        reqwest::Client::builder()
            .default_headers(headers)
            .timeout(timeout)
            .build()
            .expect("http client")
    }

    /// `http://127.0.0.1:PORT/<path>`
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.http)
    }

    /// The PID of the server process.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Sends SIGTERM, waits for the exit, and returns the status with what the server printed
    /// on stdout after its addresses.
    pub fn stop(mut self) -> (ExitStatus, Vec<String>) {
        self.signal("TERM");
        let status = self.wait();
        let mut printed = Vec::new();
        while let Ok(line) = self.stdout.recv_timeout(Duration::from_secs(5)) {
            printed.push(line);
        }
        (status, printed)
    }

    /// Sends SIGKILL and waits for the exit.
    pub fn kill(mut self) -> ExitStatus {
        self.signal("KILL");
        self.wait()
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    fn wait(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("weir did not exit within {STOP_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Keeps the data directory alive after the server object is gone.
    pub fn take_temp(&mut self) -> Option<tempfile::TempDir> {
        self._temp.take()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
