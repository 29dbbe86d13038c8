//! `cpr-milter` entry point: parse the command line and hand over to the
//! library. Kept thin so everything testable lives in the library.

use clap::Parser;
use cpr_milter::cli::{Cli, Command};
use cpr_milter::{logging, scan, settings, Shared};
use cpr_milter_core::config::ListenAddr;
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
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
                _ = hup.recv() => match settings::load(&path) {
                    Ok(i) => {
                        log::info!("configuration reloaded from {} (mode={})", path.display(), i.config().mode.as_str());
                        reload_shared.replace(i);
                    }
                    Err(e) => log::error!("reload refused, keeping the running configuration: {e}"),
                },
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
