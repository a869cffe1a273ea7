//! Runs one test's body in a child process: this test binary again, on exactly that test.
//!
//! Every test of the `it` binary shares one process, so nothing process-global may change while
//! they run: above all the environment (`std::env::set_var` races with every thread that reads it:
//! ureq's proxy variables, the Azure chain's `AZURE_*`, `Command::spawn` reading `PATH`). A test
//! that needs another environment, or its own peak-memory figure, runs its body in a child:
//!
//! ```ignore
//! #[test]
//! fn reads_the_environment() {
//!     let parent_side = ...;                      // mocks, files: they outlive the child
//!     if Child::new(module_path!(), "reads_the_environment")
//!         .env("AZURE_TENANT_ID", "t")
//!         .run_unless_child()
//!     {
//!         return;                                 // parent: the child ran and passed
//!     }
//!     // child: the body, with the environment above
//! }
//! ```
//!
//! The child is started with `--exact <module::test> --test-threads=1 --nocapture`, the marker
//! variable [`MARKER`] naming the test, [`SCRUBBED`] removed, and the variables given; the parent
//! fails with the child's output unless the child ran exactly that one test and it passed. Data the
//! parent made for the child (a mock's URL, an expected token) travels in more variables, read with
//! [`var`].

use std::ffi::OsString;
use std::process::{Command, Stdio};

/// Set (to the test's name) in a child started by [`Child::run`].
pub const MARKER: &str = "AZCR_IT_CHILD";

/// Variables that configure Azure sign-in, removed from every child so the machine's own settings
/// cannot leak in.
pub const SCRUBBED: &[&str] = &[
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_AUTHORITY_HOST",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "IDENTITY_SERVER_THUMBPRINT",
    "IMDS_ENDPOINT",
    "MSI_ENDPOINT",
    "MSI_SECRET",
];

/// True inside a child started for test `name` of the module `module_path` (pass `module_path!()`).
pub fn is_child(module_path: &str, name: &str) -> bool {
    marked(&test_name(module_path, name))
}

fn marked(test: &str) -> bool {
    std::env::var(MARKER).is_ok_and(|v| v == test)
}

/// A variable the parent set for this child; panics when it is missing.
pub fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("child: the parent did not set {name}"))
}

/// libtest's name of test `name` in module `module_path` (`it::a::b` + `f` → `a::b::f`).
pub fn test_name(module_path: &str, name: &str) -> String {
    match module_path.split_once("::") {
        Some((_crate, rest)) => format!("{rest}::{name}"),
        None => name.to_string(),
    }
}

/// One child run, built up then [`Child::run`] (see the module docs).
pub struct Child {
    test: String,
    cmd: Command,
}

impl Child {
    /// The child for test `name` of the module `module_path` (pass `module_path!()`).
    pub fn new(module_path: &str, name: &str) -> Child {
        let test = test_name(module_path, name);
        let exe = std::env::current_exe().expect("the test binary's own path");
        let mut cmd = Command::new(exe);
        cmd.args(["--exact", &test, "--test-threads=1", "--nocapture"])
            .env(MARKER, &test)
            .stdin(Stdio::null());
        for k in SCRUBBED {
            cmd.env_remove(k);
        }
        Child { test, cmd }
    }

    /// A variable for the child.
    pub fn env(mut self, key: &str, value: impl Into<OsString>) -> Self {
        self.cmd.env(key, value.into());
        self
    }

    /// A variable removed from the child's environment.
    pub fn env_remove(mut self, key: &str) -> Self {
        self.cmd.env_remove(key);
        self
    }

    /// More variables for the child.
    pub fn envs<'a>(mut self, vars: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        for (k, v) in vars {
            self.cmd.env(k, v);
        }
        self
    }

    /// Runs the child to completion; panics with its output unless it ran this one test and passed.
    /// Returns its stdout.
    pub fn run(mut self) -> String {
        let out = self
            .cmd
            .output()
            .unwrap_or_else(|e| panic!("cannot start the child for {}: {e}", self.test));
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stdout.contains("test result: ok. 1 passed"),
            "the child running {} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
            self.test,
            out.status
        );
        stdout
    }

    /// In the child for this test: `false` (go on with the body). Elsewhere: runs the child and
    /// returns `true` (the body ran there; the parent is done, bar its own assertions).
    pub fn run_unless_child(self) -> bool {
        if marked(&self.test) {
            return false;
        }
        self.run();
        true
    }
}
