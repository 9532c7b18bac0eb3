//! Reading a stack: `pedestal.toml`, the module files it instantiates (recursively), and the
//! top-level sections that are not resource blocks (`[stack]`, `[backend]`, `[provider.aws]`,
//! `[policy]`).
//! Owns the [`Loader`], the state of one load shared by `vars`, `resolve` and `lower`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

mod digest;
mod fork;
mod modules;
mod policy;
mod sections;

pub(super) use policy::PolicyRules;

use super::diag::{Diagnostics, ErrorCode, FileId, SourceMap, Span, SpecError, did_you_mean};
use super::digest_cache::DigestCache;
use super::raw::{Entry, Node, NodeKind, parse_document};
use super::{Backend, Config, LoadOptions, Output, ProviderConfig};
use crate::addr::Address;
use crate::resource::{Attrs, Resource, Value};

/// The kinds of user blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum BlockKind {
    Storage,
    Artifact,
    Compute,
    Endpoint,
    Gateway,
    Module,
}

impl BlockKind {
    pub const ALL: [BlockKind; 6] = [
        BlockKind::Storage,
        BlockKind::Artifact,
        BlockKind::Compute,
        BlockKind::Endpoint,
        BlockKind::Gateway,
        BlockKind::Module,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BlockKind::Storage => "storage",
            BlockKind::Artifact => "artifact",
            BlockKind::Compute => "compute",
            BlockKind::Endpoint => "endpoint",
            BlockKind::Gateway => "gateway",
            BlockKind::Module => "module",
        }
    }

    pub fn parse(s: &str) -> Option<BlockKind> {
        BlockKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The attributes `${kind.name.attr}` may read.
    pub fn exports(self) -> &'static [&'static str] {
        match self {
            BlockKind::Storage => &["arn", "bucket", "name"],
            BlockKind::Artifact => &["bucket", "key", "sha256", "uri", "version_id"],
            BlockKind::Compute => &["arn", "name"],
            BlockKind::Endpoint => &[
                "log_group",
                "name",
                "service_arn",
                "service_name",
                "task_definition_arn",
                "url",
            ],
            BlockKind::Gateway => &["arn", "dns_name", "name"],
            BlockKind::Module => &[],
        }
    }
}

/// A declared variable (`[variables.X]`) or module input (`[inputs.X]`).
#[derive(Debug, Clone)]
pub(super) struct VarDecl {
    pub name: String,
    pub span: Span,
    pub ty: VarType,
    pub default: Option<Node>,
    pub sensitive: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum VarType {
    String,
    Number,
    Bool,
    List,
    Map,
}

impl VarType {
    pub fn as_str(self) -> &'static str {
        match self {
            VarType::String => "string",
            VarType::Number => "number",
            VarType::Bool => "bool",
            VarType::List => "list",
            VarType::Map => "map",
        }
    }
}

/// A hash map with a fast hasher of fixed seed, for the load's lookups by block, scope and
/// name (nothing iterates these maps into output).
pub(super) type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

/// Index of a user block in the load (in declaration order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) struct BlockId(usize);

/// Index of a scope in the load: the stack itself ([`ScopeId::ROOT`]) or a module instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) struct ScopeId(usize);

impl ScopeId {
    /// The stack's own scope.
    pub const ROOT: ScopeId = ScopeId(0);
}

/// One user block: `[endpoint.fraud]` inside some scope.
#[derive(Debug)]
pub(super) struct Block {
    pub scope: ScopeId,
    pub kind: BlockKind,
    pub name: String,
    pub name_span: Span,
    pub node: Node,
    /// `module.m.endpoint.fraud`.
    pub addr: String,
}

/// How a module scope was instantiated.
#[derive(Debug, Clone)]
pub(super) struct ModuleCall {
    pub parent: ScopeId,
    pub block: BlockId,
}

/// The stack itself (scope 0) or one module instance.
#[derive(Debug, Clone)]
pub(super) struct Scope {
    /// `""` or `module.a.module.b.`.
    pub prefix: String,
    /// Module names from the root down, used in default physical names.
    pub qual: Vec<String>,
    /// Directory of the scope's spec file relative to the stack directory (`""` for the root).
    pub rel_dir: PathBuf,
    pub call: Option<ModuleCall>,
    pub inputs: BTreeMap<String, VarDecl>,
    pub blocks: FastMap<(BlockKind, String), BlockId>,
    pub outputs: Vec<Entry>,
    pub children: FastMap<String, ScopeId>,
}

/// A value exported by a block, module input or output, with the resources it comes from.
#[derive(Debug, Clone)]
pub(super) struct Exported {
    pub value: Value,
    /// Shared by every value a block exports.
    pub deps: Arc<BTreeSet<Address>>,
}

/// Where each dependency of one resource was written, sorted by dependency.
pub(super) type DepSpans = Box<[(Address, Span)]>;

/// Hash of an artifact source: hex digest, size, and per-file digests for a directory.
pub(super) type Hashed = (String, u64, Option<BTreeMap<String, String>>);

/// What evaluation and lowering produce as they go, shared by `resolve` and `lower`: variable
/// values, the values blocks, module inputs and outputs export, and the resources with their
/// dependencies.
#[derive(Default)]
pub(super) struct Lowered {
    /// Resolved root variables (sensitive ones wrapped).
    pub vars: BTreeMap<String, Value>,
    pub exports: FastMap<BlockId, crate::spec::lower::Exports>,
    pub inputs_val: FastMap<(ScopeId, String), Exported>,
    pub outputs_val: FastMap<(ScopeId, String), Exported>,
    /// Capacity providers of each compute block (GPU placement of endpoints).
    pub compute_providers: FastMap<BlockId, Vec<String>>,
    /// What endpoints routed to each gateway block need of it.
    pub gateways: FastMap<BlockId, crate::spec::lower::GatewayInfo>,
    /// Every endpoint route, for priorities across a listener (assigned after lowering).
    pub routes: Vec<crate::spec::lower::RouteInfo>,
    /// Every resource, by address (filled from `added` once every block is lowered).
    pub resources: BTreeMap<Address, Resource>,
    /// Resources in the order lowering adds them; moved into `resources` in one pass.
    pub added: Vec<Resource>,
    /// Where each lowered block's resources start and end in `added`.
    pub block_runs: Vec<(usize, usize)>,
    /// The attributes of each artifact object lowered so far: what endpoints read of other
    /// resources while they are lowered.
    pub objects: FastMap<Address, Attrs>,
    /// Explicit `depends_on` of each block: (block, target address, span).
    pub explicit_deps: Vec<(BlockId, String, Span)>,
    /// Where each resource's dependencies were declared (as lowered, sorted by dependency), in
    /// the order resources were added.
    pub dep_origin: Vec<(Address, DepSpans)>,
    /// Where each explicit `depends_on` edge between resources was declared.
    pub explicit_origin: FastMap<(Address, Address), Span>,
    /// Artifact source hashes by path (each source hashed once per load).
    pub hash_cache: HashMap<PathBuf, Option<Hashed>>,
    /// Artifact file digests kept between runs.
    pub digests: DigestCache,
    /// `[provider.aws] artifact_roots`: absolute directories artifacts may also come from.
    pub artifact_roots: Vec<PathBuf>,
    /// What artifact sources may read (made when the first artifact is lowered, once every
    /// spec file is read).
    pub confinement: Option<crate::spec::artifact_source::Confinement>,
    /// Where `[stack] tags` is written (tag count errors point there when a block adds none).
    pub stack_tags_span: Option<Span>,
    /// Tag count limits already reported at the stack's tags (one error per limit).
    pub tag_counts_reported: BTreeSet<&'static str>,
    /// The image-pull statements of an execution role, by image (endpoints of one repository
    /// share them).
    pub pull_statements: FastMap<String, Arc<[Value]>>,
}

impl Lowered {
    /// Moves the resources added so far into the map by address (a later one at an address
    /// wins, as inserting them one by one would).
    fn collect_resources(&mut self) {
        let mut added = std::mem::take(&mut self.added);
        crate::spec::lower::order_runs(&mut added, &std::mem::take(&mut self.block_runs));
        let added = added.into_iter().map(|r| (r.address.clone(), r));
        if self.resources.is_empty() {
            self.resources = added.collect();
        } else {
            self.resources.extend(added);
        }
    }
}

/// The state of one load. Its users (`vars`, `resolve`, `fields`, `lower`) go through its
/// methods: settings read-only, diagnostics by pushing errors, blocks and scopes by id, and
/// what evaluation produces through [`Lowered`].
pub(super) struct Loader<'o> {
    opts: &'o LoadOptions,
    root: PathBuf,
    sources: SourceMap,
    diags: Diagnostics,
    /// Spec files read, by path relative to the stack directory (for the digest): the source
    /// text, and the bytes as read only when they are not UTF-8 (the text then differs).
    read_files: Vec<(String, FileId, Option<Vec<u8>>)>,
    stack: String,
    env: String,
    region: String,
    tags: BTreeMap<String, String>,
    backend: Backend,
    provider: ProviderConfig,
    network_default: Option<(Value, Span)>,
    /// Where the region was set (`[stack]` or `[provider.aws]`; `true`), else the `[stack]`
    /// header (`false`: the default region).
    region_span: Option<(Span, bool)>,
    policy: PolicyRules,
    scopes: Vec<Arc<Scope>>,
    blocks: Vec<Arc<Block>>,
    var_decls: BTreeMap<String, VarDecl>,
    stack_outputs: Vec<Entry>,
    lowered: Lowered,
}

const ROOT_KEYS: &[&str] = &[
    "stack",
    "backend",
    "provider",
    "variables",
    "storage",
    "artifact",
    "compute",
    "endpoint",
    "gateway",
    "module",
    "outputs",
    "policy",
];
const MODULE_KEYS: &[&str] = &[
    "inputs", "storage", "artifact", "compute", "endpoint", "gateway", "module", "outputs",
];
const MAX_MODULE_DEPTH: usize = 16;

/// Normalises `.` and `..` lexically (no file system access, so paths stay relative).
pub(super) fn normalize(p: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) | Some(Component::Prefix(_)) => {}
                _ => out.push(c),
            },
            other => out.push(other),
        }
    }
    let p: PathBuf = out.iter().collect();
    if p.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        p
    }
}

/// A path with `/` separators, for names that must not depend on the platform.
pub(super) fn slash(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
        .replace("//", "/")
}

pub(super) fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl<'o> Loader<'o> {
    pub fn new(dir: &Path, opts: &'o LoadOptions) -> Self {
        Loader {
            opts,
            root: dir.to_path_buf(),
            sources: SourceMap::default(),
            diags: Diagnostics::default(),
            read_files: Vec::new(),
            stack: String::new(),
            env: opts.env.clone(),
            region: "us-east-1".into(),
            tags: BTreeMap::new(),
            backend: Backend::Local {
                path: PathBuf::from(format!("state/{}.json", opts.env)),
            },
            provider: ProviderConfig::default(),
            network_default: None,
            region_span: None,
            policy: PolicyRules::default(),
            scopes: Vec::new(),
            blocks: Vec::new(),
            var_decls: BTreeMap::new(),
            stack_outputs: Vec::new(),
            lowered: Lowered {
                digests: DigestCache::open(
                    dir,
                    opts.hash_observer
                        .clone()
                        .or_else(crate::spec::digest_cache::process_observer),
                ),
                ..Lowered::default()
            },
        }
    }

    /// The load's options (variables given on the command line and in the environment).
    pub fn opts(&self) -> &LoadOptions {
        self.opts
    }

    /// The stack directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The stack name (`[stack] name`).
    pub fn stack(&self) -> &str {
        &self.stack
    }

    /// The environment name.
    pub fn env(&self) -> &str {
        &self.env
    }

    /// The region (`[stack] region`, else `[provider.aws] region`, else `us-east-1`).
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Stack-wide tags.
    pub fn tags(&self) -> &BTreeMap<String, String> {
        &self.tags
    }

    /// `[provider.aws] network`, the endpoints' default network.
    pub fn network_default(&self) -> Option<&(Value, Span)> {
        self.network_default.as_ref()
    }

    /// Where the region was written (`true`), or the `[stack]` header when it was not.
    pub fn region_span(&self) -> Option<&(Span, bool)> {
        self.region_span.as_ref()
    }

    /// The `[policy]` rules.
    pub fn policy(&self) -> &PolicyRules {
        &self.policy
    }

    fn policy_mut(&mut self) -> &mut PolicyRules {
        &mut self.policy
    }

    /// Declared root variables.
    pub fn var_decls(&self) -> &BTreeMap<String, VarDecl> {
        &self.var_decls
    }

    /// The `[outputs]` entries of the stack file.
    pub fn stack_outputs(&self) -> &[Entry] {
        &self.stack_outputs
    }

    /// What evaluation and lowering have produced so far.
    pub fn lowered(&self) -> &Lowered {
        &self.lowered
    }

    /// What evaluation and lowering produce, to add to.
    pub fn lowered_mut(&mut self) -> &mut Lowered {
        &mut self.lowered
    }

    /// The source files read so far (for diagnostics' locations).
    pub fn sources(&self) -> &SourceMap {
        &self.sources
    }

    /// Adds a source text (a `--var` or `PEDESTAL_VAR_*` value) for diagnostics.
    pub fn add_source(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        self.sources.add(name, text.into())
    }

    /// Parses a source file read with [`Loader::read_source`], reporting syntax errors.
    pub fn parse_source(&mut self, file: FileId, templates: bool) -> Option<Node> {
        parse_document(&self.sources, file, templates, &mut self.diags)
    }

    /// Records an error.
    pub fn push_error(&mut self, e: SpecError) {
        self.diags.push(e);
    }

    /// Whether any error was recorded.
    pub fn has_errors(&self) -> bool {
        !self.diags.is_empty()
    }

    /// Whether loading was interrupted (an artifact's hash was cancelled).
    pub fn cancelled(&self) -> bool {
        self.diags.cancelled()
    }

    /// The error recorded last (to add to its help).
    pub fn last_error_mut(&mut self) -> Option<&mut SpecError> {
        self.diags.errors.last_mut()
    }

    /// The block `id`.
    pub fn block(&self, id: BlockId) -> &Arc<Block> {
        &self.blocks[id.0]
    }

    /// Every block with its id, in declaration order.
    pub fn blocks_by_id(&self) -> impl Iterator<Item = (BlockId, &Arc<Block>)> {
        self.blocks.iter().enumerate().map(|(i, b)| (BlockId(i), b))
    }

    /// The scope `id`.
    pub fn scope(&self, id: ScopeId) -> &Arc<Scope> {
        &self.scopes[id.0]
    }

    fn scope_mut(&mut self, id: ScopeId) -> &mut Arc<Scope> {
        &mut self.scopes[id.0]
    }

    /// Every scope with its id, the root first.
    pub fn scopes_by_id(&self) -> impl Iterator<Item = (ScopeId, &Arc<Scope>)> {
        self.scopes.iter().enumerate().map(|(i, s)| (ScopeId(i), s))
    }

    pub fn err(
        &mut self,
        code: ErrorCode,
        span: &Span,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> &mut SpecError {
        let e = SpecError::at(&self.sources, code, span, message, label);
        self.diags.push(e);
        let last = self.diags.errors.len() - 1;
        &mut self.diags.errors[last]
    }

    /// The spec files read so far (modules, policy files, environment files), relative to the
    /// stack directory.
    pub fn spec_files(&self) -> Vec<PathBuf> {
        self.read_files
            .iter()
            .map(|(p, _, _)| PathBuf::from(p))
            .collect()
    }

    /// The local state file, when state is kept locally.
    pub fn local_state_path(&self) -> Option<&Path> {
        match &self.backend {
            Backend::Local { path } => Some(path),
            Backend::S3 { .. } => None,
        }
    }

    /// Display name of a file relative to the stack directory.
    pub fn display_name(&self, rel: &Path) -> String {
        slash(&normalize(&self.root.join(rel)))
    }

    /// Reads a file into the source map and the digest list.
    pub fn read_source(&mut self, rel: &Path) -> Result<FileId, std::io::Error> {
        let full = self.root.join(rel);
        let bytes = std::fs::read(&full)?;
        let (text, raw, bad) = match String::from_utf8(bytes) {
            Ok(t) => (t, None, None),
            // The bytes before the first invalid sequence are kept as they are, so the
            // offset of the error is the same in the shown text.
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let bytes = e.into_bytes();
                (
                    String::from_utf8_lossy(&bytes).into_owned(),
                    Some(bytes),
                    Some(at),
                )
            }
        };
        let name = self.display_name(rel);
        let file = self.sources.add(name.clone(), text);
        self.read_files.push((slash(&normalize(rel)), file, raw));
        if let Some(at) = bad {
            let len = self.sources.text(file)[at..]
                .chars()
                .next()
                .map_or(1, char::len_utf8);
            self.err(
                ErrorCode::Syntax,
                &Span::new(file, at..at + len),
                format!("{name} is not valid UTF-8"),
                "invalid UTF-8 here",
            )
            .help = Some("spec files are UTF-8 text; re-save the file as UTF-8".into());
        }
        Ok(file)
    }

    /// The whole load. Diagnostics collect along the way; the config is built only when none
    /// were found.
    pub fn run(mut self) -> Result<Config, Diagnostics> {
        if !self.env_name_ok() {
            return Err(self.diags);
        }
        let Some((file, doc)) = self.read_stack_file() else {
            return Err(self.diags);
        };
        self.root_sections(file, doc);
        if self.diags.is_empty() {
            self.evaluate();
            self.lowered.collect_resources();
            self.lowered.digests.save();
        }
        if self.diags.is_empty() {
            self.assign_route_priorities();
        }
        if self.diags.is_empty() {
            self.finish_dependencies();
        }
        if self.diags.is_empty() {
            self.check_policy();
        }
        if !self.diags.is_empty() {
            self.diags.finish();
            return Err(self.diags);
        }
        let outputs = self.evaluate_stack_outputs();
        if !self.diags.is_empty() {
            self.diags.finish();
            return Err(self.diags);
        }
        let digest = self.digest();
        // What only the load needed (each block's exports, the blocks and scopes, where each
        // dependency was declared) is freed on another thread from the size at which blocks
        // are lowered on two threads: freeing it took a tenth of a 10,000-resource validate's
        // loading thread, with the second core idle meanwhile.
        crate::par::drop_aside(
            "drop",
            self.blocks.len() >= crate::spec::resolve::level_split_from(),
            (
                std::mem::take(&mut self.lowered.exports),
                std::mem::take(&mut self.blocks),
                std::mem::take(&mut self.scopes),
                std::mem::take(&mut self.lowered.dep_origin),
            ),
        );
        let policy = crate::spec::Policy {
            max_monthly_cost_delta: self.policy.max_monthly_cost_delta.as_ref().map(
                |(cents, written, span)| crate::spec::CostLimit {
                    cents: *cents,
                    written: written.clone(),
                    location: self.sources.location(span),
                },
            ),
        };
        Ok(Config {
            root: self.root,
            stack: self.stack,
            env: self.env,
            region: self.region,
            tags: self.tags,
            backend: self.backend,
            provider: self.provider,
            resources: self.lowered.resources,
            outputs,
            variables: self.lowered.vars,
            policy,
            digest,
        })
    }

    /// Reports an invalid environment name.
    fn env_name_ok(&mut self) -> bool {
        if !self
            .env
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
            || self.env.is_empty()
        {
            self.diags.push(
                SpecError::bare(
                    ErrorCode::Environment,
                    format!("invalid environment name `{}`", self.env),
                )
                .with_help("environment names use a-z, 0-9, `-` and `_`"),
            );
            return false;
        }
        true
    }

    /// Reads and parses `pedestal.toml`.
    fn read_stack_file(&mut self) -> Option<(FileId, Node)> {
        let file = match self.read_source(Path::new("pedestal.toml")) {
            Ok(f) => f,
            Err(e) => {
                let name = self.display_name(Path::new("pedestal.toml"));
                self.diags.push(
                    SpecError::bare(ErrorCode::Io, format!("cannot read {name}: {e}"))
                        .with_help("run pedestal in a stack directory or pass -C DIR"),
                );
                return None;
            }
        };
        let Some(doc) = parse_document(&self.sources, file, true, &mut self.diags) else {
            self.diags.finish();
            return None;
        };
        Some((file, doc))
    }

    /// The stack file's sections: `[stack]`, variables, backend, provider, then the blocks
    /// of the root scope and the modules they call, and `[outputs]`.
    fn root_sections(&mut self, file: FileId, doc: Node) {
        // The root scope (module scopes are added as their calls are found).
        self.scopes.push(Arc::new(Scope {
            prefix: String::new(),
            qual: Vec::new(),
            rel_dir: PathBuf::new(),
            call: None,
            inputs: BTreeMap::new(),
            blocks: FastMap::default(),
            outputs: Vec::new(),
            children: FastMap::default(),
        }));
        let mut stack_seen = false;
        let mut variables: Option<&Entry> = None;
        let entries = doc.entries().unwrap_or_default();
        for e in entries {
            match e.key.as_str() {
                "stack" => {
                    stack_seen = true;
                    self.stack_section(e);
                }
                "variables" => variables = Some(e),
                "outputs" | "backend" | "provider" | "policy" => {}
                k if BlockKind::parse(k).is_some() => {}
                k => self.unknown_key(e, k, ROOT_KEYS, "the stack file"),
            }
        }
        if !stack_seen {
            self.err(
                ErrorCode::MissingKey,
                &Span::new(file, 0..0),
                "missing [stack] section",
                "expected `[stack]` with a `name`",
            )
            .help = Some("add:\n[stack]\nname = \"my-stack\"".into());
        }
        if let Some(v) = variables {
            let decls = self.var_decls_of(v, "variable");
            self.var_decls = decls;
        }
        self.resolve_variables();
        let stack_region = entries
            .iter()
            .find(|e| e.key == "stack")
            .and_then(|e| e.value.get("region"))
            .is_some();
        for e in entries {
            match e.key.as_str() {
                "backend" => self.backend_section(e),
                "provider" => self.provider_section(e),
                "policy" => self.policy_section(e),
                _ => {}
            }
        }
        self.region_span = entries
            .iter()
            .find(|e| e.key == "stack")
            .and_then(|e| e.value.get("region"))
            .or_else(|| {
                entries
                    .iter()
                    .find(|e| e.key == "provider")
                    .and_then(|e| e.value.get("aws"))
                    .and_then(|e| e.value.get("region"))
            })
            .map(|e| (e.value.span.clone(), true))
            .or_else(|| {
                entries
                    .iter()
                    .find(|e| e.key == "stack")
                    .map(|e| (e.key_span.clone(), false))
            });
        // The region: [stack] region, else [provider.aws] region, else us-east-1.
        if self.provider.region.is_empty() {
            self.provider.region = self.region.clone();
        } else if !stack_region {
            self.region = self.provider.region.clone();
        }
        // Module instances, recursively, under the root scope. The block tables are moved
        // out of the document: each block keeps its own part of the tree.
        let NodeKind::Table(entries) = doc.kind else {
            return;
        };
        let mut block_tables = Vec::new();
        let mut outputs = None;
        for e in entries {
            if e.key == "outputs" {
                outputs.get_or_insert(e);
            } else if BlockKind::parse(&e.key).is_some() {
                block_tables.push(e);
            }
        }
        self.fill_scope(
            ScopeId::ROOT,
            block_tables,
            &mut vec![normalize(Path::new("."))],
        );
        if let Some(o) = outputs
            && let Some(es) = self.take_table_entries(o, "[outputs]")
        {
            self.stack_outputs = es;
        }
    }

    pub fn unknown_key(&mut self, e: &Entry, key: &str, allowed: &[&str], within: &str) {
        let help = did_you_mean(key, allowed.iter().copied())
            .unwrap_or_else(|| format!("allowed keys: {}", allowed.join(", ")));
        self.err(
            ErrorCode::UnknownKey,
            &e.key_span,
            format!("unknown key `{key}` in {within}"),
            "unknown key",
        )
        .help = Some(help);
    }

    /// The entries of a table-valued entry, or a type error.
    pub fn table_entries(&mut self, e: &Entry, what: &str) -> Option<Vec<Entry>> {
        match &e.value.kind {
            NodeKind::Table(es) => Some(es.clone()),
            _ => {
                let found = e.value.type_name();
                self.err(
                    ErrorCode::WrongType,
                    &e.value.span,
                    format!("{what} must be a table, found {found}"),
                    "expected a table",
                );
                None
            }
        }
    }

    /// The entries of a table-valued entry, moved out, or a type error.
    pub fn take_table_entries(&mut self, e: Entry, what: &str) -> Option<Vec<Entry>> {
        match e.value.kind {
            NodeKind::Table(es) => Some(es),
            _ => {
                self.table_entries(&e, what);
                None
            }
        }
    }

    fn evaluate_stack_outputs(&mut self) -> BTreeMap<String, Output> {
        let mut out = BTreeMap::new();
        let entries = std::mem::take(&mut self.stack_outputs);
        for e in &entries {
            let (node, explicit_sensitive) = match e.value.get("value") {
                Some(v) => {
                    let sens = e
                        .value
                        .get("sensitive")
                        .and_then(|s| match s.value.kind {
                            NodeKind::Bool(b) => Some(b),
                            _ => None,
                        })
                        .unwrap_or(false);
                    (&v.value, sens)
                }
                None => (&e.value, false),
            };
            let mut deps = BTreeMap::new();
            if let Some(v) = self.eval(ScopeId::ROOT, node, &mut deps) {
                if v.is_sensitive() && !explicit_sensitive {
                    let span = node.span.clone();
                    self.err(
                        ErrorCode::Sensitive,
                        &span,
                        format!(
                            "output `{}` holds a sensitive value but is not marked sensitive",
                            e.key
                        ),
                        "shown in clear by `pedestal output`",
                    )
                    .help = Some(format!(
                        "declare it sensitive, {} = {{ value = \"...\", sensitive = true }}, or output something else",
                        e.key
                    ));
                    continue;
                }
                let sensitive = explicit_sensitive || v.is_sensitive();
                let value = if explicit_sensitive && !v.is_sensitive() {
                    Value::Sensitive(Box::new(v))
                } else {
                    v
                };
                out.insert(e.key.clone(), Output { value, sensitive });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
