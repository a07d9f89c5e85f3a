//! `sio-gateway`: the real-time event gateway. Reads its settings from flags and environment
//! variables (see `sio-gateway --help`), logs to stderr at `LOG_LEVEL`, and runs until SIGTERM or
//! SIGINT.

use std::process::ExitCode;

use sio_gateway::{app, config::Config};

#[tokio::main]
async fn main() -> ExitCode {
    // A bad value stops here, with clap's message naming the variable and what it expected.
    let config = Config::from_env();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&config.log_level))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();

    match app::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sio-gateway: {e}");
            ExitCode::FAILURE
        }
    }
}
