//! Deferred wakes of WebSocket tasks, so that one burst of work writes once.
//!
//! A task that handles several received messages back to back (a Socket.IO
//! connection relaying a burst of broadcasts) would otherwise wake every
//! recipient's WebSocket task on its first message: those tasks then run, and
//! write, before the rest of the burst is even read, and every recipient gets
//! one write per piece of the burst instead of one for all of it. Wakes made
//! inside [`WakeBatch::collect`] on the current thread are kept instead, and
//! sent by [`WakeBatch::flush`] (or when the batch is dropped), in the order
//! they were made.

use std::cell::RefCell;
use std::sync::Arc;

use tokio::sync::Notify;

thread_local! {
    /// The wakes collected by the [`WakeBatch::collect`] running on this thread, if any.
    static COLLECTING: RefCell<Option<Vec<Arc<Notify>>>> = const { RefCell::new(None) };
}

/// Wakes a WebSocket task now, or at the flush of the batch collecting on this thread.
pub(crate) fn wake(notify: &Arc<Notify>) {
    let kept = COLLECTING
        .try_with(|c| match c.borrow_mut().as_mut() {
            Some(wakes) => {
                wakes.push(notify.clone());
                true
            }
            None => false,
        })
        .unwrap_or(false);
    if !kept {
        notify.notify_one();
    }
}

/// WebSocket wakes held back while a burst of work runs; see the module
/// documentation. Dropping the batch sends what it holds: a wake is never lost.
#[derive(Debug, Default)]
pub struct WakeBatch {
    wakes: Vec<Arc<Notify>>,
}

impl WakeBatch {
    /// Runs `f`, keeping the wakes of WebSocket tasks it causes on this thread
    /// (messages queued with [`crate::Sender::send`]) in this batch.
    pub fn collect<R>(&mut self, f: impl FnOnce() -> R) -> R {
        /// Puts back what ran before (a batch collecting around this one), also when `f` panics.
        struct Restore<'a> {
            wakes: &'a mut Vec<Arc<Notify>>,
            outer: Option<Vec<Arc<Notify>>>,
        }
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                let outer = self.outer.take();
                if let Ok(Some(mine)) = COLLECTING.try_with(|c| c.replace(outer)) {
                    *self.wakes = mine;
                }
            }
        }
        let mine = std::mem::take(&mut self.wakes);
        let outer = COLLECTING.with(|c| c.replace(Some(mine)));
        let _restore = Restore {
            wakes: &mut self.wakes,
            outer,
        };
        f()
    }

    /// How many wakes are held.
    pub fn len(&self) -> usize {
        self.wakes.len()
    }

    /// Whether no wake is held.
    pub fn is_empty(&self) -> bool {
        self.wakes.is_empty()
    }

    /// Sends every wake held, in the order they were made.
    pub fn flush(&mut self) {
        for notify in self.wakes.drain(..) {
            notify.notify_one();
        }
    }
}

impl Drop for WakeBatch {
    fn drop(&mut self) {
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    fn woken(n: &Notify) -> bool {
        n.notified().now_or_never().is_some()
    }

    #[test]
    fn wakes_inside_collect_wait_for_the_flush() {
        let a = Arc::new(Notify::new());
        let mut batch = WakeBatch::default();
        batch.collect(|| wake(&a));
        assert_eq!(batch.len(), 1);
        assert!(!woken(&a), "held by the batch");
        batch.flush();
        assert!(woken(&a));
        // Outside a batch, a wake is immediate.
        wake(&a);
        assert!(woken(&a));
    }

    #[test]
    fn a_dropped_batch_sends_its_wakes() {
        let a = Arc::new(Notify::new());
        let mut batch = WakeBatch::default();
        batch.collect(|| wake(&a));
        drop(batch);
        assert!(woken(&a));
    }

    #[test]
    fn a_panic_inside_collect_loses_no_wake_and_ends_the_collecting() {
        let a = Arc::new(Notify::new());
        let mut batch = WakeBatch::default();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            batch.collect(|| {
                wake(&a);
                panic!("handler");
            })
        }));
        assert!(panicked.is_err());
        assert_eq!(batch.len(), 1, "the wake made before the panic is kept");
        let b = Arc::new(Notify::new());
        wake(&b);
        assert!(woken(&b), "no batch collects any more");
        drop(batch);
        assert!(woken(&a));
    }

    #[test]
    fn nested_batches_keep_their_own_wakes() {
        let (a, b, c) = (
            Arc::new(Notify::new()),
            Arc::new(Notify::new()),
            Arc::new(Notify::new()),
        );
        let mut outer = WakeBatch::default();
        let mut inner = WakeBatch::default();
        outer.collect(|| {
            wake(&a);
            inner.collect(|| wake(&b));
            wake(&c);
        });
        assert_eq!((outer.len(), inner.len()), (2, 1));
        inner.flush();
        assert!(woken(&b) && !woken(&a) && !woken(&c));
        outer.flush();
        assert!(woken(&a) && woken(&c));
    }
}
