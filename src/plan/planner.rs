//! The planner: a pure function from the desired world ([`Config`]), recorded (possibly
//! refreshed) [`State`] and [`PlanOptions`] to a [`Plan`]. No I/O, no clock, no randomness, so
//! the same inputs give a byte-identical plan.
//!
//! Outline:
//! 1. index every address in the spec or the state; edges are `depends_on` (plus references)
//!    for resources in the spec and recorded dependencies for orphans;
//! 2. order them topologically with [`order_dense`] (ties broken by address): O((V+E) log V);
//! 3. narrow to `--target`s (and what they depend on; for `--destroy`, what depends on them);
//! 4. walk in order, resolving [`Value::Ref`]s against the dependency's planned `after` (or its
//!    recorded attributes when it is unchanged), diffing against state and choosing an
//!    [`Action`] with a [`Reason`];
//! 5. derive the endpoint release view, the artifact objects to prune after the releases, and
//!    output changes.
//!
//! Reasons are true: an update is "drifted" only when an attribute it changes is one refresh
//! found changed; otherwise it is "changed in the spec". An endpoint whose last recorded
//! release did not finish, or that `pedestal rollback` moved, is released again with that
//! reason even when nothing else changed.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use super::compare::{changed_attrs, keep_computed, matches_owned};
use super::releases;
use super::{Action, Drift, OutputChange, Plan, PlanMode, Reason, ResourceChange, StateRef};
use crate::addr::Address;
use crate::graph::order_dense;
use crate::resource::Key;
use crate::resource::schema::{self, s3_object};
use crate::resource::{Attrs, ReplaceOrder, Resource, ResourceKind, Value};
use crate::spec::Config;
use crate::state::{ResourceState, State, Status};

/// What the plan is asked to do.
#[derive(Clone, Debug, Default)]
pub struct PlanOptions {
    /// A normal plan or `--destroy`.
    pub mode: PlanMode,
    /// `--target`: resource or block addresses (`endpoint.fraud`, `module.churn`).
    pub targets: Vec<String>,
    /// `--replace`: resource or block addresses to replace even when unchanged.
    pub replace: Vec<String>,
    /// What refresh found changed outside pedestal (the prior state passed in already includes
    /// it); shown in its own section and used as a reason.
    pub drift: Vec<Drift>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
/// Why the planner refused to make a plan.
pub enum PlanError {
    #[error(
        "{} cannot be destroyed: lifecycle.prevent_destroy is set, but the plan would {}\n(remove prevent_destroy from the spec first if this is intended, or narrow the plan with --target)",
        list_addresses(.addresses.iter().map(|(a, _)| a)),
        .addresses.iter().map(|(a, act)| format!("{act} {a}")).collect::<Vec<_>>().join(", ")
    )]
    /// The plan would destroy or replace a resource with `prevent_destroy`.
    PreventDestroy {
        /// Address and what the plan would do to it (`destroy`, `replace`).
        addresses: Vec<(Address, &'static str)>,
    },
    #[error("--target {target} matches no resource in the spec or state{}", hint(.suggestion))]
    /// `--target` names nothing.
    UnknownTarget {
        /// The target as given.
        target: String,
        /// The closest address, when one is close.
        suggestion: Option<String>,
    },
    #[error("--replace {target} matches no resource in the spec{}", hint(.suggestion))]
    /// `--replace` names nothing in the spec.
    UnknownReplace {
        /// The address as given.
        target: String,
        /// The closest address, when one is close.
        suggestion: Option<String>,
    },
    #[error("dependency cycle between {}", list_addresses(.addresses.iter()))]
    /// Resources depend on each other in a cycle.
    Cycle {
        /// The resources on the cycle.
        addresses: Vec<Address>,
    },
    #[error(
        "{location}: the plan raises the monthly cost by {}, more than the policy allows (max_monthly_cost_delta = {limit})\n(the cost section of the plan shows each endpoint's share)",
        crate::cost::usd(*.delta_cents, true)
    )]
    /// The plan's cost delta passes `[policy] max_monthly_cost_delta`.
    CostPolicy {
        /// The monthly delta in cents.
        delta_cents: i64,
        /// The limit as written.
        limit: String,
        /// `file:line:col` of the limit.
        location: String,
    },
    #[error(
        "the state belongs to stack `{state_stack}` env `{state_env}`, not stack `{stack}` env `{env}`"
    )]
    /// The state belongs to another stack or environment.
    ForeignState {
        /// The stack the state records.
        state_stack: String,
        /// The environment the state records.
        state_env: String,
        /// The stack being planned.
        stack: String,
        /// The environment being planned.
        env: String,
    },
}

fn hint(s: &Option<String>) -> String {
    s.as_ref()
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default()
}

fn list_addresses<'a>(it: impl Iterator<Item = &'a Address>) -> String {
    it.map(|a| a.to_string()).collect::<Vec<_>>().join(", ")
}

/// One address of the spec or the state: its resource, its record, and the positions of what
/// it depends on.
pub(super) struct Node<'a> {
    pub(super) address: &'a Address,
    pub(super) desired: Option<&'a Resource>,
    pub(super) prior: Option<&'a ResourceState>,
    pub(super) deps: Vec<usize>,
}

/// Computes the plan. Pure: same inputs, same plan.
pub fn plan(config: &Config, prior: &State, opts: &PlanOptions) -> Result<Plan, PlanError> {
    check_owner(config, prior)?;
    // 1. Index; edges found and resources matched against their records on two threads.
    let mut graph = Graph::index(config, prior);
    let matched = super::prematch::link(&mut graph, opts);
    // 2. Order.
    let order = topo_order(&graph.nodes)?;
    // 3. Narrow.
    let selected = select(&graph.nodes, &graph.addresses, opts)?;
    check_replace_targets(config, opts)?;
    // 4. Walk; 5. outputs.
    let (changes, outputs) = match opts.mode {
        PlanMode::Destroy => {
            let changes = walk_destroy(&graph.nodes, &order, &selected)?;
            (changes, destroy_outputs(config, prior))
        }
        PlanMode::Normal => walk_normal(config, prior, opts, &graph, &matched, &order, &selected)?,
    };
    let plan = finish(config, prior, opts, changes, outputs)?;
    budget(config, plan)
}

/// Refuses a state recorded for another stack or environment.
fn check_owner(config: &Config, prior: &State) -> Result<(), PlanError> {
    if prior.stack != config.stack || prior.env != config.env {
        return Err(PlanError::ForeignState {
            state_stack: prior.stack.clone(),
            state_env: prior.env.clone(),
            stack: config.stack.clone(),
            env: config.env.clone(),
        });
    }
    Ok(())
}

/// Address → position among the sorted addresses (foldhash: the addresses are the stack's own).
pub(super) type AddressIndex<'a> = HashMap<&'a Address, usize, foldhash::fast::RandomState>;

/// Every address in the spec or the state (sorted), its position, and its node with edges.
pub(super) struct Graph<'a> {
    addresses: Vec<&'a Address>,
    pub(super) index: AddressIndex<'a>,
    pub(super) nodes: Vec<Node<'a>>,
}

impl<'a> Graph<'a> {
    /// Step 1: the nodes, without their edges (see [`Graph::deps_of`]).
    fn index(config: &'a Config, prior: &'a State) -> Graph<'a> {
        // Both maps are sorted by address: one merge gives the union, sorted, with each
        // address's resource and record found on the way.
        let capacity = config.resources.len().max(prior.resources.len());
        let mut nodes: Vec<Node> = Vec::with_capacity(capacity);
        let (mut spec, mut state) = (
            config.resources.iter().peekable(),
            prior.resources.iter().peekable(),
        );
        loop {
            let address = match (spec.peek(), state.peek()) {
                (Some((a, _)), Some((b, _))) => (*a).min(*b),
                (Some((a, _)), None) => *a,
                (None, Some((b, _))) => *b,
                (None, None) => break,
            };
            nodes.push(Node {
                address,
                desired: spec.next_if(|(a, _)| *a == address).map(|(_, r)| r),
                prior: state.next_if(|(a, _)| *a == address).map(|(_, p)| p),
                deps: Vec::new(),
            });
        }
        let addresses: Vec<&Address> = nodes.iter().map(|n| n.address).collect();
        let mut index = AddressIndex::with_capacity_and_hasher(nodes.len(), Default::default());
        index.extend(addresses.iter().enumerate().map(|(i, a)| (*a, i)));
        Graph {
            addresses,
            index,
            nodes,
        }
    }

    /// The positions of what node `me` depends on, sorted, each once, itself left out.
    pub(super) fn deps_of(&self, me: usize) -> Vec<usize> {
        let node = &self.nodes[me];
        let mut deps: Vec<usize> = Vec::new();
        let mut add = |a: &Address| {
            if let Some(&d) = self.index.get(a)
                && d != me
            {
                deps.push(d);
            }
        };
        match (node.desired, node.prior) {
            (Some(r), _) => {
                r.depends_on.iter().for_each(&mut add);
                for v in r.attrs.values() {
                    v.for_each_ref(&mut |rf| add(&rf.address));
                }
            }
            (None, Some(p)) => p.dependencies.iter().for_each(&mut add),
            (None, None) => {}
        }
        deps.sort_unstable();
        deps.dedup();
        deps
    }
}

/// Every `--replace` target must name something in the spec.
fn check_replace_targets(config: &Config, opts: &PlanOptions) -> Result<(), PlanError> {
    for target in &opts.replace {
        if !config.resources.keys().any(|a| a.is_within(target)) {
            return Err(PlanError::UnknownReplace {
                target: target.clone(),
                suggestion: suggest(target, config.resources.keys()),
            });
        }
    }
    Ok(())
}

/// Fails when any resource marked `prevent_destroy` would be destroyed or replaced.
fn refuse_prevented(prevented: Vec<(Address, &'static str)>) -> Result<(), PlanError> {
    if prevented.is_empty() {
        Ok(())
    } else {
        Err(PlanError::PreventDestroy {
            addresses: prevented,
        })
    }
}

/// Step 4 for `--destroy`: every selected recorded resource, dependents first.
fn walk_destroy(
    nodes: &[Node],
    order: &[usize],
    selected: &[bool],
) -> Result<Vec<ResourceChange>, PlanError> {
    let mut changes = Vec::with_capacity(nodes.len());
    let mut prevented = Vec::new();
    for &i in order.iter().rev() {
        let node = &nodes[i];
        let (Some(p), true) = (node.prior, selected[i]) else {
            continue;
        };
        if node.desired.is_some_and(|r| r.lifecycle.prevent_destroy) {
            prevented.push((node.address.clone(), "destroy"));
        }
        changes.push(delete(node.address, p, Reason::DestroyRequested));
    }
    refuse_prevented(prevented)?;
    Ok(changes)
}

/// Step 4 (and the outputs) for a normal plan: diff each selected resource in dependency
/// order, resolving references against what is already planned; orphans are deleted.
fn walk_normal(
    config: &Config,
    prior: &State,
    opts: &PlanOptions,
    graph: &Graph,
    matched: &[bool],
    order: &[usize],
    selected: &[bool],
) -> Result<(Vec<ResourceChange>, BTreeMap<String, OutputChange>), PlanError> {
    let (index, nodes) = (&graph.index, &graph.nodes);
    let drifted: HashMap<&Address, BTreeSet<String>> = opts
        .drift
        .iter()
        .map(|d| (&d.address, drifted_attrs(d)))
        .collect();
    let unfinished = releases::unfinished(prior);
    let mut changes: Vec<ResourceChange> = Vec::with_capacity(nodes.len());
    let mut prevented: Vec<(Address, &'static str)> = Vec::new();
    let mut planned = Planned {
        position: vec![None; nodes.len()],
        pending: vec![false; nodes.len()],
    };
    for &i in order {
        if !selected[i] {
            continue;
        }
        let node = &nodes[i];
        let change = match (node.desired, node.prior) {
            (Some(r), p) => {
                let replace_requested = opts.replace.iter().any(|t| node.address.is_within(t));
                let release = (r.kind == ResourceKind::EcsService)
                    .then(|| unfinished.get(node.address.block()))
                    .flatten();
                let facts = Facts {
                    replace_requested,
                    drifted: drifted.get(node.address),
                    matched: matched[i] && planned.settled(&node.deps, nodes, &changes),
                };
                let mut change = diff(r, p, facts, &|rf| {
                    planned.lookup(index, nodes, &changes, rf)
                });
                if p.is_some() && matches!(change.action, Action::NoOp | Action::Update) {
                    follow_replaced(r, &mut change, &node.deps, nodes, &planned, &changes);
                }
                if let Some(why) = release
                    && matches!(change.action, Action::NoOp | Action::Update)
                {
                    change.action = Action::Update;
                    change.reason = Some(why.clone());
                }
                if change.action.destroys() && r.lifecycle.prevent_destroy {
                    prevented.push((node.address.clone(), "replace"));
                }
                planned.pending[i] = matches!(
                    change.action,
                    Action::Create | Action::DeleteThenCreate | Action::CreateThenDelete
                ) || (change.action == Action::Update
                    && r.kind.schema().versioned);
                planned.position[i] = Some(changes.len());
                change
            }
            (None, Some(p)) => delete(node.address, p, Reason::NotInSpec),
            (None, None) => continue,
        };
        changes.push(change);
    }
    let outputs = outputs(config, prior, &|rf| {
        planned.lookup(index, nodes, &changes, rf)
    });
    refuse_prevented(prevented)?;
    super::replacements::order_replacements(&mut changes, prior);
    Ok((changes, outputs))
}

/// A resource whose attributes that force replacement name a dependency being replaced (its
/// recorded physical name or id, written literally in the spec, as a service's `cluster` is)
/// is replaced too: the dependency cannot be destroyed under it, and its replacement is a new
/// resource.
fn follow_replaced(
    r: &Resource,
    change: &mut ResourceChange,
    deps: &[usize],
    nodes: &[Node],
    planned: &Planned,
    changes: &[ResourceChange],
) {
    let schema = r.kind.schema();
    let Some(after) = change.after.as_mut() else {
        return;
    };
    for &j in deps {
        let Some(dep) = planned.position[j].map(|pos| &changes[pos]) else {
            continue;
        };
        if !dep.action.is_replace() {
            continue;
        }
        let Some(prior) = nodes[j].prior else {
            continue;
        };
        let name = prior
            .attrs
            .get(dep.kind.schema().name_attr)
            .and_then(Value::as_str);
        let names_it = |v: &Value| {
            v.as_str()
                .is_some_and(|v| Some(v) == name || (!prior.id.is_empty() && v == prior.id))
        };
        let attrs: Vec<String> = schema
            .force_new
            .iter()
            .filter(|k| after.get(k).is_some_and(names_it))
            .map(|k| k.to_string())
            .collect();
        if attrs.is_empty() {
            continue;
        }
        change.action = if r.lifecycle.create_before_destroy
            || schema.replace_order == ReplaceOrder::CreateBeforeDestroy
        {
            Action::CreateThenDelete
        } else {
            Action::DeleteThenCreate
        };
        change.reason = Some(Reason::DependencyReplaced {
            address: dep.address.clone(),
            attrs: attrs.clone(),
        });
        change.replace_paths = attrs;
        for c in schema.computed {
            after.insert(Key::from(*c), Value::Unknown);
        }
        return;
    }
}

/// Output changes for `--destroy`: every recorded output goes away.
fn destroy_outputs(config: &Config, prior: &State) -> BTreeMap<String, OutputChange> {
    prior
        .outputs
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                OutputChange {
                    before: Some(v.clone()),
                    after: None,
                    sensitive: v.is_sensitive()
                        || config.outputs.get(k).is_some_and(|o| o.sensitive),
                },
            )
        })
        .collect()
}

/// `[policy] max_monthly_cost_delta`: refuses a plan whose cost delta passes it.
fn budget(config: &Config, plan: Plan) -> Result<Plan, PlanError> {
    if let Some(limit) = &config.policy.max_monthly_cost_delta
        && plan.cost.delta_cents > limit.cents
    {
        return Err(PlanError::CostPolicy {
            delta_cents: plan.cost.delta_cents,
            limit: limit.written.clone(),
            location: limit.location.clone(),
        });
    }
    Ok(plan)
}

/// Where each planned resource's change sits, and which resources' computed attributes
/// become unknown.
struct Planned {
    position: Vec<Option<usize>>,
    pending: Vec<bool>,
}

impl Planned {
    /// Whether every dependency in `deps` resolves references to its record, as the pre-match
    /// did: left out of the plan so far, or planned with the record itself as `after` and
    /// nothing pending.
    fn settled(&self, deps: &[usize], nodes: &[Node], changes: &[ResourceChange]) -> bool {
        deps.iter().all(|&j| match self.position[j] {
            None => true,
            Some(pos) => {
                !self.pending[j]
                    && changes[pos]
                        .after
                        .as_ref()
                        .zip(nodes[j].prior)
                        .is_some_and(|(after, p)| after.ptr_eq(&p.attrs))
            }
        })
    }

    /// The value a reference resolves to at plan time, or `None` when only known after apply.
    fn lookup(
        &self,
        index: &AddressIndex,
        nodes: &[Node],
        changes: &[ResourceChange],
        rf: &crate::resource::Ref,
    ) -> Option<Value> {
        let &i = index.get(&rf.address)?;
        if let Some(after) = self.position[i].and_then(|p| changes[p].after.as_ref()) {
            return match after.get(&rf.attr) {
                Some(v) if !v.is_unknown() => Some(v.clone()),
                Some(_) => None,
                None if rf.attr == schema::ID && !self.pending[i] => {
                    nodes[i].prior.map(|p| Value::str(p.id.clone()))
                }
                None => None,
            };
        }
        // Not planned (outside --target): its recorded value stands.
        let p = nodes[i].prior?;
        match rf.attr.as_str() {
            schema::ID => Some(Value::str(p.id.clone())),
            a => p.attrs.get(a).cloned(),
        }
    }
}

fn delete(address: &Address, p: &ResourceState, reason: Reason) -> ResourceChange {
    ResourceChange {
        address: address.clone(),
        kind: p.kind,
        action: Action::Delete,
        reason: Some(reason),
        before: Some(p.attrs.clone()),
        after: None,
        replace_paths: Vec::new(),
        id: Some(p.id.clone()),
        depends_on: p.dependencies.clone(),
        lifecycle: Default::default(),
    }
}

/// What the walk knows of one resource besides its spec and record.
#[derive(Clone, Copy)]
struct Facts<'a> {
    /// `--replace` names it.
    replace_requested: bool,
    /// The attributes refresh found changed.
    drifted: Option<&'a BTreeSet<String>>,
    /// The pre-match found it matching its record, and it holds here too.
    matched: bool,
}

/// One resource in the spec against its recorded state.
fn diff(
    r: &Resource,
    prior: Option<&ResourceState>,
    facts: Facts,
    lookup: &dyn Fn(&crate::resource::Ref) -> Option<Value>,
) -> ResourceChange {
    let schema = r.kind.schema();
    if let Some(p) = prior
        && p.status != Status::Tainted
        && !facts.replace_requested
        && r.lifecycle.ignore_changes.is_empty()
        && (facts.matched || matches_owned(&r.attrs, &p.attrs, schema.computed, lookup))
    {
        // A no-op whose `after` (the record's computed attributes kept) is the record itself.
        return ResourceChange {
            address: r.address.clone(),
            kind: r.kind,
            action: Action::NoOp,
            reason: None,
            before: Some(p.attrs.clone()),
            after: Some(p.attrs.clone()),
            replace_paths: Vec::new(),
            id: Some(p.id.clone()),
            depends_on: r.depends_on.clone(),
            lifecycle: r.lifecycle.clone(),
        };
    }
    // Shared with the spec unless a reference resolves or something is written into it.
    let mut after: Attrs =
        Value::substituted_entries(&r.attrs, lookup).unwrap_or_else(|| r.attrs.clone());
    let mut change = ResourceChange {
        address: r.address.clone(),
        kind: r.kind,
        action: Action::NoOp,
        reason: None,
        before: prior.map(|p| p.attrs.clone()),
        after: None,
        replace_paths: Vec::new(),
        id: prior.map(|p| p.id.clone()),
        depends_on: r.depends_on.clone(),
        lifecycle: r.lifecycle.clone(),
    };
    let unknown_computed = |after: &mut Attrs| {
        for c in schema.computed {
            after.insert(Key::from(*c), Value::Unknown);
        }
    };
    let Some(p) = prior else {
        unknown_computed(&mut after);
        change.action = Action::Create;
        change.reason = facts.drifted.map(|_| Reason::Drifted);
        change.after = Some(after);
        return change;
    };
    for name in &r.lifecycle.ignore_changes {
        match p.attrs.get(name) {
            Some(v) => after.insert(name.into(), v.clone()),
            None => after.remove(name),
        };
    }
    let (changed, identical) = changed_attrs(&after, &p.attrs, schema.computed);
    let forced: Vec<String> = changed
        .iter()
        .filter(|k| schema.force_new.contains(k))
        .map(|k| k.to_string())
        .collect();
    let tainted = p.status == Status::Tainted;
    if tainted || facts.replace_requested || !forced.is_empty() {
        change.action = if r.lifecycle.create_before_destroy
            || schema.replace_order == ReplaceOrder::CreateBeforeDestroy
        {
            Action::CreateThenDelete
        } else {
            Action::DeleteThenCreate
        };
        change.reason = Some(if tainted {
            Reason::Tainted
        } else if facts.replace_requested {
            Reason::ReplaceRequested
        } else {
            Reason::ForcedBy {
                attrs: forced.clone(),
            }
        });
        change.replace_paths = forced;
        unknown_computed(&mut after);
    } else if !changed.is_empty() {
        change.action = Action::Update;
        if schema.versioned {
            change.reason = Some(Reason::NewRevision);
            unknown_computed(&mut after);
        } else {
            // A new artifact key is a new object: its version id and etag are not known yet.
            let new_object = r.kind == ResourceKind::S3Object
                && changed.contains(&s3_object::Attr::Key.as_str());
            let outside = facts
                .drifted
                .is_some_and(|d| changed.iter().any(|k| d.contains(*k)));
            change.reason = Some(if outside {
                Reason::Drifted
            } else {
                Reason::SpecChanged {
                    attrs: changed.iter().map(|k| k.to_string()).collect(),
                }
            });
            keep_computed(&mut after, p, schema.computed);
            if new_object {
                after.insert(s3_object::Attr::VersionId.into(), Value::Unknown);
                after.insert(s3_object::Attr::Etag.into(), Value::Unknown);
            }
        }
    } else if identical {
        // What keeping the computed attributes would give is the record itself: share it.
        after = p.attrs.clone();
    } else {
        keep_computed(&mut after, p, schema.computed);
    }
    change.after = Some(after);
    change
}

/// The nodes in dependency order (ties by address: indices follow sorted addresses), or a
/// cycle error naming only the cycle's members.
fn topo_order(nodes: &[Node]) -> Result<Vec<usize>, PlanError> {
    order_dense(nodes.iter().map(|n| n.deps.as_slice())).map_err(|members| PlanError::Cycle {
        addresses: members
            .into_iter()
            .map(|i| nodes[i].address.clone())
            .collect(),
    })
}

/// Which nodes the plan covers: all, or the targets plus their dependencies (for a destroy,
/// their dependents).
fn select(
    nodes: &[Node],
    addresses: &[&Address],
    opts: &PlanOptions,
) -> Result<Vec<bool>, PlanError> {
    if opts.targets.is_empty() {
        return Ok(vec![true; nodes.len()]);
    }
    let mut selected = vec![false; nodes.len()];
    let mut queue = VecDeque::new();
    for target in &opts.targets {
        let mut found = false;
        for (i, a) in addresses.iter().enumerate() {
            if a.is_within(target) {
                found = true;
                if !selected[i] {
                    selected[i] = true;
                    queue.push_back(i);
                }
            }
        }
        if !found {
            return Err(PlanError::UnknownTarget {
                target: target.clone(),
                suggestion: suggest(target, addresses.iter().copied()),
            });
        }
    }
    let edges: Vec<Vec<usize>> = match opts.mode {
        PlanMode::Normal => nodes.iter().map(|n| n.deps.clone()).collect(),
        PlanMode::Destroy => {
            let mut dependents = vec![Vec::new(); nodes.len()];
            for (i, n) in nodes.iter().enumerate() {
                for &d in &n.deps {
                    dependents[d].push(i);
                }
            }
            dependents
        }
    };
    while let Some(i) = queue.pop_front() {
        for &j in &edges[i] {
            if !selected[j] {
                selected[j] = true;
                queue.push_back(j);
            }
        }
    }
    Ok(selected)
}

/// The closest address or block to a mistyped one.
fn suggest<'a>(target: &str, candidates: impl Iterator<Item = &'a Address>) -> Option<String> {
    let mut best: Option<(f64, String)> = None;
    let mut seen = HashSet::new();
    for a in candidates {
        for cand in [a.as_str(), a.block()] {
            if !seen.insert(cand.to_string()) {
                continue;
            }
            let score = strsim::jaro_winkler(target, cand);
            if score > 0.85 && best.as_ref().is_none_or(|(s, _)| score > *s) {
                best = Some((score, cand.to_string()));
            }
        }
    }
    best.map(|(_, s)| s)
}

fn outputs(
    config: &Config,
    prior: &State,
    lookup: &dyn Fn(&crate::resource::Ref) -> Option<Value>,
) -> BTreeMap<String, OutputChange> {
    let mut out = BTreeMap::new();
    for (name, o) in &config.outputs {
        let mut after = o.value.substitute(lookup);
        if o.sensitive && !after.is_sensitive() {
            after = Value::Sensitive(Box::new(after));
        }
        out.insert(
            name.clone(),
            OutputChange {
                before: prior.outputs.get(name).cloned(),
                after: Some(after),
                sensitive: o.sensitive,
            },
        );
    }
    for (name, v) in &prior.outputs {
        if !config.outputs.contains_key(name) {
            out.insert(
                name.clone(),
                OutputChange {
                    before: Some(v.clone()),
                    after: None,
                    sensitive: v.is_sensitive(),
                },
            );
        }
    }
    out
}

fn finish(
    config: &Config,
    prior: &State,
    opts: &PlanOptions,
    changes: Vec<ResourceChange>,
    outputs: BTreeMap<String, OutputChange>,
) -> Result<Plan, PlanError> {
    // The cost estimate on a second thread for a large plan, the rest here.
    let (cost, (releases, prunes, acyclic)) = crate::par::both(
        "plan",
        changes.len() >= super::prematch::PARALLEL_FROM,
        || cost(&changes, prior, &config.region, opts.targets.is_empty()),
        || {
            let releases = releases::view(prior, &changes);
            let prunes = if opts.mode == PlanMode::Normal {
                releases::prunes(prior, &changes, &releases)
            } else {
                Vec::new()
            };
            // 6. Every plan emitted can be walked: its steps have no cycle.
            let acyclic = super::replacements::check_acyclic(&changes, prior);
            (releases, prunes, acyclic)
        },
    );
    acyclic.map_err(|addresses| PlanError::Cycle { addresses })?;
    Ok(Plan {
        format_version: super::FORMAT_VERSION.to_string(),
        stack: config.stack.clone(),
        env: config.env.clone(),
        mode: opts.mode,
        prior_state: StateRef {
            lineage: prior.is_persisted().then(|| prior.lineage.clone()),
            serial: prior.serial,
        },
        spec_digest: config.digest.clone(),
        // Filled in by the plan workflow once `git rev-parse` (run alongside) answers.
        git_commit: None,
        provider: config.provider.clone(),
        changes,
        drift: opts.drift.clone(),
        releases,
        prunes,
        outputs,
        targets: opts.targets.clone(),
        cost,
    })
}

/// The cost estimate over the endpoints' resources: their planned changes, and for those
/// outside `--target` their recorded attributes on both sides. Without `--target` (`complete`)
/// every recorded resource has a change.
fn cost(
    changes: &[ResourceChange],
    prior: &State,
    region: &str,
    complete: bool,
) -> crate::cost::CostEstimate {
    let priced = |k: ResourceKind| {
        matches!(
            k,
            ResourceKind::EcsTaskDefinition
                | ResourceKind::EcsService
                | ResourceKind::ScalingTarget
        )
    };
    let planned: HashSet<&Address, foldhash::fast::RandomState> = if complete {
        HashSet::default()
    } else {
        changes.iter().map(|c| &c.address).collect()
    };
    let parts = changes
        .iter()
        .filter(|c| priced(c.kind))
        .map(|c| crate::cost::Part {
            endpoint: c.address.block(),
            kind: c.kind,
            before: c.before.as_ref(),
            // A no-op differs from its record in nothing the estimate reads: one map on both
            // sides lets it price the endpoint once.
            after: if c.action == Action::NoOp {
                c.before.as_ref()
            } else {
                c.after.as_ref()
            },
        })
        .chain(
            prior
                .resources
                .iter()
                .filter(|(a, r)| !complete && priced(r.kind) && !planned.contains(a))
                .map(|(a, r)| crate::cost::Part {
                    endpoint: a.block(),
                    kind: r.kind,
                    before: Some(&r.attrs),
                    after: Some(&r.attrs),
                }),
        );
    crate::cost::estimate(parts, region)
}

/// The attributes a drift entry says changed (all of them when the resource is gone).
fn drifted_attrs(d: &Drift) -> BTreeSet<String> {
    match &d.after {
        None => d.before.keys().map(|k| k.to_string()).collect(),
        Some(after) => d
            .before
            .keys()
            .chain(after.keys())
            .filter(|k| match (d.before.get(k), after.get(k)) {
                (Some(b), Some(a)) => !a.same_as(b),
                _ => true,
            })
            .map(|k| k.to_string())
            .collect(),
    }
}
