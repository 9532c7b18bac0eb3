//! Renderings of a [`crate::plan::Plan`]: human (Terraform's grammar and a release view), JSON
//! (versioned schema) and markdown (a pull-request comment). Renderers read only the plan.
//!
//! Shared here: canonicalisation of container definitions (so a diff shows what the user
//! changed, not ordering or AWS defaults) and small text helpers.

pub mod cost;
pub mod human;
pub mod json;
pub mod markdown;

use crate::resource::schema::ecs_task_definition::{self as td, Container as C, HealthCheck as H};
use crate::resource::{Attrs, ResourceKind, Value};

pub use human::{HumanOptions, human};
pub use json::json;
pub use markdown::{MAX_COMMENT_CHARS, markdown};

/// Attributes as they should be compared for display: task definition containers get AWS's
/// defaults filled in (`essential`, `protocol`, `host_port` under awsvpc, health-check timing),
/// so that spelling a default out, or AWS adding it, never shows as a change. Environment and
/// secrets are maps and therefore already sorted by name.
pub fn canonical_attrs(kind: ResourceKind, attrs: &Attrs) -> Attrs {
    let mut out = attrs.clone();
    if kind == ResourceKind::EcsTaskDefinition
        && let Some(Value::Map(c)) = out.get_mut(td::Attr::Container.as_str())
    {
        let fill = |m: &mut Attrs, k: &str, v: Value| {
            m.entry(k.to_string()).or_insert(v);
        };
        fill(c, C::Essential.as_str(), Value::Bool(true));
        if let Some(port) = c.get(C::Port.as_str()).cloned().filter(|p| !p.is_unknown()) {
            fill(c, C::Protocol.as_str(), Value::str(td::DEFAULT_PROTOCOL));
            let awsvpc = attrs
                .get(td::Attr::NetworkMode.as_str())
                .and_then(Value::as_str)
                .is_none_or(|m| m == td::NETWORK_MODE_AWSVPC);
            if awsvpc {
                fill(c, C::HostPort.as_str(), port);
            }
        }
        if let Some(Value::Map(hc)) = c.get_mut(C::HealthCheck.as_str()) {
            for &k in H::ALL {
                let default = match k {
                    H::Interval => td::DEFAULT_HEALTH_INTERVAL,
                    H::Retries => td::DEFAULT_HEALTH_RETRIES,
                    H::Timeout => td::DEFAULT_HEALTH_TIMEOUT,
                    H::StartPeriod => td::DEFAULT_HEALTH_START_PERIOD,
                    // No AWS default to show.
                    H::Command | H::Path => continue,
                };
                fill(hc, k.as_str(), Value::Int(default));
            }
        }
    }
    out
}

/// A SHA-256 shortened for people: the first 12 hex digits and an ellipsis.
pub fn short_sha(s: &str) -> String {
    let hex = s.strip_prefix("sha256:").unwrap_or(s);
    if hex.len() > 12 {
        format!("{}…", &hex[..12])
    } else {
        hex.to_string()
    }
}

/// Splits `repo:tag` (the tag is after the last `:` that follows the last `/`).
pub fn split_image(image: &str) -> (&str, Option<&str>) {
    let slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[slash..].rfind(':') {
        Some(i) => (&image[..slash + i], Some(&image[slash + i + 1..])),
        None => (image, None),
    }
}
