//! The metrics listener: a minimal HTTP/1.x responder for `GET /metrics`
//! on TCP or a unix socket. Every connection is bounded in time and size,
//! and only a few are served at once, so a client that connects and never
//! reads (or never writes) costs one slot for a few seconds, nothing more.

use super::Metrics;
use crate::settings::ListenAddr;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Semaphore;

/// Connections served at once; more are closed at once.
const MAX_CONNECTIONS: usize = 8;
/// Time a client has to send its request, and to take the answer.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest request head read.
const MAX_REQUEST: usize = 8 * 1024;

pub enum MetricsListener {
    Tcp(tokio::net::TcpListener),
    Unix(tokio::net::UnixListener, std::path::PathBuf),
}

impl MetricsListener {
    /// Binds `addr` (a stale unix socket file is replaced).
    pub async fn bind(addr: &ListenAddr) -> io::Result<Self> {
        match addr {
            ListenAddr::Inet(a) => Ok(MetricsListener::Tcp(
                tokio::net::TcpListener::bind(a).await?,
            )),
            ListenAddr::Unix(p) => {
                if std::fs::symlink_metadata(p).is_ok_and(|m| {
                    use std::os::unix::fs::FileTypeExt;
                    m.file_type().is_socket()
                }) {
                    let _ = std::fs::remove_file(p);
                }
                Ok(MetricsListener::Unix(
                    tokio::net::UnixListener::bind(p)?,
                    p.clone(),
                ))
            }
        }
    }
}

impl Drop for MetricsListener {
    fn drop(&mut self) {
        if let MetricsListener::Unix(_, p) = self {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Serves until the task is dropped. `refresh` runs before each answer
/// (gauges read from elsewhere: the memory budget).
pub async fn run(
    listener: MetricsListener,
    metrics: &'static Metrics,
    refresh: Arc<dyn Fn() + Send + Sync>,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let conn: Box<dyn Connection> = match &listener {
            MetricsListener::Tcp(l) => match l.accept().await {
                Ok((s, _)) => Box::new(s),
                Err(e) => {
                    log::warn!("metrics listener: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            MetricsListener::Unix(l, _) => match l.accept().await {
                Ok((s, _)) => Box::new(s),
                Err(e) => {
                    log::warn!("metrics listener: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            continue; // busy: dropping the connection closes it
        };
        let refresh = refresh.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _ = tokio::time::timeout(IO_TIMEOUT * 2, answer(conn, metrics, &*refresh)).await;
        });
    }
}

trait Connection: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Connection for T {}

async fn answer(
    mut conn: Box<dyn Connection>,
    metrics: &Metrics,
    refresh: &(dyn Fn() + Send + Sync),
) -> io::Result<()> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && !head.windows(2).any(|w| w == b"\n\n") {
        let n = tokio::time::timeout(IO_TIMEOUT, conn.read(&mut buf))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "request too slow"))??;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
        if head.len() > MAX_REQUEST {
            return respond(
                &mut conn,
                "431 Request Header Fields Too Large",
                "text/plain",
                "",
            )
            .await;
        }
    }
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    match (method, path) {
        ("GET" | "HEAD", "/metrics" | "/") => {
            refresh();
            let body = metrics.render();
            let body = if method == "HEAD" {
                String::new()
            } else {
                body
            };
            respond(
                &mut conn,
                "200 OK",
                "text/plain; version=0.0.4; charset=utf-8",
                &body,
            )
            .await
        }
        ("GET" | "HEAD", _) => {
            respond(
                &mut conn,
                "404 Not Found",
                "text/plain",
                "only /metrics is served\n",
            )
            .await
        }
        _ => respond(&mut conn, "405 Method Not Allowed", "text/plain", "").await,
    }
}

async fn respond(
    conn: &mut Box<dyn Connection>,
    status: &str,
    content_type: &str,
    body: &str,
) -> io::Result<()> {
    let msg = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tokio::time::timeout(IO_TIMEOUT, conn.write_all(msg.as_bytes()))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "client does not read"))??;
    let _ = conn.shutdown().await;
    Ok(())
}
