//! The dependency graph over provider resources (petgraph): build, cycle detection,
//! deterministic order and rendering (DOT, Mermaid).
//!
//! [`Dag`] knows nothing about spec files: it is built from addresses and their dependencies,
//! either from a [`Config`] ([`build`]) or from any `(Address, depends_on)` list such as a
//! plan's changes ([`Dag::from_deps`]). Edges point from a resource to what it depends on.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use petgraph::Direction;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::addr::Address;
use crate::spec::Config;

/// A directed graph of addresses; an edge `a → b` means `a` depends on `b`.
#[derive(Debug, Clone, Default)]
pub struct Dag {
    graph: DiGraph<Address, ()>,
    index: HashMap<Address, NodeIndex>,
}

impl Dag {
    /// Builds a graph from nodes and `(dependent, dependency)` edges. Edges naming an address
    /// that is not a node are ignored (a targeted plan may depend on resources it leaves out).
    pub fn from_edges(
        nodes: impl IntoIterator<Item = Address>,
        edges: impl IntoIterator<Item = (Address, Address)>,
    ) -> Dag {
        let mut dag = Dag::default();
        let mut sorted: Vec<Address> = nodes.into_iter().collect();
        sorted.sort();
        sorted.dedup();
        for n in sorted {
            let i = dag.graph.add_node(n.clone());
            dag.index.insert(n, i);
        }
        let mut edges: Vec<(Address, Address)> = edges.into_iter().collect();
        edges.sort();
        edges.dedup();
        for (from, to) in edges {
            if let (Some(&a), Some(&b)) = (dag.index.get(&from), dag.index.get(&to)) {
                dag.graph.add_edge(a, b, ());
            }
        }
        dag
    }

    /// Builds a graph from each node's dependency set (a config's resources, a plan's changes).
    pub fn from_deps<'a>(
        items: impl IntoIterator<Item = (&'a Address, &'a BTreeSet<Address>)>,
    ) -> Dag {
        let mut nodes = Vec::new();
        let mut edges = Vec::new();
        for (a, deps) in items {
            nodes.push(a.clone());
            edges.extend(deps.iter().map(|d| (a.clone(), d.clone())));
        }
        Dag::from_edges(nodes, edges)
    }

    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    pub fn contains(&self, a: &Address) -> bool {
        self.index.contains_key(a)
    }

    /// Every node, sorted.
    pub fn nodes(&self) -> Vec<Address> {
        let mut v: Vec<Address> = self.index.keys().cloned().collect();
        v.sort();
        v
    }

    /// Every edge `(dependent, dependency)`, sorted.
    pub fn edges(&self) -> Vec<(Address, Address)> {
        let mut v: Vec<(Address, Address)> = self
            .graph
            .edge_indices()
            .filter_map(|e| self.graph.edge_endpoints(e))
            .map(|(a, b)| (self.graph[a].clone(), self.graph[b].clone()))
            .collect();
        v.sort();
        v
    }

    /// What `a` depends on directly, sorted.
    pub fn dependencies(&self, a: &Address) -> Vec<Address> {
        self.neighbours(a, Direction::Outgoing)
    }

    /// What depends on `a` directly, sorted.
    pub fn dependents(&self, a: &Address) -> Vec<Address> {
        self.neighbours(a, Direction::Incoming)
    }

    fn neighbours(&self, a: &Address, dir: Direction) -> Vec<Address> {
        let Some(&i) = self.index.get(a) else {
            return Vec::new();
        };
        let mut v: Vec<Address> = self
            .graph
            .neighbors_directed(i, dir)
            .map(|n| self.graph[n].clone())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// Everything `a` depends on, transitively (without `a` itself).
    pub fn ancestors(&self, a: &Address) -> BTreeSet<Address> {
        self.reach(a, Direction::Outgoing)
    }

    /// Everything that depends on `a`, transitively (without `a` itself).
    pub fn descendants(&self, a: &Address) -> BTreeSet<Address> {
        self.reach(a, Direction::Incoming)
    }

    fn reach(&self, a: &Address, dir: Direction) -> BTreeSet<Address> {
        let mut out = BTreeSet::new();
        let Some(&start) = self.index.get(a) else {
            return out;
        };
        let mut stack = vec![start];
        let mut seen = BTreeSet::from([start]);
        while let Some(n) = stack.pop() {
            for m in self.graph.neighbors_directed(n, dir) {
                if seen.insert(m) {
                    out.insert(self.graph[m].clone());
                    stack.push(m);
                }
            }
        }
        out
    }

    /// Every cycle, one per strongly connected component, each as the path
    /// `[a, b, …]` meaning `a → b → … → a`, starting at its smallest address; sorted.
    pub fn cycles(&self) -> Vec<Vec<Address>> {
        let mut out = Vec::new();
        for scc in tarjan_scc(&self.graph) {
            let self_loop = scc.len() == 1 && self.graph.contains_edge(scc[0], scc[0]);
            if scc.len() < 2 && !self_loop {
                continue;
            }
            let members: BTreeSet<NodeIndex> = scc.iter().copied().collect();
            let Some(&start) = scc
                .iter()
                .min_by(|a, b| self.graph[**a].cmp(&self.graph[**b]))
            else {
                continue;
            };
            out.push(self.cycle_through(start, &members));
        }
        out.sort();
        out
    }

    /// The shortest cycle from `start` back to itself inside one component (BFS, following
    /// the smallest neighbour first so the result is deterministic).
    fn cycle_through(&self, start: NodeIndex, members: &BTreeSet<NodeIndex>) -> Vec<Address> {
        let mut prev: HashMap<NodeIndex, NodeIndex> = HashMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        let mut found = false;
        'bfs: while let Some(n) = queue.pop_front() {
            let mut next: Vec<NodeIndex> = self
                .graph
                .neighbors_directed(n, Direction::Outgoing)
                .filter(|m| members.contains(m))
                .collect();
            next.sort_by(|a, b| self.graph[*a].cmp(&self.graph[*b]));
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

    /// A topological order, dependencies first, ties broken by address. On a cycle, returns
    /// the nodes that could be ordered followed by the rest, sorted (check [`Dag::cycles`]).
    pub fn order(&self) -> Vec<Address> {
        let mut remaining: HashMap<NodeIndex, usize> = self
            .graph
            .node_indices()
            .map(|n| {
                let mut deps: Vec<NodeIndex> = self
                    .graph
                    .neighbors_directed(n, Direction::Outgoing)
                    .collect();
                deps.sort();
                deps.dedup();
                (n, deps.len())
            })
            .collect();
        let mut ready: BTreeMap<Address, NodeIndex> = remaining
            .iter()
            .filter(|(_, c)| **c == 0)
            .map(|(n, _)| (self.graph[*n].clone(), *n))
            .collect();
        let mut out = Vec::with_capacity(self.len());
        let mut done: BTreeSet<NodeIndex> = BTreeSet::new();
        while let Some((addr, n)) = ready.pop_first() {
            out.push(addr);
            done.insert(n);
            let mut users: Vec<NodeIndex> = self
                .graph
                .neighbors_directed(n, Direction::Incoming)
                .collect();
            users.sort();
            users.dedup();
            for u in users {
                if let Some(c) = remaining.get_mut(&u) {
                    *c = c.saturating_sub(1);
                    if *c == 0 && !done.contains(&u) {
                        ready.insert(self.graph[u].clone(), u);
                    }
                }
            }
        }
        if out.len() < self.len() {
            let mut rest: Vec<Address> = self
                .graph
                .node_indices()
                .filter(|n| !done.contains(n))
                .map(|n| self.graph[n].clone())
                .collect();
            rest.sort();
            out.extend(rest);
        }
        out
    }

    /// Graphviz DOT: one node per address, one edge per dependency (dependent → dependency).
    pub fn to_dot(&self) -> String {
        let mut s =
            String::from("digraph pedestal {\n  rankdir = \"RL\";\n  node [shape = box];\n");
        for n in self.nodes() {
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
        let nodes = self.nodes();
        let ids: BTreeMap<&Address, String> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n, format!("n{i}")))
            .collect();
        let mut s = String::from("flowchart RL\n");
        for n in &nodes {
            let _ = writeln!(s, "  {}[\"{n}\"]", ids[n]);
        }
        for (a, b) in self.edges() {
            let _ = writeln!(s, "  {} --> {}", ids[&a], ids[&b]);
        }
        s
    }
}

/// The graph of a config's resources.
pub fn build(config: &Config) -> Dag {
    Dag::from_deps(
        config
            .resources
            .values()
            .map(|r| (&r.address, &r.depends_on)),
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
