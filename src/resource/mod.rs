//! The desired provider resources a spec lowers to, and the vocabulary they share with the
//! planner, state and provider: [`ResourceKind`], [`Value`], [`Attrs`] and, per kind, the typed
//! attribute contract in [`schema`].

mod attrs;
mod key;
mod kind;
pub mod rules;
pub mod schema;
pub mod secret_key;
mod value;

use serde::{Deserialize, Serialize};

pub use attrs::Attrs;
pub use key::Key;
pub use kind::{KindSchema, ReplaceOrder, ResourceKind};
pub use value::{Likeness, Ref, TemplatePart, Value};

use crate::addr::{Address, AddressSet};

/// `lifecycle = { ... }` of a user block, copied onto each resource lowered from it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Lifecycle {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    /// The planner refuses a plan that would destroy or replace the resource.
    pub prevent_destroy: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    /// A replacement creates the new resource before deleting the old one.
    pub create_before_destroy: bool,
    /// Top-level attribute names whose drift or change the planner ignores.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore_changes: Vec<String>,
}

/// One provider resource as the spec wants it: fully resolved except for [`Value::Ref`] and
/// [`Value::Template`] values that point at attributes only known after apply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// The resource's address.
    pub address: Address,
    /// Its kind.
    pub kind: ResourceKind,
    /// Its desired attributes.
    pub attrs: Attrs,
    /// Every resource this one must follow: implied by references plus explicit `depends_on`.
    pub depends_on: AddressSet,
    #[serde(default)]
    /// The block's `lifecycle` settings.
    pub lifecycle: Lifecycle,
}

impl Resource {
    /// The physical name of the resource (bucket name, cluster name, family, ...).
    pub fn physical_name(&self) -> Option<&str> {
        self.attrs
            .get(self.kind.schema().name_attr)
            .and_then(Value::as_str)
    }
}
