//! Message bytes held between DATA and end of message, counted against a
//! budget shared by all connections: 256 connections each holding a large
//! mail must not exhaust memory. Past the budget a message stops buffering
//! and is answered with a tempfail (F10: over-load means 4xx, the MTA keeps
//! the mail and retries).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Bytes buffered by all transactions, and the most allowed.
#[derive(Debug)]
pub struct Budget {
    used: AtomicUsize,
    max: AtomicUsize,
}

impl Budget {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Budget {
            used: AtomicUsize::new(0),
            max: AtomicUsize::new(max),
        })
    }

    pub fn set_max(&self, max: usize) {
        self.max.store(max, Ordering::Relaxed);
    }

    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Reserves `n` bytes; false (nothing reserved) when that would pass the max.
    fn reserve(&self, n: usize) -> bool {
        let max = self.max.load(Ordering::Relaxed);
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                u.checked_add(n).filter(|&t| t <= max)
            })
            .is_ok()
    }

    fn release(&self, n: usize) {
        self.used.fetch_sub(n, Ordering::AcqRel);
    }
}

/// One message's bytes, kept up to `cap` (the size limit; `truncated` says
/// when more arrived) and released from the budget
/// when dropped.
#[derive(Debug)]
pub struct MessageBuffer {
    bytes: Vec<u8>,
    cap: usize,
    budget: Arc<Budget>,
    /// The shared budget ran out while this message was arriving.
    pub over_budget: bool,
    /// Bytes past `cap` arrived and were dropped.
    pub truncated: bool,
}

impl MessageBuffer {
    pub fn new(cap: usize, budget: Arc<Budget>) -> Self {
        MessageBuffer {
            bytes: Vec::new(),
            cap,
            budget,
            over_budget: false,
            truncated: false,
        }
    }

    pub fn push(&mut self, data: &[u8]) {
        if self.over_budget {
            return;
        }
        let take = data.len().min(self.cap.saturating_sub(self.bytes.len()));
        self.truncated |= take < data.len();
        if take == 0 {
            return;
        }
        if !self.budget.reserve(take) {
            self.over_budget = true;
            self.budget.release(self.bytes.len());
            self.bytes = Vec::new();
            return;
        }
        self.bytes.extend_from_slice(&data[..take]);
    }

    /// Bytes held now.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The bytes, leaving the buffer empty (and their budget released).
    pub fn take(&mut self) -> Vec<u8> {
        self.budget.release(self.bytes.len());
        std::mem::take(&mut self.bytes)
    }
}

impl Drop for MessageBuffer {
    fn drop(&mut self) {
        self.budget.release(self.bytes.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_share_one_budget_and_give_it_back() {
        let budget = Budget::new(10);
        let mut a = MessageBuffer::new(100, budget.clone());
        let mut b = MessageBuffer::new(100, budget.clone());
        a.push(b"123456");
        b.push(b"12345");
        assert!(
            !a.over_budget && b.over_budget,
            "the second passes the shared 10 bytes"
        );
        assert_eq!(budget.used(), 6);
        assert_eq!(a.take(), b"123456");
        assert_eq!(budget.used(), 0);
        let mut c = MessageBuffer::new(3, budget.clone());
        c.push(b"abcdef");
        assert_eq!(budget.used(), 3, "capped at the size limit");
        assert!(c.truncated && !a.truncated, "and says so");
        drop(c);
        assert_eq!(budget.used(), 0);
    }
}
