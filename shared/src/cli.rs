//! The command line every function binary takes (clap): no arguments to
//! serve, `migrate` to apply the schema and exit. Everything else is
//! configured through the environment (docs/development.md).

use clap::{Parser, Subcommand};

/// A Storefleet function: serves HTTP on $PORT (configuration from the
/// environment, docs/development.md), or applies the database migrations.
#[derive(Debug, Parser)]
#[command(version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Apply every pending migration to DATABASE_URL and exit (the platform
    /// chart's migrations Job runs this once per install and upgrade).
    Migrate,
}

/// Run a function binary: `migrate`, or build its context and serve `app`.
pub async fn run<F, Fut>(function: &str, needs_sink: bool, app: F) -> crate::Result<()>
where
    F: FnOnce(crate::context::Context) -> Fut,
    Fut: std::future::Future<Output = crate::Result<axum::Router>>,
{
    let result = match Cli::parse().command {
        Some(Command::Migrate) => crate::context::migrate_only(function).await,
        None => {
            let ctx = crate::context::start(function, needs_sink).await?;
            let address = std::net::SocketAddr::new(ctx.config.listen_address, ctx.config.port);
            crate::server::serve(app(ctx).await?, address).await
        }
    };
    // the spans still buffered for export
    crate::telemetry::shutdown();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_argument_serves_and_migrate_migrates() {
        assert_eq!(Cli::try_parse_from(["list-stores"]).unwrap().command, None);
        assert_eq!(
            Cli::try_parse_from(["list-stores", "migrate"])
                .unwrap()
                .command,
            Some(Command::Migrate)
        );
        let err = Cli::try_parse_from(["list-stores", "migrat"]).unwrap_err();
        assert!(err.to_string().contains("migrate"), "{err}");
    }
}
