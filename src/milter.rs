//! indymilter callbacks: per-connection and per-message state, one handler
//! per milter stage. On a unix socket the steps that cannot change the verdict
//! (connect, HELO, DATA, headers, end of headers, body) are answered with no
//! reply, which saves a round trip per header; over TCP every step is
//! answered, since skipped replies stall Postfix on delayed ACKs
//! (docs/design.md, "Replies").
//! Inspection runs off the async threads under a timeout; anything that goes
//! wrong becomes a 451 tempfail, never an unscanned accept and never discard.

use crate::admission::{Admission, AdmissionSettings, AdmittedListener, PeerIdentity, Weight};
use crate::audit;
use crate::buffer::{Budget, MessageBuffer};
use crate::metrics;
use crate::settings::{
    DaemonSettings, ListenAddr, Loaded, LogDestination, DEFAULT_MAX_BUFFERED_BYTES,
};
use cpr_milter_core::bare_address;
use cpr_milter_core::reply::Reply;
use cpr_milter_core::{
    Action, Begin, Envelope, Inspector, Message, TempfailCause, Transaction, Verdict,
};
use indymilter::{
    Callbacks, Context, EomContext, Listener, MacroStage, NegotiateContext, ProtoOpts,
    SetErrorReply, SocketInfo, Status,
};
use std::ffi::{CStr, CString};
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

/// State shared by all connections: the current configuration (swapped on
/// reload) and the admission limits (connections, inspection slots).
pub struct Shared {
    current: RwLock<Current>,
    /// Admission is sized at start; a slot lives as long as its blocking
    /// job, even when the MTA's answer has already gone out on a timeout.
    admission: Arc<Admission>,
    /// Memory for mail being received, shared by all connections.
    budget: Arc<Budget>,
}

struct Current {
    inspector: Arc<Inspector>,
    daemon: DaemonSettings,
}

impl Shared {
    /// Shared state for `inspector` with the default memory budget and no
    /// configuration file behind it (tests, embedding).
    pub fn new(inspector: Inspector) -> Arc<Self> {
        Shared::with_admission(inspector, &AdmissionSettings::default())
    }

    /// As [`Shared::new`], with the given admission limits.
    pub fn with_admission(inspector: Inspector, admission: &AdmissionSettings) -> Arc<Self> {
        Shared::from_loaded(Loaded {
            inspector,
            daemon: DaemonSettings {
                listen: ListenAddr::Inet("127.0.0.1:0".into()),
                log_destination: LogDestination::Stderr,
                log_facility: "mail".into(),
                log_syslog_socket: None,
                fingerprint_key_file: None,
                max_buffered_bytes: DEFAULT_MAX_BUFFERED_BYTES,
                metrics_listen: None,
                ocr: Default::default(),
                admission: admission.clone(),
            },
        })
    }

    /// Shared state for a loaded configuration file.
    pub fn from_loaded(loaded: Loaded) -> Arc<Self> {
        let budget = Budget::new(loaded.daemon.max_buffered_bytes as usize);
        Arc::new(Shared {
            admission: Admission::new(&loaded.daemon.admission),
            current: RwLock::new(Current {
                inspector: Arc::new(loaded.inspector),
                daemon: loaded.daemon,
            }),
            budget,
        })
    }

    pub fn admission(&self) -> &Arc<Admission> {
        &self.admission
    }

    /// The configuration new transactions start with.
    pub fn current(&self) -> Arc<Inspector> {
        self.read().inspector.clone()
    }

    /// The daemon settings in force.
    pub fn daemon(&self) -> DaemonSettings {
        self.read().daemon.clone()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Current> {
        self.current.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Bytes of mail being received, held in memory now.
    pub fn buffered_bytes(&self) -> usize {
        self.budget.used()
    }

    /// Swaps in a new configuration; transactions in flight keep theirs.
    pub fn replace(&self, loaded: Loaded) {
        self.budget
            .set_max(loaded.daemon.max_buffered_bytes as usize);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Current {
            inspector: Arc::new(loaded.inspector),
            daemon: loaded.daemon,
        };
    }
}

/// Per-connection state.
#[derive(Default)]
struct Session {
    client_name: Option<String>,
    client_ip: Option<IpAddr>,
    /// Not an SMTP session (Postfix non_smtpd_milters / sendmail(1)).
    local: bool,
    /// The MTA agreed not to wait for replies to the quiet steps.
    quiet: bool,
    tx: Option<Pending>,
}

/// The steps whose answer is always "continue": connect, HELO and DATA only
/// record, headers and body only collect (the verdict comes at end of
/// message, where a buffer overrun is also answered).
const QUIET_STEPS: ProtoOpts = ProtoOpts::NOREPLY_CONNECT
    .union(ProtoOpts::NOREPLY_HELO)
    .union(ProtoOpts::NOREPLY_DATA)
    .union(ProtoOpts::NOREPLY_HEADER)
    .union(ProtoOpts::NOREPLY_EOH)
    .union(ProtoOpts::NOREPLY_BODY);

/// The answer to a quiet step: none when the MTA agreed to skip it.
fn carry_on(session: Option<&Session>) -> Status {
    match session {
        Some(s) if s.quiet => Status::Noreply,
        _ => Status::Continue,
    }
}

/// A policed transaction and the message bytes arriving for it.
struct Pending {
    tx: Transaction,
    message: MessageBuffer,
}

/// A macro's value, read as bytes and shown lossily (the MTA may pass any
/// byte); an empty value counts as absent.
fn macro_value(macros: &indymilter::Macros, name: &CStr) -> Option<String> {
    macros
        .get(name)
        .map(|v| v.to_string_lossy().into_owned())
        .filter(|v| !v.is_empty())
}

fn lossy(s: &CStr) -> String {
    s.to_string_lossy().into_owned()
}

/// A short, process-unique transaction reference (`M` + 11 hex digits from
/// the clock and a counter), quoted to the sender when there is no queue id.
fn new_reference() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "M{:011X}",
        ((secs & 0xFFFFFFF) << 16 | (n & 0xFFFF)) & 0xFFF_FFFF_FFFF
    )
}

/// The one translation from a decision to a milter status: `accept` is the
/// status for "no objection" at this stage (`Continue` at RCPT, `Accept` at
/// end of message); a reject or tempfail carries its reply, and a reply the
/// MTA cannot take degrades to a tempfail rather than to an accept.
fn status(
    action: Action,
    reply: Option<&Reply>,
    accept: Status,
    out: &mut indymilter::SmtpReply,
) -> Status {
    let fallback = match action {
        Action::Accept => return accept,
        Action::Reject => Status::Reject,
        Action::Tempfail => Status::Tempfail,
    };
    let Some(r) = reply else {
        return fallback;
    };
    match out.set_error_reply(&r.code, Some(&r.xcode), r.lines.iter().map(String::as_str)) {
        Ok(()) if r.is_permanent() => Status::Reject,
        Ok(()) => Status::Tempfail,
        Err(e) => {
            log::error!("reply could not be set ({e}); answering tempfail");
            Status::Tempfail
        }
    }
}

fn log_audit(line: Option<String>) {
    if let Some(line) = line {
        log::info!(target: "audit", "{line}");
    }
}

fn on_connect(hostname: &CStr, socket: SocketInfo, quiet: bool) -> Session {
    let mut s = Session {
        client_name: Some(lossy(hostname)),
        quiet,
        ..Default::default()
    };
    match socket {
        // Postfix's cleanup (non_smtpd_milters) reports a client with port
        // 0: mail from sendmail(1), not an SMTP session.
        SocketInfo::Inet(addr) => {
            s.client_ip = Some(addr.ip());
            s.local = addr.port() == 0;
        }
        SocketInfo::Unix(_) | SocketInfo::Unknown => s.local = true,
    }
    s
}

fn on_mail(
    shared: &Shared,
    session: &mut Session,
    macros: &indymilter::Macros,
    args: &[CString],
) -> Status {
    let inspector = shared.current();
    let envelope = Envelope {
        client_ip: session.client_ip,
        client_name: session.client_name.clone(),
        auth_user: macro_value(macros, c"{auth_authen}"),
        sender: args
            .first()
            .map(|a| bare_address(&lossy(a)))
            .unwrap_or_default(),
        recipients: Vec::new(),
        queue_id: macro_value(macros, c"i"),
        reference: Some(new_reference()),
        local_submission: session.local,
    };
    let cap = inspector.policy().limits.max_message_bytes as usize;
    session.tx = match Transaction::begin(inspector, envelope) {
        Begin::Policed(tx) => Some(Pending {
            tx,
            message: MessageBuffer::new(cap, shared.budget.clone()),
        }),
        // Incoming mail is accepted here: never buffered or inspected, and
        // never tempfailed by our load.
        Begin::NotPoliced => return Status::Accept,
    };
    Status::Continue
}

fn on_rcpt(
    pending: &mut Pending,
    macros: &indymilter::Macros,
    args: &[CString],
    reply: &mut indymilter::SmtpReply,
) -> Status {
    let tx = &mut pending.tx;
    tx.set_queue_id(macro_value(macros, c"i"));
    let rcpt = args.first().map(|a| lossy(a)).unwrap_or_default();
    let v = tx.recipient(&rcpt);
    let mode = tx.inspector().policy().mode;
    log_audit(audit::rcpt_line(tx.envelope(), &v, mode));
    metrics::global().rcpt(&v);
    status(v.action, v.shown_reply(), Status::Continue, reply)
}

/// Header lines and body chunks, in the order they arrive, as one message.
fn on_message_bytes(session: &mut Session, parts: &[&[u8]]) -> Status {
    if let Some(p) = session.tx.as_mut() {
        for part in parts {
            p.message.push(part);
        }
    }
    carry_on(Some(session))
}

async fn on_eom(cx: &mut EomContext<Session>, shared: &Shared) -> Status {
    let Some(session) = cx.data.as_mut() else {
        return Status::Tempfail;
    };
    let Some(mut pending) = session.tx.take() else {
        log::error!("end of message without a transaction; answering tempfail");
        return Status::Tempfail;
    };
    pending.tx.set_queue_id(macro_value(&cx.macros, c"i"));
    let (size, started) = (pending.message.len(), std::time::Instant::now());
    let verdict = judge(pending, shared).await;
    let (v, tx) = (&verdict.0, &verdict.1);
    log_audit(audit::eom_line(
        tx.envelope(),
        v,
        tx.inspector().policy().mode,
    ));
    metrics::global().eom(v, Some(started.elapsed()), size);
    status(v.action, v.shown_reply(), Status::Accept, &mut cx.reply)
}

/// Inspects the message off the async threads under the scan timeout, in
/// one of the limited inspection slots; any failure is a tempfail.
async fn judge(mut pending: Pending, shared: &Shared) -> (Verdict, Arc<Transaction>) {
    let tx = Arc::new(pending.tx);
    if pending.message.over_budget {
        return (tx.tempfail(TempfailCause::BufferBudget), tx);
    }
    let truncated = pending.message.truncated;
    let bytes = pending.message.take();
    let timeout = tx.inspector().policy().scan_timeout();
    let weight = Weight::of(&bytes, shared.admission.settings().light_max_bytes);
    let env = tx.envelope();
    let client = env
        .auth_user
        .clone()
        .or_else(|| env.client_ip.map(|ip| ip.to_string()));
    let permit = match shared
        .admission
        .inspection_slot(client.as_deref(), weight)
        .await
    {
        Ok(slot) => slot,
        Err(_busy) => return (tx.tempfail(TempfailCause::NoSlot), tx),
    };
    let job_tx = tx.clone();
    let job = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let _in_flight = metrics::global().inspecting();
        let message = if truncated {
            Message::truncated(&bytes)
        } else {
            Message::whole(&bytes)
        };
        let verdict = job_tx.finish(message);
        drop(bytes);
        if weight == Weight::Heavy {
            crate::memory::release_free_memory();
        }
        verdict
    });
    let verdict = match tokio::time::timeout(timeout, job).await {
        Ok(Ok(v)) => v,
        Ok(Err(join)) => {
            // The panic payload may quote message text: never log it.
            log::error!(
                "inspection failed ({}); answering tempfail",
                if join.is_panic() {
                    "panic"
                } else {
                    "cancelled"
                }
            );
            tx.tempfail(TempfailCause::Failed)
        }
        Err(_) => tx.tempfail(TempfailCause::Timeout),
    };
    (verdict, tx)
}

/// The callbacks; `quiet_steps` asks the MTA to skip the replies of
/// [`QUIET_STEPS`] (where it offers that).
fn callbacks(shared: Arc<Shared>, quiet_steps: bool) -> Callbacks<Session> {
    let (mail_shared, eom_shared) = (shared.clone(), shared);
    Callbacks::new()
        .on_negotiate(
            move |cx: &mut NegotiateContext<Session>, _, offered: ProtoOpts| {
                Box::pin(async move {
                    let quiet = quiet_steps && offered.contains(QUIET_STEPS);
                    if quiet {
                        cx.requested_opts |= QUIET_STEPS;
                    }
                    cx.data = Some(Session {
                        quiet,
                        ..Default::default()
                    });
                    let m = &mut cx.requested_macros;
                    m.insert(MacroStage::Connect, c"j {daemon_name}".into());
                    m.insert(MacroStage::Helo, c"{tls_version} {cipher}".into());
                    m.insert(MacroStage::Mail, c"i {auth_authen} {mail_addr}".into());
                    m.insert(MacroStage::Rcpt, c"i {rcpt_addr}".into());
                    m.insert(MacroStage::Eom, c"i".into());
                    Status::Continue
                })
            },
        )
        .on_connect(|cx: &mut Context<Session>, host: CString, socket| {
            Box::pin(async move {
                let quiet = cx.data.as_ref().is_some_and(|s| s.quiet);
                cx.data = Some(on_connect(&host, socket, quiet));
                carry_on(cx.data.as_ref())
            })
        })
        .on_helo(|cx: &mut Context<Session>, _| Box::pin(async move { carry_on(cx.data.as_ref()) }))
        .on_mail(move |cx: &mut Context<Session>, args: Vec<CString>| {
            let shared = mail_shared.clone();
            Box::pin(async move {
                match cx.data.as_mut() {
                    Some(session) => on_mail(&shared, session, &cx.macros, &args),
                    None => Status::Tempfail,
                }
            })
        })
        .on_rcpt(|cx: &mut Context<Session>, args: Vec<CString>| {
            Box::pin(async move {
                match cx.data.as_mut().and_then(|s| s.tx.as_mut()) {
                    Some(p) => on_rcpt(p, &cx.macros, &args, &mut cx.reply),
                    None => Status::Tempfail,
                }
            })
        })
        .on_data(|cx: &mut Context<Session>| Box::pin(async move { carry_on(cx.data.as_ref()) }))
        .on_header(|cx: &mut Context<Session>, name: CString, value: CString| {
            Box::pin(async move {
                match cx.data.as_mut() {
                    Some(s) => {
                        on_message_bytes(s, &[name.as_bytes(), b": ", value.as_bytes(), b"\r\n"])
                    }
                    None => carry_on(None),
                }
            })
        })
        .on_eoh(|cx: &mut Context<Session>| {
            Box::pin(async move {
                match cx.data.as_mut() {
                    Some(s) => on_message_bytes(s, &[b"\r\n"]),
                    None => carry_on(None),
                }
            })
        })
        .on_body(|cx: &mut Context<Session>, chunk| {
            Box::pin(async move {
                match cx.data.as_mut() {
                    Some(s) => on_message_bytes(s, &[&chunk]),
                    None => carry_on(None),
                }
            })
        })
        .on_eom(move |cx: &mut EomContext<Session>| {
            let shared = eom_shared.clone();
            Box::pin(async move { on_eom(cx, &shared).await })
        })
        .on_abort(|cx: &mut Context<Session>| {
            Box::pin(async move {
                if let Some(s) = cx.data.as_mut() {
                    s.tx = None;
                }
                Status::Continue
            })
        })
        .on_close(|_| Box::pin(async { Status::Continue }))
}

/// Serves milter connections on `listener` until `shutdown` completes.
pub async fn run<L>(listener: L, shared: Arc<Shared>, shutdown: impl Future) -> std::io::Result<()>
where
    L: Listener,
    L::Io: PeerIdentity,
{
    let limits = shared.admission.settings();
    let config = indymilter::Config {
        // The admitted listener enforces the caps (and says so); this one
        // only must never be the first to bite.
        max_connections: limits.max_connections.saturating_add(1),
        connection_timeout: limits.idle_timeout,
        ..Default::default()
    };
    let listener = AdmittedListener::new(listener, shared.admission.clone());
    let quiet_steps = <L::Io as PeerIdentity>::SKIPPED_REPLIES_SAFE;
    indymilter::run(listener, callbacks(shared, quiet_steps), config, shutdown).await
}
