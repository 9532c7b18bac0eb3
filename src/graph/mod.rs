//! The dependency graph (petgraph): build, cycle detection, deterministic order, the
//! ready-set schedule the applier walks, and rendering (DOT, Mermaid).
//!
//! [`Dag`] is the one place that orders nodes and finds cycles. It knows nothing about spec
//! files: it is built from nodes and their dependencies, either from a [`Config`] ([`build`]),
//! from any `(node, depends_on)` list such as a plan's changes ([`Dag::from_deps`]), or from
//! bare edges ([`Dag::from_edges`]). Nodes are addresses by default; the planner orders dense
//! indices and the applier orders its steps with the same code. Edges point from a node to
//! what it depends on.
//!
//! Nodes are stored sorted, so a node's index is its rank: every order below breaks ties by
//! the node's own ordering and costs O((V + E) log V) at most.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};
use std::fmt::{Display, Write as _};
use std::hash::Hash;

use petgraph::Direction;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::addr::Address;
use crate::spec::Config;

/// What a graph node must be: ordered (ties), hashable (lookup), cloneable (results).
pub trait Node: Clone + Ord + Hash {}
impl<T: Clone + Ord + Hash> Node for T {}

/// A directed graph; an edge `a → b` means `a` depends on `b`.
#[derive(Debug, Clone)]
pub struct Dag<N = Address> {
    graph: DiGraph<N, ()>,
    index: HashMap<N, NodeIndex, foldhash::fast::RandomState>,
}

impl<N> Default for Dag<N> {
    fn default() -> Self {
        Dag {
            graph: DiGraph::default(),
            index: HashMap::default(),
        }
    }
}

impl<N: Node> Dag<N> {
    /// Builds a graph from nodes and `(dependent, dependency)` edges. Edges naming a node
    /// that is not in `nodes` are ignored (a targeted plan may depend on resources it leaves
    /// out). Already sorted input (a `BTreeMap`'s keys) sorts in linear time.
    pub fn from_edges(
        nodes: impl IntoIterator<Item = N>,
        edges: impl IntoIterator<Item = (N, N)>,
    ) -> Dag<N> {
        let mut dag = Dag::default();
        let mut sorted: Vec<N> = nodes.into_iter().collect();
        sorted.sort();
        sorted.dedup();
        dag.graph.reserve_nodes(sorted.len());
        dag.index.reserve(sorted.len());
        for n in sorted {
            let i = dag.graph.add_node(n.clone());
            dag.index.insert(n, i);
        }
        let pairs: Vec<(NodeIndex, NodeIndex)> = edges
            .into_iter()
            .filter_map(|(from, to)| Some((*dag.index.get(&from)?, *dag.index.get(&to)?)))
            .collect();
        dag.add_pairs(pairs);
        dag
    }

    /// Adds edges between existing nodes, sorted and each once.
    fn add_pairs(&mut self, mut pairs: Vec<(NodeIndex, NodeIndex)>) {
        pairs.sort_unstable();
        pairs.dedup();
        self.graph.reserve_edges(pairs.len());
        for (a, b) in pairs {
            self.graph.add_edge(a, b, ());
        }
    }

    /// Builds a graph from each node's dependency set (a config's resources, a plan's changes).
    pub fn from_deps<'a>(items: impl IntoIterator<Item = (&'a N, &'a BTreeSet<N>)>) -> Dag<N>
    where
        N: 'a,
    {
        // Nodes are copied once; edges are looked up by reference, never copied.
        let items: Vec<(&N, &BTreeSet<N>)> = items.into_iter().collect();
        let mut dag = Dag::from_edges(items.iter().map(|(a, _)| (*a).clone()), []);
        let mut pairs = Vec::new();
        for (a, deps) in &items {
            let Some(&i) = dag.index.get(*a) else {
                continue;
            };
            pairs.extend(deps.iter().filter_map(|d| Some((i, *dag.index.get(d)?))));
        }
        dag.add_pairs(pairs);
        dag
    }

    /// How many nodes.
    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    /// Whether there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    /// Whether `a` is a node.
    pub fn contains(&self, a: &N) -> bool {
        self.index.contains_key(a)
    }

    /// Every node, sorted.
    pub fn nodes(&self) -> Vec<N> {
        self.graph.node_weights().cloned().collect()
    }

    /// Every edge `(dependent, dependency)`, sorted.
    pub fn edges(&self) -> Vec<(N, N)> {
        self.graph
            .edge_references()
            .map(|e| {
                (
                    self.graph[e.source()].clone(),
                    self.graph[e.target()].clone(),
                )
            })
            .collect()
    }

    /// What `a` depends on directly, sorted.
    pub fn dependencies(&self, a: &N) -> Vec<N> {
        self.neighbours(a, Direction::Outgoing)
    }

    /// What depends on `a` directly, sorted.
    pub fn dependents(&self, a: &N) -> Vec<N> {
        self.neighbours(a, Direction::Incoming)
    }

    fn neighbours(&self, a: &N, dir: Direction) -> Vec<N> {
        let Some(&i) = self.index.get(a) else {
            return Vec::new();
        };
        let mut v: Vec<NodeIndex> = self.graph.neighbors_directed(i, dir).collect();
        v.sort_unstable();
        v.dedup();
        v.into_iter().map(|n| self.graph[n].clone()).collect()
    }

    /// Everything `a` depends on, transitively (without `a` itself).
    pub fn ancestors(&self, a: &N) -> BTreeSet<N> {
        self.reach(a, Direction::Outgoing)
    }

    /// Everything that depends on `a`, transitively (without `a` itself).
    pub fn descendants(&self, a: &N) -> BTreeSet<N> {
        self.reach(a, Direction::Incoming)
    }

    fn reach(&self, a: &N, dir: Direction) -> BTreeSet<N> {
        let mut out = BTreeSet::new();
        let Some(&start) = self.index.get(a) else {
            return out;
        };
        let mut stack = vec![start];
        let mut seen = vec![false; self.len()];
        seen[start.index()] = true;
        while let Some(n) = stack.pop() {
            for m in self.graph.neighbors_directed(n, dir) {
                if !seen[m.index()] {
                    seen[m.index()] = true;
                    out.insert(self.graph[m].clone());
                    stack.push(m);
                }
            }
        }
        out
    }

    /// The strongly connected components that are cycles: two or more members, or one with
    /// an edge to itself.
    fn cyclic_components(&self) -> Vec<Vec<NodeIndex>> {
        if self.is_acyclic() {
            return Vec::new();
        }
        tarjan_scc(&self.graph)
            .into_iter()
            .filter(|scc| scc.len() > 1 || self.graph.contains_edge(scc[0], scc[0]))
            .collect()
    }

    /// Whether every node can be ordered (Kahn's algorithm in any order: no ties to break).
    fn is_acyclic(&self) -> bool {
        let mut waiting = vec![0usize; self.len()];
        for e in self.graph.edge_references() {
            waiting[e.source().index()] += 1;
        }
        let mut ready: Vec<NodeIndex> = (0..self.len())
            .filter(|&i| waiting[i] == 0)
            .map(NodeIndex::new)
            .collect();
        let mut done = 0;
        while let Some(n) = ready.pop() {
            done += 1;
            for d in self.graph.neighbors_directed(n, Direction::Incoming) {
                waiting[d.index()] -= 1;
                if waiting[d.index()] == 0 {
                    ready.push(d);
                }
            }
        }
        done == self.len()
    }

    /// Every cycle, one per strongly connected component, each as the path
    /// `[a, b, …]` meaning `a → b → … → a`, starting at its smallest node; sorted.
    pub fn cycles(&self) -> Vec<Vec<N>> {
        let mut out = Vec::new();
        for scc in self.cyclic_components() {
            let members: BTreeSet<NodeIndex> = scc.iter().copied().collect();
            let Some(&start) = members.first() else {
                continue;
            };
            out.push(self.cycle_through(start, &members));
        }
        out.sort();
        out
    }

    /// Every node that sits on a cycle (all members of each cyclic component), sorted; not
    /// the nodes merely waiting behind one.
    pub fn cycle_members(&self) -> Vec<N> {
        let mut members: Vec<NodeIndex> = self.cyclic_components().into_iter().flatten().collect();
        members.sort_unstable();
        members.into_iter().map(|n| self.graph[n].clone()).collect()
    }

    /// The shortest cycle from `start` back to itself inside one component (BFS, following
    /// the smallest neighbour first so the result is deterministic).
    fn cycle_through(&self, start: NodeIndex, members: &BTreeSet<NodeIndex>) -> Vec<N> {
        let mut prev: HashMap<NodeIndex, NodeIndex> = HashMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        let mut found = false;
        'bfs: while let Some(n) = queue.pop_front() {
            let mut next: Vec<NodeIndex> = self
                .graph
                .neighbors_directed(n, Direction::Outgoing)
                .filter(|m| members.contains(m))
                .collect();
            next.sort_unstable();
            next.dedup();
            for m in next {
                if m == start {
                    prev.insert(start, n);
                    found = true;
                    break 'bfs;
                }
                if let std::collections::hash_map::Entry::Vacant(e) = prev.entry(m) {
                    e.insert(n);
                    queue.push_back(m);
                }
            }
        }
        let mut path = vec![self.graph[start].clone()];
        if !found {
            return path;
        }
        let mut cur = prev[&start];
        let mut back = Vec::new();
        while cur != start {
            back.push(self.graph[cur].clone());
            cur = prev[&cur];
        }
        back.reverse();
        path.extend(back);
        path
    }

    /// Kahn's algorithm over [`Schedule`]: the nodes that can be ordered, dependencies first,
    /// the smallest ready node first.
    fn kahn(&self) -> (Vec<NodeIndex>, Schedule<'_, N>) {
        let mut schedule = self.schedule();
        let mut out = Vec::with_capacity(self.len());
        while let Some(n) = schedule.pop_index() {
            out.push(n);
            schedule.finish_index(n);
        }
        (out, schedule)
    }

    /// A topological order, dependencies first, ties broken by node order. On a cycle,
    /// returns the nodes that could be ordered followed by the rest, sorted (check
    /// [`Dag::cycles`]).
    pub fn order(&self) -> Vec<N> {
        let (done, schedule) = self.kahn();
        let mut out: Vec<N> = done.into_iter().map(|n| self.graph[n].clone()).collect();
        out.extend(schedule.pending().cloned());
        out
    }

    /// A topological order (dependencies first, ties broken by node order), or, when there
    /// is a cycle, the members of every cycle, sorted ([`Dag::cycle_members`]).
    pub fn try_order(&self) -> Result<Vec<N>, Vec<N>> {
        let (done, _) = self.kahn();
        if done.len() < self.len() {
            return Err(self.cycle_members());
        }
        Ok(done.into_iter().map(|n| self.graph[n].clone()).collect())
    }

    /// A fresh [`Schedule`]: every node pending, those without dependencies ready.
    pub fn schedule(&self) -> Schedule<'_, N> {
        let n = self.len();
        // Each node's count of unfinished dependencies, and who waits on it, in node order
        // (edges were added sorted by dependent).
        let mut waiting = vec![0usize; n];
        let mut dependents: Vec<Vec<NodeIndex>> = vec![Vec::new(); n];
        for e in self.graph.edge_references() {
            waiting[e.source().index()] += 1;
            dependents[e.target().index()].push(e.source());
        }
        let ready = (0..n)
            .filter(|&i| waiting[i] == 0)
            .map(NodeIndex::new)
            .collect();
        Schedule {
            dag: self,
            waiting,
            dependents,
            pending: vec![true; n],
            pending_count: n,
            ready,
        }
    }
}

/// Kahn's algorithm driven from outside, as the applier needs it: a node becomes ready
/// when its last dependency finishes (in-degree counters, O(1) per edge); a failure takes
/// its transitive dependents out of the schedule. Every operation costs O(its edges ·
/// log V); a whole walk is O((V + E) log V).
#[derive(Debug)]
pub struct Schedule<'a, N> {
    dag: &'a Dag<N>,
    /// Unfinished dependencies per node.
    waiting: Vec<usize>,
    /// Direct dependents per node, in node order.
    dependents: Vec<Vec<NodeIndex>>,
    /// Not yet finished, removed or skipped.
    pending: Vec<bool>,
    pending_count: usize,
    /// Pending nodes whose dependencies have all finished, not yet taken.
    ready: BTreeSet<NodeIndex>,
}

impl<'a, N: Node> Schedule<'a, N> {
    fn pop_index(&mut self) -> Option<NodeIndex> {
        self.ready.pop_first()
    }

    /// Takes the smallest ready node (it stays pending until finished or removed).
    pub fn pop_ready(&mut self) -> Option<&'a N> {
        let dag = self.dag;
        self.pop_index().map(|i| &dag.graph[i])
    }

    fn finish_index(&mut self, i: NodeIndex) {
        if !std::mem::replace(&mut self.pending[i.index()], false) {
            return;
        }
        self.pending_count -= 1;
        self.ready.remove(&i);
        for &d in &self.dependents[i.index()] {
            let w = &mut self.waiting[d.index()];
            *w = w.saturating_sub(1);
            if *w == 0 && self.pending[d.index()] {
                self.ready.insert(d);
            }
        }
    }

    /// `n` is done: the dependents whose last dependency it was become ready.
    pub fn finish(&mut self, n: &N) {
        if let Some(&i) = self.dag.index.get(n) {
            self.finish_index(i);
        }
    }

    /// `n` will never finish (failed, aborted): it leaves the schedule and whatever waits on
    /// it stays waiting (see [`Schedule::skip_dependents`]).
    pub fn remove(&mut self, n: &N) {
        if let Some(&i) = self.dag.index.get(n)
            && std::mem::replace(&mut self.pending[i.index()], false)
        {
            self.pending_count -= 1;
            self.ready.remove(&i);
        }
    }

    /// Takes every pending node that transitively waits on `n` out of the schedule and
    /// returns them (depth first, the largest dependent first); each is visited once.
    pub fn skip_dependents(&mut self, n: &N) -> Vec<&'a N> {
        let dag = self.dag;
        let mut out = Vec::new();
        let Some(&start) = dag.index.get(n) else {
            return out;
        };
        let mut stack: Vec<NodeIndex> = self.dependents[start.index()].clone();
        while let Some(d) = stack.pop() {
            if std::mem::replace(&mut self.pending[d.index()], false) {
                self.pending_count -= 1;
                self.ready.remove(&d);
                out.push(&dag.graph[d]);
                stack.extend_from_slice(&self.dependents[d.index()]);
            }
        }
        out
    }

    /// Whether `n` is still pending.
    pub fn is_pending(&self, n: &N) -> bool {
        self.dag
            .index
            .get(n)
            .is_some_and(|&i| self.pending[i.index()])
    }

    /// How many nodes are still pending.
    pub fn pending_len(&self) -> usize {
        self.pending_count
    }

    /// The nodes still pending (never finished, removed or skipped), sorted.
    pub fn pending(&self) -> impl Iterator<Item = &'a N> + '_ {
        let dag = self.dag;
        self.pending
            .iter()
            .enumerate()
            .filter(|(_, p)| **p)
            .map(move |(i, _)| &dag.graph[NodeIndex::new(i)])
    }
}

impl<N: Node + Display> Dag<N> {
    /// Graphviz DOT: one node per address, one edge per dependency (dependent → dependency).
    pub fn to_dot(&self) -> String {
        let mut s =
            String::from("digraph pedestal {\n  rankdir = \"RL\";\n  node [shape = box];\n");
        for n in self.graph.node_weights() {
            let _ = writeln!(s, "  \"{n}\";");
        }
        for (a, b) in self.edges() {
            let _ = writeln!(s, "  \"{a}\" -> \"{b}\";");
        }
        s.push_str("}\n");
        s
    }

    /// A Mermaid flowchart: `dependent --> dependency`.
    pub fn to_mermaid(&self) -> String {
        let mut s = String::from("flowchart RL\n");
        for (i, n) in self.graph.node_weights().enumerate() {
            let _ = writeln!(s, "  n{i}[\"{n}\"]");
        }
        for e in self.graph.edge_references() {
            let _ = writeln!(s, "  n{} --> n{}", e.source().index(), e.target().index());
        }
        s
    }
}

/// [`Dag::try_order`] for dense nodes `0..n`, given each node's dependencies (`deps[i]`, each
/// below `n`): the same order, dependencies first and the smallest ready node first, or the
/// members of every cycle, sorted. Kahn's algorithm over plain indices: no graph or index is
/// built unless there is a cycle to report.
pub fn order_dense<'a>(
    deps: impl ExactSizeIterator<Item = &'a [usize]>,
) -> Result<Vec<usize>, Vec<usize>> {
    let n = deps.len();
    // Who waits on each node, as one flat list sliced per node (offsets into `waiters`).
    let mut waiting = vec![0usize; n];
    let mut offsets = vec![0usize; n + 1];
    let deps: Vec<&[usize]> = deps.collect();
    for (i, ds) in deps.iter().enumerate() {
        waiting[i] = ds.len();
        for &d in *ds {
            offsets[d + 1] += 1;
        }
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    let mut fill = offsets.clone();
    let mut waiters = vec![0usize; offsets[n]];
    for (i, ds) in deps.iter().enumerate() {
        for &d in *ds {
            waiters[fill[d]] = i;
            fill[d] += 1;
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> =
        (0..n).filter(|&i| waiting[i] == 0).map(Reverse).collect();
    let mut out = Vec::with_capacity(n);
    while let Some(Reverse(i)) = ready.pop() {
        out.push(i);
        for &w in &waiters[offsets[i]..offsets[i + 1]] {
            waiting[w] -= 1;
            if waiting[w] == 0 {
                ready.push(Reverse(w));
            }
        }
    }
    if out.len() == n {
        return Ok(out);
    }
    let edges = deps
        .iter()
        .enumerate()
        .flat_map(|(i, ds)| ds.iter().map(move |&d| (i, d)));
    Err(Dag::from_edges(0..n, edges).cycle_members())
}

/// The graph of a config's resources.
pub fn build(config: &Config) -> Dag {
    Dag::from_deps(
        config
            .resources
            .values()
            .map(|r| (&r.address, &*r.depends_on)),
    )
}

/// The config's resources in dependency order (dependencies first, ties by address).
pub fn order(config: &Config) -> Vec<Address> {
    build(config).order()
}

/// The config's graph as Graphviz DOT.
pub fn to_dot(config: &Config) -> String {
    build(config).to_dot()
}

/// The config's graph as a Mermaid flowchart.
pub fn to_mermaid(config: &Config) -> String {
    build(config).to_mermaid()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Address {
        Address::new(s)
    }

    fn dag(edges: &[(&str, &str)], extra: &[&str]) -> Dag {
        let mut nodes: Vec<Address> = extra.iter().map(|s| a(s)).collect();
        for (x, y) in edges {
            nodes.push(a(x));
            nodes.push(a(y));
        }
        Dag::from_edges(nodes, edges.iter().map(|(x, y)| (a(x), a(y))))
    }

    #[test]
    fn order_puts_dependencies_first_and_breaks_ties_by_address() {
        let d = dag(&[("c", "a"), ("b", "a"), ("d", "c"), ("d", "b")], &["e"]);
        let order: Vec<String> = d.order().iter().map(|x| x.to_string()).collect();
        assert_eq!(order, ["a", "b", "c", "d", "e"]);
        assert!(d.cycles().is_empty());
    }

    #[test]
    fn finds_cycles_with_their_path() {
        let d = dag(
            &[("b", "c"), ("c", "d"), ("d", "b"), ("x", "x"), ("e", "b")],
            &[],
        );
        let cycles = d.cycles();
        assert_eq!(cycles, vec![vec![a("b"), a("c"), a("d")], vec![a("x")]]);
        assert_eq!(d.order().len(), 5, "order still lists every node");
    }

    #[test]
    fn try_order_names_only_the_members_of_cycles() {
        let d = dag(&[("b", "c"), ("c", "b"), ("e", "b"), ("a", "z")], &[]);
        assert_eq!(d.try_order(), Err(vec![a("b"), a("c")]));
        let ok = dag(&[("b", "a")], &["c"]);
        assert_eq!(ok.try_order(), Ok(vec![a("a"), a("b"), a("c")]));
    }

    #[test]
    fn schedule_starts_nodes_when_their_dependencies_finish_and_skips_behind_failures() {
        // d → c → a, c → b, e → d, f independent.
        let d = dag(&[("c", "a"), ("c", "b"), ("d", "c"), ("e", "d")], &["f"]);
        let mut s = d.schedule();
        assert_eq!(s.pending_len(), 6);
        assert_eq!(s.pop_ready(), Some(&a("a")));
        assert_eq!(s.pop_ready(), Some(&a("b")));
        s.finish(&a("a"));
        assert_eq!(s.pop_ready(), Some(&a("f")), "c still waits for b");
        s.finish(&a("b"));
        assert_eq!(s.pop_ready(), Some(&a("c")));
        s.remove(&a("c"));
        assert_eq!(s.skip_dependents(&a("c")), vec![&a("d"), &a("e")]);
        assert_eq!(s.pop_ready(), None);
        assert!(!s.is_pending(&a("d")));
        assert_eq!(s.pending().collect::<Vec<_>>(), vec![&a("f")]);
        s.finish(&a("f"));
        assert_eq!(s.pending_len(), 0);
    }

    #[test]
    fn schedule_never_readies_a_cycle() {
        let d = dag(&[("x", "y"), ("y", "x"), ("z", "x")], &["w"]);
        let mut s = d.schedule();
        assert_eq!(s.pop_ready(), Some(&a("w")));
        s.finish(&a("w"));
        assert_eq!(s.pop_ready(), None);
        assert_eq!(
            s.pending().collect::<Vec<_>>(),
            vec![&a("x"), &a("y"), &a("z")]
        );
    }

    #[test]
    fn edges_to_unknown_nodes_are_ignored() {
        let d = Dag::from_edges([a("x")], [(a("x"), a("missing"))]);
        assert!(d.dependencies(&a("x")).is_empty());
    }

    #[test]
    fn reachability() {
        let d = dag(&[("c", "b"), ("b", "a")], &[]);
        assert_eq!(d.ancestors(&a("c")), BTreeSet::from([a("a"), a("b")]));
        assert_eq!(d.descendants(&a("a")), BTreeSet::from([a("b"), a("c")]));
    }

    #[test]
    fn renders_dot_and_mermaid() {
        let d = dag(&[("svc", "cluster")], &[]);
        assert_eq!(
            d.to_dot(),
            "digraph pedestal {\n  rankdir = \"RL\";\n  node [shape = box];\n  \"cluster\";\n  \"svc\";\n  \"svc\" -> \"cluster\";\n}\n"
        );
        assert_eq!(
            d.to_mermaid(),
            "flowchart RL\n  n0[\"cluster\"]\n  n1[\"svc\"]\n  n1 --> n0\n"
        );
    }
}
