//! Module blocks: collecting a scope's blocks and instantiating each module call as a new
//! scope, recursively, with the call stack guarding against a module that includes itself.

use std::path::PathBuf;
use std::sync::Arc;

use super::*;

impl Loader<'_> {
    /// Collects the blocks of one scope and instantiates its modules.
    pub(super) fn fill_scope(
        &mut self,
        scope: ScopeId,
        block_tables: Vec<Entry>,
        stack: &mut Vec<PathBuf>,
    ) {
        for table in block_tables {
            let Some(kind) = BlockKind::parse(&table.key) else {
                continue;
            };
            let what = format!("[{}]", table.key);
            let Some(entries) = self.take_table_entries(table, &what) else {
                continue;
            };
            Arc::make_mut(self.scope_mut(scope))
                .blocks
                .reserve(entries.len());
            self.blocks.reserve(entries.len());
            for b in entries {
                if !valid_name(&b.key) {
                    self.err(
                        ErrorCode::InvalidValue,
                        &b.key_span,
                        format!("invalid {} name {:?}", kind.as_str(), b.key),
                        "not a valid block name",
                    )
                    .help = Some("block names use letters, digits, `_` and `-`".into());
                    continue;
                }
                if !matches!(b.value.kind, NodeKind::Table(_)) {
                    let found = b.value.type_name();
                    self.err(
                        ErrorCode::WrongType,
                        &b.value.span,
                        format!(
                            "[{}.{}] must be a table, found {found}",
                            kind.as_str(),
                            b.key
                        ),
                        "expected a table",
                    );
                    continue;
                }
                let prefix = &self.scope(scope).prefix;
                let mut addr =
                    String::with_capacity(prefix.len() + kind.as_str().len() + 1 + b.key.len());
                addr.push_str(prefix);
                addr.push_str(kind.as_str());
                addr.push('.');
                addr.push_str(&b.key);
                let id = BlockId(self.blocks.len());
                Arc::make_mut(self.scope_mut(scope))
                    .blocks
                    .insert((kind, b.key.clone()), id);
                self.blocks.push(Arc::new(Block {
                    scope,
                    kind,
                    name: b.key,
                    name_span: b.key_span,
                    node: b.value,
                    addr,
                }));
                if kind == BlockKind::Module {
                    self.instantiate(scope, id, stack);
                }
            }
        }
    }

    /// Loads the module called by block `call` (in `parent`) as a new scope.
    fn instantiate(&mut self, parent: ScopeId, call: BlockId, stack: &mut Vec<PathBuf>) {
        let block = self.block(call).clone();
        let source = block.node.get("source");
        let Some(source_entry) = source else {
            self.err(
                ErrorCode::MissingKey,
                &block.name_span,
                format!("module `{}` has no `source`", block.name),
                "missing `source`",
            )
            .help = Some("add `source = \"<path to the module directory>\"`".into());
            return;
        };
        let Some(src) = source_entry.value.literal_str() else {
            self.err(
                ErrorCode::ModuleSource,
                &source_entry.value.span,
                "a module `source` must be a plain string path",
                "expected a path without references",
            );
            return;
        };
        let parent_dir = self.scope(parent).rel_dir.clone();
        let rel_dir = normalize(&parent_dir.join(src));
        let file_rel = ["module.toml", "pedestal.toml"]
            .iter()
            .map(|f| rel_dir.join(f))
            .find(|p| self.root.join(p).is_file());
        let Some(file_rel) = file_rel else {
            let shown = self.display_name(&rel_dir);
            self.err(
                ErrorCode::ModuleSource,
                &source_entry.value.span,
                format!("no module at {src:?}"),
                "module directory not found",
            )
            .help = Some(format!(
                "expected {shown}/module.toml; `source` is relative to the directory of the file that declares the module"
            ));
            return;
        };
        if stack.contains(&rel_dir) || stack.len() > MAX_MODULE_DEPTH {
            self.err(
                ErrorCode::ModuleSource,
                &source_entry.value.span,
                format!("module {src:?} includes itself"),
                "recursive module",
            )
            .help = Some(format!(
                "modules may nest at most {MAX_MODULE_DEPTH} levels and never include themselves"
            ));
            return;
        }
        let file = match self.read_source(&file_rel) {
            Ok(f) => f,
            Err(e) => {
                self.err(
                    ErrorCode::ModuleSource,
                    &source_entry.value.span,
                    format!("cannot read module {src:?}: {e}"),
                    "unreadable module",
                );
                return;
            }
        };
        let Some(doc) = parse_document(&self.sources, file, true, &mut self.diags) else {
            return;
        };
        let parent_prefix = self.scope(parent).prefix.clone();
        let mut qual = self.scope(parent).qual.clone();
        qual.push(block.name.clone());
        let mut inputs = BTreeMap::new();
        let mut block_tables = Vec::new();
        let mut outputs = Vec::new();
        let entries = match doc.kind {
            NodeKind::Table(es) => es,
            _ => Vec::new(),
        };
        for e in entries {
            if BlockKind::parse(&e.key).is_some() {
                block_tables.push(e);
                continue;
            }
            match e.key.as_str() {
                "inputs" => inputs = self.var_decls_of(&e, "input"),
                "outputs" => {
                    if let Some(es) = self.take_table_entries(e, "[outputs]") {
                        outputs = es;
                    }
                }
                k => self.unknown_key(&e, k, MODULE_KEYS, "a module file"),
            }
        }
        let id = ScopeId(self.scopes.len());
        self.scopes.push(Arc::new(Scope {
            prefix: format!("{parent_prefix}module.{}.", block.name),
            qual,
            rel_dir: rel_dir.clone(),
            call: Some(ModuleCall {
                parent,
                block: call,
            }),
            inputs,
            blocks: FastMap::default(),
            outputs,
            children: FastMap::default(),
        }));
        Arc::make_mut(self.scope_mut(parent))
            .children
            .insert(block.name.clone(), id);
        stack.push(rel_dir);
        self.fill_scope(id, block_tables, stack);
        stack.pop();
    }
}
