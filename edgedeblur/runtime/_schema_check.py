"""A small, pure-python JSON Schema checker for the keywords ``manifest.schema.json`` uses.

Why not ``jsonschema``: the runtime extra must stay numpy + one backend on a Raspberry Pi or a
phone, so the manifest is validated here without it. Only the subset of draft 2020-12 that the
manifest schema uses is implemented (type, const, enum, required, properties, items, minItems,
maxItems, minLength, pattern, minimum, exclusiveMinimum, oneOf, local ``$ref``); a test checks
that this agrees with ``jsonschema`` on good and bad manifests.
"""

from __future__ import annotations

import re
from typing import Any

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}

_SUPPORTED = {
    "$schema", "$id", "title", "description", "$defs", "type", "const", "enum", "required",
    "properties", "items", "minItems", "maxItems", "minLength", "pattern", "minimum",
    "exclusiveMinimum", "oneOf", "$ref",
}


def schema_errors(value: Any, schema: dict, root: dict | None = None, where: str = "") -> list[str]:
    """Every violation of ``schema`` by ``value`` as ``'<json path>: <problem>'`` strings."""
    root = schema if root is None else root
    unknown = set(schema) - _SUPPORTED
    if unknown:  # a schema edit that uses a keyword we do not check must not pass silently
        raise NotImplementedError(f"schema keyword(s) not supported: {sorted(unknown)}")
    here = where or "(root)"
    if "$ref" in schema:
        return schema_errors(value, _resolve(schema["$ref"], root), root, where)
    errors: list[str] = []
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[t](value) for t in types):
            return [f"{here}: expected {' or '.join(types)}, got {type(value).__name__} {value!r}"]
    if "const" in schema and value != schema["const"]:
        errors.append(f"{here}: must be {schema['const']!r}, got {value!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{here}: {value!r} is not one of {schema['enum']}")
    if "oneOf" in schema:
        matches = sum(not schema_errors(value, s, root, where) for s in schema["oneOf"])
        if matches != 1:
            errors.append(f"{here}: {value!r} matches {matches} of the allowed forms, expected 1")
    if isinstance(value, dict):
        errors += _object_errors(value, schema, root, where)
    if isinstance(value, list):
        errors += _array_errors(value, schema, root, where)
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            errors.append(f"{here}: string shorter than {schema['minLength']}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{here}: {value!r} does not match {schema['pattern']!r}")
    if _TYPES["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{here}: {value!r} is below the minimum {schema['minimum']}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            errors.append(f"{here}: {value!r} must be greater than {schema['exclusiveMinimum']}")
    return errors


def _object_errors(value: dict, schema: dict, root: dict, where: str) -> list[str]:
    errors = [
        f"{where or '(root)'}: missing required key {key!r}"
        for key in schema.get("required", [])
        if key not in value
    ]
    for key, sub in schema.get("properties", {}).items():
        if key in value:
            errors += schema_errors(value[key], sub, root, f"{where}.{key}" if where else key)
    return errors


def _array_errors(value: list, schema: dict, root: dict, where: str) -> list[str]:
    here = where or "(root)"
    errors = []
    if len(value) < schema.get("minItems", 0):
        errors.append(f"{here}: needs at least {schema['minItems']} items, has {len(value)}")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        errors.append(f"{here}: allows at most {schema['maxItems']} items, has {len(value)}")
    if "items" in schema:
        for i, item in enumerate(value):
            errors += schema_errors(item, schema["items"], root, f"{where}[{i}]")
    return errors


def _resolve(ref: str, root: dict) -> dict:
    if not ref.startswith("#/"):
        raise NotImplementedError(f"only local $ref are supported, got {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node
