//! Resolution: checking every `${...}` reference, ordering blocks, module inputs and outputs by
//! what they reference (reporting cycles with every edge's location), evaluating expressions
//! into [`Value`]s, and wiring resource dependencies (implied and explicit `depends_on`). A
//! large stack's blocks are lowered level by level, each large level on two threads
//! ([`levels`]).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::diag::{ErrorCode, Span, SpecError, did_you_mean};
use super::load::{BlockId, BlockKind, Exported, FastMap, Loader, ModuleCall, Scope, ScopeId};
use super::raw::{Node, NodeKind, Part, RefExpr};
use super::vars::{fits, value_type};
use crate::addr::Address;
use crate::graph::Dag;
use crate::resource::Key;
use crate::resource::{Ref, TemplatePart, Value};

/// Resources a value came from, with where the reference was written.
pub(super) type Deps = BTreeMap<Address, Span>;

/// A node of the evaluation graph.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum EvalNode {
    Block(BlockId),
    Input(ScopeId, String),
    Output(ScopeId, String),
}

/// The evaluation graph as it is built: nodes, and edges with where each was written (an
/// edge may name a node before it is added).
#[derive(Default)]
struct EvalGraph {
    nodes: Vec<EvalNode>,
    edges: Vec<(EvalNode, EvalNode, Span)>,
}

impl EvalGraph {
    fn add_edge(&mut self, from: &EvalNode, to: EvalNode, span: &Span) {
        self.edges.push((from.clone(), to, span.clone()));
    }
}

const REF_ROOTS: &[&str] = &[
    "var", "env", "stack", "storage", "artifact", "compute", "endpoint", "gateway", "module",
];

impl Loader<'_> {
    /// Checks one reference in `scope`; returns the evaluation-graph node it depends on.
    fn check_ref(&self, scope: ScopeId, r: &RefExpr) -> Result<Option<EvalNode>, Box<SpecError>> {
        let p: Vec<&str> = r.path.iter().map(String::as_str).collect();
        match p.as_slice() {
            ["env"] => Ok(None),
            ["stack", "name" | "region"] => Ok(None),
            ["stack", other] => Err(self.ref_error(
                r,
                ErrorCode::UnknownAttribute,
                format!("`stack` has no attribute `{other}`"),
                "unknown attribute",
                Some(
                    did_you_mean(other, ["name", "region"])
                        .unwrap_or_else(|| "available: name, region".into()),
                ),
            )),
            ["var", name] => self.check_var_ref(scope, r, name),
            ["module", m, out] => self.check_module_ref(scope, r, m, out),
            [kind, name, attr]
                if BlockKind::parse(kind).is_some_and(|k| k != BlockKind::Module) =>
            {
                self.check_block_ref(scope, r, (kind, name, attr))
            }
            _ => Err(self.unknown_ref_root(r, p.first().copied().unwrap_or(""))),
        }
    }

    /// An error at reference `r`.
    fn ref_error(
        &self,
        r: &RefExpr,
        code: ErrorCode,
        msg: String,
        label: &str,
        help: Option<String>,
    ) -> Box<SpecError> {
        let e = SpecError::at(self.sources(), code, &r.span, msg, label);
        Box::new(match help {
            Some(h) => e.with_help(h),
            None => e,
        })
    }

    /// `${var.name}`: a stack variable, or in a module an input (a graph node).
    fn check_var_ref(
        &self,
        scope: ScopeId,
        r: &RefExpr,
        name: &str,
    ) -> Result<Option<EvalNode>, Box<SpecError>> {
        let sc = &self.scope(scope);
        let text = r.text();
        let bad = |code, msg, label, help| self.ref_error(r, code, msg, label, help);
        if sc.call.is_none() {
            if self.var_decls().contains_key(name) {
                Ok(None)
            } else {
                Err(bad(
                    ErrorCode::UnknownReference,
                    format!("unknown variable `{name}` in `${{{text}}}`"),
                    "not a declared variable",
                    Some(
                        did_you_mean(name, self.var_decls().keys().map(String::as_str))
                            .unwrap_or_else(|| format!("declare it with [variables.{name}]")),
                    ),
                ))
            }
        } else if sc.inputs.contains_key(name) {
            Ok(Some(EvalNode::Input(scope, name.to_string())))
        } else {
            Err(bad(
                ErrorCode::UnknownReference,
                format!("unknown module input `{name}` in `${{{text}}}`"),
                "not a declared input",
                Some(
                    did_you_mean(name, sc.inputs.keys().map(String::as_str))
                        .unwrap_or_else(|| format!("declare it with [inputs.{name}]")),
                ),
            ))
        }
    }

    /// `${module.m.out}`: an output of a module called from this scope.
    fn check_module_ref(
        &self,
        scope: ScopeId,
        r: &RefExpr,
        m: &str,
        out: &str,
    ) -> Result<Option<EvalNode>, Box<SpecError>> {
        let sc = &self.scope(scope);
        let text = r.text();
        let bad = |code, msg, label, help| self.ref_error(r, code, msg, label, help);
        let Some(&child) = sc.children.get(m) else {
            let names: Vec<&str> = sc.children.keys().map(String::as_str).collect();
            return Err(bad(
                ErrorCode::UnknownReference,
                format!("unknown module `{m}` in `${{{text}}}`"),
                "no such module",
                did_you_mean(m, names),
            ));
        };
        let c = &self.scope(child);
        if c.outputs.iter().any(|o| o.key == out) {
            Ok(Some(EvalNode::Output(child, out.to_string())))
        } else {
            let names: Vec<&str> = c.outputs.iter().map(|o| o.key.as_str()).collect();
            let help = did_you_mean(out, names.iter().copied())
                .unwrap_or_else(|| format!("module `{m}` exports: {}", names.join(", ")));
            Err(bad(
                ErrorCode::UnknownAttribute,
                format!("module `{m}` has no output `{out}`"),
                "unknown output",
                Some(help),
            ))
        }
    }

    /// `${kind.name.attr}`: an exported attribute of a block of this scope.
    fn check_block_ref(
        &self,
        scope: ScopeId,
        r: &RefExpr,
        (kind, name, attr): (&str, &str, &str),
    ) -> Result<Option<EvalNode>, Box<SpecError>> {
        let sc = &self.scope(scope);
        let bad = |code, msg, label, help| self.ref_error(r, code, msg, label, help);
        let k = BlockKind::parse(kind).unwrap_or(BlockKind::Storage);
        let Some(&b) = sc.blocks.get(&(k, name.to_string())) else {
            let mut names: Vec<&str> = sc
                .blocks
                .keys()
                .filter(|(bk, _)| *bk == k)
                .map(|(_, n)| n.as_str())
                .collect();
            names.sort();
            let help = did_you_mean(name, names.iter().copied()).or_else(|| {
                (!names.is_empty()).then(|| format!("declared {kind} blocks: {}", names.join(", ")))
            });
            return Err(bad(
                ErrorCode::UnknownReference,
                format!("reference to undeclared `{kind}.{name}`"),
                "no such block",
                help,
            ));
        };
        if k.exports().contains(&attr) {
            Ok(Some(EvalNode::Block(b)))
        } else {
            let help = did_you_mean(attr, k.exports().iter().copied())
                .map(|d| format!("{d} ({kind} exports {})", k.exports().join(", ")))
                .unwrap_or_else(|| format!("{kind} exports {}", k.exports().join(", ")));
            Err(bad(
                ErrorCode::UnknownAttribute,
                format!("`{kind}.{name}` does not export `{attr}`"),
                "unknown attribute",
                Some(help),
            ))
        }
    }

    /// A reference of no known shape, with a hint for its first part.
    fn unknown_ref_root(&self, r: &RefExpr, first: &str) -> Box<SpecError> {
        let text = r.text();
        let help = if REF_ROOTS.contains(&first) {
            Some(match first {
                "var" => "write `${var.<name>}`".to_string(),
                "stack" => "write `${stack.name}` or `${stack.region}`".to_string(),
                "env" => "write `${env}`".to_string(),
                "module" => "write `${module.<name>.<output>}`".to_string(),
                k => format!("write `${{{k}.<name>.<attribute>}}`"),
            })
        } else {
            did_you_mean(first, REF_ROOTS.iter().copied()).or_else(|| {
                Some(
                    "references start with var, env, stack, storage, artifact, compute, endpoint or module"
                        .into(),
                )
            })
        };
        self.ref_error(
            r,
            ErrorCode::UnknownReference,
            format!("unknown reference `${{{text}}}`"),
            "cannot be resolved",
            help,
        )
    }

    /// Checks that a node only references `var`, `env` and `stack` (backend, provider).
    pub fn check_static(&mut self, n: &Node) -> bool {
        let mut refs = Vec::new();
        n.refs(&mut refs);
        let mut ok = true;
        for r in refs {
            let root = r.path.first().map(String::as_str).unwrap_or("");
            let checked = if BlockKind::parse(root).is_some() {
                Ok(true)
            } else {
                self.check_ref(ScopeId::ROOT, r).map(|n| n.is_some())
            };
            match checked {
                Ok(false) => {}
                Ok(true) => {
                    ok = false;
                    self.err(
                        ErrorCode::InvalidValue,
                        &r.span,
                        "only variables, `env` and `stack` can be referenced here",
                        "not known before planning",
                    )
                    .help = Some(
                        "[backend] and [provider.aws] are read before any resource exists".into(),
                    );
                }
                Err(e) => {
                    ok = false;
                    self.push_error(*e);
                }
            }
        }
        ok
    }

    pub fn eval_static_string(&mut self, n: &Node) -> Option<String> {
        if !self.check_static(n) {
            return None;
        }
        let mut deps = Deps::new();
        match self.eval(ScopeId::ROOT, n, &mut deps)? {
            Value::String(s) => Some(s),
            other => {
                let found = value_type(&other);
                self.err(
                    ErrorCode::WrongType,
                    &n.span,
                    format!("expected a string, found {found}"),
                    "expected a string",
                );
                None
            }
        }
    }

    /// Evaluates a node in a scope. `None` means an error was already reported (here or
    /// upstream); `deps` receives the resources the value came from.
    pub fn eval(&mut self, scope: ScopeId, n: &Node, deps: &mut Deps) -> Option<Value> {
        Some(match &n.kind {
            NodeKind::Str { text, tpl: None } => Value::String(text.clone()),
            NodeKind::Str { tpl: Some(t), .. } => {
                if let Some(r) = t.single() {
                    return self.lookup(scope, r, deps);
                }
                let mut parts: Vec<TemplatePart> = Vec::new();
                let mut sensitive = false;
                let push_lit = |parts: &mut Vec<TemplatePart>, s: &str| {
                    if let Some(TemplatePart::Lit(l)) = parts.last_mut() {
                        l.push_str(s);
                    } else {
                        parts.push(TemplatePart::Lit(s.to_string()));
                    }
                };
                for p in &t.parts {
                    match p {
                        Part::Lit(s) => push_lit(&mut parts, s),
                        Part::Ref(r) => {
                            let v = self.lookup(scope, r, deps)?;
                            let v = match v {
                                Value::Sensitive(inner) => {
                                    sensitive = true;
                                    *inner
                                }
                                v => v,
                            };
                            match v {
                                Value::String(s) => push_lit(&mut parts, &s),
                                Value::Int(_) | Value::Float(_) | Value::Bool(_) => {
                                    push_lit(&mut parts, &v.to_plain_string())
                                }
                                Value::Ref(rf) => parts.push(TemplatePart::Ref(*rf)),
                                Value::Template(tp) => {
                                    for x in tp {
                                        match x {
                                            TemplatePart::Lit(s) => push_lit(&mut parts, &s),
                                            r => parts.push(r),
                                        }
                                    }
                                }
                                other => {
                                    let found = value_type(&other);
                                    self.err(
                                        ErrorCode::WrongType,
                                        &r.span,
                                        format!(
                                            "cannot interpolate {found} into a string: `${{{}}}`",
                                            r.text()
                                        ),
                                        "not a string, number or boolean",
                                    )
                                    .help = Some(
                                        "use the reference alone as the whole value to keep its type"
                                            .into(),
                                    );
                                    return None;
                                }
                            }
                        }
                    }
                }
                let v = match parts.as_slice() {
                    [] => Value::String(String::new()),
                    [TemplatePart::Lit(s)] => Value::String(s.clone()),
                    _ => Value::Template(parts),
                };
                if sensitive {
                    Value::Sensitive(Box::new(v))
                } else {
                    v
                }
            }
            NodeKind::Int(i) => Value::Int(*i),
            NodeKind::Float(f) => Value::Float(*f),
            NodeKind::Bool(b) => Value::Bool(*b),
            NodeKind::Datetime(d) => Value::String(d.clone()),
            NodeKind::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                let mut ok = true;
                for i in items {
                    match self.eval(scope, i, deps) {
                        Some(v) => out.push(v),
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                Value::List(out)
            }
            NodeKind::Table(es) => {
                // A table's keys are unique (the parser refuses duplicates): collected once.
                let mut out = Vec::with_capacity(es.len());
                let mut ok = true;
                for e in es {
                    match self.eval(scope, &e.value, deps) {
                        Some(v) => out.push((e.key.clone(), v)),
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                Value::Map(out.into_iter().map(|(k, v)| (Key::from(k), v)).collect())
            }
        })
    }

    fn lookup(&mut self, scope: ScopeId, r: &RefExpr, deps: &mut Deps) -> Option<Value> {
        let sc = self.scope(scope).clone();
        let p: Vec<&str> = r.path.iter().map(String::as_str).collect();
        let add = |deps: &mut Deps, e: &Exported| {
            for d in e.deps.iter() {
                deps.entry(d.clone()).or_insert_with(|| r.span.clone());
            }
        };
        match p.as_slice() {
            ["env"] => Some(Value::String(self.env().to_string())),
            ["stack", "name"] => Some(Value::String(self.stack().to_string())),
            ["stack", "region"] => Some(Value::String(self.region().to_string())),
            ["var", name] if sc.call.is_none() => self.lowered().vars.get(*name).cloned(),
            ["var", name] => {
                let e = self.lowered().inputs_val.get(&(scope, name.to_string()))?;
                add(deps, e);
                Some(e.value.clone())
            }
            ["module", m, out] => {
                let child = *sc.children.get(*m)?;
                let e = self.lowered().outputs_val.get(&(child, out.to_string()))?;
                add(deps, e);
                Some(e.value.clone())
            }
            [kind, name, attr] => {
                let k = BlockKind::parse(kind)?;
                let b = *sc.blocks.get(&(k, name.to_string()))?;
                let e = self.lowered().exports.get(&b)?.get(attr)?;
                add(deps, e);
                Some(e.value.clone())
            }
            _ => None,
        }
    }

    /// Builds the evaluation graph, reports unknown references and cycles, then evaluates
    /// blocks, module inputs and outputs in dependency order.
    pub fn evaluate(&mut self) {
        let mut g = EvalGraph::default();
        self.graph_blocks(&mut g);
        let scopes: Vec<_> = self.scopes_by_id().map(|(i, s)| (i, s.clone())).collect();
        for (sid, sc) in &scopes {
            let sid = *sid;
            let Some(call) = &sc.call else { continue };
            self.graph_module_scope(sid, sc, &mut g);
            self.graph_module_call(sid, sc, call, &mut g);
            self.missing_module_inputs(sc, call);
        }
        // Stack outputs are evaluated last; only their references need checking here.
        for o in self.stack_outputs().to_vec() {
            let mut refs = Vec::new();
            o.value.refs(&mut refs);
            for r in refs {
                if let Err(e) = self.check_ref(ScopeId::ROOT, r) {
                    self.push_error(*e);
                }
            }
        }
        if self.has_errors() {
            return;
        }
        self.evaluate_in_order(g);
    }

    /// The address a node of the evaluation graph stands for (`module.m.var.x` for a module
    /// input, `module.m.output.y` for an output).
    fn eval_node_name(&self, n: &EvalNode) -> Cow<'_, str> {
        match n {
            EvalNode::Block(id) => Cow::Borrowed(self.block(*id).addr.as_str()),
            EvalNode::Input(sid, name) => {
                Cow::Owned(format!("{}var.{name}", self.scope(*sid).prefix))
            }
            EvalNode::Output(sid, name) => {
                Cow::Owned(format!("{}output.{name}", self.scope(*sid).prefix))
            }
        }
    }

    /// Reports the graph's cycles, or evaluates its nodes in dependency order (ties broken by
    /// address). Nodes are ranked by address, so the graph orders plain indices.
    fn evaluate_in_order(&mut self, g: EvalGraph) {
        let EvalGraph { nodes, edges } = g;
        let mut ranked: Vec<(Cow<'_, str>, &EvalNode)> =
            nodes.iter().map(|n| (self.eval_node_name(n), n)).collect();
        ranked.sort_by(|a, b| a.0.cmp(&b.0));
        ranked.dedup_by(|a, b| a.0 == b.0);
        let rank: FastMap<&EvalNode, u32> = ranked
            .iter()
            .enumerate()
            .map(|(i, (_, n))| (*n, i as u32))
            .collect();
        let dag = Dag::from_edges(
            0..ranked.len() as u32,
            edges
                .iter()
                .filter_map(|(a, b, _)| Some((*rank.get(a)?, *rank.get(b)?))),
        );
        let cycles = dag.cycles();
        if !cycles.is_empty() {
            let names: Vec<Address> = ranked.iter().map(|(a, _)| Address::new(&**a)).collect();
            drop(ranked);
            let mut edge_span: HashMap<(u32, u32), Span> = HashMap::new();
            for (a, b, span) in &edges {
                if let (Some(&a), Some(&b)) = (rank.get(a), rank.get(b)) {
                    edge_span.entry((a, b)).or_insert_with(|| span.clone());
                }
            }
            let index: HashMap<&Address, u32> = names
                .iter()
                .enumerate()
                .map(|(i, a)| (a, i as u32))
                .collect();
            for c in cycles {
                let c: Vec<Address> = c.iter().map(|&i| names[i as usize].clone()).collect();
                self.report_cycle(&c, &|a: &Address, b: &Address| {
                    edge_span.get(&(*index.get(a)?, *index.get(b)?)).cloned()
                });
            }
            return;
        }
        let order = dag.order();
        let level = self.by_levels().then(|| {
            let ranked_edges = edges
                .iter()
                .filter_map(|(a, b, _)| Some((*rank.get(a)?, *rank.get(b)?)));
            let level = levels::levels(ranked.len(), &order, ranked_edges);
            order.iter().map(|&i| level[i as usize]).collect::<Vec<_>>()
        });
        let order: Vec<EvalNode> = order
            .into_iter()
            .map(|i| ranked[i as usize].1.clone())
            .collect();
        drop(ranked);
        // Room for about four resources a block (an endpoint makes five or more, a bucket
        // one), so the lists lowering appends to rarely grow and copy.
        let room = 4 * self.blocks_by_id().count();
        let lowered = self.lowered_mut();
        lowered.added.reserve(room);
        lowered.dep_origin.reserve(room);
        if let Some(level) = level {
            if self.evaluate_by_levels(&order, &level) {
                return;
            }
            // Reported on two threads: report again from one, in the one order.
            self.restart_evaluation();
        }
        for n in order {
            match n {
                EvalNode::Block(id) => self.lower_block(id),
                EvalNode::Input(sid, name) => self.eval_input(sid, &name),
                EvalNode::Output(sid, name) => self.eval_output(sid, &name),
            }
        }
    }

    /// Adds an edge from `from` to each node that the references in `n` (read in `scope`)
    /// depend on; reports unknown references.
    fn graph_refs(&mut self, scope: ScopeId, from: &EvalNode, n: &Node, g: &mut EvalGraph) {
        let mut refs = Vec::new();
        n.refs(&mut refs);
        for r in refs {
            match self.check_ref(scope, r) {
                Ok(Some(t)) => g.add_edge(from, t, &r.span),
                Ok(None) => {}
                Err(e) => self.push_error(*e),
            }
        }
    }

    /// Every non-module block, with edges for its references and its plain block names.
    fn graph_blocks(&mut self, g: &mut EvalGraph) {
        let blocks: Vec<_> = self.blocks_by_id().map(|(i, b)| (i, b.clone())).collect();
        for (id, b) in blocks {
            if b.kind == BlockKind::Module {
                continue;
            }
            let from = EvalNode::Block(id);
            g.nodes.push(from.clone());
            self.graph_refs(b.scope, &from, &b.node, g);
            // Plain block names: `storage = "models"`, `compute = "serving"`.
            let implicit = match b.kind {
                BlockKind::Artifact => Some(("storage", BlockKind::Storage)),
                BlockKind::Endpoint => Some(("compute", BlockKind::Compute)),
                _ => None,
            };
            if let Some((key, kind)) = implicit
                && let Some(e) = b.node.get(key)
                && let Some(name) = e.value.literal_str()
                && let Some(&t) = self.scope(b.scope).blocks.get(&(kind, name.to_string()))
            {
                g.add_edge(&from, EvalNode::Block(t), &e.value.span);
            }
            // `route = { gateway = "public" }` (or a module input holding it): the gateways
            // the endpoint can see are lowered first.
            if b.kind == BlockKind::Endpoint
                && let Some(route) = b.node.get("route")
            {
                let mut sc = Some(b.scope);
                let mut targets = Vec::new();
                while let Some(id) = sc {
                    let s = self.scope(id);
                    targets.extend(
                        s.blocks
                            .iter()
                            .filter(|((k, _), _)| *k == BlockKind::Gateway)
                            .map(|(_, &t)| t),
                    );
                    sc = s.call.as_ref().map(|c| c.parent);
                }
                targets.sort();
                for t in targets {
                    g.add_edge(&from, EvalNode::Block(t), &route.value.span);
                }
            }
        }
    }

    /// A module scope's inputs and outputs, with edges for the outputs' references.
    fn graph_module_scope(&mut self, sid: ScopeId, sc: &Scope, g: &mut EvalGraph) {
        for name in sc.inputs.keys() {
            g.nodes.push(EvalNode::Input(sid, name.clone()));
        }
        for o in &sc.outputs {
            let n = EvalNode::Output(sid, o.key.clone());
            g.nodes.push(n.clone());
            self.graph_refs(sid, &n, &o.value, g);
        }
    }

    /// The call's own keys and inputs, evaluated in the parent scope.
    fn graph_module_call(
        &mut self,
        sid: ScopeId,
        sc: &Scope,
        call: &ModuleCall,
        g: &mut EvalGraph,
    ) {
        let call_block = self.block(call.block).clone();
        for e in call_block.node.entries().unwrap_or_default() {
            match e.key.as_str() {
                "source" => {}
                "inputs" => {
                    let Some(given) = e.value.entries() else {
                        let found = e.value.type_name();
                        self.err(
                            ErrorCode::WrongType,
                            &e.value.span,
                            format!("`inputs` must be a table, found {found}"),
                            "expected a table",
                        );
                        continue;
                    };
                    for i in given {
                        if !sc.inputs.contains_key(&i.key) {
                            let help = did_you_mean(&i.key, sc.inputs.keys().map(String::as_str))
                                .unwrap_or_else(|| {
                                    format!(
                                        "the module declares: {}",
                                        sc.inputs.keys().cloned().collect::<Vec<_>>().join(", ")
                                    )
                                });
                            self.err(
                                ErrorCode::UnknownKey,
                                &i.key_span,
                                format!("module `{}` has no input `{}`", call_block.name, i.key),
                                "unknown input",
                            )
                            .help = Some(help);
                            continue;
                        }
                        let n = EvalNode::Input(sid, i.key.clone());
                        self.graph_refs(call.parent, &n, &i.value, g);
                    }
                }
                "depends_on" => {
                    self.depends_on(call.block, Some(super::fields::Src::Node(&e.value)))
                }
                k => self.unknown_key(
                    e,
                    k,
                    &["source", "inputs", "depends_on"],
                    &format!("[module.{}]", call_block.name),
                ),
            }
        }
    }

    /// Reports inputs without a default that the call does not give.
    fn missing_module_inputs(&mut self, sc: &Scope, call: &ModuleCall) {
        let call_block = self.block(call.block).clone();
        for (name, d) in &sc.inputs {
            let given = call_block
                .node
                .get("inputs")
                .and_then(|i| i.value.get(name))
                .is_some();
            if !given && d.default.is_none() {
                self.err(
                    ErrorCode::MissingKey,
                    &call_block.name_span,
                    format!("module `{}` needs input `{name}`", call_block.name),
                    "missing input",
                )
                .label(&d.span, "declared here")
                .help = Some(format!("add `{name} = ...` to `inputs`"));
            }
        }
    }

    /// Reports one cycle `[a, b, …]` (a → b → … → a) with the location of every edge.
    pub fn report_cycle(
        &mut self,
        cycle: &[Address],
        span_of: &dyn Fn(&Address, &Address) -> Option<Span>,
    ) {
        let n = cycle.len();
        let mut lines = Vec::new();
        let mut spans = Vec::new();
        for i in 0..n {
            let a = &cycle[i];
            let b = &cycle[(i + 1) % n];
            let sp = span_of(a, b);
            let at = sp
                .as_ref()
                .map(|s| format!(" ({})", self.sources().location(s)))
                .unwrap_or_default();
            lines.push(format!("  {a} depends on {b}{at}"));
            spans.push(sp);
        }
        let path: Vec<String> = cycle
            .iter()
            .chain(cycle.first())
            .map(|a| a.to_string())
            .collect();
        let message = format!("dependency cycle: {}", path.join(" -> "));
        let help = format!(
            "the cycle, edge by edge:\n{}\nbreak it by removing one of these references or depends_on entries",
            lines.join("\n")
        );
        let first = spans.iter().flatten().next().cloned();
        match first {
            Some(sp) => {
                let mut e = SpecError::at(
                    self.sources(),
                    ErrorCode::Cycle,
                    &sp,
                    message,
                    format!("{} depends on {}", cycle[0], cycle[1 % n]),
                );
                for (i, s) in spans.iter().enumerate().skip(1) {
                    if let Some(s) = s {
                        e = e.with_label(
                            s,
                            format!("{} depends on {}", cycle[i], cycle[(i + 1) % n]),
                        );
                    }
                }
                self.push_error(e.with_help(help));
            }
            None => self.push_error(SpecError::bare(ErrorCode::Cycle, message).with_help(help)),
        }
    }

    fn eval_input(&mut self, sid: ScopeId, name: &str) {
        let sc = self.scope(sid).clone();
        let Some(call) = &sc.call else { return };
        let Some(decl) = sc.inputs.get(name) else {
            return;
        };
        let block = self.block(call.block).clone();
        let given = block.node.get("inputs").and_then(|i| i.value.get(name));
        let mut deps = Deps::new();
        let (value, span) = match given {
            Some(e) => match self.eval(call.parent, &e.value, &mut deps) {
                Some(v) => (v, e.value.span.clone()),
                None => return,
            },
            None => match &decl.default {
                Some(d) => (super::vars::literal_value(d), d.span.clone()),
                None => return,
            },
        };
        if !fits(decl.ty, &value) {
            self.err(
                ErrorCode::VariableType,
                &span,
                format!(
                    "input `{name}` of module `{}` is a {}, but this value is {}",
                    block.name,
                    decl.ty.as_str(),
                    value_type(&value)
                ),
                format!("expected a {}", decl.ty.as_str()),
            );
            return;
        }
        let value = if decl.sensitive && !value.is_sensitive() {
            Value::Sensitive(Box::new(value))
        } else {
            value
        };
        self.lowered_mut().inputs_val.insert(
            (sid, name.to_string()),
            Exported {
                value,
                deps: Arc::new(deps.into_keys().collect()),
            },
        );
    }

    fn eval_output(&mut self, sid: ScopeId, name: &str) {
        let sc = self.scope(sid).clone();
        let Some(o) = sc.outputs.iter().find(|o| o.key == name) else {
            return;
        };
        let node = o.value.get("value").map(|v| &v.value).unwrap_or(&o.value);
        let mut deps = Deps::new();
        if let Some(v) = self.eval(sid, node, &mut deps) {
            self.lowered_mut().outputs_val.insert(
                (sid, name.to_string()),
                Exported {
                    value: v,
                    deps: Arc::new(deps.into_keys().collect()),
                },
            );
        }
    }

    /// A reference value to another resource's attribute.
    pub fn reference(address: &Address, attr: &str) -> Value {
        Value::Ref(Box::new(Ref {
            address: address.clone(),
            attr: attr.to_string(),
        }))
    }
}

mod deps;
mod levels;

pub(super) use levels::split_from as level_split_from;
#[cfg(test)]
pub(super) use levels::{SPLIT_FROM as LEVEL_SPLIT_FROM, SPLIT_MIN as LEVEL_SPLIT_MIN};

#[cfg(test)]
mod tests;
