"""Kubernetes JSON schemas for kubeconform, made from a real kube-apiserver.

kubeconform's default schemas are downloaded from GitHub, which these
machines cannot reach. The same schemas are derived from the API server's own
OpenAPI v2 document: the test cluster's kube-apiserver (scripts/test-cluster,
the pinned KUBERNETES_VERSION) serves it at /openapi/v2. This module keeps
that document in the cache and writes, per kind, a standalone strict schema
in kubeconform's file layout (`<kind>-<group>-<version>.json`) the way
openapi2jsonschema does: every reachable definition inlined, objects closed
(additionalProperties: false), int-or-string and quantities accepting both
forms. Used by test_kubeconform.py.
"""

import json
import os
import subprocess

FILE_TEMPLATE = "{{ .ResourceKind }}{{ .KindSuffix }}.json"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"


def fetch_openapi(cache_dir, kubectl, kubeconfig):
    """The API server's /openapi/v2, cached (the version is in cache_dir's name)."""
    path = os.path.join(cache_dir, "openapi-v2.json")
    if not os.path.exists(path):
        os.makedirs(cache_dir, exist_ok=True)
        raw = subprocess.run([kubectl, "--kubeconfig", kubeconfig, "get", "--raw", "/openapi/v2"],
                             check=True, capture_output=True).stdout
        json.loads(raw)  # refuse to cache anything but JSON
        with open(path + ".tmp", "wb") as f:
            f.write(raw)
        os.replace(path + ".tmp", path)
    with open(path) as f:
        return json.load(f)


def file_name(api_version, kind):
    """kubeconform's name for a kind's schema file (its KindSuffix rule)."""
    group, _, version = api_version.rpartition("/")
    suffix = f"-{group.split('.')[0].lower()}" if group else ""
    return f"{kind.lower()}{suffix}-{version.lower()}.json"


def _refs(node):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if ref:
            yield ref.rsplit("/", 1)[-1]
        for v in node.values():
            yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


def _strict(node):
    """Close every object schema that lists its properties."""
    if isinstance(node, dict):
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for v in node.values():
            _strict(v)
    elif isinstance(node, list):
        for v in node:
            _strict(v)
    return node


def _definition(definitions, name):
    if name == INT_OR_STRING:
        return {"oneOf": [{"type": "string"}, {"type": "integer"}]}
    if name == QUANTITY:
        return {"oneOf": [{"type": "string"}, {"type": "number"}]}
    return json.loads(json.dumps(definitions[name]))


def standalone(openapi, api_version, kind):
    """The strict standalone schema of one kind, or None if the server has no such kind."""
    definitions = openapi["definitions"]
    group, _, version = api_version.rpartition("/")
    root = None
    for name, d in definitions.items():
        for gvk in d.get("x-kubernetes-group-version-kind", []):
            if (gvk["group"], gvk["version"], gvk["kind"]) == (group, version, kind):
                root = name
    if root is None:
        return None
    needed, todo = {}, [root]
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        needed[name] = _definition(definitions, name)
        todo.extend(_refs(needed[name]))
    schema = _strict(needed.pop(root))
    schema["definitions"] = {n: _strict(d) for n, d in needed.items()}
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    # apiVersion and kind must be exactly this kind's.
    schema.setdefault("properties", {})
    schema["properties"]["apiVersion"] = {"enum": [api_version]}
    schema["properties"]["kind"] = {"enum": [kind]}
    return schema


def write_schemas(openapi, schema_dir, kinds):
    """Write the schema of each (apiVersion, kind) into schema_dir; returns the
    kinds the server does not know."""
    os.makedirs(schema_dir, exist_ok=True)
    unknown = []
    for api_version, kind in sorted(kinds):
        path = os.path.join(schema_dir, file_name(api_version, kind))
        if os.path.exists(path):
            continue
        schema = standalone(openapi, api_version, kind)
        if schema is None:
            unknown.append((api_version, kind))
            continue
        with open(path + ".tmp", "w") as f:
            json.dump(schema, f)
        os.replace(path + ".tmp", path)
    return unknown
