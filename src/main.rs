//! `cpr-milter` entry point: parse the command line and hand over to the
//! library. Kept thin so everything testable lives in the library.

use clap::Parser;
use cpr_milter::cli::{Cli, Command};
use cpr_milter::{logging, metrics, scan, settings, Shared};
use cpr_milter_core::config::ListenAddr;
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    // A panic message can quote the text being inspected (a slicing panic
    // prints the string): report where it happened, never what it said.
    std::panic::set_hook(Box::new(|info| {
        let at = info.location().map_or("unknown location".to_string(), |l| {
            format!("{}:{}", l.file(), l.line())
        });
        if log::max_level() == log::LevelFilter::Off {
            eprintln!("cpr-milter: internal error (panic) at {at}; message withheld");
        } else {
            log::error!("internal error (panic) at {at}; message withheld");
        }
    }));
    match Cli::parse().command {
        Command::Run { config } => run(&config),
        Command::CheckConfig { config } => match settings::load(&config) {
            Ok(inspector) => {
                println!("{}: OK\n", config.display());
                print!("{}", inspector.config().describe());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("cpr-milter: {e}");
                ExitCode::from(1)
            }
        },
        Command::Scan {
            config,
            from,
            rcpt,
            incoming,
            json,
            csv,
            compare,
            quiet,
            jobs,
            paths,
        } => {
            let (old, new) = match compare {
                Some(files) => (Some(files[0].clone()), Some(files[1].clone())),
                None => (config, None),
            };
            let inspector = match scan_inspector(old.as_deref()) {
                Ok(i) => i,
                Err(e) => {
                    eprintln!("cpr-milter: {e}");
                    return ExitCode::from(2);
                }
            };
            let compare_with = match new.as_deref().map(settings::load).transpose() {
                Ok(i) => i,
                Err(e) => {
                    eprintln!("cpr-milter: {e}");
                    return ExitCode::from(2);
                }
            };
            ExitCode::from(scan::command::run(scan::command::ScanCommand {
                inspector,
                compare_with,
                envelope: scan::ScanOptions {
                    from,
                    rcpts: rcpt,
                    incoming,
                },
                json,
                csv,
                quiet,
                jobs,
                paths,
            }))
        }
        Command::Report {
            json,
            fingerprint_key,
            paths,
        } => ExitCode::from(cpr_milter::report::run(cpr_milter::report::ReportCommand {
            paths,
            json,
            fingerprint_key,
        })),
    }
}

/// The configuration `scan` judges with: the file, or built-in defaults.
fn scan_inspector(config: Option<&Path>) -> Result<cpr_milter_core::Inspector, String> {
    match config {
        Some(p) => settings::load(p),
        None => cpr_milter_core::config::parse("listen: inet:127.0.0.1:8899\n", "(defaults)")
            .map(|c| cpr_milter_core::Inspector::new(c, None))
            .map_err(|e| e.to_string()),
    }
}

fn run(config_path: &Path) -> ExitCode {
    let inspector = match settings::load(config_path) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("cpr-milter: {e}");
            return ExitCode::from(1);
        }
    };
    let cfg = inspector.config();
    logging::init(
        cfg.log_destination,
        &cfg.log_facility,
        cfg.log_syslog_socket.as_deref(),
    );
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            log::error!("cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(serve(config_path, inspector)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("{e}");
            ExitCode::from(1)
        }
    }
}

/// SIGHUP: read and validate the file off the async threads, then swap it in
/// or keep the running configuration and say why.
async fn reload(path: &Path, shared: &Shared) {
    let p = path.to_path_buf();
    match tokio::task::spawn_blocking(move || settings::load(&p)).await {
        Ok(Ok(new)) => {
            let old = shared.current();
            let (o, n) = (old.config(), new.config());
            if o.listen != n.listen
                || o.log_destination != n.log_destination
                || o.log_facility != n.log_facility
                || o.log_syslog_socket != n.log_syslog_socket
            {
                log::warn!(
                    "listen and log.* changes take effect only at restart; the rest is reloaded"
                );
            }
            log::info!(
                "configuration reloaded from {} (mode={})",
                path.display(),
                n.mode.as_str()
            );
            shared.replace(new);
            metrics::global().reload(true);
        }
        Ok(Err(e)) => {
            log::error!("reload refused, keeping the running configuration: {e}");
            metrics::global().reload(false);
        }
        Err(_) => {
            log::error!("reload failed internally, keeping the running configuration");
            metrics::global().reload(false);
        }
    }
}

async fn serve(config_path: &Path, inspector: cpr_milter_core::Inspector) -> Result<(), String> {
    use tokio::signal::unix::{signal, SignalKind};
    let listen = inspector.config().listen.clone();
    let mode = inspector.config().mode;
    let metrics_listen = inspector.config().metrics_listen.clone();
    let shared = Shared::new(inspector);
    // Held until serve returns: dropping the task stops the listener.
    let _metrics_task = match &metrics_listen {
        None => None,
        Some(addr) => {
            let l = metrics::serve::MetricsListener::bind(addr)
                .await
                .map_err(|e| format!("cannot listen for metrics on {addr}: {e}"))?;
            log::info!("metrics on {addr}");
            let s = shared.clone();
            let refresh = std::sync::Arc::new(move || {
                metrics::global().set_buffered_bytes(s.buffered_bytes())
            });
            Some(AbortOnDrop(tokio::spawn(metrics::serve::run(
                l,
                metrics::global(),
                refresh,
            ))))
        }
    };

    let mut hup = signal(SignalKind::hangup()).map_err(|e| format!("SIGHUP handler: {e}"))?;
    let mut term = signal(SignalKind::terminate()).map_err(|e| format!("SIGTERM handler: {e}"))?;
    let reload_shared = shared.clone();
    let path = config_path.to_path_buf();
    let shutdown = async move {
        loop {
            tokio::select! {
                _ = hup.recv() => reload(&path, &reload_shared).await,
                _ = term.recv() => { log::info!("SIGTERM received, stopping"); break; }
                _ = tokio::signal::ctrl_c() => { log::info!("SIGINT received, stopping"); break; }
            }
        }
    };

    log::info!(
        "cpr-milter {} starting on {listen} mode={} config={}",
        env!("CARGO_PKG_VERSION"),
        mode.as_str(),
        config_path.display()
    );
    let result = match &listen {
        ListenAddr::Inet(addr) => {
            let l = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
            cpr_milter::run(l, shared, shutdown).await
        }
        ListenAddr::Unix(path) => {
            // A socket file left by an earlier run would make bind fail.
            if std::fs::symlink_metadata(path).is_ok_and(|m| {
                use std::os::unix::fs::FileTypeExt;
                m.file_type().is_socket()
            }) {
                let _ = std::fs::remove_file(path);
            }
            let l = tokio::net::UnixListener::bind(path)
                .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
            // Owner and group may connect (add the MTA's user to the milter's
            // group), whatever the umask; nobody else.
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
                    .map_err(|e| format!("cannot set permissions on {}: {e}", path.display()))?;
            }
            let r = cpr_milter::run(l, shared, shutdown).await;
            let _ = std::fs::remove_file(path);
            r
        }
    };
    result.map_err(|e| format!("milter stopped: {e}"))?;
    log::info!("cpr-milter stopped");
    Ok(())
}

/// Stops a background task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
