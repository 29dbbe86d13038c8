//! Reloading the configuration (SIGHUP): read and validate the file off the
//! async threads under a deadline, keep the running values of what only a
//! restart can change (as a warning per field), say what changed per
//! section, and swap the result in for new transactions. A bad file is
//! refused and the running configuration stays. Reloads run in their own
//! task: a slow or stuck one never delays SIGTERM.

use crate::milter::Shared;
use crate::settings::{self, DaemonSettings, Loaded};
use cpr_milter_core::redact::redact_digits;
use cpr_milter_core::Policy;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Serves milter connections as [`crate::run`] does, reloading the
/// configuration on each request from `reloads`. Reloads run beside the
/// milter, so shutdown never waits for one.
pub async fn run_reloading<L>(
    listener: L,
    shared: Arc<Shared>,
    reloads: Reloads,
    shutdown: impl std::future::Future,
) -> std::io::Result<()>
where
    L: indymilter::Listener,
    L::Io: crate::admission::PeerIdentity,
{
    let reloader = tokio::spawn(reloads.serve(shared.clone()));
    let result = crate::milter::run(listener, shared, shutdown).await;
    reloader.abort();
    result
}

/// How long one reload may take before it is given up.
pub const RELOAD_DEADLINE: Duration = Duration::from_secs(30);

/// Where reloads read from, and the requests to reload.
pub struct Reloads {
    path: PathBuf,
    requests: mpsc::Receiver<()>,
    deadline: Duration,
}

/// Asks for a reload; requests made while one is pending are folded into it.
#[derive(Clone)]
pub struct ReloadTrigger(mpsc::Sender<()>);

impl ReloadTrigger {
    /// Requests a reload (a no-op when one is already pending).
    pub fn request(&self) {
        let _ = self.0.try_send(());
    }
}

/// A reload channel for the file at `path`.
pub fn channel(path: PathBuf) -> (ReloadTrigger, Reloads) {
    let (tx, rx) = mpsc::channel(1);
    (
        ReloadTrigger(tx),
        Reloads {
            path,
            requests: rx,
            deadline: RELOAD_DEADLINE,
        },
    )
}

impl Reloads {
    /// Gives each reload `deadline` instead of [`RELOAD_DEADLINE`].
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Serves reload requests until the trigger is dropped.
    pub async fn serve(mut self, shared: Arc<Shared>) {
        while self.requests.recv().await.is_some() {
            self.reload_once(&shared).await;
        }
    }

    async fn reload_once(&self, shared: &Shared) {
        let path = self.path.clone();
        let job = tokio::task::spawn_blocking(move || settings::load(&path));
        let shown = redact_digits(&self.path.display().to_string());
        let new = match tokio::time::timeout(self.deadline, job).await {
            Ok(Ok(Ok(new))) => new,
            Ok(Ok(Err(e))) => {
                log::error!("reload refused, keeping the running configuration: {e}");
                crate::metrics::global().reload(false);
                return;
            }
            Ok(Err(_)) => {
                log::error!("reload failed internally, keeping the running configuration");
                crate::metrics::global().reload(false);
                return;
            }
            Err(_) => {
                log::error!(
                    "reload of {shown} took longer than {} s; keeping the running configuration",
                    self.deadline.as_secs()
                );
                crate::metrics::global().reload(false);
                return;
            }
        };
        let (old, running) = (shared.current(), shared.daemon());
        let new = keep_restart_only(&running, new);
        let changed = policy_changes(old.policy(), new.inspector.policy());
        let summary = if changed.is_empty() {
            "no rule changes".to_string()
        } else {
            changed.join(", ")
        };
        log::info!(
            "configuration reloaded from {shown} (mode={}): {summary}",
            new.inspector.policy().mode.as_str()
        );
        shared.replace(new);
        crate::metrics::global().reload(true);
    }
}

/// `new` with the running values of the settings only a restart applies
/// (the socket is bound and the logger set up once), warning for each.
pub fn keep_restart_only(running: &DaemonSettings, mut new: Loaded) -> Loaded {
    let d = &mut new.daemon;
    let warn = |field: &str, old: String, new: String| {
        log::warn!(
            "{field}: {old} → {new} is not applied (listen and log.* changes take effect only at restart; the rest is reloaded)",
        );
    };
    if d.listen != running.listen {
        warn("listen", running.listen.to_string(), d.listen.to_string());
        d.listen = running.listen.clone();
    }
    if d.log_destination != running.log_destination {
        warn(
            "log.destination",
            format!("{:?}", running.log_destination).to_lowercase(),
            format!("{:?}", d.log_destination).to_lowercase(),
        );
        d.log_destination = running.log_destination;
    }
    if d.log_facility != running.log_facility {
        warn(
            "log.facility",
            running.log_facility.clone(),
            d.log_facility.clone(),
        );
        d.log_facility = running.log_facility.clone();
    }
    if d.log_syslog_socket != running.log_syslog_socket {
        let show = |p: &Option<PathBuf>| {
            p.as_ref()
                .map_or("(default)".to_string(), |p| p.display().to_string())
        };
        warn(
            "log.syslog_socket",
            show(&running.log_syslog_socket),
            show(&d.log_syslog_socket),
        );
        d.log_syslog_socket = running.log_syslog_socket.clone();
    }
    if d.metrics_listen != running.metrics_listen {
        warn(
            "metrics.listen",
            show_listen(&running.metrics_listen),
            show_listen(&d.metrics_listen),
        );
        d.metrics_listen = running.metrics_listen.clone();
    }
    // Slots and caps are sized once, when the listener starts.
    if d.admission != running.admission {
        log::warn!("admission.* changes are not applied; they take effect only at restart");
        d.admission = running.admission.clone();
    }
    new
}

/// The rule counts per section, in the order of the file.
fn counts(p: &Policy) -> [(&'static str, usize); 10] {
    [
        ("organisation.domains", p.org_domains.len()),
        ("organisation.partner_domains", p.partner_domains.len()),
        ("organisation.networks", p.networks.len()),
        ("cpr.secure_destinations", p.secure_destinations.len()),
        ("cpr.exempt_dates", p.exempt_dates.len()),
        ("cpr.positive_keywords", p.positive_keywords.len()),
        ("cpr.negative_keywords", p.negative_keywords.len()),
        ("recipients.allow", p.lookalike_allow.len()),
        ("recipients.retired", p.retired.len()),
        ("replies", p.replies.iter().count()),
    ]
}

/// What changed, section by section (`recipients.retired 2 → 3`), with a
/// warning for every section that had entries and now has none: a
/// half-written file must not make rules vanish silently.
pub fn policy_changes(old: &Policy, new: &Policy) -> Vec<String> {
    let mut out = Vec::new();
    if old.mode != new.mode {
        out.push(format!(
            "mode {} → {}",
            old.mode.as_str(),
            new.mode.as_str()
        ));
    }
    for ((section, before), (_, after)) in counts(old).into_iter().zip(counts(new)) {
        if before != after {
            out.push(format!("{section} {before} → {after}"));
            if after == 0 {
                log::warn!("reload: {section} is now empty (it had {before}); check the file");
            }
        }
    }
    if old.limits != new.limits
        || old.scan_timeout() != new.scan_timeout()
        || old.unscannable != new.unscannable
    {
        out.push("limits changed".into());
    }
    if old.lookalike_reject != new.lookalike_reject {
        out.push(format!(
            "recipients.lookalike {} → {}",
            on_off(old.lookalike_reject),
            on_off(new.lookalike_reject)
        ));
    }
    out
}

fn on_off(reject: bool) -> &'static str {
    if reject {
        "reject"
    } else {
        "off"
    }
}

fn show_listen(l: &Option<crate::settings::ListenAddr>) -> String {
    l.as_ref().map_or("off".to_string(), |a| a.to_string())
}
