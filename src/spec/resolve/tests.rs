//! Tests for resolution: references, ordering, cycles and evaluation.

use super::super::{LoadOptions, load_files};
use crate::addr::Address;
use crate::resource::{TemplatePart, Value};

const HEAD: &str = "[stack]\nname = \"t\"\n[provider.aws]\nnetwork = { subnets = [\"s\"] }\n";

fn errors(text: &str) -> String {
    match load_files(&[("pedestal.toml", text)], &LoadOptions::env("dev")) {
        Ok(_) => panic!("expected errors"),
        Err(d) => d.render(false, 200),
    }
}

#[test]
fn templates_merge_literals_and_keep_references() {
    let text = format!(
        "{HEAD}[variables.n]\ntype = \"number\"\ndefault = 2\n[storage.s]\n[compute.c]\nname = \"c-${{var.n}}-${{env}}-${{stack.name}}\"\ntags = {{ arn = \"x${{storage.s.arn}}y\" }}\n"
    );
    let c = load_files(&[("pedestal.toml", &text)], &LoadOptions::env("dev")).unwrap();
    let r = &c.resources[&Address::new("compute.c.cluster")];
    assert_eq!(r.attrs["name"], Value::str("c-2-dev-t"));
    let tags = r.attrs["tags"].as_map().unwrap();
    let Value::Template(parts) = &tags["arn"] else {
        panic!("expected a template, got {:?}", tags["arn"])
    };
    assert_eq!(parts.len(), 3);
    assert!(matches!(&parts[1], TemplatePart::Ref(r) if r.attr == "arn"));
    assert!(r.depends_on.contains(&Address::new("storage.s.bucket")));
}

#[test]
fn every_unknown_reference_is_reported_with_a_suggestion() {
    let out = errors(&format!(
        "{HEAD}[variables.region_name]\ndefault = \"x\"\n[storage.models]\n[compute.c]\nname = \"${{var.region_nam}}\"\ntags = {{ a = \"${{storage.model.bucket}}\", b = \"${{storage.models.bukcet}}\", c = \"${{stack.nme}}\" }}\n"
    ));
    assert!(out.contains("did you mean `region_name`?"), "{out}");
    assert!(out.contains("did you mean `models`?"), "{out}");
    assert!(out.contains("did you mean `bucket`?"), "{out}");
    assert!(out.contains("did you mean `name`?"), "{out}");
    assert!(out.contains("(4 errors)"), "{out}");
}

#[test]
fn cycles_list_every_edge_with_its_location() {
    let out = errors(&format!(
        "{HEAD}[compute.a]\nname = \"${{compute.b.name}}\"\n[compute.b]\nname = \"${{compute.c.name}}\"\n[compute.c]\nname = \"${{compute.a.name}}\"\n"
    ));
    assert!(
        out.contains("dependency cycle: compute.a -> compute.b -> compute.c -> compute.a"),
        "{out}"
    );
    for edge in [
        "compute.a depends on compute.b (",
        "compute.b depends on compute.c (",
        "compute.c depends on compute.a (",
    ] {
        assert!(out.contains(edge), "{edge} missing in {out}");
    }
    assert!(out.contains("pedestal.toml:6:9)"), "{out}");
}
