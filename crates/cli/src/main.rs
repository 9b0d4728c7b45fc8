//! `lookout`: the Lookout command line.
//!
//! One binary for everything a user runs: the server (`lookout serve`), the generator of
//! realistic Lambda logs (`lookout gen`), and the client tools that talk to a server over the
//! CloudWatch Logs API (`groups`, `streams`, `tail`, `query`, `import`, `export`, `run`).
//! Errors are one line on stderr and a non-zero exit code.

mod chart;
mod client;
mod events;
mod export_cmd;
mod gen_cmd;
mod groups_cmd;
mod import;
mod query_cmd;
mod render;
mod run_cmd;
mod serve_cmd;
mod tail_cmd;
mod term;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::client::{Client, ConnectArgs};

/// Lookout: a self-hosted log system for serverless functions.
#[derive(Parser, Debug)]
#[command(name = "lookout", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    connect: ConnectArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the CloudWatch Logs–compatible server.
    #[command(after_help = serve_cmd::EXAMPLES)]
    Serve(serve_cmd::ServeArgs),
    /// Generate realistic Lambda logs as JSON lines, with a manifest of planted needles.
    #[command(after_help = gen_cmd::EXAMPLES)]
    Gen(gen_cmd::GenArgs),
    /// List log groups.
    #[command(after_help = groups_cmd::GROUPS_EXAMPLES)]
    Groups(groups_cmd::GroupsArgs),
    /// List the log streams of a group.
    #[command(after_help = groups_cmd::STREAMS_EXAMPLES)]
    Streams(groups_cmd::StreamsArgs),
    /// Print recent events of log groups, readably; --follow keeps printing new ones.
    #[command(after_help = tail_cmd::EXAMPLES)]
    Tail(tail_cmd::TailArgs),
    /// Import files of log lines into a group (batched, resumable).
    #[command(after_help = import::EXAMPLES)]
    Import(import::ImportArgs),
    /// Run a Logs Insights query and print the rows (with a bar chart for `by bin()`).
    #[command(after_help = query_cmd::EXAMPLES)]
    Query(query_cmd::QueryArgs),
    /// Write every event of a group as JSON lines or Parquet.
    #[command(after_help = export_cmd::EXAMPLES)]
    Export(export_cmd::ExportArgs),
    /// Run a command and ship each line of its output to a log stream.
    #[command(after_help = run_cmd::EXAMPLES)]
    Run(run_cmd::RunArgs),
}

fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let client = || Client::new(&cli.connect);
    match cli.command {
        Command::Serve(args) => serve_cmd::run(args)?,
        Command::Gen(args) => gen_cmd::run(args)?,
        Command::Groups(args) => groups_cmd::run_groups(&client()?, args)?,
        Command::Streams(args) => groups_cmd::run_streams(&client()?, args)?,
        Command::Tail(args) => tail_cmd::run(&client()?, args)?,
        Command::Import(args) => import::run(client()?, args)?,
        Command::Query(args) => query_cmd::run(&client()?, args)?,
        Command::Export(args) => export_cmd::run(&client()?, args)?,
        Command::Run(args) => return run_cmd::run(client()?, args),
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    match dispatch(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            // A closed pipe (`lookout gen | head`) is the reader's choice, not a failure.
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("lookout: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Whether writing to standard output failed because the reader went away; JSON writers wrap
/// the I/O error in their own type.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        let kind = cause
            .downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind)
            .or_else(|| {
                cause
                    .downcast_ref::<serde_json::Error>()
                    .and_then(serde_json::Error::io_error_kind)
            });
        kind == Some(std::io::ErrorKind::BrokenPipe)
    })
}
