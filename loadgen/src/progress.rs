//! The live progress line on stderr (only when stderr is a terminal; the
//! caller decides).

use crate::engine::Shared;
use std::io::Write;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

pub(crate) fn ticker(shared: &Shared) {
    let mut last = (Instant::now(), 0u64);
    while !shared.finished.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(250));
        let done = shared.done.load(Ordering::Relaxed);
        let failed = shared.failed.load(Ordering::Relaxed);
        let now = Instant::now();
        let rate = (done - last.1) as f64 / now.duration_since(last.0).as_secs_f64();
        last = (now, done);
        let secs = now.duration_since(shared.start).as_secs_f64();
        eprint!("\r{secs:7.1}s  {done:>10} requests  {rate:>10.0} req/s  {failed:>8} failed ");
        let _ = std::io::stderr().flush();
    }
    eprint!("\r{:80}\r", "");
}
