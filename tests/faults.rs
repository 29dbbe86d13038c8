//! Faults injected under traffic through a real, private Postfix: the milter
//! killed with SIGKILL and restarted, frozen with SIGSTOP past Postfix's
//! milter timeouts, hundreds of idle connections held open, and the syslog
//! daemon going away and coming back (every audit line lands once, in
//! syslog or, while it is away, on stderr). In every
//! case each mail is accounted for (250 and delivered exactly once, or 4xx/5xx
//! and not delivered), no mail with a CPR number is delivered, and mail is
//! served again afterwards.
//!
//! Postfix's milter timeouts are tuned down in the private instance (2 s
//! connect, 3 s command, 6 s content) so the faults show within seconds.
//! Needs root and Postfix, like the other end-to-end tests. All CPR numbers
//! are synthetic test numbers.

mod support;

use std::net::TcpStream;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::daemon::Daemon;
use support::milter::{config_text, ORG_DOMAIN};
use support::postfix::{Options, Postfix};
use support::smtp::{try_send_mail, Outcome};
use support::stack::{inbox, sender};
use tempfile::TempDir;

/// A synthetic CPR number (29 Feb 2000, passes mod-11).
const CPR: &str = "290200-4001";
const SETTLE: Duration = Duration::from_secs(60);

/// A milter daemon that can be killed and started again on the same port
/// and configuration, and a Postfix consulting it.
struct Rig {
    dir: TempDir,
    port: u16,
    daemon: Option<Daemon>,
    starts: usize,
    postfix: Postfix,
}

impl Rig {
    fn start() -> Rig {
        Rig::start_with(|port, _| config_text(port, "", ""))
    }

    /// With the configuration `config(port, dir)` writes.
    fn start_with(config: impl FnOnce(u16, &std::path::Path) -> String) -> Rig {
        let dir = tempfile::Builder::new()
            .prefix("cpr-e2e-faults.")
            .tempdir_in(support::shared_tmp())
            .expect("tempdir");
        let port = support::free_port();
        std::fs::write(dir.path().join("milter.yaml"), config(port, dir.path()))
            .expect("write config");
        let mut rig = Rig {
            dir,
            port,
            daemon: None,
            starts: 0,
            postfix: Postfix::start(
                &Options::with_milter_port(port)
                    .set("milter_connect_timeout", "2s")
                    .set("milter_command_timeout", "3s")
                    .set("milter_content_timeout", "6s"),
            ),
        };
        rig.start_milter();
        rig
    }

    fn log_path(&self, n: usize) -> PathBuf {
        self.dir.path().join(format!("milter-{n}.log"))
    }

    fn start_milter(&mut self) {
        self.starts += 1;
        let d = Daemon::spawn(
            &self.dir.path().join("milter.yaml"),
            &self.log_path(self.starts),
        );
        d.wait_tcp(self.port);
        self.daemon = Some(d);
    }

    fn pid(&self) -> u32 {
        self.daemon.as_ref().expect("milter running").pid()
    }

    fn milter_log(&self) -> String {
        (1..=self.starts)
            .map(|n| support::read_lossy(&self.log_path(n)))
            .collect::<Vec<_>>()
            .join("--- restarted ---\n")
    }

    fn context(&self) -> String {
        format!(
            "--- maillog:\n{}\n--- milter log:\n{}",
            self.postfix.maillog(),
            self.milter_log()
        )
    }

    fn send(&self, tag: &str, cpr: bool) -> Result<Outcome, String> {
        try_send_mail(
            self.postfix.port(),
            &sender(),
            &[&inbox("borger")],
            &message(tag, cpr),
        )
        .map_err(|e| e.to_string())
    }

    /// Waits until `n` mails are delivered and the queue is empty.
    fn settle(&self, n: usize) -> Vec<Vec<u8>> {
        support::poll(SETTLE, || {
            let d = self.postfix.delivered();
            (d.len() >= n && self.postfix.queued() == 0).then_some(d)
        })
        .unwrap_or_else(|| {
            panic!(
                "expected {n} delivered and an empty queue; delivered {}, queued {}\n{}",
                self.postfix.delivered().len(),
                self.postfix.queued(),
                self.context()
            )
        })
    }
}

/// A mail tagged `tag` in its Message-ID; with `cpr`, a CPR number in the body.
fn message(tag: &str, cpr: bool) -> Vec<u8> {
    let body = if cpr {
        format!("Kære borger\r\n\r\nCPR-nr.: {CPR}\r\n")
    } else {
        "Kære borger\r\n\r\nMødet er flyttet til tirsdag.\r\n".to_string()
    };
    format!(
        "From: <{}>\r\nTo: <{}>\r\nSubject: Sagen\r\nMessage-ID: <{tag}@{ORG_DOMAIN}>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\n{body}",
        sender(),
        inbox("borger")
    )
    .into_bytes()
}

/// How many delivered mails carry `tag`.
fn copies(delivered: &[Vec<u8>], tag: &str) -> usize {
    let needle = format!("<{tag}@{ORG_DOMAIN}>");
    delivered
        .iter()
        .filter(|m| String::from_utf8_lossy(m).contains(&needle))
        .count()
}

/// What the client saw for one mail: accepted (250 after the dot) or not.
struct Sent {
    tag: String,
    cpr: bool,
    accepted: bool,
    what: String,
}

fn sent(tag: String, cpr: bool, r: Result<Outcome, String>) -> Sent {
    match r {
        Ok(o) => Sent {
            tag,
            cpr,
            accepted: o.accepted(),
            what: o.decisive().text(),
        },
        Err(e) => Sent {
            tag,
            cpr,
            accepted: false,
            what: e,
        },
    }
}

/// Every mail accounted for: accepted ones delivered exactly once, refused
/// ones not at all, no CPR mail delivered.
fn assert_accounted(rig: &Rig, results: &[Sent], delivered: &[Vec<u8>]) {
    for s in results {
        let n = copies(delivered, &s.tag);
        if s.accepted {
            assert!(!s.cpr, "a mail with a CPR number was accepted: {}", s.tag);
            assert_eq!(
                n,
                1,
                "{} accepted but delivered {n} times\n{}",
                s.tag,
                rig.context()
            );
        } else {
            assert_eq!(
                n,
                0,
                "{} refused ({}) but delivered\n{}",
                s.tag,
                s.what,
                rig.context()
            );
        }
    }
    let total: usize = results.iter().map(|s| copies(delivered, &s.tag)).sum();
    assert_eq!(total, delivered.len(), "mail delivered that nobody sent");
}

/// After a fault: clean mail is accepted again and CPR mail refused.
fn assert_serves(rig: &Rig, tag: &str) -> Vec<Sent> {
    let ok = rig.send(&format!("{tag}-clean"), false).expect("send");
    assert!(
        ok.accepted(),
        "clean mail after the fault: {}\n{}",
        ok.transcript,
        rig.context()
    );
    let cpr = rig.send(&format!("{tag}-cpr"), true).expect("send");
    assert!(
        cpr.decisive().is_permanent(),
        "CPR mail after the fault: {}\n{}",
        cpr.transcript,
        rig.context()
    );
    vec![
        sent(format!("{tag}-clean"), false, Ok(ok)),
        sent(format!("{tag}-cpr"), true, Ok(cpr)),
    ]
}

#[test]
fn sigkill_under_ten_sessions_then_restart_loses_and_duplicates_nothing() {
    const SESSIONS: usize = 10;
    /// Mails each session sends before the kill, and after the restart.
    const MAILS: usize = 4;
    let mut rig = Rig::start();
    let done = Arc::new(AtomicUsize::new(0));
    let restarted = Arc::new(AtomicBool::new(false));
    let results = std::thread::scope(|scope| {
        let rig_ref = &rig;
        let workers: Vec<_> = (0..SESSIONS)
            .map(|s| {
                let (done, restarted) = (done.clone(), restarted.clone());
                scope.spawn(move || {
                    let mut out = Vec::new();
                    let mut after_restart = 0;
                    // Sending goes on through the kill, the outage and the
                    // restart, paced like a client retrying.
                    for i in 0..200 {
                        let (tag, cpr) = (format!("kill-{s}-{i}"), i % 3 == 1);
                        let r = sent(tag.clone(), cpr, rig_ref.send(&tag, cpr));
                        done.fetch_add(1, Ordering::SeqCst);
                        let transient = !r.accepted && r.what.starts_with('4');
                        out.push(r);
                        if restarted.load(Ordering::SeqCst) {
                            after_restart += 1;
                            if after_restart > MAILS {
                                break;
                            }
                        }
                        if transient {
                            std::thread::sleep(Duration::from_millis(100));
                        }
                    }
                    out
                })
            })
            .collect();
        // Kill it with every session in flight.
        support::poll(SETTLE, || {
            (done.load(Ordering::SeqCst) >= SESSIONS * MAILS).then_some(())
        })
        .expect("the load got going");
        support::signal(rig_ref.pid(), "KILL");
        // Started again while the load goes on, as an init system would.
        std::thread::sleep(Duration::from_millis(500));
        let again = Daemon::spawn(
            &rig_ref.dir.path().join("milter.yaml"),
            &rig_ref.log_path(2),
        );
        again.wait_tcp(rig_ref.port);
        restarted.store(true, Ordering::SeqCst);
        let results = workers
            .into_iter()
            .flat_map(|w| w.join().expect("sender thread"))
            .collect::<Vec<_>>();
        (results, again)
    });
    let (mut results, again) = results;
    // Dropping the killed one reaps it.
    rig.daemon = Some(again);
    rig.starts = 2;
    results.extend(assert_serves(&rig, "kill-after"));
    let accepted = results.iter().filter(|s| s.accepted).count();
    let refused = results.len() - accepted;
    eprintln!(
        "{accepted} accepted, {refused} refused of {}",
        results.len()
    );
    assert!(refused > 0, "the kill refused nothing: it came too late");
    let delivered = rig.settle(accepted);
    assert_accounted(&rig, &results, &delivered);
}

#[test]
fn sigstop_past_postfix_timeouts_gives_4xx_then_recovers_on_sigcont() {
    let rig = Rig::start();
    let mut results = vec![sent(
        "stop-before".into(),
        false,
        rig.send("stop-before", false),
    )];
    assert!(results[0].accepted, "{}", rig.context());
    support::signal(rig.pid(), "STOP");
    let frozen: Vec<Sent> = std::thread::scope(|scope| {
        let rig = &rig;
        let handles: Vec<_> = (0..3)
            .map(|i| {
                scope.spawn(move || {
                    let tag = format!("stop-during-{i}");
                    let cpr = i == 1;
                    sent(tag.clone(), cpr, rig.send(&tag, cpr))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("sender"))
            .collect()
    });
    support::signal(rig.pid(), "CONT");
    for s in &frozen {
        assert!(
            !s.accepted,
            "{} accepted while the milter was stopped",
            s.tag
        );
        assert!(
            s.what.starts_with('4'),
            "{}: expected a 4xx while the milter was stopped, got {}\n{}",
            s.tag,
            s.what,
            rig.context()
        );
    }
    results.extend(frozen);
    results.extend(assert_serves(&rig, "stop-after"));
    let accepted = results.iter().filter(|s| s.accepted).count();
    let delivered = rig.settle(accepted);
    assert_accounted(&rig, &results, &delivered);
}

#[test]
fn three_hundred_idle_connections_do_not_stop_mail() {
    let rig = Rig::start();
    // A local user holding connections open without a word: the test runs
    // as root, Postfix's smtpd as the postfix user, so they are different
    // peers and the per-peer cap keeps Postfix's share free.
    let idle: Vec<TcpStream> = (0..300)
        .filter_map(|_| TcpStream::connect(("127.0.0.1", rig.port)).ok())
        .collect();
    assert!(idle.len() >= 256, "only {} connections opened", idle.len());
    // Held, not a burst: mail goes once the milter has taken them all in
    // (the refusal of those past the cap is logged).
    let log = support::poll(Duration::from_secs(60), || {
        let log = rig.milter_log();
        log.contains("refused").then_some(log)
    })
    .unwrap_or_else(|| panic!("no refusal logged\n{}", rig.context()));
    assert!(
        log.contains("admission.max_connections_per_peer"),
        "the log names the limit that bit:\n{log}"
    );
    let mut results = assert_serves(&rig, "idle");
    results.push(sent(
        "idle-more".into(),
        false,
        rig.send("idle-more", false),
    ));
    assert!(
        results.last().expect("just pushed").accepted,
        "{}",
        rig.context()
    );
    drop(idle);
    let accepted = results.iter().filter(|s| s.accepted).count();
    let delivered = rig.settle(accepted);
    assert_accounted(&rig, &results, &delivered);
}

/// A syslog daemon stand-in: a datagram socket at a path, collecting lines.
struct Syslog {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Syslog {
    fn bind(path: &std::path::Path, lines: Arc<std::sync::Mutex<Vec<String>>>) -> Syslog {
        let sock = UnixDatagram::bind(path).expect("bind syslog socket");
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        let stop = Arc::new(AtomicBool::new(false));
        let (l, s) = (lines, stop.clone());
        let reader = std::thread::spawn(move || {
            let mut buf = vec![0u8; 16384];
            while !s.load(Ordering::SeqCst) {
                if let Ok(n) = sock.recv(&mut buf) {
                    let line = String::from_utf8_lossy(&buf[..n]).into_owned();
                    l.lock().expect("lines").push(line);
                }
            }
        });
        Syslog {
            path: path.to_path_buf(),
            stop,
            reader: Some(reader),
        }
    }

    /// Like a syslog daemon stopping: the socket closes and its file goes.
    fn go_away(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(r) = self.reader.take() {
            r.join().expect("syslog reader");
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

#[test]
fn syslog_going_away_and_back_under_traffic_loses_no_audit_line() {
    let sockdir = tempfile::Builder::new()
        .prefix("cpr-e2e-syslog.")
        .tempdir_in(support::shared_tmp())
        .expect("tempdir");
    let path = sockdir.path().join("log.sock");
    let lines = Arc::new(std::sync::Mutex::new(Vec::new()));
    let syslog = Syslog::bind(&path, lines.clone());
    let rig = Rig::start_with(|port, _| {
        format!(
            "listen: inet:127.0.0.1:{port}\norganisation:\n  domains: [{ORG_DOMAIN}]\n\
             log:\n  destination: syslog\n  syslog_socket: {}\n",
            path.display()
        )
    });

    let mut results = Vec::new();
    let mut send_some = |rig: &Rig, phase: &str| {
        for i in 0..8 {
            let tag = format!("syslog-{phase}-{i}");
            results.push(sent(tag.clone(), true, rig.send(&tag, true)));
        }
    };
    send_some(&rig, "up");
    syslog.go_away();
    send_some(&rig, "away");
    std::thread::sleep(Duration::from_millis(300));
    let syslog = Syslog::bind(&path, lines.clone());
    send_some(&rig, "back");

    for s in &results {
        assert!(
            !s.accepted && s.what.starts_with('5'),
            "{} not rejected: {}",
            s.tag,
            s.what
        );
    }
    let audit_count = || {
        let in_syslog = lines
            .lock()
            .expect("lines")
            .iter()
            .filter(|l| l.contains("action=reject"))
            .count();
        in_syslog + rig.milter_log().matches("action=reject").count()
    };
    support::poll(Duration::from_secs(15), || {
        (audit_count() >= results.len()).then_some(())
    });
    let got = lines.lock().expect("lines").clone();
    // While syslog was away the lines went to stderr (the journal, under
    // systemd); every audit line is in exactly one of the two.
    let stderr = rig.milter_log();
    let audit: Vec<&str> = got
        .iter()
        .map(String::as_str)
        .chain(stderr.lines())
        .filter(|l| l.contains("action=reject"))
        .collect();
    let mut ids: Vec<&str> = audit
        .iter()
        .filter_map(|l| l.split("]: ").nth(1)?.split(':').next())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        (audit.len(), ids.len()),
        (results.len(), results.len()),
        "one audit line per rejected mail, none lost, none twice:\n--- syslog:\n{}\n{}",
        got.join("\n"),
        rig.context()
    );
    let in_syslog = got.iter().filter(|l| l.contains("action=reject")).count();
    assert!(
        in_syslog >= 16,
        "only {in_syslog} audit lines reached syslog: {got:?}"
    );
    assert!(
        got.iter().any(|l| l.contains("syslog reachable again")),
        "syslog hears that it missed lines: {got:?}"
    );
    assert!(
        got.iter()
            .skip_while(|l| !l.contains("syslog reachable again"))
            .any(|l| l.contains("action=reject")),
        "audit lines after the comeback reach syslog again: {got:?}"
    );
    drop(syslog);
    let delivered = rig.settle(0);
    assert_accounted(&rig, &results, &delivered);
}
