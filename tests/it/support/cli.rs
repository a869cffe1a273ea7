//! Runs the `acr` binary (src/bin/acr, feature `cli`) and the examples as child processes.
//!
//! ```ignore
//! let out = Acr::new().registry(&reg.url()).args(["tags", "hello"]).run();
//! out.success().stdout_lines();
//! ```
//!
//! The `acr` binary is the one cargo built for this test run (`CARGO_BIN_EXE_acr`, set when the
//! `cli` feature is on). Cargo sets no such variable for examples, so [`build_example`] finds one
//! next to this test binary: `<target-dir>/<profile>/deps/<test>-<hash>` →
//! `<target-dir>/<profile>/examples/NAME`, running `cargo build --example NAME` once (same target
//! dir, profile and features as this test binary): a separate cargo invocation after the outer one
//! finished building, which takes cargo's own build-directory lock, so concurrent test binaries
//! serialize there instead of racing. It is a no-op (about 0.3 s) when the binary is fresh.
//!
//! Every child gets a clean environment for the variables the CLI reads (`ACR_*`, `AZURE_*`), so
//! the caller's shell never leaks into a test.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The CLI's own variables, removed from every child (with the Azure ones,
/// [`super::child::SCRUBBED`]).
#[cfg(feature = "cli")]
const SCRUBBED_ACR: [&str; 3] = ["ACR_REGISTRY", "ACR_USERNAME", "ACR_PASSWORD"];

/// Path of the `acr` binary that cargo built for this test run (feature `cli`).
#[cfg(feature = "cli")]
pub fn acr_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_acr"))
}

/// Builds the example `name` (same target dir, profile and features as this test binary) and
/// returns its path.
pub fn build_example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's own path");
    // <target-dir>/<profile>/deps/<test>-<hash>
    let deps = exe.parent().expect("test binary in a deps directory");
    let profile_dir = deps.parent().expect("deps in a profile directory");
    let profile = profile_dir
        .file_name()
        .and_then(|n| n.to_str())
        .expect("profile directory name")
        .to_string();
    let target_dir = profile_dir.parent().expect("profile in a target directory");
    let bin = profile_dir.join("examples").join(name);

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut cmd = Command::new(&cargo);
    // The variables cargo sets for the test process are not the caller's: left in, they change
    // build script fingerprints (ring's reads CARGO_MANIFEST_DIR) and every run would rebuild
    // the world.
    for (key, _) in std::env::vars_os() {
        let Some(k) = key.to_str() else { continue };
        let set_by_cargo = [
            "CARGO_MANIFEST_DIR",
            "CARGO_MANIFEST_PATH",
            "CARGO_CRATE_NAME",
            "CARGO_BIN_NAME",
            "CARGO_PRIMARY_PACKAGE",
            "CARGO_TARGET_TMPDIR",
            "CARGO_RUSTC_CURRENT_DIR",
            "OUT_DIR",
        ]
        .contains(&k)
            || k.starts_with("CARGO_PKG_")
            || k.starts_with("CARGO_BIN_EXE_");
        if set_by_cargo {
            cmd.env_remove(&key);
        }
    }
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["build", "--quiet", "--example", name, "--target-dir"])
        .arg(target_dir);
    match profile.as_str() {
        "debug" => {}
        "release" => {
            cmd.arg("--release");
        }
        other => {
            cmd.args(["--profile", other]);
        }
    }
    // the same features as this test binary
    cmd.arg("--no-default-features");
    if cfg!(feature = "azure") {
        cmd.args(["--features", "azure"]);
    }
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cargo:?} to build the {name} example: {e}"));
    assert!(
        out.status.success(),
        "`cargo build --example {name}` failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        bin.is_file(),
        "the {name} example is not at {} after `cargo build --example {name} --target-dir {}` \
         (a --target triple build? run `cargo build --example {name}` for the host)",
        bin.display(),
        target_dir.display()
    );
    bin
}

/// One invocation of the CLI, built up then [`Acr::run`].
#[cfg(feature = "cli")]
pub struct Acr {
    cmd: Command,
    args: Vec<String>,
    input: Option<Vec<u8>>,
}

#[cfg(feature = "cli")]
impl Default for Acr {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "cli")]
impl Acr {
    /// `acr` with a scrubbed environment (see the module docs) and stdin closed.
    pub fn new() -> Self {
        let mut cmd = Command::new(acr_bin());
        for k in SCRUBBED_ACR.iter().chain(super::child::SCRUBBED) {
            cmd.env_remove(k);
        }
        cmd.stdin(Stdio::null());
        Acr {
            cmd,
            args: Vec::new(),
            input: None,
        }
    }

    /// `--registry URL`.
    pub fn registry(self, url: &str) -> Self {
        self.args(["--registry", url])
    }

    /// More arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for a in args {
            self.args.push(a.as_ref().to_string());
        }
        self
    }

    /// One more argument.
    pub fn arg(self, a: impl AsRef<str>) -> Self {
        self.args([a])
    }

    /// An environment variable for the child.
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.cmd.env(k, v);
        self
    }

    /// `bytes` on the child's stdin (instead of a closed stdin).
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.input = Some(bytes.into());
        self
    }

    /// Runs it to completion.
    pub fn run(mut self) -> Run {
        self.cmd.args(&self.args);
        let output = match self.input.take() {
            None => self.cmd.output(),
            Some(bytes) => {
                use std::io::Write;
                self.cmd
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped());
                let mut child = self
                    .cmd
                    .spawn()
                    .unwrap_or_else(|e| panic!("cannot run {}: {e}", acr_bin().display()));
                let mut stdin = child.stdin.take().expect("piped stdin");
                let writer = std::thread::spawn(move || {
                    let _ = stdin.write_all(&bytes);
                });
                let out = child.wait_with_output();
                writer.join().expect("stdin writer");
                out
            }
        }
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", acr_bin().display()));
        Run {
            command: format!("acr {}", self.args.join(" ")),
            output,
        }
    }
}

#[cfg(feature = "cli")]
impl Acr {
    /// Runs it, killing it (by its own handle) when it has not ended within `limit`: `None` then.
    /// stdout and stderr are read as it runs, so a chatty child cannot block on a full pipe.
    pub fn run_within(mut self, limit: std::time::Duration) -> Option<Run> {
        use std::io::Read;
        let mut child = self
            .cmd
            .args(&self.args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", acr_bin().display()));
        let drain = |mut r: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut v = Vec::new();
                let _ = r.read_to_end(&mut v);
                v
            })
        };
        let out = drain(Box::new(child.stdout.take().expect("stdout")));
        let err = drain(Box::new(child.stderr.take().expect("stderr")));
        let start = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for acr") {
                break Some(status);
            }
            if start.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let (stdout, stderr) = (
            out.join().unwrap_or_default(),
            err.join().unwrap_or_default(),
        );
        status.map(|status| Run {
            command: format!("acr {}", self.args.join(" ")),
            output: Output {
                status,
                stdout,
                stderr,
            },
        })
    }
}

/// What a run produced.
pub struct Run {
    /// `acr ARGS...`, for messages.
    pub command: String,
    pub output: Output,
}

impl Run {
    /// Exit code (panics if killed by a signal).
    pub fn code(&self) -> i32 {
        self.output
            .status
            .code()
            .unwrap_or_else(|| panic!("`{}` was killed: {}", self.command, self.describe()))
    }

    pub fn stdout(&self) -> String {
        String::from_utf8(self.output.stdout.clone())
            .unwrap_or_else(|_| panic!("`{}` printed non-UTF-8 on stdout", self.command))
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// stdout split in lines.
    pub fn stdout_lines(&self) -> Vec<String> {
        self.stdout().lines().map(str::to_string).collect()
    }

    /// stdout parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.output.stdout).unwrap_or_else(|e| {
            panic!(
                "`{}` did not print JSON ({e}): {}",
                self.command,
                self.describe()
            )
        })
    }

    /// Exit code, stdout and stderr, for assertion messages.
    pub fn describe(&self) -> String {
        format!(
            "status {}\n--- stdout\n{}\n--- stderr\n{}",
            self.output.status,
            String::from_utf8_lossy(&self.output.stdout),
            self.stderr()
        )
    }

    /// Asserts exit 0; returns self.
    #[track_caller]
    pub fn success(self) -> Self {
        assert!(
            self.output.status.success(),
            "`{}` failed: {}",
            self.command,
            self.describe()
        );
        self
    }

    /// Asserts exit 0 and nothing on stderr; returns self.
    #[track_caller]
    pub fn quiet_success(self) -> Self {
        let s = self.success();
        assert!(
            s.output.stderr.is_empty(),
            "`{}` wrote to stderr: {}",
            s.command,
            s.describe()
        );
        s
    }

    /// Asserts exit `code`, empty stdout and exactly one stderr line starting `acr: error: `;
    /// returns that line.
    #[track_caller]
    pub fn error_line(&self, code: i32) -> String {
        assert_eq!(
            self.code(),
            code,
            "`{}`: unexpected exit code: {}",
            self.command,
            self.describe()
        );
        assert!(
            self.output.stdout.is_empty(),
            "`{}` failed but wrote to stdout: {}",
            self.command,
            self.describe()
        );
        let err = self.stderr();
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "`{}`: the error must be ONE line on stderr: {}",
            self.command,
            self.describe()
        );
        assert!(
            lines[0].starts_with("acr: error: "),
            "`{}`: the error must start with `acr: error: `: {}",
            self.command,
            self.describe()
        );
        lines[0].to_string()
    }
}
