//! Judging on all cores, printing in archive order: one thread reads the
//! archive, workers judge messages, the caller's thread receives results in
//! the order the messages were read. A window bounds what is in flight
//! (read, queued, judged but waiting for an earlier message), by count and
//! by bytes, so memory stays bounded however large the archive.

use crate::mailbox::{Event, Message};
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// What the caller receives, in archive order.
pub enum Item<T> {
    Judged(T),
    Other(Event),
}

/// Messages in flight at most.
const WINDOW_ITEMS: usize = 1024;

/// Bytes of messages in flight at most (one larger message still goes
/// through, alone).
const WINDOW_BYTES: usize = 256 << 20;

/// How often the caller's `tick` runs while waiting.
const TICK: Duration = Duration::from_millis(100);

/// Reads with `produce`, judges each message with `judge` on `jobs` threads,
/// and hands every item to `consume` in order; `tick` runs periodically
/// (progress).
pub fn run<T: Send>(
    jobs: usize,
    produce: impl FnOnce(&mut dyn FnMut(Event) -> bool) + Send,
    judge: impl Fn(Message) -> T + Sync,
    mut consume: impl FnMut(Item<T>),
    mut tick: impl FnMut(),
) {
    let jobs = jobs.max(1);
    // Deep queues: on a busy machine every hand-over between threads waits
    // for a time slice, and a shallow queue turns that wait into idle cores.
    let window = Window::new(WINDOW_ITEMS, WINDOW_BYTES);
    let (work_tx, work_rx) = mpsc::sync_channel::<(u64, Event, usize)>(WINDOW_ITEMS / 2);
    let work_rx = Mutex::new(work_rx);
    let (done_tx, done_rx) = mpsc::channel::<(u64, Item<T>, usize)>();
    std::thread::scope(|scope| {
        let window = &window;
        scope.spawn(move || {
            let mut seq = 0u64;
            produce(&mut |event| {
                let bytes = match &event {
                    Event::Message(m) => m.bytes.len(),
                    _ => 0,
                };
                window.acquire(bytes);
                seq += 1;
                work_tx.send((seq - 1, event, bytes)).is_ok()
            });
        });
        for _ in 0..jobs {
            let (work_rx, done_tx, judge) = (&work_rx, done_tx.clone(), &judge);
            scope.spawn(move || loop {
                let next = work_rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                let Ok((seq, event, bytes)) = next else {
                    return;
                };
                let item = match event {
                    Event::Message(m) => {
                        let name = m.name.clone();
                        match catch_unwind(AssertUnwindSafe(|| judge(m))) {
                            Ok(t) => Item::Judged(t),
                            // The panic hook reports where; the message is
                            // reported as not judged, never as accepted.
                            Err(_) => Item::Other(Event::Error {
                                path: name,
                                error: "internal error (panic) while inspecting; not judged".into(),
                            }),
                        }
                    }
                    other => Item::Other(other),
                };
                if done_tx.send((seq, item, bytes)).is_err() {
                    return;
                }
            });
        }
        drop(done_tx);
        let mut waiting: BTreeMap<u64, (Item<T>, usize)> = BTreeMap::new();
        let mut next = 0u64;
        loop {
            match done_rx.recv_timeout(TICK) {
                Ok((seq, item, bytes)) => {
                    waiting.insert(seq, (item, bytes));
                    while let Some((item, bytes)) = waiting.remove(&next) {
                        consume(item);
                        window.release(bytes);
                        next += 1;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            tick();
        }
    });
}

/// Counting semaphore over (items, bytes).
struct Window {
    max_items: usize,
    max_bytes: usize,
    used: Mutex<(usize, usize)>,
    freed: Condvar,
}

impl Window {
    fn new(max_items: usize, max_bytes: usize) -> Self {
        Window {
            max_items,
            max_bytes,
            used: Mutex::new((0, 0)),
            freed: Condvar::new(),
        }
    }

    fn acquire(&self, bytes: usize) {
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        while used.0 >= self.max_items || (used.1 > 0 && used.1 + bytes > self.max_bytes) {
            used = self.freed.wait(used).unwrap_or_else(|e| e.into_inner());
        }
        used.0 += 1;
        used.1 += bytes;
    }

    fn release(&self, bytes: usize) {
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        used.0 -= 1;
        used.1 -= bytes;
        self.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_reading_order_whatever_the_judging_order() {
        let produce = |emit: &mut dyn FnMut(Event) -> bool| {
            for i in 0..200u64 {
                let ok = emit(Event::Message(Message {
                    name: i.to_string(),
                    bytes: vec![0; (i % 7) as usize],
                    size: 0,
                    from_line: None,
                }));
                assert!(ok);
            }
        };
        let judge = |m: Message| {
            let i: u64 = m.name.parse().unwrap();
            // Early messages are slow: later ones finish first.
            std::thread::sleep(Duration::from_micros((200 - i) * 20));
            i
        };
        let mut seen = Vec::new();
        run(
            4,
            produce,
            judge,
            |item| match item {
                Item::Judged(i) => seen.push(i),
                Item::Other(_) => panic!("only messages were produced"),
            },
            || {},
        );
        assert_eq!(seen, (0..200).collect::<Vec<_>>());
    }

    #[test]
    fn a_panicking_judgement_is_reported_not_lost() {
        let produce = |emit: &mut dyn FnMut(Event) -> bool| {
            for name in ["ok", "boom", "ok2"] {
                emit(Event::Message(Message {
                    name: name.into(),
                    bytes: vec![],
                    size: 0,
                    from_line: None,
                }));
            }
        };
        let judge = |m: Message| {
            assert!(m.name != "boom", "judge failed");
            m.name
        };
        let mut out = Vec::new();
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        run(
            2,
            produce,
            judge,
            |item| {
                out.push(match item {
                    Item::Judged(n) => n,
                    Item::Other(Event::Error { path, .. }) => format!("error:{path}"),
                    Item::Other(_) => "other".into(),
                })
            },
            || {},
        );
        std::panic::set_hook(hook);
        assert_eq!(out, ["ok", "error:boom", "ok2"]);
    }
}
