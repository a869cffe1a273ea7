//! Running `az` without a runtime: `azure_identity`'s Azure CLI credential asks an [`Executor`] to
//! run `az account get-access-token`; this one uses `std::process`, reads the output within a
//! bound, and ends the whole process group when `az` outlives its timeout.

use std::ffi::OsStr;
use std::io::{self, Read};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use azure_core::credentials::TokenCredential as AzTokenCredential;
use azure_identity::{AzureCliCredential, AzureCliCredentialOptions, Executor};

/// Default limit for one run of `az`; the other Azure SDKs allow 10 seconds.
pub(super) const DEFAULT_CLI_TIMEOUT: Duration = Duration::from_secs(10);
/// Output of `az` is read up to this size.
const CLI_OUTPUT_LIMIT: u64 = 1024 * 1024;

/// The Azure CLI credential, running `az` through [`ProcessExecutor`].
pub(super) fn azure_cli(timeout: Duration) -> azure_core::Result<Arc<dyn AzTokenCredential>> {
    #[allow(clippy::needless_update)] // as in `managed_identity`
    let options = AzureCliCredentialOptions {
        executor: Some(Arc::new(ProcessExecutor { timeout })),
        ..Default::default()
    };
    let credential = AzureCliCredential::new(Some(options))?;
    Ok(credential)
}

/// Runs `az` (through `azure_identity`'s shell command) with `std::process`, killing it after a
/// timeout.
#[derive(Debug)]
struct ProcessExecutor {
    timeout: Duration,
}

#[async_trait::async_trait]
impl Executor for ProcessExecutor {
    async fn run(&self, program: &OsStr, args: &[&OsStr]) -> io::Result<Output> {
        run_with_timeout(program, args, self.timeout)
    }
}

fn run_with_timeout(program: &OsStr, args: &[&OsStr], timeout: Duration) -> io::Result<Output> {
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // `az` is a script that starts python: give it a process group of its own, so a timeout can end
    // the whole tree (a surviving grandchild would keep the pipes, and the drain threads, alive).
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command.spawn()?;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut out = Vec::new();
            if let Some(p) = pipe {
                let _ = p.take(CLI_OUTPUT_LIMIT).read_to_end(&mut out);
            }
            out
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let started = Instant::now();
    loop {
        let finished = match child.try_wait() {
            Ok(f) => f,
            Err(e) => {
                kill_tree(&mut child);
                return Err(e);
            }
        };
        if let Some(status) = finished {
            let stdout = stdout.join().unwrap_or_default();
            let stderr = stderr.join().unwrap_or_default();
            return Ok(Output {
                status,
                stdout,
                stderr,
            });
        }
        if started.elapsed() >= timeout {
            kill_tree(&mut child);
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "the Azure CLI did not answer within {timeout:?}; run `az account get-access-token` to see why"
                ),
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Ends `child` and, on Unix, every process of its group; the drain threads then see end of file.
fn kill_tree(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_executor_times_out_and_reports_output() {
        let ok = run_with_timeout(
            OsStr::new("/bin/sh"),
            &[OsStr::new("-c"), OsStr::new("echo hi; echo err >&2")],
            Duration::from_secs(5),
        )
        .unwrap();
        assert!(ok.status.success());
        assert_eq!(ok.stdout, b"hi\n");
        assert_eq!(ok.stderr, b"err\n");
        let started = Instant::now();
        let err = run_with_timeout(
            OsStr::new("/bin/sh"),
            &[OsStr::new("-c"), OsStr::new("exec sleep 5")],
            Duration::from_millis(200),
        )
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() < Duration::from_secs(3));
    }
}
