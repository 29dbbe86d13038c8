//! Admission: who gets a milter connection and who gets an inspection slot,
//! so that no client (and no idle socket holder) can stop everyone's mail.
//!
//! Two gates:
//!
//! * **Connections** ([`AdmittedListener`]): an overall cap and a cap per
//!   peer. The peer of a milter connection is the MTA's process, not the SMTP
//!   client: over a unix socket it is the connecting user id (`SO_PEERCRED`),
//!   otherwise the peer's IP address; past [`LOOPBACK_BY_ADDRESS`] loopback
//!   connections, each further one counts for the user id owning the other
//!   end of the socket (from `/proc/net/tcp*`). So a local user who
//!   opens hundreds of connections to `inet:127.0.0.1:…` uses up their own
//!   share, never Postfix's. A connection over a cap is closed at once (the
//!   MTA applies `milter_default_action`, normally a tempfail, to that one
//!   session) and a warning is logged, at most once per
//!   [`REFUSAL_LOG_INTERVAL`] with the number refused since. Between milter
//!   commands a connection may stay silent for `idle_timeout` only.
//! * **Inspections** ([`Admission::inspection_slot`]): end-of-message work runs
//!   in a bounded pool split into two classes. *Light* mail (small, no
//!   `application/…` part) has slots of its own and may also borrow a free
//!   heavy slot; *heavy* mail (large or with attachments that need a reader)
//!   waits for heavy slots only, so ordinary mail is never queued behind a
//!   few expensive PDFs. Each client (SASL user, else client IP) may hold at
//!   most `max_inspections_per_client` heavy slots at once. The wait is bounded by
//!   `slot_wait`; a mail that gets no slot in time gets a 451 (the sending
//!   MTA retries later) instead of running into the MTA's own timeout.
//!
//! Sizing against Postfix's defaults: `milter_connect_timeout` and
//! `milter_command_timeout` are 30 s, `milter_content_timeout` (which covers
//! the end-of-message reply) is 300 s. At end of message the milter needs at
//! most `slot_wait` + `limits.scan_timeout_seconds` (default 10 s + 30 s =
//! 40 s), far inside 300 s, so a busy milter answers 451 itself and Postfix
//! never has to give up on it. Between two milter commands Postfix waits for
//! its SMTP client, up to `smtpd_timeout` (300 s by default), so the default
//! `idle_timeout` of 330 s never cuts off a legitimate session that Postfix
//! itself would keep; it replaces indymilter's default of two hours, for
//! which a held connection is effectively permanent.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// At most one "limit reached" warning per kind in this interval.
pub const REFUSAL_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// The admission limits (`admission:` in the configuration file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdmissionSettings {
    /// Milter connections open at once, over all peers.
    pub max_connections: usize,
    /// Milter connections open at once from one peer (user id or address).
    pub max_connections_per_peer: usize,
    /// Longest silence allowed between two milter commands.
    pub idle_timeout: Duration,
    /// Inspection slots for light mail (0: twice the CPU count).
    pub light_slots: usize,
    /// Inspection slots for heavy mail (0: the CPU count).
    pub heavy_slots: usize,
    /// Mail up to this size without an `application/…` part is light.
    pub light_max_bytes: usize,
    /// Heavy slots one client (SASL user, else client IP) may hold at once
    /// (0: half the heavy slots, at least one).
    pub max_inspections_per_client: usize,
    /// Longest wait for an inspection slot before answering 451.
    pub slot_wait: Duration,
}

impl Default for AdmissionSettings {
    fn default() -> Self {
        AdmissionSettings {
            max_connections: 512,
            max_connections_per_peer: 256,
            idle_timeout: Duration::from_secs(330),
            light_slots: 0,
            heavy_slots: 0,
            light_max_bytes: 256 * 1024,
            max_inspections_per_client: 0,
            slot_wait: Duration::from_secs(10),
        }
    }
}

/// The `admission:` section as written; `None` keeps the default.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAdmission {
    pub max_connections: Option<usize>,
    pub max_connections_per_peer: Option<usize>,
    pub idle_timeout_seconds: Option<u64>,
    pub light_slots: Option<usize>,
    pub heavy_slots: Option<usize>,
    pub light_max_bytes: Option<usize>,
    pub max_inspections_per_client: Option<usize>,
    pub slot_wait_seconds: Option<u64>,
}

impl AdmissionSettings {
    /// The file's `admission:` values over the defaults. Caps and waits of
    /// zero would refuse everything, so they count as 1.
    pub fn from_raw(c: &RawAdmission) -> AdmissionSettings {
        let d = AdmissionSettings::default();
        AdmissionSettings {
            max_connections: c.max_connections.unwrap_or(d.max_connections).max(1),
            max_connections_per_peer: c
                .max_connections_per_peer
                .unwrap_or(d.max_connections_per_peer)
                .max(1),
            idle_timeout: c
                .idle_timeout_seconds
                .map_or(d.idle_timeout, |s| Duration::from_secs(s.max(1))),
            light_slots: c.light_slots.unwrap_or(d.light_slots),
            heavy_slots: c.heavy_slots.unwrap_or(d.heavy_slots),
            light_max_bytes: c.light_max_bytes.unwrap_or(d.light_max_bytes),
            max_inspections_per_client: c
                .max_inspections_per_client
                .unwrap_or(d.max_inspections_per_client),
            slot_wait: c
                .slot_wait_seconds
                .map_or(d.slot_wait, |s| Duration::from_secs(s.max(1))),
        }
    }

    /// The settings with every "0 = automatic" value resolved for `cpus`.
    pub fn resolved(&self, cpus: usize) -> AdmissionSettings {
        let cpus = cpus.max(1);
        let heavy = if self.heavy_slots == 0 {
            cpus
        } else {
            self.heavy_slots
        };
        AdmissionSettings {
            light_slots: if self.light_slots == 0 {
                cpus * 2
            } else {
                self.light_slots
            },
            heavy_slots: heavy,
            max_inspections_per_client: if self.max_inspections_per_client == 0 {
                (heavy / 2).max(1)
            } else {
                self.max_inspections_per_client
            },
            ..self.clone()
        }
    }
}

/// Who is on the other end of a milter connection.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Peer {
    Uid(u32),
    Ip(IpAddr),
    Unknown,
}

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Peer::Uid(u) => write!(f, "uid {u}"),
            Peer::Ip(ip) => write!(f, "{ip}"),
            Peer::Unknown => f.write_str("unknown peer"),
        }
    }
}

/// How heavy a message is to inspect, judged from its raw bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weight {
    Light,
    Heavy,
}

impl Weight {
    /// Light: at most `light_max_bytes` and no `application/…` content
    /// type (PDF, Office, archives: the parts that need a reader). A false
    /// "heavy" only costs a wait in the other class.
    pub fn of(raw: &[u8], light_max_bytes: usize) -> Weight {
        if raw.len() > light_max_bytes || contains_ignore_case(raw, b"application/") {
            Weight::Heavy
        } else {
            Weight::Light
        }
    }
}

fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Why an inspection got no slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Busy {
    /// This client already holds its share of slots for `slot_wait`.
    ClientLimit,
    /// Every slot of the mail's class stayed taken for `slot_wait`.
    NoSlot(Weight),
}

impl Busy {
    /// The reason for the audit line.
    pub fn reason(&self) -> &'static str {
        match self {
            Busy::ClientLimit => {
                "busy: this client's share of slots for large mail or mail with attachments stayed in use (admission.max_inspections_per_client)"
            }
            Busy::NoSlot(Weight::Light) => {
                "busy: no inspection slot free within admission.slot_wait"
            }
            Busy::NoSlot(Weight::Heavy) => {
                "busy: no inspection slot for large mail or mail with attachments free within admission.slot_wait"
            }
        }
    }
}

/// An inspection slot; give it to the blocking job so it is held exactly as
/// long as the work runs, even when the MTA has already had its answer.
pub struct Slot {
    _class: OwnedSemaphorePermit,
    _client: ClientPermit,
}

/// The admission state shared by all connections.
pub struct Admission {
    settings: AdmissionSettings,
    light: Arc<Semaphore>,
    heavy: Arc<Semaphore>,
    clients: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
    connections: Mutex<ConnectionCounts>,
    refusals: Mutex<RefusalLog>,
}

#[derive(Default)]
struct ConnectionCounts {
    total: usize,
    per_peer: HashMap<Peer, usize>,
}

/// Rate limit for "limit reached" warnings.
#[derive(Default)]
struct RefusalLog {
    last: HashMap<&'static str, Instant>,
    suppressed: HashMap<&'static str, u64>,
}

impl RefusalLog {
    /// The number refused since the last line, when a line is due now.
    fn due(&mut self, kind: &'static str, now: Instant) -> Option<u64> {
        let n = self.suppressed.entry(kind).or_insert(0);
        *n += 1;
        let due = self
            .last
            .get(kind)
            .is_none_or(|t| now.duration_since(*t) >= REFUSAL_LOG_INTERVAL);
        if due {
            self.last.insert(kind, now);
            Some(std::mem::take(n))
        } else {
            None
        }
    }
}

impl Admission {
    /// `settings` with automatic values resolved for this machine.
    pub fn new(settings: &AdmissionSettings) -> Arc<Admission> {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        let settings = settings.resolved(cpus);
        Arc::new(Admission {
            light: Arc::new(Semaphore::new(settings.light_slots)),
            heavy: Arc::new(Semaphore::new(settings.heavy_slots)),
            clients: Arc::default(),
            connections: Mutex::default(),
            refusals: Mutex::default(),
            settings,
        })
    }

    pub fn settings(&self) -> &AdmissionSettings {
        &self.settings
    }

    fn warn_limited(&self, kind: &'static str, what: impl FnOnce(u64) -> String) {
        let due = self
            .refusals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .due(kind, Instant::now());
        if let Some(n) = due {
            log::warn!("{}", what(n));
        }
    }

    /// Takes a connection place for `peer`, or `None` (logged) over a cap.
    pub fn admit_connection(self: &Arc<Self>, peer: Peer) -> Option<ConnectionGuard> {
        let mut c = self.connections.lock().unwrap_or_else(|e| e.into_inner());
        let mine = c.per_peer.get(&peer).copied().unwrap_or(0);
        let refused = if c.total >= self.settings.max_connections {
            Some((
                "connections",
                self.settings.max_connections,
                "admission.max_connections",
            ))
        } else if mine >= self.settings.max_connections_per_peer {
            Some((
                "connections-per-peer",
                self.settings.max_connections_per_peer,
                "admission.max_connections_per_peer",
            ))
        } else {
            None
        };
        if let Some((kind, max, key)) = refused {
            drop(c);
            self.warn_limited(kind, |n| {
                format!(
                    "milter connection from {peer} refused: {max} open ({key}); {n} refused since the last warning"
                )
            });
            return None;
        }
        c.total += 1;
        *c.per_peer.entry(peer.clone()).or_insert(0) += 1;
        Some(ConnectionGuard {
            admission: self.clone(),
            peer,
        })
    }

    /// Connections open now (total, and from `peer`).
    pub fn open_connections(&self, peer: &Peer) -> (usize, usize) {
        let c = self.connections.lock().unwrap_or_else(|e| e.into_inner());
        (c.total, c.per_peer.get(peer).copied().unwrap_or(0))
    }

    /// Waits up to `slot_wait` for a slot for a mail of `weight` from
    /// `client` (SASL user, else client IP; `None` when unknown).
    pub async fn inspection_slot(
        &self,
        client: Option<&str>,
        weight: Weight,
    ) -> Result<Slot, Busy> {
        let deadline = tokio::time::Instant::now() + self.settings.slot_wait;
        // The share limits heavy mail only: light mail is cheap, has its own
        // class, and an internal relay sends all of an office's mail from
        // one address.
        let client = match client.filter(|_| weight == Weight::Heavy) {
            Some(key) => {
                let permit = tokio::time::timeout_at(deadline, self.client_permit(key)).await;
                match permit {
                    Ok(p) => p,
                    Err(_) => {
                        self.warn_limited("client-slots", |n| {
                            format!(
                                "inspection refused (451): a client held {} heavy slots for {} s (admission.max_inspections_per_client); {n} refused since the last warning",
                                self.settings.max_inspections_per_client,
                                self.settings.slot_wait.as_secs()
                            )
                        });
                        return Err(Busy::ClientLimit);
                    }
                }
            }
            None => ClientPermit::none(),
        };
        let class = match weight {
            Weight::Heavy => tokio::time::timeout_at(deadline, self.heavy.clone().acquire_owned())
                .await
                .ok()
                .and_then(Result::ok),
            Weight::Light => tokio::time::timeout_at(deadline, async {
                // Its own class first; a free heavy slot is fine too.
                tokio::select! {
                    biased;
                    p = self.light.clone().acquire_owned() => p,
                    p = self.heavy.clone().acquire_owned() => p,
                }
            })
            .await
            .ok()
            .and_then(Result::ok),
        };
        match class {
            Some(p) => Ok(Slot {
                _class: p,
                _client: client,
            }),
            None => {
                let (kind, slots) = match weight {
                    Weight::Light => ("light-slots", self.settings.light_slots),
                    Weight::Heavy => ("heavy-slots", self.settings.heavy_slots),
                };
                self.warn_limited(kind, |n| {
                    format!(
                        "inspection refused (451): all {slots} {} slots stayed busy for {} s (admission.slot_wait); {n} refused since the last warning",
                        if weight == Weight::Light { "light" } else { "heavy" },
                        self.settings.slot_wait.as_secs()
                    )
                });
                Err(Busy::NoSlot(weight))
            }
        }
    }

    async fn client_permit(&self, key: &str) -> ClientPermit {
        let sem = {
            let mut map = self.clients.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(key.to_string())
                .or_insert_with(|| {
                    Arc::new(Semaphore::new(self.settings.max_inspections_per_client))
                })
                .clone()
        };
        let permit = sem
            .clone()
            .acquire_owned()
            .await
            .expect("client semaphores are never closed");
        ClientPermit {
            _hold: Some(ClientHold {
                clients: self.clients.clone(),
                key: key.to_string(),
                sem,
                permit: Some(permit),
            }),
        }
    }

    /// Clients with an entry in the per-client table (for tests: entries go
    /// away when their last slot is given back).
    pub fn tracked_clients(&self) -> usize {
        self.clients.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// A client's share, given back on drop; the client's table entry goes when
/// nobody holds or waits for it.
struct ClientPermit {
    _hold: Option<ClientHold>,
}

struct ClientHold {
    clients: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
    key: String,
    sem: Arc<Semaphore>,
    permit: Option<OwnedSemaphorePermit>,
}

impl ClientPermit {
    fn none() -> Self {
        ClientPermit { _hold: None }
    }
}

impl Drop for ClientHold {
    fn drop(&mut self) {
        let mut map = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        drop(self.permit.take());
        // Held by the table and by us only: no one else holds or waits.
        if Arc::strong_count(&self.sem) == 2 {
            map.remove(&self.key);
        }
    }
}

/// A connection's place, given back when the connection is dropped.
pub struct ConnectionGuard {
    admission: Arc<Admission>,
    peer: Peer,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        let mut c = self
            .admission
            .connections
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        c.total = c.total.saturating_sub(1);
        if let Some(n) = c.per_peer.get_mut(&self.peer) {
            *n -= 1;
            if *n == 0 {
                c.per_peer.remove(&self.peer);
            }
        }
    }
}

/// A stream that knows its peer.
pub trait PeerIdentity {
    /// The cheap identity: the user id over a unix socket, the address over
    /// TCP.
    fn peer(&self) -> Peer;
    /// Whether the MTA may be told to skip replies on this transport: true on
    /// a unix socket; over TCP Postfix does not set TCP_NODELAY, so a skipped
    /// reply leaves its next small write waiting for a delayed ACK.
    const SKIPPED_REPLIES_SAFE: bool = false;
    /// The user id behind a loopback TCP peer (costs a read of the kernel's
    /// socket table); `None` when not known.
    fn loopback_uid(&self) -> Option<u32> {
        None
    }
}

impl PeerIdentity for tokio::net::UnixStream {
    const SKIPPED_REPLIES_SAFE: bool = true;

    fn peer(&self) -> Peer {
        self.peer_cred()
            .map_or(Peer::Unknown, |c| Peer::Uid(c.uid()))
    }
}

impl PeerIdentity for tokio::net::TcpStream {
    fn peer(&self) -> Peer {
        self.peer_addr()
            .map_or(Peer::Unknown, |remote| Peer::Ip(remote.ip()))
    }

    fn loopback_uid(&self) -> Option<u32> {
        loopback_owner(self.peer_addr().ok()?, self.local_addr().ok()?)
    }
}

/// Loopback connections are counted by address up to this many; past it
/// each new one is counted by the user id owning it, so the socket table
/// is read only when someone holds many connections, and a local user's
/// pile cannot use up the MTA's share.
pub const LOOPBACK_BY_ADDRESS: usize = 32;

/// For a loopback connection, the user id owning the client's socket, read
/// from the kernel's socket tables (Linux); `None` elsewhere.
fn loopback_owner(remote: SocketAddr, local: SocketAddr) -> Option<u32> {
    if !remote.ip().is_loopback() {
        return None;
    }
    let table = match remote {
        SocketAddr::V4(_) => "/proc/net/tcp",
        SocketAddr::V6(_) => "/proc/net/tcp6",
    };
    let text = std::fs::read_to_string(table).ok()?;
    socket_owner(&text, remote, local)
}

/// The `uid` column of the row whose local end is `client` and remote end
/// `server`, in the format of `/proc/net/tcp` (addresses in hex, 32-bit
/// words in host byte order).
fn socket_owner(table: &str, client: SocketAddr, server: SocketAddr) -> Option<u32> {
    let (want_local, want_remote) = (proc_addr(client), proc_addr(server));
    table.lines().skip(1).find_map(|line| {
        let mut cols = line.split_whitespace().skip(1);
        let (l, r) = (cols.next()?, cols.next()?);
        if !(l.eq_ignore_ascii_case(&want_local) && r.eq_ignore_ascii_case(&want_remote)) {
            return None;
        }
        cols.nth(4)?.parse().ok()
    })
}

fn proc_addr(a: SocketAddr) -> String {
    let words: Vec<u32> = match a.ip() {
        IpAddr::V4(ip) => vec![u32::from_ne_bytes(ip.octets())],
        IpAddr::V6(ip) => ip
            .octets()
            .chunks(4)
            .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    };
    let mut s: String = words.iter().map(|w| format!("{w:08X}")).collect();
    s.push_str(&format!(":{:04X}", a.port()));
    s
}

/// A listener that closes connections over the caps and tags every
/// admitted one with its place.
pub struct AdmittedListener<L> {
    inner: L,
    admission: Arc<Admission>,
}

impl<L> AdmittedListener<L> {
    pub fn new(inner: L, admission: Arc<Admission>) -> Self {
        AdmittedListener { inner, admission }
    }
}

impl<L> indymilter::Listener for AdmittedListener<L>
where
    L: indymilter::Listener,
    L::Io: PeerIdentity,
{
    type Io = Admitted<L::Io>;

    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Self::Io>> {
        loop {
            match self.inner.poll_accept(cx) {
                Poll::Ready(Ok(stream)) => {
                    let mut peer = stream.peer();
                    if matches!(peer, Peer::Ip(ip) if ip.is_loopback())
                        && self.admission.open_connections(&peer).1 >= LOOPBACK_BY_ADDRESS
                    {
                        if let Some(uid) = stream.loopback_uid() {
                            peer = Peer::Uid(uid);
                        }
                    }
                    if let Some(guard) = self.admission.admit_connection(peer) {
                        return Poll::Ready(Ok(Admitted {
                            stream,
                            _guard: guard,
                        }));
                    }
                    // Over a cap: dropping the stream closes it; next one.
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// An admitted connection: the stream and its place.
pub struct Admitted<S> {
    stream: S,
    _guard: ConnectionGuard,
}

impl<S: AsyncRead + Unpin> AsyncRead for Admitted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Admitted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(light: usize, heavy: usize, per_client: usize, wait_ms: u64) -> AdmissionSettings {
        AdmissionSettings {
            light_slots: light,
            heavy_slots: heavy,
            max_inspections_per_client: per_client,
            slot_wait: Duration::from_millis(wait_ms),
            ..AdmissionSettings::default()
        }
    }

    #[test]
    fn automatic_sizes_follow_the_cpu_count() {
        let s = AdmissionSettings::default().resolved(4);
        assert_eq!(
            (s.light_slots, s.heavy_slots, s.max_inspections_per_client),
            (8, 4, 2)
        );
        let s = AdmissionSettings::default().resolved(1);
        assert_eq!(
            (s.light_slots, s.heavy_slots, s.max_inspections_per_client),
            (2, 1, 1)
        );
        let s = settings(3, 5, 7, 1).resolved(64);
        assert_eq!(
            (s.light_slots, s.heavy_slots, s.max_inspections_per_client),
            (3, 5, 7)
        );
    }

    #[test]
    fn file_values_override_defaults_and_zero_caps_count_as_one() {
        let c = crate::settings::parse(
            "listen: inet:127.0.0.1:1\nadmission:\n  max_connections: 0\n  max_connections_per_peer: 9\n  idle_timeout_seconds: 60\n  slot_wait_seconds: 0\n  heavy_slots: 3\n",
            "test",
        )
        .unwrap();
        let s = c.daemon.admission;
        assert_eq!(s.max_connections, 1);
        assert_eq!(s.max_connections_per_peer, 9);
        assert_eq!(s.idle_timeout, Duration::from_secs(60));
        assert_eq!(s.slot_wait, Duration::from_secs(1));
        assert_eq!(s.heavy_slots, 3);
        assert_eq!(
            s.light_max_bytes,
            AdmissionSettings::default().light_max_bytes
        );
        let none = crate::settings::parse("listen: inet:127.0.0.1:1\n", "t").unwrap();
        assert_eq!(none.daemon.admission, AdmissionSettings::default());
        let bad = crate::settings::parse(
            "listen: inet:127.0.0.1:1\nadmission:\n  max_conections: 5\n",
            "t",
        );
        assert!(bad.is_err(), "a misspelt key is an error");
    }

    #[test]
    fn attachments_and_size_make_mail_heavy() {
        assert_eq!(
            Weight::of(b"Subject: hej\r\n\r\nhej\r\n", 1024),
            Weight::Light
        );
        assert_eq!(
            Weight::of(b"Content-Type: Application/PDF\r\n\r\n%PDF-1.4", 1024),
            Weight::Heavy
        );
        assert_eq!(Weight::of(&[b'a'; 1025], 1024), Weight::Heavy);
    }

    #[tokio::test]
    async fn a_client_at_its_share_gets_busy_while_others_are_served() {
        let a = Admission::new(&settings(4, 4, 1, 200));
        let held = a
            .inspection_slot(Some("jens"), Weight::Heavy)
            .await
            .unwrap();
        let again = a.inspection_slot(Some("jens"), Weight::Heavy).await;
        assert_eq!(again.err(), Some(Busy::ClientLimit));
        let light = a.inspection_slot(Some("jens"), Weight::Light).await;
        assert!(light.is_ok(), "the share does not hold back light mail");
        let other = a.inspection_slot(Some("karen"), Weight::Heavy).await;
        assert!(other.is_ok(), "another client is served");
        drop(held);
        assert!(a.inspection_slot(Some("jens"), Weight::Heavy).await.is_ok());
    }

    #[tokio::test]
    async fn light_mail_is_not_stuck_behind_heavy_mail() {
        let a = Admission::new(&settings(1, 2, 10, 200));
        let h1 = a.inspection_slot(Some("a"), Weight::Heavy).await.unwrap();
        let h2 = a.inspection_slot(Some("b"), Weight::Heavy).await.unwrap();
        assert_eq!(
            a.inspection_slot(Some("c"), Weight::Heavy).await.err(),
            Some(Busy::NoSlot(Weight::Heavy)),
            "heavy mail waits for heavy slots only"
        );
        let light = a.inspection_slot(Some("c"), Weight::Light).await;
        assert!(light.is_ok(), "light mail has its own slot");
        drop(h1);
        // A freed heavy slot may be borrowed by light mail.
        let borrowed = a.inspection_slot(Some("d"), Weight::Light).await;
        assert!(borrowed.is_ok());
        drop((h2, light, borrowed));
    }

    #[tokio::test]
    async fn a_waiting_mail_gets_the_slot_given_back_before_its_deadline() {
        let a = Admission::new(&settings(1, 1, 10, 5_000));
        let h = a.inspection_slot(None, Weight::Heavy).await.unwrap();
        let waiter = {
            let a = a.clone();
            tokio::spawn(async move { a.inspection_slot(None, Weight::Heavy).await.is_ok() })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(h);
        assert!(waiter.await.unwrap());
    }

    #[tokio::test]
    async fn client_entries_go_away_with_their_last_slot() {
        let a = Admission::new(&settings(4, 4, 2, 100));
        let s1 = a.inspection_slot(Some("x"), Weight::Heavy).await.unwrap();
        let s2 = a.inspection_slot(Some("x"), Weight::Heavy).await.unwrap();
        let _ = a
            .inspection_slot(Some("x"), Weight::Heavy)
            .await
            .err()
            .unwrap();
        assert_eq!(a.tracked_clients(), 1);
        drop(s1);
        assert_eq!(a.tracked_clients(), 1, "still held by the second slot");
        drop(s2);
        assert_eq!(a.tracked_clients(), 0);
    }

    #[test]
    fn connection_caps_are_per_peer_and_overall() {
        let a = Admission::new(&AdmissionSettings {
            max_connections: 3,
            max_connections_per_peer: 2,
            ..AdmissionSettings::default()
        });
        let (p, q, r) = (Peer::Uid(1), Peer::Uid(2), Peer::Ip([10, 0, 0, 1].into()));
        let p1 = a.admit_connection(p.clone()).unwrap();
        let _p2 = a.admit_connection(p.clone()).unwrap();
        assert!(a.admit_connection(p.clone()).is_none(), "per-peer cap");
        let _q1 = a.admit_connection(q.clone()).unwrap();
        assert!(a.admit_connection(r.clone()).is_none(), "overall cap");
        assert_eq!(a.open_connections(&p), (3, 2));
        drop(p1);
        assert_eq!(a.open_connections(&p), (2, 1));
        assert!(a.admit_connection(r).is_some());
    }

    #[test]
    fn refusal_warnings_are_rate_limited_and_count_what_they_skipped() {
        let mut log = RefusalLog::default();
        let t0 = Instant::now();
        assert_eq!(log.due("x", t0), Some(1));
        assert_eq!(log.due("x", t0 + Duration::from_secs(1)), None);
        assert_eq!(log.due("x", t0 + Duration::from_secs(2)), None);
        assert_eq!(log.due("y", t0 + Duration::from_secs(2)), Some(1));
        assert_eq!(log.due("x", t0 + REFUSAL_LOG_INTERVAL), Some(3));
    }

    #[test]
    fn socket_owner_reads_the_kernel_table_format() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   \
0: 0100007F:22B3 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n   \
1: 0100007F:C350 0100007F:22B3 01 00000000:00000000 00:00000000 00000000   107        0 2 1 0 20 4 30 10 -1\n";
        let client: SocketAddr = "127.0.0.1:50000".parse().unwrap();
        let server: SocketAddr = "127.0.0.1:8883".parse().unwrap();
        assert_eq!(socket_owner(table, client, server), Some(107));
        assert_eq!(socket_owner(table, server, client), None);
    }

    fn own_uid() -> Option<u32> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with("Uid:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    #[tokio::test]
    async fn a_loopback_peer_is_known_by_its_user_id() {
        let Some(uid) = own_uid() else {
            return; // not Linux: nothing to compare with
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (server_side, _) = listener.accept().await.unwrap();
        assert_eq!(server_side.peer(), Peer::Ip([127, 0, 0, 1].into()));
        assert_eq!(server_side.loopback_uid(), Some(uid));
        drop(client);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let unix = tokio::net::UnixListener::bind(&path).unwrap();
        let _c = tokio::net::UnixStream::connect(&path).await.unwrap();
        let (s, _) = unix.accept().await.unwrap();
        assert_eq!(s.peer(), Peer::Uid(uid));
    }
}
