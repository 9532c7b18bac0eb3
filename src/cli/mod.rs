//! The command line: clap definitions, global options, and dispatch to one function per
//! command in `commands/`. Commands are thin: build options, call `pedestal::ops`, render, and
//! return an [`Exit`] code or an [`Error`]. Only this layer owns colours, progress bars, miette
//! reports and the process's one async runtime.

// The command line is the one place that prints.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod commands;
mod error;
mod interrupt;
#[cfg(target_os = "linux")]
mod placement;
mod progress;

use std::path::PathBuf;
use std::time::Duration;

pub use error::Error;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

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
    /// Log to stderr: -v steps and timings, -vv AWS calls, -vvv request ids and retries.
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

    /// Whether logs (on stderr) may use colour: as [`Global::color`], for stderr.
    pub fn log_color(&self) -> bool {
        use std::io::IsTerminal;
        !self.no_color
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::io::stderr().is_terminal()
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

impl Command {
    /// Whether the command only reads the spec: no state, no cloud.
    fn spec_only(&self) -> bool {
        matches!(
            self,
            Command::Validate(_) | Command::Fmt(_) | Command::Graph(_)
        )
    }

    /// Whether the command ends as soon as it has computed and printed its result, doing its
    /// work on the calling thread, so that one runtime worker is enough and memory it frees is
    /// better kept for its own next allocations than returned: the spec-only commands and
    /// `plan` (which writes at most its plan file, and waits on nothing but its refresh's
    /// reads). `apply` and `destroy` wait on deployments for minutes.
    fn short_lived(&self) -> bool {
        self.spec_only() || matches!(self, Command::Plan(_))
    }
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
    /// How to show the history: a table for people, or JSON.
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
    /// How to show the status: a table for people, or JSON.
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
    /// Import a resource tagged for another stack or env all the same (this stack then
    /// changes and destroys it).
    #[arg(long)]
    pub force_ownership: bool,
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
    /// Output format: Graphviz DOT or a Mermaid flowchart.
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
    /// How to show the plan: for people, as versioned JSON, or as a pull-request comment.
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
    /// Destroy without asking for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// Destroy only ADDR and what depends on it (repeatable).
    #[arg(long = "target", value_name = "ADDR")]
    pub targets: Vec<String>,
    /// How many resources may be destroyed at once.
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,
    /// How long to wait for the state lock (e.g. 30s, 2m).
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
        /// The resource's address, as `state list` prints it.
        address: String,
    },
    /// Forget a resource (the cloud is not touched).
    Rm {
        #[command(flatten)]
        env: EnvArgs,
        /// The resource's address, as `state list` prints it.
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
    /// The lock's id, as the error about the held lock prints it.
    pub lock_id: String,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    #[command(flatten)]
    pub env: EnvArgs,
    /// Show only this output's value.
    pub name: Option<String>,
    /// Print JSON (secrets as null, marked sensitive).
    #[arg(long)]
    pub json: bool,
}

/// How `pedestal --help` groups commands: the workflow first, as a Terraform user looks for it.
/// A command not named here is listed with the other commands.
const COMMAND_GROUPS: &[(&str, &[&str])] = &[
    ("Main commands", &["validate", "plan", "apply", "destroy"]),
    ("Release commands", &["status", "releases", "rollback"]),
    (
        "Other commands",
        &["fmt", "graph", "import", "output", "state", "force-unlock"],
    ),
];

/// The clap command with `--help` listing the commands in [`COMMAND_GROUPS`].
pub fn command() -> clap::Command {
    let cmd = Cli::command();
    let subs: Vec<&clap::Command> = cmd
        .get_subcommands()
        .filter(|c| c.get_name() != "help")
        .collect();
    let width = subs.iter().map(|c| c.get_name().len()).max().unwrap_or(0);
    let line = |c: &clap::Command| {
        let about = c.get_about().map(|a| a.to_string()).unwrap_or_default();
        format!("  {:width$}  {about}\n", c.get_name())
    };
    let mut listed = String::new();
    let mut named: Vec<&str> = Vec::new();
    for (i, (title, names)) in COMMAND_GROUPS.iter().enumerate() {
        named.extend(names.iter());
        let mut group: Vec<&clap::Command> = names
            .iter()
            .filter_map(|n| subs.iter().find(|c| c.get_name() == *n).copied())
            .collect();
        if i + 1 == COMMAND_GROUPS.len() {
            group.extend(subs.iter().filter(|c| !named.contains(&c.get_name())));
        }
        if group.is_empty() {
            continue;
        }
        listed.push_str(&format!("{title}:\n"));
        group.into_iter().for_each(|c| listed.push_str(&line(c)));
        listed.push('\n');
    }
    let template = format!(
        "{{before-help}}{{about-with-newline}}\n{{usage-heading}} {{usage}}\n\n{listed}\
         Options:\n{{options}}{{after-help}}"
    );
    cmd.help_template(template)
}

/// `--lock-timeout` (`30s`, `2m`, ...) as a duration.
pub(crate) fn lock_timeout(raw: &str) -> Result<Duration, Error> {
    humantime::parse_duration(raw.trim()).map_err(|e| Error::Usage {
        message: format!("--lock-timeout {raw:?} is not a duration (e.g. 30s, 2m): {e}"),
        help: None,
    })
}

/// Parses the command line, runs the command on the process's only async runtime, and renders
/// an error (the one place errors become text); gives the exit code.
pub fn main() -> u8 {
    let cli = match Cli::from_arg_matches(&command().get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    init_tracing(cli.global.verbose, cli.global.log_color());
    pedestal::ops::set_hash_observer(std::sync::Arc::new(progress::HashProgress::new(
        std::io::IsTerminal::is_terminal(&std::io::stderr()),
    )));
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
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if cli.command.short_lived() {
        // One worker (for the Ctrl-C watcher and the sockets' readiness) instead of one per
        // core: these commands do their work on this thread (a refresh's reads are futures
        // polled here too), and each thread started costs the fresh memory its first
        // allocation touches (a 2 MB huge page where the host has them).
        runtime.worker_threads(1);
        crate::keep_freed_memory();
    }
    // For a command that reads state (ahead, on a worker, while the spec loads), the workers
    // start on another processor than this thread's when one is idle. The spec-only commands
    // have nothing for them to do meanwhile: moved, a worker only took the idle processor from
    // the load's own second thread (a 10,000-resource validate's median went from 0.0164 to
    // 0.0185 s).
    #[cfg(target_os = "linux")]
    let placement = (!cli.command.spec_only()).then(|| {
        let placement = std::sync::Arc::new(placement::Placement::new());
        let started = placement.clone();
        runtime.on_thread_start(move || started.started());
        placement
    });
    let outcome = runtime
        .enable_all()
        .build()
        .map_err(Error::Runtime)
        .and_then(|rt| {
            #[cfg(target_os = "linux")]
            if let Some(placement) = &placement {
                placement.move_away();
            }
            let outcome = rt.block_on(async {
                interrupt::watch();
                commands::run(&cli).await
            });
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
    exit as u8
}

/// Logs to stderr at the level `-v` asks for: `-v` each step with its timing, `-vv` adds every
/// AWS call (operation, HTTP status, duration), `-vvv` each attempt's request id, retries and
/// the SDK's own debug logs. Colour only when stderr is a terminal that may have it.
fn init_tracing(verbose: u8, color: bool) {
    let level = match verbose {
        0 => return,
        1 => "pedestal=info",
        2 => "pedestal=debug",
        _ => "debug,pedestal=trace",
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(level))
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command, argument and flag, at every depth, says in one line what it is for.
    #[test]
    fn every_command_and_flag_has_one_line_of_help() {
        fn walk(cmd: &clap::Command, path: &str, empty: &mut Vec<String>) {
            let path = format!("{path} {}", cmd.get_name());
            if cmd
                .get_about()
                .is_none_or(|a| a.to_string().trim().is_empty())
            {
                empty.push(format!("{path}: no description"));
            }
            for arg in cmd.get_arguments() {
                let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
                if help.trim().is_empty() || help.contains('\n') {
                    empty.push(format!("{path} {}: {help:?}", arg.get_id()));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &path, empty);
            }
        }
        let mut cmd = command();
        cmd.build();
        let mut empty = Vec::new();
        walk(&cmd, "", &mut empty);
        assert!(
            empty.is_empty(),
            "without a one-line help:\n{}",
            empty.join("\n")
        );
    }

    /// `pedestal --help`: the workflow commands first, then the others, every command once.
    #[test]
    fn help_groups_commands_as_a_terraform_user_looks_for_them() {
        let help = command().render_help().to_string();
        let at = |s: &str| {
            help.find(s)
                .unwrap_or_else(|| panic!("{s:?} missing from:\n{help}"))
        };
        let main = at("Main commands:");
        let other = at("Other commands:");
        assert!(main < other, "{help}");
        for name in ["validate", "plan", "apply", "destroy"] {
            let i = at(&format!("\n  {name} "));
            assert!(
                main < i && i < other,
                "{name} among the main commands:\n{help}"
            );
        }
        for name in ["fmt", "graph", "import", "output", "state", "force-unlock"] {
            assert!(at(&format!("\n  {name} ")) > other, "{name}:\n{help}");
        }
        for sub in Cli::command().get_subcommands() {
            if sub.get_name() != "help" {
                let line = format!("\n  {} ", sub.get_name());
                assert_eq!(help.matches(&line).count(), 1, "{line:?} once:\n{help}");
            }
        }
        assert!(help.contains("Options:\n"), "{help}");
        assert!(help.contains("--chdir"), "{help}");
    }
}
