#!/usr/bin/env python3
"""Request conformance for the end-to-end tests: checks AWS requests, as captured on the wire,
against the AWS service models botocore ships (installed with moto by scripts/setup-moto).

A request is parsed back into the operation's input parameters according to the service's
protocol (awsJson, awsQuery, restXml), then checked with botocore's own ParamValidator (required
members, types, minimum lengths and values, unknown members) and against what ParamValidator
leaves out: maximum lengths and sizes, numeric ranges, enums and patterns. Anything on the wire
the model does not describe (an unknown JSON member, query key or XML element) is a violation.

Modes:
  check.py --serve        one JSON request per line on stdin, one JSON verdict per line on stdout
  check.py RECORDING...   checks JSON-lines recordings; exits 1 when any request breaks a rule

A request is {"method", "target" (path and query), "headers": [[name, value]...],
"body_hex", "body_omitted"?}; a verdict is {"service", "operation", "protocol",
"violations": [...], "params": {...}} (service and operation are null when the request cannot be
attributed; params are the request's parsed members, bodies left out).
"""

import base64
import datetime
import json
import sys
import urllib.parse
import xml.etree.ElementTree as ET

import botocore.session
from botocore.validate import ParamValidator

try:
    import regex as re_engine  # understands \p{..} classes used by some models
except ImportError:  # pragma: no cover - the venv has it; plain re is the fallback
    import re as re_engine

# Signing names (the credential scope's service) that differ from botocore's service names.
SIGNING_TO_SERVICE = {
    "monitoring": "cloudwatch",
    "elasticloadbalancing": None,  # elb or elbv2: told apart by the Version parameter
    "states": "stepfunctions",
    "email": "ses",
    "execute-api": "apigateway",
}
ELB_BY_VERSION = {"2015-12-01": "elbv2", "2012-06-01": "elb"}
# Query keys the SDKs add that are not modelled members.
IGNORED_QUERY_KEYS = {"x-id"}

_session = botocore.session.get_session()
_models = {}
_patterns = {}


class Missing:
    pass


MISSING = Missing()


def service_model(name):
    if name not in _models:
        _models[name] = _session.get_service_model(name)
    return _models[name]


def header(headers, name):
    name = name.lower()
    for k, v in headers:
        if k.lower() == name:
            return v
    return None


def signing_service(headers):
    auth = header(headers, "authorization") or ""
    marker = "Credential="
    if marker not in auth:
        return None
    scope = auth.split(marker, 1)[1].split(",", 1)[0].split("/")
    return scope[3] if len(scope) >= 5 else None


class Request:
    def __init__(self, raw):
        self.method = raw["method"].upper()
        target = raw["target"]
        path, _, query = target.partition("?")
        self.path = path
        self.query_string = query
        self.query = urllib.parse.parse_qsl(query, keep_blank_values=True)
        self.headers = raw.get("headers", [])
        self.body = bytes.fromhex(raw.get("body_hex", ""))
        self.body_omitted = raw.get("body_omitted", False)

    def header(self, name):
        return header(self.headers, name)


# ---------------------------------------------------------------------------------------------
# Attribution: which service and operation a request is for.


def attribute(req, violations):
    signing = signing_service(req.headers)
    if signing is None:
        violations.append("request is not signed with SigV4 (no credential scope)")
        return None, None, None
    target = req.header("x-amz-target")
    ctype = (req.header("content-type") or "").lower()
    form = None
    if "x-www-form-urlencoded" in ctype:
        form = urllib.parse.parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True)
    name = SIGNING_TO_SERVICE.get(signing, signing)
    if signing == "elasticloadbalancing":
        version = dict(form or req.query).get("Version")
        name = ELB_BY_VERSION.get(version)
        if name is None:
            violations.append(f"elasticloadbalancing request with unknown Version {version!r}")
            return None, None, None
    try:
        model = service_model(name)
    except Exception as e:  # noqa: BLE001 - any lookup failure is a violation to report
        violations.append(f"no botocore model for signing name {signing!r}: {e}")
        return None, None, None
    if target:
        protocol = "json"
        prefix = model.metadata.get("targetPrefix")
        want, _, op = target.rpartition(".")
        if prefix and want != prefix:
            violations.append(f"X-Amz-Target prefix {want!r} is not {prefix!r}")
    elif form is not None and dict(form).get("Action"):
        protocol = "query"
        op = dict(form)["Action"]
    elif model.metadata.get("protocol") in ("rest-xml", "rest-json"):
        protocol = model.metadata["protocol"]
        op = match_rest(model, req)
        if op is None:
            violations.append(f"no {name} operation matches {req.method} {req.path}")
            return model, None, protocol
    else:
        violations.append(
            f"cannot tell the protocol of a {name} request (content type {ctype!r})"
        )
        return model, None, None
    if op not in model.operation_names:
        violations.append(f"{name} has no operation {op!r}")
        return model, None, protocol
    return model, model.operation_model(op), protocol


def split_uri(uri):
    path, _, query = uri.partition("?")
    literals = urllib.parse.parse_qsl(query, keep_blank_values=True)
    return path, literals


def match_path(template, path):
    """Binds {Label} / {Label+} segments of `template` against `path`; None when it differs."""
    t_parts = template.strip("/").split("/") if template.strip("/") else []
    p_parts = path.strip("/").split("/") if path.strip("/") else []
    labels = {}
    for i, t in enumerate(t_parts):
        if t.startswith("{") and t.endswith("+}"):
            rest = p_parts[i:]
            if not rest:
                return None
            labels[t[1:-2]] = urllib.parse.unquote("/".join(rest))
            return labels
        if i >= len(p_parts):
            return None
        if t.startswith("{") and t.endswith("}"):
            labels[t[1:-1]] = urllib.parse.unquote(p_parts[i])
        elif t != p_parts[i]:
            return None
    if len(p_parts) != len(t_parts):
        return None
    return labels


def match_rest(model, req):
    explicit = dict(req.query).get("x-id")
    if explicit:
        return explicit
    query_keys = dict(req.query)
    best = None
    for name in model.operation_names:
        op = model.operation_model(name)
        if op.http.get("method", "").upper() != req.method:
            continue
        tpath, literals = split_uri(op.http.get("requestUri", "/"))
        if match_path(tpath, req.path) is None:
            continue
        if any(k not in query_keys or (v and query_keys[k] != v) for k, v in literals):
            continue
        missing = 0
        present = 0
        shape = op.input_shape
        for mname, m in (shape.members.items() if shape else []):
            loc = m.serialization.get("location")
            wire = m.serialization.get("name", mname)
            if loc == "header":
                here = req.header(wire) is not None
            elif loc == "querystring":
                here = wire in query_keys
            else:
                continue
            present += here
            if mname in shape.required_members and not here:
                missing += 1
        # Deprecated twins share a URI with their successor (PutBucketLifecycle and
        # PutBucketLifecycleConfiguration): the SDKs send the successor.
        score = (len(literals), -missing, not op.deprecated, present)
        if best is None or score > best[0]:
            best = (score, name)
    return best[1] if best else None


# ---------------------------------------------------------------------------------------------
# Wire format back into parameters.


def scalar(shape, text, path, violations):
    t = shape.type_name
    try:
        if t in ("integer", "long"):
            return int(text)
        if t in ("float", "double"):
            return float(text)
        if t == "boolean":
            if text in ("true", "false"):
                return text == "true"
            raise ValueError(text)
        if t == "blob":
            return base64.b64decode(text, validate=True)
    except (ValueError, TypeError) as e:
        violations.append(f"{path}: {text!r} is not a valid {t}: {e}")
        return MISSING
    return text


def parse_json(shape, value, path, violations):
    t = shape.type_name
    if value is None:
        return value
    if t == "structure":
        if not isinstance(value, dict):
            return value
        wire_to_member = {m.serialization.get("name", n): n for n, m in shape.members.items()}
        out = {}
        for k, v in value.items():
            if k not in wire_to_member:
                violations.append(f"{path}{k}: not a member of {shape.name}")
                continue
            name = wire_to_member[k]
            out[name] = parse_json(shape.members[name], v, f"{path}{name}.", violations)
        return out
    if t == "list":
        if not isinstance(value, list):
            return value
        return [parse_json(shape.member, v, path, violations) for v in value]
    if t == "map":
        if not isinstance(value, dict):
            return value
        return {k: parse_json(shape.value, v, path, violations) for k, v in value.items()}
    if t == "timestamp" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.datetime.fromtimestamp(value, tz=datetime.timezone.utc)
    if t == "blob" and isinstance(value, str):
        got = scalar(shape, value, path.rstrip("."), violations)
        return value if got is MISSING else got
    if t in ("float", "double") and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def parse_query_value(shape, key, form, used, violations):
    t = shape.type_name
    if t == "structure":
        return parse_query_struct(shape, key, form, used, violations)
    if t == "list":
        if form.get(key) == "":
            used.add(key)
            return []
        member = shape.member
        if shape.serialization.get("flattened"):
            prefix = key
            if member.serialization.get("name"):
                prefix = ".".join(key.split(".")[:-1] + [member.serialization["name"]])
        else:
            prefix = f"{key}.{member.serialization.get('name', 'member')}"
        out = []
        i = 1
        while has_key(form, f"{prefix}.{i}"):
            v = parse_query_value(member, f"{prefix}.{i}", form, used, violations)
            out.append(None if v is MISSING else v)
            i += 1
        return out if out else MISSING
    if t == "map":
        prefix = key if shape.serialization.get("flattened") else f"{key}.entry"
        kname = shape.key.serialization.get("name", "key")
        vname = shape.value.serialization.get("name", "value")
        out = {}
        i = 1
        while has_key(form, f"{prefix}.{i}"):
            k = parse_query_value(shape.key, f"{prefix}.{i}.{kname}", form, used, violations)
            v = parse_query_value(shape.value, f"{prefix}.{i}.{vname}", form, used, violations)
            out[k] = None if v is MISSING else v
            i += 1
        return out if out else MISSING
    if key not in form:
        return MISSING
    used.add(key)
    return scalar(shape, form[key], key, violations)


def has_key(form, key):
    return key in form or any(k.startswith(key + ".") for k in form)


def parse_query_struct(shape, prefix, form, used, violations):
    out = {}
    for name, member in shape.members.items():
        wire = member.serialization.get("name", name)
        key = f"{prefix}.{wire}" if prefix else wire
        if not has_key(form, key):
            continue
        v = parse_query_value(member, key, form, used, violations)
        if v is not MISSING:
            out[name] = v
    return out if (out or not prefix) else MISSING


def parse_query(op, req, violations):
    pairs = urllib.parse.parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True)
    form = {}
    for k, v in pairs:
        if k in form:
            violations.append(f"query key {k} is sent twice")
        form[k] = v
    used = {"Action", "Version"}
    params = {}
    if op.input_shape is not None:
        params = parse_query_struct(op.input_shape, "", form, used, violations)
    for k in sorted(set(form) - used):
        violations.append(f"{k}: not a member of {op.name}'s input")
    return params


def xml_name(shape, default):
    return shape.serialization.get("name", default)


def local(tag):
    return tag.rsplit("}", 1)[-1]


def child(elem, name):
    for c in elem:
        if local(c.tag) == name:
            return c
    return None


def parse_xml_value(shape, elems, path, violations):
    """`elems`: the elements carrying this value (several for a flattened list)."""
    t = shape.type_name
    if t == "list":
        if shape.serialization.get("flattened"):
            items = elems
        else:
            item = xml_name(shape.member, "member")
            items = []
            for e in elems[:1]:
                for c in e:
                    if local(c.tag) != item:
                        violations.append(f"{path}: unexpected element <{local(c.tag)}>")
                        continue
                    items.append(c)
        return [parse_xml_value(shape.member, [c], path, violations) for c in items]
    e = elems[0]
    if t == "structure":
        return parse_xml_struct(shape, e, path, violations)
    if t == "map":
        out = {}
        entries = elems if shape.serialization.get("flattened") else list(e)
        kname, vname = xml_name(shape.key, "key"), xml_name(shape.value, "value")
        for entry in entries:
            k = child(entry, kname)
            v = child(entry, vname)
            if k is None or v is None:
                violations.append(f"{path}: map entry without {kname}/{vname}")
                continue
            out[k.text or ""] = parse_xml_value(shape.value, [v], path, violations)
        return out
    text = e.text or ""
    if t == "timestamp":
        return text
    got = scalar(shape, text, path, violations)
    return text if got is MISSING else got


def parse_xml_struct(shape, elem, path, violations):
    out = {}
    by_wire = {}
    for name, member in shape.members.items():
        if member.serialization.get("xmlAttribute"):
            wire = member.serialization.get("name", name)
            for k, v in elem.attrib.items():
                if local(k) == local(wire) or k == wire:
                    out[name] = v
            continue
        if member.type_name == "list" and member.serialization.get("flattened"):
            wire = member.member.serialization.get("name", member.serialization.get("name", name))
        else:
            wire = member.serialization.get("name", name)
        by_wire[wire] = name
    groups = {}
    for c in elem:
        tag = local(c.tag)
        if tag not in by_wire:
            violations.append(f"{path}{tag}: not a member of {shape.name}")
            continue
        groups.setdefault(by_wire[tag], []).append(c)
    for name, elems in groups.items():
        member = shape.members[name]
        flattened = member.type_name == "list" and member.serialization.get("flattened")
        if len(elems) > 1 and not flattened:
            violations.append(f"{path}{name}: element appears {len(elems)} times")
        out[name] = parse_xml_value(member, elems, f"{path}{name}.", violations)
    return out


def parse_header(shape, value, path, violations):
    t = shape.type_name
    if t == "list":
        return [v.strip() for v in value.split(",")]
    if t == "timestamp":
        return value
    if t == "jsonvalue" or shape.serialization.get("jsonvalue"):
        try:
            return json.loads(base64.b64decode(value))
        except Exception as e:  # noqa: BLE001
            violations.append(f"{path}: not base64 JSON: {e}")
            return MISSING
    got = scalar(shape, value, path, violations)
    return got


def parse_rest(op, req, protocol, violations):
    shape = op.input_shape
    if shape is None:
        return {}
    tpath, literals = split_uri(op.http.get("requestUri", "/"))
    labels = match_path(tpath, req.path) or {}
    literal_keys = {k for k, _ in literals} | IGNORED_QUERY_KEYS
    query = {}
    for k, v in req.query:
        query.setdefault(k, []).append(v)
    used_query = set()
    params = {}
    payload = shape.serialization.get("payload")
    body_members = []
    for name, member in shape.members.items():
        loc = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if loc == "uri":
            if wire in labels:
                params[name] = labels[wire]
        elif loc == "querystring":
            if member.type_name == "map":
                rest = {k: v[-1] for k, v in query.items() if k not in literal_keys}
                if rest:
                    params[name] = rest
                    used_query |= set(rest)
            elif wire in query:
                used_query.add(wire)
                if member.type_name == "list":
                    params[name] = query[wire]
                else:
                    v = scalar(member, query[wire][-1], name, violations)
                    if v is not MISSING:
                        params[name] = v
        elif loc == "header":
            v = req.header(wire)
            if v is not None:
                got = parse_header(member, v, name, violations)
                if got is not MISSING:
                    params[name] = got
        elif loc == "headers":
            prefix = wire.lower()
            found = {k[len(prefix):]: v for k, v in req.headers if k.lower().startswith(prefix)}
            if found:
                params[name] = found
        elif name != payload:
            body_members.append(name)
    for k in sorted(set(query) - used_query - literal_keys):
        violations.append(f"query parameter {k!r} is not a member of {op.name}'s input")
    if payload:
        member = shape.members[payload]
        if member.type_name in ("blob", "string"):
            if req.body or req.body_omitted:
                params[payload] = req.body
        elif req.body_omitted:
            violations.append(f"{payload}: body too large to check")
        elif req.body:
            try:
                root = ET.fromstring(req.body)
            except ET.ParseError as e:
                violations.append(f"{payload}: body is not XML: {e}")
                return params
            want = member.serialization.get("name", payload)
            if local(root.tag) != want:
                violations.append(f"{payload}: root element <{local(root.tag)}> is not <{want}>")
            params[payload] = parse_xml_value(member, [root], f"{payload}.", violations)
    elif body_members and req.body:
        violations.append(f"{op.name}: unchecked body members {body_members}")
    return params


# ---------------------------------------------------------------------------------------------
# The rules ParamValidator leaves out: max lengths and sizes, ranges, enums, patterns.


def compile_pattern(p):
    if p not in _patterns:
        # Java-style surrogate pairs describe astral characters; Python strings hold them whole.
        q = p.replace("\\uD800\\uDC00-\\uDBFF\\uDFFF", "\\U00010000-\\U0010FFFF")
        try:
            _patterns[p] = re_engine.compile(q)
        except Exception:  # noqa: BLE001 - a pattern the engine cannot read is not checked
            _patterns[p] = None
    return _patterns[p]


def extra_checks(shape, value, path, violations):
    if value is None or shape is None:
        return
    meta = shape.metadata
    t = shape.type_name
    if t == "structure" and isinstance(value, dict):
        for name, v in value.items():
            if name in shape.members:
                extra_checks(shape.members[name], v, f"{path}.{name}" if path else name, violations)
        return
    if t == "list" and isinstance(value, list):
        if "max" in meta and len(value) > meta["max"]:
            violations.append(f"{path}: {len(value)} items, at most {meta['max']} allowed")
        for i, v in enumerate(value):
            extra_checks(shape.member, v, f"{path}[{i}]", violations)
        return
    if t == "map" and isinstance(value, dict):
        if "max" in meta and len(value) > meta["max"]:
            violations.append(f"{path}: {len(value)} entries, at most {meta['max']} allowed")
        for k, v in value.items():
            extra_checks(shape.key, k, f"{path} key", violations)
            extra_checks(shape.value, v, f"{path}[{k}]", violations)
        return
    if t == "string" and isinstance(value, str):
        if "max" in meta and len(value) > meta["max"]:
            violations.append(
                f"{path}: length {len(value)} is over the maximum {meta['max']}"
            )
        enum = meta.get("enum")
        if enum and value not in enum:
            violations.append(f"{path}: {value!r} is not one of {enum}")
        pattern = meta.get("pattern")
        if pattern:
            rx = compile_pattern(pattern)
            if rx is not None and rx.fullmatch(value) is None:
                violations.append(f"{path}: {value!r} does not match /{pattern}/")
        return
    if t == "blob" and isinstance(value, (bytes, bytearray)):
        if "max" in meta and len(value) > meta["max"]:
            violations.append(f"{path}: {len(value)} bytes, at most {meta['max']} allowed")
        return
    if t in ("integer", "long", "float", "double") and isinstance(value, (int, float)):
        if isinstance(value, bool):
            return
        if "max" in meta and value > meta["max"]:
            violations.append(f"{path}: {value} is over the maximum {meta['max']}")
        if t in ("integer",) and not -(2**31) <= value < 2**31:
            violations.append(f"{path}: {value} does not fit a 32-bit integer")
        if t in ("long",) and not -(2**63) <= value < 2**63:
            violations.append(f"{path}: {value} does not fit a 64-bit integer")


def check(raw):
    req = Request(raw)
    violations = []
    model, op, protocol = attribute(req, violations)
    verdict = {
        "service": model.service_name if model else None,
        "operation": op.name if op else None,
        "protocol": protocol,
        "violations": violations,
    }
    if op is None:
        return verdict
    if protocol == "json":
        try:
            body = json.loads(req.body or b"{}")
        except ValueError as e:
            violations.append(f"body is not JSON: {e}")
            return verdict
        params = parse_json(op.input_shape, body, "", violations) if op.input_shape else body
    elif protocol == "query":
        params = parse_query(op, req, violations)
    else:
        params = parse_rest(op, req, protocol, violations)
    if op.input_shape is not None:
        report = ParamValidator().validate(params, op.input_shape)
        if report.has_errors():
            for line in report.generate_report().splitlines():
                line = line.strip()
                if line and not line.startswith("Parameter validation failed"):
                    violations.append(line)
        extra_checks(op.input_shape, params, "", violations)
    # The parsed members, for the rule-table check on the Rust side (bodies left out).
    verdict["params"] = plain(params)
    return verdict


def plain(value):
    """`value` as JSON can carry it: bytes and streams become None, other scalars text."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (bytes, bytearray)):
        return None
    return str(value)


def serve():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            verdict = check(json.loads(line))
        except Exception as e:  # noqa: BLE001 - a checker failure is reported, never hidden
            verdict = {
                "service": None,
                "operation": None,
                "protocol": None,
                "violations": [f"conformance checker failed: {type(e).__name__}: {e}"],
            }
        sys.stdout.write(json.dumps(verdict) + "\n")
        sys.stdout.flush()


def main(argv):
    if argv[1:] == ["--serve"]:
        serve()
        return 0
    bad = 0
    for path in argv[1:]:
        with open(path) as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                v = check(json.loads(line))
                if v["violations"]:
                    bad += 1
                    print(f"{path}:{n}: {v['service']} {v['operation']}:")
                    for x in v["violations"]:
                        print(f"  {x}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
