//! `lookout`: the Lookout command line.
//!
//! One binary for everything a user runs: the server (`lookout serve`), the generator of
//! realistic Lambda logs (`lookout gen`), and the client tools as they land. Errors are one line on stderr and a non-zero
//! exit code.

mod gen_cmd;
mod serve_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Lookout: a self-hosted log system for serverless functions.
#[derive(Parser, Debug)]
#[command(name = "lookout", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the CloudWatch Logs–compatible server.
    #[command(after_help = serve_cmd::EXAMPLES)]
    Serve(serve_cmd::ServeArgs),
    /// Generate realistic Lambda logs as JSON lines, with a manifest of planted needles.
    #[command(after_help = gen_cmd::EXAMPLES)]
    Gen(gen_cmd::GenArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve_cmd::run(args),
        Command::Gen(args) => gen_cmd::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A closed pipe (`lookout gen | head`) is the reader's choice, not a failure.
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("lookout: {e:#}");
            ExitCode::FAILURE
        }
    }
}
