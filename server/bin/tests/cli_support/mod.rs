//! Running `weir` client commands from tests: arguments, stdin, a credential, a deadline,
//! captured output.
//!
//! Owns process handling for client commands (the server side is `common`). Must not guess at
//! timing: every wait has a deadline, and a command that overruns it is killed and reported
//! with what it printed.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Longest a client command may run (debug builds on a shared two-core machine are slow).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(180);
/// Longest to wait for one line from a long-running command.
pub const LINE_TIMEOUT: Duration = Duration::from_secs(60);

/// What a finished command printed and how it exited.
#[derive(Debug)]
pub struct Output {
    /// Exit status.
    pub status: ExitStatus,
    /// Everything on stdout.
    pub stdout: String,
    /// Everything on stderr.
    pub stderr: String,
}

impl Output {
    /// Stdout lines that are not empty.
    pub fn lines(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect()
    }

    /// Each stdout line parsed as JSON.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.lines()
            .into_iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not json: {l:?}: {e}")))
            .collect()
    }

    /// All of stdout parsed as one JSON document.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not json: {e}\n{}", self.stdout))
    }
}

/// `weir ARGS` without the WEIR_* client variables of the environment running the tests.
pub fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_weir"));
    command
        .args(args)
        .env_remove("WEIR_URL")
        .env_remove("WEIR_TENANT")
        .env_remove("WEIR_TOKEN");
    command
}

/// Client commands run as one caller: `WEIR_TOKEN` set to its credential (as a user would
/// export it), or no credential at all.
#[derive(Debug, Clone, Copy)]
pub struct Cli<'a> {
    token: Option<&'a str>,
}

/// Commands without a credential.
pub const ANONYMOUS: Cli<'static> = Cli { token: None };

impl<'a> Cli<'a> {
    /// Commands sending `token` (an API key or JWT) in `WEIR_TOKEN`.
    pub fn with_token(token: &'a str) -> Cli<'a> {
        Cli { token: Some(token) }
    }

    /// `weir ARGS` as this caller, without the other WEIR_* client variables of the
    /// environment running the tests.
    pub fn command(self, args: &[&str]) -> Command {
        let mut command = command(args);
        if let Some(token) = self.token {
            command.env("WEIR_TOKEN", token);
        }
        command
    }

    /// Runs `weir ARGS` with `stdin`, waits for it (bounded) and returns what it printed.
    pub fn run(self, args: &[&str], stdin: &str) -> Output {
        run_command(self.command(args), args, stdin)
    }

    /// Like `run`, and the command must succeed.
    pub fn ok(self, args: &[&str], stdin: &str) -> Output {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "weir {args:?} failed with {}\nstdout:\n{}\nstderr:\n{}",
            out.status,
            out.stdout,
            out.stderr
        );
        out
    }

    /// Like `run`, and the command must fail with exit code 1.
    pub fn fails(self, args: &[&str], stdin: &str) -> Output {
        let out = self.run(args, stdin);
        assert_eq!(
            out.status.code(),
            Some(1),
            "weir {args:?} should exit with 1\nstdout:\n{}\nstderr:\n{}",
            out.stdout,
            out.stderr
        );
        out
    }

    /// Starts `weir ARGS` with no stdin, left running.
    pub fn start(self, args: &[&str]) -> Running {
        Running::spawn(self.command(args))
    }
}

/// Runs `weir ARGS` without a credential, with `stdin`, waits for it (bounded) and returns what
/// it printed.
pub fn run(args: &[&str], stdin: &str) -> Output {
    ANONYMOUS.run(args, stdin)
}

fn run_command(mut command: Command, args: &[&str], stdin: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn weir");
    let mut input = child.stdin.take().expect("stdin");
    let stdin = stdin.to_owned();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(stdin.as_bytes());
    });
    let stdout = drain(child.stdout.take().expect("stdout"));
    let stderr = drain(child.stderr.take().expect("stderr"));
    let status = wait(&mut child, COMMAND_TIMEOUT);
    let _ = writer.join();
    let (stdout, stderr) = (joined(stdout), joined(stderr));
    let Some(status) = status else {
        panic!(
            "weir {args:?} ran longer than {COMMAND_TIMEOUT:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
    };
    Output {
        status,
        stdout,
        stderr,
    }
}

/// Like `run` (no credential), and the command must succeed.
pub fn ok(args: &[&str], stdin: &str) -> Output {
    ANONYMOUS.ok(args, stdin)
}

/// Like `run` (no credential), and the command must fail with exit code 1.
pub fn fails(args: &[&str], stdin: &str) -> Output {
    ANONYMOUS.fails(args, stdin)
}

/// A command left running, whose stdout arrives line by line.
pub struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Running {
    /// Starts `weir ARGS` with no stdin and no credential.
    pub fn start(args: &[&str]) -> Running {
        ANONYMOUS.start(args)
    }

    fn spawn(mut command: Command) -> Running {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn weir");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Running { child, lines }
    }

    /// The next stdout line; panics after `LINE_TIMEOUT`.
    pub fn next_line(&self) -> String {
        self.lines
            .recv_timeout(LINE_TIMEOUT)
            .unwrap_or_else(|e| panic!("no line from weir within {LINE_TIMEOUT:?}: {e}"))
    }

    /// Kills the command and waits for it.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

fn joined(reader: JoinHandle<String>) -> String {
    reader.join().unwrap_or_default()
}

/// Waits up to `timeout`; kills the child and returns `None` when it is still running.
fn wait(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("wait for weir") {
            return Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
