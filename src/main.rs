//! `cpr-milter` entry point: parse the command line and hand over to the
//! library. Kept thin so everything testable lives in the library.

use clap::Parser;
use cpr_milter::cli::{Cli, Command};
use cpr_milter::{logging, scan, settings, Shared};
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
            paths,
        } => {
            let inspector = match &config {
                Some(p) => settings::load(p),
                None => {
                    cpr_milter_core::config::parse("listen: inet:127.0.0.1:8899\n", "(defaults)")
                        .map(|c| cpr_milter_core::Inspector::new(c, None))
                        .map_err(|e| e.to_string())
                }
            };
            let inspector = match inspector {
                Ok(i) => i,
                Err(e) => {
                    eprintln!("cpr-milter: {e}");
                    return ExitCode::from(2);
                }
            };
            let opts = scan::ScanOptions {
                from,
                rcpts: rcpt,
                incoming,
                json,
            };
            let mut emit = |o: &scan::Outcome| {
                if opts.json {
                    println!("{}", o.to_json());
                } else {
                    println!("{}", o.to_text());
                }
            };
            match scan::scan_paths(&inspector, &opts, &paths, &mut emit) {
                Ok(0) => ExitCode::SUCCESS,
                Ok(_) => ExitCode::from(1),
                Err(e) => {
                    eprintln!("cpr-milter: {e}");
                    ExitCode::from(2)
                }
            }
        }
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
            if o.admission != n.admission {
                log::warn!("admission.* changes take effect only at restart");
            }
            log::info!(
                "configuration reloaded from {} (mode={})",
                path.display(),
                n.mode.as_str()
            );
            shared.replace(new);
        }
        Ok(Err(e)) => log::error!("reload refused, keeping the running configuration: {e}"),
        Err(_) => log::error!("reload failed internally, keeping the running configuration"),
    }
}

async fn serve(config_path: &Path, inspector: cpr_milter_core::Inspector) -> Result<(), String> {
    use tokio::signal::unix::{signal, SignalKind};
    let listen = inspector.config().listen.clone();
    let mode = inspector.config().mode;
    let shared = Shared::new(inspector);

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
    // Lines held while syslog was unreachable are not dropped on exit.
    log::logger().flush();
    Ok(())
}
