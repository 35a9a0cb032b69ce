//! The life of one started upstream, shared by its handle and the tasks
//! that watch it: whether it is gone, since when, and whether its end was
//! asked for.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use tokio::sync::watch;

pub(crate) struct Life {
    /// `true` once the upstream can no longer answer. Calls in flight wait
    /// on this beside their own answer, so a crash ends them at once.
    pub(crate) gone: watch::Sender<bool>,
    gone_at: OnceLock<Instant>,
    /// The handshake completed: only then is an exit worth reporting.
    started: AtomicBool,
    /// `shutdown()` was called or the last handle dropped.
    stopping: AtomicBool,
    exit_reported: AtomicBool,
    on_exit: Arc<dyn Fn() + Send + Sync>,
}

impl Life {
    pub(crate) fn new(on_exit: Arc<dyn Fn() + Send + Sync>) -> Arc<Life> {
        Arc::new(Life {
            gone: watch::channel(false).0,
            gone_at: OnceLock::new(),
            started: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            exit_reported: AtomicBool::new(false),
            on_exit,
        })
    }

    pub(crate) fn is_gone(&self) -> bool {
        *self.gone.borrow()
    }

    pub(crate) fn gone_at(&self) -> Option<Instant> {
        self.gone_at.get().copied()
    }

    /// Resolves once the upstream is gone.
    pub(crate) async fn wait_gone(&self) {
        let mut rx = self.gone.subscribe();
        let _ = rx.wait_for(|g| *g).await;
    }

    pub(crate) fn mark_gone(&self) {
        if self.gone.send_if_modified(|g| !std::mem::replace(g, true)) {
            let _ = self.gone_at.set(Instant::now());
        }
        self.maybe_report_exit();
    }

    pub(crate) fn mark_started(&self) {
        self.started.store(true, Ordering::SeqCst);
        self.maybe_report_exit();
    }

    pub(crate) fn mark_stopping(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    /// Calls `on_exit` once, for an upstream that had started, is gone, and
    /// was not asked to stop. Both `mark_*` paths call this, so an exit
    /// racing the end of the handshake is still reported exactly once.
    fn maybe_report_exit(&self) {
        if self.started.load(Ordering::SeqCst)
            && self.is_gone()
            && !self.stopping.load(Ordering::SeqCst)
            && !self.exit_reported.swap(true, Ordering::SeqCst)
        {
            (self.on_exit)();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    fn counting() -> (Arc<Life>, Arc<AtomicUsize>) {
        let n = Arc::new(AtomicUsize::new(0));
        let n2 = n.clone();
        let life = Life::new(Arc::new(move || {
            n2.fetch_add(1, Ordering::SeqCst);
        }));
        (life, n)
    }

    #[test]
    fn exit_is_reported_once_and_only_for_a_started_unstopped_upstream() {
        let (life, n) = counting();
        life.mark_gone();
        assert_eq!(n.load(Ordering::SeqCst), 0, "not started yet");
        life.mark_started();
        life.mark_gone();
        assert_eq!(n.load(Ordering::SeqCst), 1);
        assert!(life.is_gone() && life.gone_at().is_some());

        let (life, n) = counting();
        life.mark_started();
        life.mark_stopping();
        life.mark_gone();
        assert_eq!(n.load(Ordering::SeqCst), 0, "asked to stop");
    }
}
