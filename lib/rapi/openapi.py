"""An OpenAPI 3 description of RAPI, generated from ``resources.TABLE``.

Served as ``/2/openapi.json``. Paths, methods, path variables, query
arguments, required access and request bodies all come from the table;
opcode-backed bodies list the opcode's parameters (minus those the path
or the query fix) with JSON types derived from the opcode table's checks.
"""

import re

from ganeti import constants
from ganeti.rapi import resources as res

_ERROR_CODES = {
    "400": "Bad request: malformed JSON, unknown or wrongly typed"
           " parameters",
    "401": "Authentication needed (HTTP Basic, realm \"Ganeti Remote"
           " API\")",
    "403": "The user lacks the required access",
    "404": "No such resource or item",
    "405": "Method not supported by this resource",
    "415": "Request body is not application/json",
    "501": "Not implemented by this cluster yet",
    "502": "The master daemon could not be reached",
}

_ARG_SCHEMAS = {
    res.A_BOOL: {"type": "integer", "enum": [0, 1]},
    res.A_INT: {"type": "integer"},
    res.A_STR: {"type": "string"},
    res.A_LIST: {"type": "array", "items": {"type": "string"}},
}

_SIMPLE_TYPES = {
    "bool": "boolean", "int": "integer", "int>=0": "integer",
    "int>0": "integer", "number": "number", "float": "number",
    "str": "string", "NonEmptyString": "string", "list": "array",
    "dict": "object",
}


def check_schema(desc):
    """JSON schema of an ``ht`` check, from its description text."""
    if desc.startswith("None or "):
        schema = check_schema(desc[len("None or "):])
        schema["nullable"] = True
        return schema
    if desc in _SIMPLE_TYPES:
        schema = {"type": _SIMPLE_TYPES[desc]}
        if desc == "int>=0":
            schema["minimum"] = 0
        elif desc == "int>0":
            schema["minimum"] = 1
        return schema
    if desc.startswith("List of "):
        return {"type": "array", "items": check_schema(desc[8:])}
    if desc.startswith("Dictionary"):
        return {"type": "object"}
    if desc.startswith("value in "):
        try:
            import ast
            values = ast.literal_eval(desc[len("value in "):])
            return {"enum": [v for v in values]}
        except (ValueError, SyntaxError):
            return {}
    return {}


def _body_schema(spec):
    """Request body schema of a method (None if it takes no body)."""
    if spec.body_doc is not None:
        if isinstance(spec.body_doc, str):
            return {"type": spec.body_doc}
        props = dict((name, {} if kind == "any" else {"type": kind})
                     for name, kind in sorted(spec.body_doc.items()))
        return {"type": "object", "properties": props}
    if spec.kind != "op" or not spec.body:
        return None
    from ganeti import opcodes
    cls = opcodes.OP_MAPPING.get(spec.op_id)
    if cls is None:
        return {"type": "object"}
    fixed = set(spec.items.values()) | set(spec.fixed)
    fixed.update(arg.param for arg in spec.all_args() if arg.param)
    aliases = dict((new, old) for old, new in spec.rename.items())
    props = {}
    required = []
    for param in cls.PARAMS:
        if param.name in fixed or param.name in spec.forbidden:
            continue
        schema = check_schema(param.check.desc)
        if param.default is not None:
            schema["default"] = param.default
        props[param.name] = schema
        if param.required:
            required.append(aliases.get(param.name, param.name))
        if param.name in aliases:
            props[aliases[param.name]] = dict(
                schema, description="Alias of %s" % param.name)
    if spec.op_id == "OP_INSTANCE_CREATE":
        props["__version__"] = {"type": "integer", "enum": [1]}
        required.append("__version__")
    schema = {"type": "object", "properties": props,
              "additionalProperties": False}
    if required:
        schema["required"] = sorted(set(required))
    return schema


def _operation(resource, method, spec):
    tag = resource.path.strip("/").split("/")
    tag = tag[1] if len(tag) > 1 and tag[0] == "2" else "general"
    op_name = re.sub(r"[^A-Za-z0-9]+", "_", resource.path).strip("_")
    op = {
        "summary": spec.doc,
        "operationId": "%s_%s" % (method.lower(), op_name or "root"),
        "tags": [tag.split(".")[0]],
        "responses": {"200": {"description": spec.result_doc or "OK",
                              "content": {"application/json": {
                                  "schema": {}}}}},
    }
    for code in sorted(_ERROR_CODES):
        op["responses"][code] = {"$ref": "#/components/responses/E%s" % code}
    params = []
    for arg in spec.all_args():
        entry = {"name": arg.name, "in": "query", "required": False,
                 "schema": dict(_ARG_SCHEMAS[arg.kind])}
        if arg.kind == res.A_LIST:
            entry["explode"] = True
        if arg.doc:
            entry["description"] = arg.doc
        params.append(entry)
    if params:
        op["parameters"] = params
    if spec.access:
        op["security"] = [{"basicAuth": []}]
        op["x-ganeti-access"] = list(spec.access)
    else:
        op["security"] = [{}, {"basicAuth": []}]
    needed = spec.needed_ops()
    if needed:
        op["x-ganeti-opcodes"] = needed
    body = _body_schema(spec)
    if body is not None:
        op["requestBody"] = {"required": False, "content": {
            "application/json": {"schema": body}}}
    return op


def _path_params(resource):
    params = []
    for name in resource.vars:
        regex, conv, doc = res.PATH_VARS[name]
        schema = {"type": "integer" if conv is int else "string"}
        if conv is not int:
            schema["pattern"] = "^(%s)$" % regex
        params.append({"name": name, "in": "path", "required": True,
                       "description": doc, "schema": schema})
    return params


def document(table=None):
    """The OpenAPI document (a dict) for ``table`` (default: RAPI's)."""
    if table is None:
        table = res.TABLE
    paths = {}
    for resource in table:
        path = re.sub(r"\[(\w+)\]", r"{\1}", resource.path)
        entry = {"summary": resource.doc}
        params = _path_params(resource)
        if params:
            entry["parameters"] = params
        for method in sorted(resource.methods):
            entry[method.lower()] = _operation(resource, method,
                                               resource.methods[method])
        paths[path] = entry
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Ganeti Remote API",
            "version": "%s (RAPI %d)" % (constants.RELEASE_VERSION,
                                         res.RAPI_VERSION),
            "description": "Remote API of a Ganeti cluster, version 2."
                           " Mutating calls answer a job ID; follow it at"
                           " /2/jobs/{job_id}.",
        },
        "paths": paths,
        "components": {
            "responses": dict(
                ("E%s" % code, {"description": text, "content": {
                    "application/json": {"schema": {
                        "$ref": "#/components/schemas/Error"}}}})
                for code, text in _ERROR_CODES.items()),
            "securitySchemes": {"basicAuth": {"type": "http",
                                              "scheme": "basic"}},
            "schemas": {"Error": {
                "type": "object",
                "required": ["code", "message", "explain"],
                "properties": {"code": {"type": "integer"},
                               "message": {"type": "string"},
                               "explain": {"type": "string"}}}},
        },
    }
