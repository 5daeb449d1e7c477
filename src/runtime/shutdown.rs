//! Graceful shutdown. The main thread turns SIGTERM/SIGINT into a cross-thread watch; each worker
//! turns that into a local [`Drain`] its connections consult: idle ones close at once, busy ones
//! finish the request in hand, answer with `Connection: close`, then close.

use std::cell::Cell;
use std::rc::Rc;

use tokio::sync::Notify;

#[derive(Clone, Default)]
pub struct Drain(Rc<Inner>);

#[derive(Default)]
struct Inner {
    draining: Cell<bool>,
    notify: Notify,
}

impl Drain {
    pub fn start(&self) {
        self.0.draining.set(true);
        self.0.notify.notify_waiters();
    }

    pub fn is_draining(&self) -> bool {
        self.0.draining.get()
    }

    /// Resolves once draining has started.
    pub async fn wait(&self) {
        let notified = self.0.notify.notified();
        tokio::pin!(notified);
        // Register before checking the flag so a start() between the two is not missed.
        notified.as_mut().enable();
        if self.is_draining() {
            return;
        }
        notified.await;
    }
}

/// Counts a worker's open connections so draining knows when the last one is gone.
#[derive(Clone, Default)]
pub struct ConnTracker(Rc<TrackerInner>);

#[derive(Default)]
struct TrackerInner {
    open: Cell<usize>,
    idle: Notify,
}

impl ConnTracker {
    pub fn open(&self) -> ConnGuard {
        self.0.open.set(self.0.open.get() + 1);
        ConnGuard(self.clone())
    }

    pub fn count(&self) -> usize {
        self.0.open.get()
    }

    /// Resolves when no connection is open.
    pub async fn all_closed(&self) {
        loop {
            let idle = self.0.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if self.count() == 0 {
                return;
            }
            idle.await;
        }
    }
}

pub struct ConnGuard(ConnTracker);

impl Drop for ConnGuard {
    fn drop(&mut self) {
        let open = &self.0 .0.open;
        open.set(open.get() - 1);
        if open.get() == 0 {
            self.0 .0.idle.notify_waiters();
        }
    }
}
