//! Docker credential helpers: `docker-credential-<name> get|store|erase`, the programs that
//! `credsStore` and `credHelpers` name in a Docker config file.
//!
//! The protocol: `get` reads the server on stdin and prints `{"ServerURL", "Username", "Secret"}`
//! (a `Username` of `<token>` means the secret is an identity token); `store` reads that JSON on
//! stdin; `erase` reads the server. A helper that has nothing for the server exits non-zero and
//! prints "credentials not found".
//!
//! Each run gets a time limit; a helper that exceeds it is ended with its whole process group (a
//! helper that is a shell script waiting on a child leaves nothing behind). What a helper prints is
//! never logged, and an error quotes only the first line of it, with any secret it was given
//! masked.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::Secret;
use crate::error::{Error, Result};

/// How long a helper may take by default.
pub(crate) const DEFAULT_HELPER_TIMEOUT: Duration = Duration::from_secs(30);
/// What a helper prints is read up to this size.
const OUTPUT_LIMIT: u64 = 1024 * 1024;
/// An error quotes at most this much of a helper's message.
const SUMMARY_CHARS: usize = 200;

/// What `get` found: a username (`<token>` for an identity token) and the secret.
#[derive(Debug)]
pub(crate) struct HelperCredential {
    pub(crate) username: String,
    pub(crate) secret: Secret,
}

#[derive(serde::Deserialize)]
struct GetAnswer {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// One credential helper, `docker-credential-<name>`.
#[derive(Debug, Clone)]
pub(crate) struct Helper {
    name: String,
    timeout: Duration,
}

impl Helper {
    pub(crate) fn new(name: &str, timeout: Duration) -> Self {
        Helper {
            name: name.to_string(),
            timeout,
        }
    }

    fn program(&self) -> String {
        format!("docker-credential-{}", self.name)
    }

    /// The credential stored for `server`, `None` when the helper has none.
    pub(crate) fn get(&self, server: &str) -> Result<Option<HelperCredential>> {
        let out = self.run("get", server.as_bytes(), None)?;
        let Some(stdout) = out else {
            return Ok(None);
        };
        let answer: GetAnswer = serde_json::from_slice(&stdout).map_err(|e| {
            // serde's message names a position, never the content
            Error::auth(
                format!(
                    "{} get printed something that is not its JSON: {e}",
                    self.program()
                ),
                None,
            )
        })?;
        if answer.secret.is_empty() {
            return Ok(None);
        }
        Ok(Some(HelperCredential {
            username: answer.username,
            secret: Secret::new(answer.secret),
        }))
    }

    /// Stores `username` and `secret` for `server`.
    pub(crate) fn store(&self, server: &str, username: &str, secret: &Secret) -> Result<()> {
        let body = serde_json::json!({
            "ServerURL": server,
            "Username": username,
            "Secret": secret.expose(),
        });
        let input = body.to_string();
        match self.run("store", input.as_bytes(), Some(secret))? {
            Some(_) => Ok(()),
            None => Err(Error::auth(
                format!(
                    "{} store answered \"credentials not found\"",
                    self.program()
                ),
                None,
            )),
        }
    }

    /// Erases what is stored for `server`; true when there was something.
    pub(crate) fn erase(&self, server: &str) -> Result<bool> {
        Ok(self.run("erase", server.as_bytes(), None)?.is_some())
    }

    /// Runs `action` with `input` on stdin: its stdout on success, `None` when it reported
    /// "credentials not found".
    fn run(&self, action: &str, input: &[u8], secret: Option<&Secret>) -> Result<Option<Vec<u8>>> {
        let program = self.program();
        let mut command = Command::new(&program);
        command
            .arg(action)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command.spawn().map_err(|e| {
            let why = if e.kind() == std::io::ErrorKind::NotFound {
                "is not on PATH (install it, or remove it from credsStore/credHelpers in the \
                 Docker config)"
                    .to_string()
            } else {
                format!("cannot be started: {e}")
            };
            Error::auth(format!("the credential helper {program} {why}"), None)
        })?;
        let (tx, rx) = mpsc::channel();
        if let Some(mut stdin) = child.stdin.take() {
            let input = input.to_vec();
            // a helper that never reads must not block us: write from a thread
            thread::spawn(move || {
                let _ = stdin.write_all(&input);
            });
        }
        for (is_stdout, pipe) in [
            (
                true,
                child
                    .stdout
                    .take()
                    .map(|p| Box::new(p) as Box<dyn Read + Send>),
            ),
            (
                false,
                child
                    .stderr
                    .take()
                    .map(|p| Box::new(p) as Box<dyn Read + Send>),
            ),
        ] {
            let Some(pipe) = pipe else { continue };
            let tx = tx.clone();
            thread::spawn(move || {
                let mut bytes = Vec::new();
                let _ = pipe.take(OUTPUT_LIMIT).read_to_end(&mut bytes);
                let _ = tx.send((is_stdout, bytes));
            });
        }
        drop(tx);
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait()? {
                Some(status) => break status,
                None if Instant::now() >= deadline => {
                    end_group(&mut child);
                    return Err(Error::auth(
                        format!(
                            "the credential helper {program} {action} did not finish within {:?}; \
                             it was stopped",
                            self.timeout
                        ),
                        None,
                    ));
                }
                None => thread::sleep(Duration::from_millis(10)),
            }
        };
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        for _ in 0..2 {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left.max(Duration::from_millis(100))) {
                Ok((true, b)) => stdout = b,
                Ok((false, b)) => stderr = b,
                Err(_) => break, // a grandchild holds the pipe open: use what arrived
            }
        }
        if status.success() {
            return Ok(Some(stdout));
        }
        let said = format!(
            "{} {}",
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&stderr)
        );
        if said.to_ascii_lowercase().contains("credentials not found") {
            return Ok(None);
        }
        Err(Error::auth(
            format!(
                "the credential helper {program} {action} failed ({status}): {}",
                summary(&said, secret)
            ),
            None,
        ))
    }
}

/// Ends the helper's process group (the helper and anything it started), then the helper.
fn end_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        let group = format!("-{}", child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The first non-empty line of a helper's message, shortened, with `secret` masked.
fn summary(said: &str, secret: Option<&Secret>) -> String {
    let mut line = said
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("no message")
        .to_string();
    if let Some(s) = secret.filter(|s| !s.expose().is_empty()) {
        line = line.replace(s.expose(), "REDACTED");
    }
    if line.chars().count() > SUMMARY_CHARS {
        line = line.chars().take(SUMMARY_CHARS).collect::<String>() + "…";
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_masks_the_secret_and_keeps_one_short_line() {
        let secret = Secret::new("hunter2");
        let s = summary("\n  bad input hunter2 here\nsecond line", Some(&secret));
        assert_eq!(s, "bad input REDACTED here");
        let long = "x".repeat(500);
        assert_eq!(summary(&long, None).chars().count(), SUMMARY_CHARS + 1);
        assert_eq!(summary("", None), "no message");
    }
}
