//! `cpr-milter` entry point: parse the command line and hand over to the
//! library. Kept thin so everything testable lives in the library.

use clap::Parser;
use cpr_milter::cli::{Cli, Command};
use cpr_milter::settings::{self, ListenAddr, Loaded};
use cpr_milter::{logging, metrics, reload, scan, Shared};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

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
            Ok(loaded) => {
                println!("{}: OK", config.display());
                println!("{}\n", mode_in_force(loaded.inspector.policy().mode));
                print!("{}", settings::describe(&loaded));
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
            let compare_with = match new.as_deref().map(|p| scan_inspector(Some(p))).transpose() {
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

/// The policy `scan` judges with: the file's, or the built-in defaults.
fn scan_inspector(config: Option<&Path>) -> Result<Arc<cpr_milter_core::Inspector>, String> {
    let inspector = match config {
        Some(p) => settings::load(p)?.inspector,
        None => cpr_milter_core::Inspector::new(cpr_milter_core::Policy::default(), None),
    };
    Ok(Arc::new(inspector))
}

/// check-config's plain statement of what the running milter will do.
fn mode_in_force(mode: cpr_milter_core::Mode) -> &'static str {
    match mode {
        cpr_milter_core::Mode::Enforce => {
            "Mode in force: ENFORCE - mail that breaks the rules is rejected."
        }
        cpr_milter_core::Mode::Monitor => {
            "Mode in force: MONITOR - nothing is rejected; decisions are logged as action=would-reject. \
             To reject, set `mode: enforce` and reload."
        }
    }
}

fn run(config_path: &Path) -> ExitCode {
    let loaded = match settings::load(config_path) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cpr-milter: {e}");
            return ExitCode::from(1);
        }
    };
    let d = &loaded.daemon;
    logging::init(
        d.log_destination,
        &d.log_facility,
        d.log_syslog_socket.as_deref(),
    );
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            logging::fatal(&format!("cannot start the async runtime: {e}"));
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(serve(config_path, loaded));
    // A reload still reading its file must not hold the exit.
    runtime.shutdown_timeout(Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            logging::fatal(&e);
            ExitCode::from(1)
        }
    }
}

async fn serve(config_path: &Path, loaded: Loaded) -> Result<(), String> {
    use tokio::signal::unix::{signal, SignalKind};
    let listen = loaded.daemon.listen.clone();
    let mode = loaded.inspector.policy().mode;
    let metrics_listen = loaded.daemon.metrics_listen.clone();
    let shared = Shared::from_loaded(loaded);
    // Held until serve returns: dropping the task stops the listener.
    let _metrics_task = match &metrics_listen {
        None => None,
        Some(addr) => {
            let l = metrics::serve::MetricsListener::bind(addr)
                .await
                .map_err(|e| format!("cannot listen for metrics on {addr}: {e}"))?;
            log::info!("metrics on {addr}");
            let s = shared.clone();
            let refresh =
                Arc::new(move || metrics::global().set_buffered_bytes(s.buffered_bytes()));
            Some(AbortOnDrop(tokio::spawn(metrics::serve::run(
                l,
                metrics::global(),
                refresh,
            ))))
        }
    };

    let mut hup = signal(SignalKind::hangup()).map_err(|e| format!("SIGHUP handler: {e}"))?;
    let mut term = signal(SignalKind::terminate()).map_err(|e| format!("SIGTERM handler: {e}"))?;
    let (trigger, reloads) = reload::channel(config_path.to_path_buf());
    // The signal loop only asks for reloads; they run in their own task.
    let shutdown = async move {
        loop {
            tokio::select! {
                _ = hup.recv() => trigger.request(),
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
            cpr_milter::run_reloading(l, shared, reloads, shutdown).await
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
            let r = cpr_milter::run_reloading(l, shared, reloads, shutdown).await;
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
