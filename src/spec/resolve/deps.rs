//! Resource dependencies once every block is lowered: explicit `depends_on` edges (a block
//! address stands for all its resources), the resource-graph cycle check, and the check that
//! physical names are unique per kind and follow AWS's naming rules
//! ([`crate::resource::rules`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::addr::Address;
use crate::graph::Dag;
use crate::resource::{Resource, ResourceKind, rules};
use crate::spec::diag::{ErrorCode, SpecError, did_you_mean};
use crate::spec::load::{BlockId, BlockKind, FastMap, Loader};

/// Whether the resources' dependencies form no cycle, checked on dense indices: a resource's
/// index is its place in the map, each dependency is found by one lookup of its address
/// (dependencies outside the map are left out, as the graph leaves them). Cycles are then
/// found, and reported, on the graph of addresses.
fn acyclic(resources: &BTreeMap<Address, Resource>) -> bool {
    let index: FastMap<&str, usize> = resources
        .keys()
        .enumerate()
        .map(|(i, a)| (a.as_str(), i))
        .collect();
    let mut flat: Vec<usize> = Vec::new();
    let mut ends: Vec<usize> = Vec::with_capacity(resources.len());
    for r in resources.values() {
        flat.extend(
            r.depends_on
                .iter()
                .filter_map(|d| index.get(d.as_str()).copied()),
        );
        ends.push(flat.len());
    }
    let deps = (0..ends.len()).map(|i| {
        let start = if i == 0 { 0 } else { ends[i - 1] };
        &flat[start..ends[i]]
    });
    crate::graph::order_dense(deps).is_ok()
}

impl Loader<'_> {
    /// Adds explicit `depends_on` edges (a block address means all its resources) and checks
    /// the resource graph for cycles.
    pub fn finish_dependencies(&mut self) {
        let explicit = std::mem::take(&mut self.lowered_mut().explicit_deps);
        for (block, target, span) in explicit {
            let b = self.block(block).clone();
            let prefix = self.scope(b.scope).prefix.clone();
            let full = format!("{prefix}{target}");
            let targets: Vec<Address> = self
                .lowered()
                .resources
                .range(Address::new(&full)..)
                .take_while(|(a, _)| a.as_str().starts_with(&full))
                .filter(|(a, _)| a.is_within(&full))
                .map(|(a, _)| a.clone())
                .collect();
            if targets.is_empty() {
                let mut known: BTreeSet<String> = BTreeSet::new();
                for a in self.lowered().resources.keys() {
                    if let Some(rest) = a.as_str().strip_prefix(&prefix) {
                        let block_addr = if rest.starts_with("module.") {
                            rest.splitn(3, '.').take(2).collect::<Vec<_>>().join(".")
                        } else {
                            Address::new(rest).block().to_string()
                        };
                        known.insert(block_addr);
                    }
                }
                let help = did_you_mean(&target, known.iter().map(String::as_str))
                    .unwrap_or_else(|| {
                        "depends_on lists block addresses such as \"storage.models\" or \"module.churn\"".into()
                    });
                self.err(
                    ErrorCode::DependsOn,
                    &span,
                    format!("depends_on names `{target}`, which does not exist"),
                    "unknown block",
                )
                .help = Some(help);
                continue;
            }
            let own: Vec<Address> = self
                .lowered()
                .resources
                .range(Address::new(&b.addr)..)
                .take_while(|(a, _)| a.as_str().starts_with(&b.addr))
                .filter(|(a, _)| a.is_within(&b.addr))
                .map(|(a, _)| a.clone())
                .collect();
            for r in &own {
                for t in &targets {
                    if let Some(res) = self.lowered_mut().resources.get_mut(r) {
                        res.depends_on.insert(t.clone());
                    }
                    self.lowered_mut()
                        .explicit_origin
                        .entry((r.clone(), t.clone()))
                        .or_insert_with(|| span.clone());
                }
            }
        }
        // Both only read the resources: on two threads from a large stack on.
        let resources = &self.lowered().resources;
        let (acyclic, names) = crate::par::both(
            "deps",
            resources.len() >= PARALLEL_FROM,
            || acyclic(resources),
            || NameFindings::of(resources),
        );
        self.report_physical_names(names);
        if acyclic {
            return;
        }
        // The graph borrows the addresses: only a cycle's members are copied.
        let resources = &self.lowered().resources;
        let cycles: Vec<Vec<Address>> = Dag::from_edges(
            resources.keys(),
            resources
                .iter()
                .flat_map(|(a, r)| r.depends_on.iter().map(move |d| (a, d))),
        )
        .cycles()
        .into_iter()
        .map(|c| c.into_iter().cloned().collect())
        .collect();
        if cycles.is_empty() {
            return;
        }
        let origin = std::mem::take(&mut self.lowered_mut().dep_origin);
        let explicit = std::mem::take(&mut self.lowered_mut().explicit_origin);
        for c in cycles {
            // The first resource added at an address that names the dependency, else the
            // `depends_on` entry.
            self.report_cycle(&c, &|a, b| {
                origin
                    .iter()
                    .filter(|(r, _)| r == a)
                    .find_map(|(_, ds)| {
                        let at = ds.binary_search_by(|(d, _)| d.cmp(b)).ok()?;
                        Some(&ds[at].1)
                    })
                    .or_else(|| explicit.get(&(a.clone(), b.clone())))
                    .cloned()
            });
        }
    }

    /// An error at the second of each two resources of one kind sharing a physical name.
    fn name_clash_errors(
        &self,
        clashes: Vec<(Address, Address, String)>,
        block_of: &HashMap<&str, BlockId>,
    ) -> Vec<SpecError> {
        let span_of = |a: &Address| {
            block_of
                .get(a.block())
                .map(|&i| self.block(i).name_span.clone())
        };
        let mut errors = Vec::new();
        for (first, second, name) in clashes {
            if let Some(span) = span_of(&second) {
                let mut e = SpecError::at(
                    self.sources(),
                    ErrorCode::InvalidValue,
                    &span,
                    format!("{second} and {first} would both be named {name:?}"),
                    "same physical name",
                )
                .with_help("give one of them another name; physical names must be unique per kind");
                if let Some(s) = span_of(&first) {
                    e = e.with_label(&s, "also uses this name");
                }
                errors.push(e);
            }
        }
        errors
    }

    /// Reports what [`NameFindings::of`] found: two resources of one kind sharing a physical
    /// name (bucket, cluster, family, ...), names AWS refuses, names that would hold a secret.
    fn report_physical_names(&mut self, found: NameFindings) {
        let NameFindings {
            clashes,
            bad_names,
            secret_names,
        } = found;
        if clashes.is_empty() && bad_names.is_empty() && secret_names.is_empty() {
            return;
        }
        let block_of: HashMap<&str, BlockId> = self
            .blocks_by_id()
            .map(|(i, b)| (b.addr.as_str(), i))
            .collect();
        let mut errors = self.name_clash_errors(clashes, &block_of);
        let mut named: BTreeSet<(BlockId, String)> = BTreeSet::new();
        for (addr, name, problem, source) in bad_names {
            if let Some(&i) = block_of.get(addr.block())
                // A task family and a service share their name: one error says it.
                && named.insert((i, name.clone()))
            {
                let b = self.block(i);
                // An explicit `name = "..."` is where to point; a default name, the block.
                let (span, help) = match b.node.get("name") {
                    Some(e) if b.kind == BlockKind::Compute => (
                        e.value.span.clone(),
                        format!("set a name AWS accepts ({source})"),
                    ),
                    _ => (
                        b.name_span.clone(),
                        format!(
                            "shorten the block, module or environment name, or set the name explicitly ({source})"
                        ),
                    ),
                };
                errors.push(
                    SpecError::at(
                        self.sources(),
                        ErrorCode::InvalidValue,
                        &span,
                        format!("{addr} would be named {name:?}: {problem}"),
                        "invalid name",
                    )
                    .with_help(help),
                );
            }
        }
        for (addr, name_attr) in secret_names {
            if let Some(&i) = block_of.get(addr.block()) {
                let b = self.block(i);
                // The key that set the name, when the block writes it (spelt like the attribute).
                let span = b
                    .node
                    .get(name_attr)
                    .map_or_else(|| b.name_span.clone(), |e| e.value.span.clone());
                errors.push(
                    SpecError::at(
                        self.sources(),
                        ErrorCode::Sensitive,
                        &span,
                        format!("the name of {addr} would hold a sensitive value"),
                        "names are stored and shown in clear",
                    )
                    .with_help("physical names appear in ARNs, logs, plans and bills: use a plain value, and pass secrets to containers through `secrets`"),
                );
            }
        }
        for e in errors {
            self.push_error(e);
        }
    }
}

/// From this many resources on, the cycle check and the name checks run on two threads.
const PARALLEL_FROM: usize = 2_000;

/// What the physical-name checks found, before it is reported.
struct NameFindings {
    /// (first, second, name): two resources of one kind with one physical name.
    clashes: Vec<(Address, Address, String)>,
    /// (address, name, problem, rule source): names AWS would refuse.
    bad_names: Vec<(Address, String, String, &'static str)>,
    /// (address, name attribute): names that would hold a sensitive value.
    secret_names: Vec<(Address, &'static str)>,
}

impl NameFindings {
    /// Every resource's physical name checked: unique per kind, allowed by AWS, not secret.
    fn of(resources: &BTreeMap<Address, Resource>) -> NameFindings {
        // Names and addresses are borrowed: only problems are copied.
        let mut seen: FastMap<(ResourceKind, &str), &Address> =
            FastMap::with_capacity_and_hasher(resources.len(), Default::default());
        let mut clashes: Vec<(Address, Address, String)> = Vec::new();
        let mut bad_names = Vec::new();
        let mut secret_names = Vec::new();
        for r in resources.values() {
            // The name is looked up once: what `Resource::physical_name` reads.
            let name_attr = r.kind.schema().name_attr;
            let value = r.attrs.get(name_attr);
            if value.is_some_and(crate::resource::Value::is_sensitive) {
                secret_names.push((r.address.clone(), name_attr));
            }
            let physical = value.and_then(crate::resource::Value::as_str);
            // Buckets and alarms are checked where their names are made.
            if let Some(name) = physical
                && !matches!(
                    r.kind,
                    ResourceKind::S3Bucket | ResourceKind::CloudwatchAlarm
                )
                && let Some((problem, source)) = rules::name_problem(r.kind, name)
            {
                bad_names.push((r.address.clone(), name.to_string(), problem, source));
            }
            // Object keys are only unique within their bucket.
            let Some(name) = physical.filter(|_| r.kind != crate::resource::ResourceKind::S3Object)
            else {
                continue;
            };
            match seen.entry((r.kind, name)) {
                std::collections::hash_map::Entry::Occupied(first) => {
                    clashes.push(((*first.get()).clone(), r.address.clone(), name.to_string()))
                }
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(&r.address);
                }
            }
        }
        NameFindings {
            clashes,
            bad_names,
            secret_names,
        }
    }
}
