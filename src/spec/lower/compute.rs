//! Lowering `[compute.*]` blocks: one ECS cluster each, with its capacity providers (read
//! again by endpoints for GPU placement).

use super::common::{Meta, no_mapping, resource_address};
use crate::resource::rules::ecs as ecs_rules;
use crate::resource::schema;
use crate::resource::schema::ecs_cluster::{self, Attr as A};
use crate::resource::{ResourceKind, Value};
use crate::spec::diag::{ErrorCode, Span, did_you_mean};
use crate::spec::load::{BlockId, Loader};
use crate::spec::resolve::Deps;

/// Keys of a compute block: the cluster's attributes, spelt the same, plus the shared ones.
const COMPUTE_KEYS: &[&str] = &[
    A::Name.as_str(),
    A::ContainerInsights.as_str(),
    A::CapacityProviders.as_str(),
    schema::TAGS,
    "depends_on",
    "lifecycle",
];

impl Loader<'_> {
    pub(super) fn lower_compute(&mut self, id: BlockId) {
        let b = self.block(id).clone();
        let mut deps = Deps::new();
        let Some(f) = self.open(id, &b.node, COMPUTE_KEYS, &mut deps) else {
            return;
        };
        let (tags, lc) = self.common(id, &f, COMPUTE_KEYS, &mut deps);
        let name = self
            .v_str(&f, A::Name.as_str(), &mut deps)
            .map(|x| x.0)
            .unwrap_or_else(|| Value::String(self.default_name(b.scope, &b.name)));
        let insights = self
            .v_bool(&f, A::ContainerInsights.as_str(), &mut deps)
            .is_some_and(|x| x.0);
        let providers = match self.v_plain_str_list(&f, A::CapacityProviders.as_str(), &mut deps) {
            Some((p, span)) => {
                if p.is_empty() {
                    self.err(
                        ErrorCode::InvalidValue,
                        &span,
                        "capacity_providers must not be empty",
                        "empty list",
                    )
                    .help = Some("for example: [\"FARGATE\", \"FARGATE_SPOT\"]".into());
                }
                let spans = Self::item_spans(&f, A::CapacityProviders.as_str());
                for (i, name) in p.iter().enumerate() {
                    let at = spans
                        .as_ref()
                        .and_then(|s| s.get(i))
                        .unwrap_or(&span)
                        .clone();
                    self.check_capacity_provider(name, &at);
                }
                p
            }
            None => vec!["FARGATE".to_string()],
        };
        self.lowered_mut()
            .compute_providers
            .insert(id, providers.clone());
        let addr = resource_address(&self.scope(b.scope).prefix, "compute", &b.name, "cluster");
        let attrs = ecs_cluster::Desired {
            name: name.clone(),
            container_insights: Value::Bool(insights),
            capacity_providers: Value::List(providers.into_iter().map(Value::String).collect()),
        }
        .into_attrs();
        self.add_resource(
            addr.clone(),
            ResourceKind::EcsCluster,
            attrs,
            deps,
            &Meta {
                lifecycle: &lc,
                ignore: &no_mapping,
                tags: &tags,
            },
        );
        self.export(
            id,
            &addr,
            vec![
                ("name", name),
                (
                    "arn",
                    Self::reference(&addr, ecs_cluster::Attr::Arn.as_str()),
                ),
            ],
        );
    }
}

impl Loader<'_> {
    /// A capacity provider is AWS's `FARGATE` or `FARGATE_SPOT`, or a custom one (which AWS
    /// forbids to name with an `aws`, `ecs` or `fargate` prefix; its existence is the cluster's
    /// business at apply). A near miss of AWS's names gets a did-you-mean.
    fn check_capacity_provider(&mut self, name: &str, span: &Span) {
        if ecs_rules::FARGATE_PROVIDERS.contains(&name) {
            return;
        }
        let Some(problem) = ecs_rules::CAPACITY_PROVIDER_NAME.problem(name) else {
            return;
        };
        let hint = did_you_mean(name, ecs_rules::FARGATE_PROVIDERS.iter().copied())
            .or_else(|| {
                let upper = name.to_ascii_uppercase();
                ecs_rules::FARGATE_PROVIDERS
                    .contains(&upper.as_str())
                    .then(|| format!("did you mean `{upper}`?"))
            })
            .unwrap_or_else(|| {
                "use FARGATE, FARGATE_SPOT or the name of a capacity provider of the cluster".into()
            });
        self.err(
            ErrorCode::InvalidValue,
            span,
            format!("unknown capacity provider `{name}`: {problem}"),
            "not a capacity provider",
        )
        .help = Some(format!("{hint} ({})", ecs_rules::CAPACITY_PROVIDER_SOURCE));
    }
}
