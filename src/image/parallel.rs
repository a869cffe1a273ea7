//! A bounded pool of std threads for blob transfers: at most `parallelism` at once, the first error
//! stops the others from starting new work and is returned.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};

/// Runs `work` on every job with at most `parallelism` threads.
pub(crate) fn run<J: Send, F>(jobs: Vec<J>, parallelism: usize, work: F) -> Result<()>
where
    F: Fn(J) -> Result<()> + Sync,
{
    let threads = parallelism.max(1).min(jobs.len());
    if threads <= 1 {
        return jobs.into_iter().try_for_each(work);
    }
    let queue = Mutex::new(jobs.into_iter().collect::<VecDeque<J>>());
    let failed = AtomicBool::new(false);
    let first_error: Mutex<Option<Error>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                while !failed.load(Ordering::SeqCst) {
                    let job = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                    let Some(job) = job else { break };
                    if let Err(e) = work(job) {
                        failed.store(true, Ordering::SeqCst);
                        first_error
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .get_or_insert(e);
                    }
                }
            });
        }
    });
    match first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn bounded_and_stops_on_error() {
        let running = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        run((0..20).collect(), 3, |_| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(5));
            running.fetch_sub(1, Ordering::SeqCst);
            Ok(())
        })
        .unwrap();
        assert!(peak.load(Ordering::SeqCst) <= 3 && peak.load(Ordering::SeqCst) >= 2);
        let done = AtomicUsize::new(0);
        let e = run((0..100).collect::<Vec<u32>>(), 2, |j| {
            done.fetch_add(1, Ordering::SeqCst);
            if j == 3 {
                Err(Error::Config("boom".into()))
            } else {
                Ok(())
            }
        })
        .unwrap_err();
        assert!(e.to_string().contains("boom"));
        assert!(
            done.load(Ordering::SeqCst) < 100,
            "work stopped after the error"
        );
    }
}
