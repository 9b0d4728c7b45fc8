//! `lookout serve`: the CloudWatch Logs–compatible server.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use lookout_server::ServerOptions;
use lookout_testkit::parse_span;

pub(crate) const EXAMPLES: &str = "Examples:
  lookout serve                                   # ./lookout-data, http://127.0.0.1:4588, no auth
  lookout serve --max-event-age none              # accept imports of old logs
  lookout serve --listen 0.0.0.0:4588 --credentials users.toml
  aws logs describe-log-groups --endpoint-url http://127.0.0.1:4588";

/// Options of `lookout serve`.
#[derive(Args, Debug)]
pub(crate) struct ServeArgs {
    /// Where data lives (created if missing).
    #[arg(long, default_value = "./lookout-data")]
    data_dir: PathBuf,
    /// Address to listen on; without --credentials only loopback addresses are allowed.
    #[arg(long, default_value = "127.0.0.1:4588")]
    listen: SocketAddr,
    /// TOML file of users (access key, secret, IAM-style policy); every request must then be
    /// SigV4-signed and allowed.
    #[arg(long)]
    credentials: Option<PathBuf>,
    /// Oldest event PutLogEvents accepts: a duration (14d, 36h) or `none` for any age.
    #[arg(long, default_value = "14d")]
    max_event_age: String,
    /// Region used in ARNs.
    #[arg(long, default_value = "us-east-1")]
    region: String,
}

pub(crate) fn run(args: ServeArgs) -> Result<()> {
    let max_event_age_ms = match args.max_event_age.as_str() {
        "none" => None,
        d => match parse_span(d) {
            Some(ms) => Some(ms),
            None => bail!(
                "invalid --max-event-age {d:?}: expected a duration such as 14d or 36h, or none"
            ),
        },
    };
    init_tracing();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("lookout")
        .build()?;
    runtime.block_on(lookout_server::run(ServerOptions {
        data_dir: args.data_dir,
        listen: args.listen,
        credentials: args.credentials,
        max_event_age_ms,
        region: args.region,
    }))?;
    Ok(())
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LOOKOUT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A second initialisation (never in the binary) is harmless: keep the first.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
