//! [`Live`]: a value that is replaced whole while readers use it.

use std::sync::{Arc, RwLock};

/// A shared value swapped atomically: a reader gets an `Arc` of either the
/// old or the new value, never a mix, and never holds the lock beyond the
/// clone of that `Arc` (so never across an await).
pub struct Live<T> {
    slot: RwLock<Arc<T>>,
}

impl<T> Live<T> {
    pub fn new(value: T) -> Self {
        Live {
            slot: RwLock::new(Arc::new(value)),
        }
    }

    /// The value now. A poisoned lock still holds a whole value (the only
    /// write is one pointer store), so it is read through.
    pub fn load(&self) -> Arc<T> {
        self.slot.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replaces the value; returns the previous one (dropped by the caller,
    /// outside the lock).
    pub fn store(&self, value: T) -> Arc<T> {
        let new = Arc::new(value);
        let mut slot = self.slot.write().unwrap_or_else(|p| p.into_inner());
        std::mem::replace(&mut *slot, new)
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Live<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.load().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// A pair that must always be seen whole: (generation, generation × 7).
    #[derive(Debug)]
    struct Pair(u64, u64);

    #[test]
    fn readers_during_swaps_see_old_or_new_never_torn() {
        let live = Arc::new(Live::new(Pair(0, 0)));
        let stop = Arc::new(AtomicBool::new(false));
        let started = Arc::new(std::sync::Barrier::new(5));
        let readers: Vec<_> = (0..4)
            .map(|_| {
                let (live, stop, started) = (live.clone(), stop.clone(), started.clone());
                std::thread::spawn(move || {
                    let mut last = 0;
                    let mut reads = 0u64;
                    started.wait();
                    loop {
                        let p = live.load();
                        assert_eq!(p.1, p.0 * 7, "torn read");
                        assert!(p.0 >= last, "went back in time");
                        last = p.0;
                        reads += 1;
                        if stop.load(Ordering::Relaxed) {
                            return reads;
                        }
                    }
                })
            })
            .collect();
        started.wait();
        for g in 1..=20_000u64 {
            live.store(Pair(g, g * 7));
        }
        stop.store(true, Ordering::Relaxed);
        for r in readers {
            assert!(r.join().unwrap() > 0);
        }
        assert_eq!(live.load().0, 20_000);
    }

    #[test]
    fn store_returns_the_previous_value() {
        let live = Live::new(1);
        assert_eq!(*live.store(2), 1);
        assert_eq!(*live.load(), 2);
    }
}
