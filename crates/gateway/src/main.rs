//! `sio-gateway`: the real-time event gateway. Reads its settings from flags and environment
//! variables (see `sio-gateway --help`), logs to stderr at `LOG_LEVEL`, and runs until SIGTERM or
//! SIGINT.

use std::process::ExitCode;

use sio_gateway::{app, config::Config};

fn main() -> ExitCode {
    // A bad value stops here, with clap's message naming the variable and what it expected.
    let config = Config::from_env();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&config.log_level))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();

    let runtime = match config.worker_threads {
        1 => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        0 => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build(),
        n => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build(),
    };
    let runtime = match runtime {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sio-gateway: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(app::run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sio-gateway: {e}");
            ExitCode::FAILURE
        }
    }
}
