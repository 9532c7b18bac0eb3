//! Renderings of a [`crate::plan::Plan`]: human (Terraform's grammar and a release view), JSON
//! (versioned schema) and markdown (a pull-request comment). Renderers read only the plan.
//! Besides plans: the confirmation screen of `pedestal rollback` ([`rollback`]).
//!
//! Shared here: canonicalisation of container definitions (so a diff shows what the user
//! changed, not ordering or AWS defaults) and small text helpers.

pub mod cost;
pub mod human;
pub mod json;
pub mod markdown;
pub mod rollback;
mod text;

use std::borrow::Cow;

use crate::resource::schema::ecs_task_definition::{self as td, Container as C, HealthCheck as H};
use crate::resource::{Attrs, ResourceKind, Value};

use crate::resource::Key;
pub use human::{HumanOptions, human};
pub use json::json;
pub use markdown::{MAX_COMMENT_CHARS, markdown};

/// Attributes as they should be compared for display: task definition containers get AWS's
/// defaults filled in (`essential`, `protocol`, `host_port` under awsvpc, health-check timing),
/// so that spelling a default out, or AWS adding it, never shows as a change. Environment and
/// secrets are maps and therefore already sorted by name. Borrowed when nothing is missing.
pub fn canonical_attrs(kind: ResourceKind, attrs: &Attrs) -> Cow<'_, Attrs> {
    if kind != ResourceKind::EcsTaskDefinition {
        return Cow::Borrowed(attrs);
    }
    let Some(Value::Map(container)) = attrs.get(td::Attr::Container.as_str()) else {
        return Cow::Borrowed(attrs);
    };
    let defaults = container_defaults(attrs, container);
    if defaults.is_empty() {
        return Cow::Borrowed(attrs);
    }
    let mut out = attrs.clone();
    if let Some(Value::Map(c)) = out.get_mut(td::Attr::Container.as_str()) {
        for (slot, v) in defaults {
            match slot {
                Slot::Container(k) => {
                    c.insert(Key::intern(k), v);
                }
                Slot::HealthCheck(k) => {
                    if let Some(Value::Map(hc)) = c.get_mut(C::HealthCheck.as_str()) {
                        hc.insert(Key::intern(k), v);
                    }
                }
            }
        }
    }
    Cow::Owned(out)
}

/// Where a container default goes.
enum Slot {
    /// A key of the container.
    Container(&'static str),
    /// A key of its health check.
    HealthCheck(&'static str),
}

/// The defaults a container lacks, each with where it goes.
fn container_defaults(attrs: &Attrs, c: &Attrs) -> Vec<(Slot, Value)> {
    let mut missing = Vec::new();
    if !c.contains_key(C::Essential.as_str()) {
        missing.push((Slot::Container(C::Essential.as_str()), Value::Bool(true)));
    }
    if let Some(port) = c.get(C::Port.as_str()).filter(|p| !p.is_unknown()) {
        if !c.contains_key(C::Protocol.as_str()) {
            missing.push((
                Slot::Container(C::Protocol.as_str()),
                Value::str(td::DEFAULT_PROTOCOL),
            ));
        }
        let awsvpc = attrs
            .get(td::Attr::NetworkMode.as_str())
            .and_then(Value::as_str)
            .is_none_or(|m| m == td::NETWORK_MODE_AWSVPC);
        if awsvpc && !c.contains_key(C::HostPort.as_str()) {
            missing.push((Slot::Container(C::HostPort.as_str()), port.clone()));
        }
    }
    if let Some(Value::Map(hc)) = c.get(C::HealthCheck.as_str()) {
        for &k in H::ALL {
            let default = match k {
                H::Interval => td::DEFAULT_HEALTH_INTERVAL,
                H::Retries => td::DEFAULT_HEALTH_RETRIES,
                H::Timeout => td::DEFAULT_HEALTH_TIMEOUT,
                H::StartPeriod => td::DEFAULT_HEALTH_START_PERIOD,
                // No AWS default to show.
                H::Command | H::Path => continue,
            };
            if !hc.contains_key(k.as_str()) {
                missing.push((Slot::HealthCheck(k.as_str()), Value::Int(default)));
            }
        }
    }
    missing
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

/// What pins an image reference: a tag (`latest` when none is written) or a digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImagePin<'a> {
    /// A tag, `latest` when the reference has none.
    Tag(&'a str),
    /// `sha256:…`, from `repo@sha256:…`.
    Digest(&'a str),
}

impl<'a> ImagePin<'a> {
    /// `image tag` or `image digest`.
    pub fn label(self) -> &'static str {
        match self {
            ImagePin::Tag(_) => "image tag",
            ImagePin::Digest(_) => "image digest",
        }
    }

    /// The tag, or the digest shortened for people (`sha256:59296d23d623…`).
    pub fn short(self) -> String {
        match self {
            ImagePin::Tag(t) => t.to_string(),
            ImagePin::Digest(d) => match d.split_once(':') {
                Some((algo, _)) => format!("{algo}:{}", short_sha(&d[algo.len() + 1..])),
                None => short_sha(d),
            },
        }
    }

    /// The full digest, when pinned by one.
    pub fn digest(self) -> Option<&'a str> {
        match self {
            ImagePin::Digest(d) => Some(d),
            ImagePin::Tag(_) => None,
        }
    }
}

/// Splits `repo:tag` (the tag is after the last `:` that follows the last `/`) or
/// `repo[:tag]@digest` (the digest pins it; a tag beside it is ignored, as the registry does).
pub fn split_image(image: &str) -> (&str, ImagePin<'_>) {
    let slash = image.rfind('/').map_or(0, |i| i + 1);
    let name = &image[slash..];
    if let Some(at) = name.find('@') {
        let repo = &image[..slash + at];
        let repo = split_image(repo).0;
        return (repo, ImagePin::Digest(&name[at + 1..]));
    }
    match name.rfind(':') {
        Some(i) => (&image[..slash + i], ImagePin::Tag(&image[slash + i + 1..])),
        None => (image, ImagePin::Tag("latest")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_split_into_repository_and_pin() {
        let d = "sha256:59296d23d6230000000000000000000000000000000000000000000000000000";
        for (image, repo, pin) in [
            ("python", "python", ImagePin::Tag("latest")),
            (
                "localhost:5000/serve:2.4.1",
                "localhost:5000/serve",
                ImagePin::Tag("2.4.1"),
            ),
            (
                "localhost:5000/serve",
                "localhost:5000/serve",
                ImagePin::Tag("latest"),
            ),
            (
                &format!("ecr.aws/serve@{d}"),
                "ecr.aws/serve",
                ImagePin::Digest(d),
            ),
            (
                &format!("ecr.aws/serve:2.4.1@{d}"),
                "ecr.aws/serve",
                ImagePin::Digest(d),
            ),
        ] {
            assert_eq!(split_image(image), (repo, pin), "{image}");
        }
        assert_eq!(ImagePin::Digest(d).short(), "sha256:59296d23d623…");
        assert_eq!(ImagePin::Digest(d).label(), "image digest");
        assert_eq!(ImagePin::Tag("2.4.1").short(), "2.4.1");
    }
}
