//! The command line: clap definitions, global options, and dispatch to one function per
//! command in `commands/`. Commands are thin: build options, call `pedestal::ops`, render, and
//! return an [`Exit`] code or an [`Error`]. Only this layer owns colours, progress bars, miette
//! reports and the process's one async runtime.

mod commands;
mod error;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

pub use error::Error;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Exit codes, as Terraform users expect them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    Error = 1,
    /// `--detailed-exitcode` and changes are present.
    Changes = 2,
    /// `fmt --check` found differences.
    FmtDiff = 3,
    Interrupted = 130,
}

/// Infrastructure as code for machine-learning model releases.
#[derive(Debug, Parser)]
#[command(name = "pedestal", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args, Clone)]
pub struct Global {
    /// The stack directory (holding pedestal.toml).
    #[arg(short = 'C', long = "chdir", global = true, default_value = ".")]
    pub dir: PathBuf,
    /// Log what pedestal does (repeat for more detail).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Never colour output (also: NO_COLOR set in the environment).
    #[arg(long, global = true)]
    pub no_color: bool,
}

impl Global {
    /// Whether output may use colour: a terminal, no `--no-color`, no `NO_COLOR`.
    pub fn color(&self) -> bool {
        use std::io::IsTerminal;
        !self.no_color
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::io::stdout().is_terminal()
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse, type-check, resolve references and check the graph.
    Validate(EnvArgs),
    /// Rewrite spec files in canonical form (comments kept).
    Fmt(FmtArgs),
    /// Print the dependency graph.
    Graph(GraphArgs),
    /// Show the changes needed to make the cloud match the spec.
    Plan(PlanArgs),
    /// Apply a saved plan, or plan and apply after confirmation.
    Apply(ApplyArgs),
    /// Destroy every resource of the stack and environment.
    Destroy(DestroyArgs),
    /// Inspect or edit recorded state.
    #[command(subcommand)]
    State(StateCommand),
    /// Remove a stale lock left by an interrupted run.
    ForceUnlock(ForceUnlockArgs),
    /// Show recorded outputs.
    Output(OutputArgs),
    /// Adopt an existing cloud resource into state (the cloud is not changed).
    Import(ImportArgs),
    /// Show the release history recorded in state, newest first.
    Releases(ReleasesArgs),
    /// Point an endpoint back at an earlier release's task definition revision.
    Rollback(RollbackArgs),
    /// Show what runs now, read live (read-only; takes no lock).
    Status(StatusArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum, Default, PartialEq, Eq)]
pub enum ListFormat {
    #[default]
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct ReleasesArgs {
    #[command(flatten)]
    pub env: EnvArgs,
    /// The endpoint (`fraud` or `endpoint.fraud`); all endpoints when omitted.
    pub endpoint: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    pub env: EnvArgs,
    /// The endpoint (`fraud` or `endpoint.fraud`).
    pub endpoint: String,
    /// The release version to go back to (default: the last completed one before the current).
    #[arg(long, value_name = "VERSION")]
    pub to: Option<String>,
    /// Roll back without asking for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// How long to wait for the state lock (e.g. 30s, 2m).
    #[arg(long, default_value = "0s")]
    pub lock_timeout: String,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub env: EnvArgs,
    /// The endpoint (`fraud` or `endpoint.fraud`); everything when omitted.
    pub endpoint: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub env: EnvArgs,
    /// The address the spec declares, e.g. storage.models.bucket.
    pub address: String,
    /// The resource's id: bucket name, cluster or service ARN, log group name, ...
    pub id: String,
}

/// Selecting the environment and variables.
#[derive(Debug, Args, Clone)]
pub struct EnvArgs {
    /// Environment: reads env/<name>.toml.
    #[arg(long, default_value = "dev")]
    pub env: String,
    /// Set a variable (repeatable): --var replicas=3.
    #[arg(long = "var", value_name = "K=V")]
    pub vars: Vec<String>,
}

#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Exit 3 and print a diff instead of rewriting files when they are not canonical.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum GraphFormat {
    #[default]
    Dot,
    Mermaid,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    #[command(flatten)]
    pub env: EnvArgs,
    #[arg(long, value_enum, default_value_t)]
    pub format: GraphFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum, Default, PartialEq, Eq)]
pub enum PlanFormat {
    #[default]
    Human,
    Json,
    Markdown,
}

#[derive(Debug, Args, Clone)]
pub struct PlanArgs {
    #[command(flatten)]
    pub env: EnvArgs,
    /// Save the plan to FILE for a later `pedestal apply FILE`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    pub format: PlanFormat,
    /// Plan from recorded state only: no cloud reads, no credentials needed.
    #[arg(long)]
    pub no_refresh: bool,
    /// Limit the plan to ADDR and what it depends on (repeatable).
    #[arg(long = "target", value_name = "ADDR")]
    pub targets: Vec<String>,
    /// Force replacement of ADDR (repeatable).
    #[arg(long = "replace", value_name = "ADDR")]
    pub replace: Vec<String>,
    /// Plan the destruction of every resource.
    #[arg(long)]
    pub destroy: bool,
    /// Exit 0 with no changes, 1 on error, 2 when changes are present.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// How long to wait for the state lock (e.g. 30s, 2m).
    #[arg(long, default_value = "0s")]
    pub lock_timeout: String,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved by `pedestal plan --out`.
    pub planfile: Option<PathBuf>,
    /// Apply without asking for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// How many resources may be changed at once.
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,
    #[command(flatten)]
    pub plan: PlanArgs,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub env: EnvArgs,
    #[arg(long)]
    pub auto_approve: bool,
    /// Destroy only ADDR and what depends on it (repeatable).
    #[arg(long = "target", value_name = "ADDR")]
    pub targets: Vec<String>,
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,
    #[arg(long, default_value = "0s")]
    pub lock_timeout: String,
}

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// List the addresses in state.
    List(EnvArgs),
    /// Show one resource recorded in state.
    Show {
        #[command(flatten)]
        env: EnvArgs,
        address: String,
    },
    /// Forget a resource (the cloud is not touched).
    Rm {
        #[command(flatten)]
        env: EnvArgs,
        address: String,
    },
    /// Copy the state between the configured [backend] and another backend, keeping its
    /// lineage and serial.
    Migrate(MigrateArgs),
}

/// The kind of backend to migrate to.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum BackendArg {
    S3,
    Local,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub env: EnvArgs,
    /// Where the state goes. The configured [backend] is one side; the other is given by
    /// --bucket/--key/--region (S3) or --path (local, default state/<env>.json).
    #[arg(long, value_enum)]
    pub to: BackendArg,
    /// The S3 side's bucket, when [backend] is local.
    #[arg(long)]
    pub bucket: Option<String>,
    /// The S3 side's key (`${env}` allowed), when [backend] is local.
    #[arg(long)]
    pub key: Option<String>,
    /// The S3 side's region (else [provider.aws] region).
    #[arg(long)]
    pub region: Option<String>,
    /// The local side's file, relative to the stack directory, when [backend] is s3.
    #[arg(long)]
    pub path: Option<std::path::PathBuf>,
    /// How long to wait for each side's lock (e.g. 30s, 2m).
    #[arg(long, default_value = "0s")]
    pub lock_timeout: String,
}

#[derive(Debug, Args)]
pub struct ForceUnlockArgs {
    #[command(flatten)]
    pub env: EnvArgs,
    pub lock_id: String,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    #[command(flatten)]
    pub env: EnvArgs,
    pub name: Option<String>,
    #[arg(long)]
    pub json: bool,
}

/// `--lock-timeout` (`30s`, `2m`, ...) as a duration.
pub(crate) fn lock_timeout(raw: &str) -> Result<Duration, Error> {
    humantime::parse_duration(raw.trim()).map_err(|e| Error::Usage {
        message: format!("--lock-timeout {raw:?} is not a duration (e.g. 30s, 2m): {e}"),
        help: None,
    })
}

/// Parses the command line, runs the command on the process's only async runtime, and renders
/// an error (the one place errors become text) with its exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.global.verbose);
    let color = cli.global.color();
    miette::set_hook(Box::new(move |_| {
        let opts = miette::MietteHandlerOpts::new()
            .color(color)
            .unicode(color)
            .terminal_links(false);
        // Wrapped to the terminal; in logs and pipes a message stays on its lines.
        let opts = match error::terminal_width() {
            Some(width) => opts.width(width),
            None => opts.wrap_lines(false),
        };
        Box::new(opts.build())
    }))
    .ok();
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)
        .and_then(|rt| {
            let outcome = rt.block_on(commands::run(&cli));
            // Nothing left on the runtime matters once the command is done (a prompt's read
            // of stdin, a signal watcher): do not wait for it.
            rt.shutdown_background();
            outcome
        });
    let exit = match outcome {
        Ok(exit) => exit,
        Err(e) => {
            eprint!("{}", e.render(cli.global.no_color));
            e.code()
        }
    };
    ExitCode::from(exit as u8)
}

fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => return,
        1 => "pedestal=info",
        2 => "pedestal=debug",
        _ => "debug",
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(level))
        .with_writer(std::io::stderr)
        .try_init();
}
