//! The `wikiwatch` binary: parses the command line and hands over to the library.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = wikiwatch::cli::Cli::parse();
    wikiwatch::cli::run(cli).await
}
