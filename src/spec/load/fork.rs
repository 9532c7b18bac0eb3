//! Forks of a load, for lowering some blocks on another thread: a [`Loader`] with the same
//! settings, scopes and blocks and what evaluation has produced so far, whose own outputs
//! (resources, exports, diagnostics) start empty and are taken back into the load with
//! [`Loader::absorb`].

use super::{BlockId, Diagnostics, Loader, Lowered};

/// What a fork produced: its lowering's outputs and its diagnostics. Of the maps it was given to
/// read, only its own blocks' exports, compute providers and gateways come back; the two small
/// sets it extends (image-pull statements, tag limits reported) come back whole, and taking
/// them in keeps what the loader already has.
pub(in crate::spec) struct Forked {
    lowered: Lowered,
    diags: Diagnostics,
}

impl<'o> Loader<'o> {
    /// A loader that sees what this one has read and evaluated so far, to lower blocks whose
    /// dependencies are all lowered. It reads no file: the blocks it may lower are those that
    /// read none (not artifacts).
    pub(in crate::spec) fn fork(&self) -> Loader<'o> {
        let l = &self.lowered;
        Loader {
            opts: self.opts,
            root: self.root.clone(),
            sources: self.sources.clone(),
            diags: Diagnostics::default(),
            read_files: Vec::new(),
            stack: self.stack.clone(),
            env: self.env.clone(),
            region: self.region.clone(),
            tags: self.tags.clone(),
            backend: self.backend.clone(),
            provider: self.provider.clone(),
            network_default: self.network_default.clone(),
            region_span: self.region_span.clone(),
            policy: self.policy.clone(),
            scopes: self.scopes.clone(),
            blocks: self.blocks.clone(),
            var_decls: self.var_decls.clone(),
            stack_outputs: self.stack_outputs.clone(),
            lowered: Lowered {
                vars: l.vars.clone(),
                exports: l.exports.clone(),
                inputs_val: l.inputs_val.clone(),
                outputs_val: l.outputs_val.clone(),
                compute_providers: l.compute_providers.clone(),
                gateways: l.gateways.clone(),
                objects: l.objects.clone(),
                artifact_roots: l.artifact_roots.clone(),
                confinement: l.confinement.clone(),
                stack_tags_span: l.stack_tags_span.clone(),
                tag_counts_reported: l.tag_counts_reported.clone(),
                pull_statements: l.pull_statements.clone(),
                ..Lowered::default()
            },
        }
    }

    /// Lowers `blocks` (in that order) and gives back what that produced.
    pub(in crate::spec) fn lower_forked(mut self, blocks: &[BlockId]) -> Forked {
        let room = 4 * blocks.len();
        self.lowered.added.reserve(room);
        self.lowered.dep_origin.reserve(room);
        for &id in blocks {
            self.lower_block(id);
        }
        let l = &mut self.lowered;
        let mut made = Lowered {
            added: std::mem::take(&mut l.added),
            block_runs: std::mem::take(&mut l.block_runs),
            dep_origin: std::mem::take(&mut l.dep_origin),
            explicit_deps: std::mem::take(&mut l.explicit_deps),
            routes: std::mem::take(&mut l.routes),
            pull_statements: std::mem::take(&mut l.pull_statements),
            tag_counts_reported: std::mem::take(&mut l.tag_counts_reported),
            ..Lowered::default()
        };
        for &id in blocks {
            if let Some(e) = l.exports.remove(&id) {
                made.exports.insert(id, e);
            }
            if let Some(p) = l.compute_providers.remove(&id) {
                made.compute_providers.insert(id, p);
            }
            if let Some(g) = l.gateways.remove(&id) {
                made.gateways.insert(id, g);
            }
        }
        // What the fork was given to read (every export so far, scopes, blocks) is dropped
        // here, on the fork's thread, rather than by the loader taking the outputs back.
        Forked {
            lowered: made,
            diags: std::mem::take(&mut self.diags),
        }
    }

    /// Forgets what evaluation produced and reported, to evaluate again from the start (no
    /// error was recorded before it started).
    pub(in crate::spec) fn restart_evaluation(&mut self) {
        self.diags = Diagnostics::default();
        let l = std::mem::take(&mut self.lowered);
        let room = l.added.capacity();
        self.lowered = Lowered {
            vars: l.vars,
            hash_cache: l.hash_cache,
            digests: l.digests,
            artifact_roots: l.artifact_roots,
            confinement: l.confinement,
            stack_tags_span: l.stack_tags_span,
            ..Lowered::default()
        };
        self.lowered.added.reserve(room);
        self.lowered.dep_origin.reserve(room);
    }

    /// Takes in what a fork produced, as if this loader had lowered its blocks after its own.
    pub(in crate::spec) fn absorb(&mut self, forked: Forked) {
        let Forked { lowered: f, diags } = forked;
        let l = &mut self.lowered;
        let base = l.added.len();
        l.added.extend(f.added);
        l.block_runs
            .extend(f.block_runs.into_iter().map(|(a, b)| (a + base, b + base)));
        l.dep_origin.extend(f.dep_origin);
        l.explicit_deps.extend(f.explicit_deps);
        l.routes.extend(f.routes);
        l.exports.extend(f.exports);
        l.compute_providers.extend(f.compute_providers);
        l.gateways.extend(f.gateways);
        for (image, statements) in f.pull_statements {
            l.pull_statements.entry(image).or_insert(statements);
        }
        l.tag_counts_reported.extend(f.tag_counts_reported);
        self.diags.errors.extend(diags.errors);
    }
}
