//! indymilter callbacks: per-connection and per-message state, one handler
//! per milter stage. Every stage gets a reply (no "no reply" flags are
//! negotiated: skipped replies stall Postfix on delayed ACKs, DESIGN §5).
//! Inspection runs off the async threads under a timeout; anything that goes
//! wrong becomes a 451 tempfail, never an unscanned accept and never discard.

use crate::admission::{Admission, AdmissionSettings, AdmittedListener, PeerIdentity, Weight};
use crate::audit::{self, AuditContext};
use crate::buffer::{Budget, MessageBuffer};
use cpr_milter_core::envelope::bare_address;
use cpr_milter_core::reply::Reply;
use cpr_milter_core::{Action, Envelope, Inspector, Verdict};
use indymilter::{
    Callbacks, Context, EomContext, Listener, MacroStage, NegotiateContext, SetErrorReply,
    SocketInfo, Status,
};
use std::ffi::{CStr, CString};
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// State shared by all connections: the current inspector (swapped on
/// reload) and the admission limits (connections, inspection slots).
pub struct Shared {
    inspector: RwLock<Arc<Inspector>>,
    admission: Arc<Admission>,
    /// Memory for mail being received, shared by all connections.
    budget: Arc<Budget>,
}

impl Shared {
    /// With the admission limits of the inspector's configuration.
    pub fn new(inspector: Inspector) -> Arc<Self> {
        let admission = AdmissionSettings::from_config(&inspector.config().admission);
        Shared::with_admission(inspector, &admission)
    }

    pub fn with_admission(inspector: Inspector, admission: &AdmissionSettings) -> Arc<Self> {
        let budget = Budget::new(inspector.config().limits.max_buffered_bytes as usize);
        Arc::new(Shared {
            inspector: RwLock::new(Arc::new(inspector)),
            admission: Admission::new(admission),
            budget,
        })
    }

    pub fn admission(&self) -> &Arc<Admission> {
        &self.admission
    }

    /// The configuration new transactions start with.
    pub fn current(&self) -> Arc<Inspector> {
        self.inspector
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Swaps in a new configuration; transactions in flight keep theirs.
    pub fn replace(&self, inspector: Inspector) {
        self.budget
            .set_max(inspector.config().limits.max_buffered_bytes as usize);
        *self.inspector.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(inspector);
    }
}

/// Per-connection state.
#[derive(Default)]
struct Session {
    client_name: Option<String>,
    client_ip: Option<IpAddr>,
    /// Not an SMTP session (Postfix non_smtpd_milters / sendmail(1)).
    local: bool,
    tx: Option<Transaction>,
}

/// Per-message state, created at MAIL.
struct Transaction {
    inspector: Arc<Inspector>,
    sender: String,
    auth: Option<String>,
    recipients: Vec<String>,
    queue_id: Option<String>,
    /// Our own reference for replies and audit lines before Postfix has a queue id.
    reference: String,
    message: MessageBuffer,
}

fn macro_value(macros: &indymilter::Macros, name: &str) -> Option<String> {
    let key = CString::new(name).ok()?;
    macros
        .get(&key)
        .map(|v| v.to_string_lossy().into_owned())
        .filter(|v| !v.is_empty())
}

fn lossy(s: &CStr) -> String {
    s.to_string_lossy().into_owned()
}

impl Session {
    fn envelope(&self, tx: &Transaction) -> Envelope {
        Envelope {
            client_ip: self.client_ip,
            client_name: self.client_name.clone(),
            auth_user: tx.auth.clone(),
            sender: tx.sender.clone(),
            recipients: tx.recipients.clone(),
            queue_id: tx.queue_id.clone(),
            reference: Some(tx.reference.clone()),
            local_submission: self.local,
        }
    }
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

fn audit_cx<'a>(session: &'a Session, tx: &'a Transaction) -> AuditContext<'a> {
    AuditContext {
        queue_id: tx.queue_id.as_deref(),
        reference: Some(&tx.reference),
        sender: &tx.sender,
        recipients: &tx.recipients,
        client_name: session.client_name.as_deref(),
        client_addr: session.client_ip.map(|i| i.to_string()),
        auth: tx.auth.as_deref(),
    }
}

/// Puts `reply` on the context; an unusable reply degrades to a tempfail
/// with Postfix's own text rather than to an accept.
fn set_reply(reply: &mut indymilter::SmtpReply, r: &Reply) -> Status {
    let status = if r.is_permanent() {
        Status::Reject
    } else {
        Status::Tempfail
    };
    match reply.set_error_reply(&r.code, Some(&r.xcode), r.lines.iter().map(String::as_str)) {
        Ok(()) => status,
        Err(e) => {
            log::error!("reply could not be set ({e}); answering tempfail");
            Status::Tempfail
        }
    }
}

fn status_for(v: &Verdict, reply: &mut indymilter::SmtpReply) -> Status {
    match (v.action, &v.reply) {
        (Action::Accept, _) => Status::Accept,
        (_, Some(r)) => set_reply(reply, r),
        (Action::Reject, None) => Status::Reject,
        (Action::Tempfail, None) => Status::Tempfail,
    }
}

fn callbacks(shared: Arc<Shared>) -> Callbacks<Session> {
    let eom_shared = shared.clone();
    Callbacks::new()
        .on_negotiate(|cx: &mut NegotiateContext<Session>, _, _| {
            Box::pin(async move {
                let m = &mut cx.requested_macros;
                m.insert(MacroStage::Connect, c"j {daemon_name}".into());
                m.insert(MacroStage::Helo, c"{tls_version} {cipher}".into());
                m.insert(MacroStage::Mail, c"i {auth_authen} {mail_addr}".into());
                m.insert(MacroStage::Rcpt, c"i {rcpt_addr}".into());
                m.insert(MacroStage::Eom, c"i".into());
                Status::Continue
            })
        })
        .on_connect(
            |cx: &mut Context<Session>, hostname: CString, socket: SocketInfo| {
                Box::pin(async move {
                    let mut s = Session {
                        client_name: Some(lossy(&hostname)),
                        ..Default::default()
                    };
                    match socket {
                        // Postfix's cleanup (non_smtpd_milters) reports a client
                        // with port 0: mail from sendmail(1), not an SMTP session.
                        SocketInfo::Inet(addr) => {
                            s.client_ip = Some(addr.ip());
                            s.local = addr.port() == 0;
                        }
                        SocketInfo::Unix(_) | SocketInfo::Unknown => s.local = true,
                    }
                    cx.data = Some(s);
                    Status::Continue
                })
            },
        )
        .on_helo(|_, _| Box::pin(async { Status::Continue }))
        .on_mail(move |cx: &mut Context<Session>, args: Vec<CString>| {
            let shared = shared.clone();
            Box::pin(async move {
                let Some(session) = cx.data.as_mut() else {
                    return Status::Tempfail;
                };
                let sender = args
                    .first()
                    .map(|a| bare_address(&lossy(a)))
                    .unwrap_or_default();
                let inspector = shared.current();
                // One byte past the size limit, so the core sees it was passed.
                let cap = inspector
                    .config()
                    .limits
                    .max_message_bytes
                    .saturating_add(1) as usize;
                session.tx = Some(Transaction {
                    message: MessageBuffer::new(cap, shared.budget.clone()),
                    inspector,
                    sender,
                    auth: macro_value(&cx.macros, "{auth_authen}"),
                    recipients: Vec::new(),
                    queue_id: macro_value(&cx.macros, "i"),
                    reference: new_reference(),
                });
                // Incoming mail (a citizen writing to the municipality) is
                // not policed: accept it here, so it is neither buffered
                // nor inspected, and can never be tempfailed by our load.
                let tx = session.tx.as_ref().expect("just set");
                if !tx.inspector.is_outgoing(&session.envelope(tx)) {
                    session.tx = None;
                    return Status::Accept;
                }
                Status::Continue
            })
        })
        .on_rcpt(|cx: &mut Context<Session>, args: Vec<CString>| {
            Box::pin(async move {
                let Some(session) = cx.data.as_mut() else {
                    return Status::Tempfail;
                };
                let queue_id = macro_value(&cx.macros, "i");
                let local = session.local;
                let Some(tx) = session.tx.as_mut() else {
                    return Status::Tempfail;
                };
                if queue_id.is_some() {
                    tx.queue_id = queue_id;
                }
                let rcpt = args
                    .first()
                    .map(|a| bare_address(&lossy(a)))
                    .unwrap_or_default();
                // Mail from sendmail(1) cannot be refused per recipient:
                // the recipient rules run at end of message instead.
                if local {
                    tx.recipients.push(rcpt);
                    return Status::Continue;
                }
                let tx = session.tx.as_ref().expect("checked above");
                let v = tx.inspector.check_recipient(&session.envelope(tx), &rcpt);
                if let Some(line) =
                    audit::rcpt_line(&audit_cx(session, tx), &v, tx.inspector.config().mode)
                {
                    log::info!(target: "audit", "{line}");
                }
                let status = match (v.action, &v.reply) {
                    (Action::Accept, _) => Status::Continue,
                    (_, Some(r)) => set_reply(&mut cx.reply, r),
                    _ => Status::Reject,
                };
                if status == Status::Continue {
                    session
                        .tx
                        .as_mut()
                        .expect("checked above")
                        .recipients
                        .push(rcpt);
                }
                status
            })
        })
        .on_data(|_| Box::pin(async { Status::Continue }))
        .on_header(|cx: &mut Context<Session>, name: CString, value: CString| {
            Box::pin(async move {
                if let Some(tx) = cx.data.as_mut().and_then(|s| s.tx.as_mut()) {
                    let mut line =
                        Vec::with_capacity(name.as_bytes().len() + value.as_bytes().len() + 4);
                    line.extend_from_slice(name.as_bytes());
                    line.extend_from_slice(b": ");
                    line.extend_from_slice(value.as_bytes());
                    line.extend_from_slice(b"\r\n");
                    append(tx, &line);
                }
                Status::Continue
            })
        })
        .on_eoh(|cx: &mut Context<Session>| {
            Box::pin(async move {
                if let Some(tx) = cx.data.as_mut().and_then(|s| s.tx.as_mut()) {
                    append(tx, b"\r\n");
                }
                Status::Continue
            })
        })
        .on_body(|cx: &mut Context<Session>, chunk| {
            Box::pin(async move {
                if let Some(tx) = cx.data.as_mut().and_then(|s| s.tx.as_mut()) {
                    append(tx, &chunk);
                }
                Status::Continue
            })
        })
        .on_eom(move |cx: &mut EomContext<Session>| {
            let shared = eom_shared.clone();
            Box::pin(async move { end_of_message(cx, &shared).await })
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

fn append(tx: &mut Transaction, bytes: &[u8]) {
    tx.message.push(bytes);
}

async fn end_of_message(cx: &mut EomContext<Session>, shared: &Shared) -> Status {
    let queue_id = macro_value(&cx.macros, "i");
    let Some(session) = cx.data.as_mut() else {
        return Status::Tempfail;
    };
    let Some(mut tx) = session.tx.take() else {
        log::error!("end of message without a transaction; answering tempfail");
        return Status::Tempfail;
    };
    if queue_id.is_some() {
        tx.queue_id = queue_id;
    }
    let env = session.envelope(&tx);
    let inspector = tx.inspector.clone();
    let timeout = Duration::from_secs(inspector.config().limits.scan_timeout_seconds);
    if tx.message.over_budget {
        let v = inspector.tempfail(
            &env,
            "internal.overload",
            "limits.max_buffered_bytes in use by other mail",
        );
        if let Some(line) = audit::eom_line(&audit_cx(session, &tx), &v, inspector.config().mode) {
            log::info!(target: "audit", "{line}");
        }
        return status_for(&v, &mut cx.reply);
    }
    let message = tx.message.take();

    let weight = Weight::of(&message, shared.admission.settings().light_max_bytes);
    let client = env
        .auth_user
        .clone()
        .or_else(|| env.client_ip.map(|ip| ip.to_string()));
    let verdict = match shared
        .admission
        .inspection_slot(client.as_deref(), weight)
        .await
    {
        Err(busy) => inspector.tempfail(&env, "internal.overload", busy.reason()),
        Ok(permit) => {
            let (insp, e) = (inspector.clone(), env.clone());
            let job = tokio::task::spawn_blocking(move || {
                let _permit = permit;
                let verdict = insp.inspect_message(&e, &message);
                drop(message);
                if weight == Weight::Heavy {
                    crate::memory::release_free_memory();
                }
                verdict
            });
            match tokio::time::timeout(timeout, job).await {
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
                    inspector.tempfail(&env, "internal.error", "inspection failed")
                }
                Err(_) => inspector.tempfail(
                    &env,
                    "internal.timeout",
                    "inspection exceeded limits.scan_timeout_seconds",
                ),
            }
        }
    };
    if let Some(line) = audit::eom_line(&audit_cx(session, &tx), &verdict, inspector.config().mode)
    {
        log::info!(target: "audit", "{line}");
    }
    status_for(&verdict, &mut cx.reply)
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
    indymilter::run(listener, callbacks(shared), config, shutdown).await
}
