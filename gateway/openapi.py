"""An OpenAPI 3.1 document generated from the route table and descriptors."""

from __future__ import annotations

import itertools
import re
from typing import Any

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

from gateway import conditional, creates, downloads
from gateway.routes import HttpBinding, RouteTable
from tripsage_core.idempotency import MAX_KEY_LENGTH
from tripsage_core.proto_docs import comment

ERROR_SCHEMA = "Error"
_VARIABLE = re.compile(r"{([^}]+)}")
_REF = "#/components/schemas/"
_QUERY_DEPTH_LIMIT = 3

_INT64_TYPES = frozenset(
    {
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_FIXED64,
        FieldDescriptor.TYPE_SFIXED64,
    }
)
_INT32_TYPES = frozenset(
    {
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_SINT32,
        FieldDescriptor.TYPE_FIXED32,
        FieldDescriptor.TYPE_SFIXED32,
    }
)
_MASK_PATH = r"[a-z][a-zA-Z0-9]*(\.[a-z][a-zA-Z0-9]*)*"
_FIELD_MASK_PATTERN = rf"^({_MASK_PATH}(,{_MASK_PATH})*)?$"
# gRPC metadata carries printable ASCII only.
_HEADER_TEXT_PATTERN = r"^[\x20-\x7e]*$"
_INT64_STRING: dict[str, Any] = {"type": "string", "format": "int64", "pattern": r"^-?[0-9]+$"}
# A download's media types are the ones its RPC's comment quotes ("text/calendar").
_QUOTED_MEDIA_TYPE = re.compile(r'"([a-z]+/[a-z0-9.+-]+)"')
_ETAG_HEADER = {
    "description": "The resource's etag (strong), as in its body's `etag` field.",
    "schema": {"type": "string"},
}
_NO_BODY = {"description": "No body."}

# Well-known types with a special JSON form.
_WELL_KNOWN: dict[str, dict[str, Any]] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]{1,9})?s$"},
    "google.protobuf.FieldMask": {"type": "string", "pattern": _FIELD_MASK_PATTERN},
    "google.protobuf.Empty": {"type": "object"},
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array", "items": {}},
    "google.protobuf.Any": {
        "type": "object",
        "properties": {"@type": {"type": "string"}},
        "required": ["@type"],
        "additionalProperties": True,
    },
    "google.protobuf.StringValue": {"type": ["string", "null"]},
    "google.protobuf.BytesValue": {"type": ["string", "null"], "contentEncoding": "base64"},
    "google.protobuf.BoolValue": {"type": ["boolean", "null"]},
    "google.protobuf.Int32Value": {"type": ["integer", "null"], "format": "int32"},
    "google.protobuf.UInt32Value": {"type": ["integer", "null"], "format": "int32", "minimum": 0},
    "google.protobuf.Int64Value": {"type": ["string", "null"], "format": "int64"},
    "google.protobuf.UInt64Value": {"type": ["string", "null"], "format": "int64"},
    "google.protobuf.FloatValue": {"type": ["number", "null"], "format": "float"},
    "google.protobuf.DoubleValue": {"type": ["number", "null"], "format": "double"},
}


def error_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "status", "message", "details"],
                "properties": {
                    "code": {"type": "integer", "description": "The HTTP status code."},
                    "status": {"type": "string", "description": "The gRPC status code name."},
                    "message": {"type": "string"},
                    "details": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"@type": {"type": "string"}},
                            "required": ["@type"],
                            "additionalProperties": True,
                        },
                    },
                },
            }
        },
    }


class _SchemaBuilder:
    """Component schemas for messages and enums, referenced by full name."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def message_ref(self, descriptor: Descriptor) -> dict[str, Any]:
        special = _WELL_KNOWN.get(descriptor.full_name)
        if special is not None:
            return dict(special)
        name = descriptor.full_name
        if name not in self.schemas:
            self.schemas[name] = {}  # placeholder: recursion-safe
            self.schemas[name] = self._message_schema(descriptor)
        return {"$ref": _REF + name}

    def enum_ref(self, descriptor: EnumDescriptor) -> dict[str, Any]:
        name = descriptor.full_name
        if name not in self.schemas:
            self.schemas[name] = {
                "type": "string",
                "enum": [value.name for value in descriptor.values],
            }
        return {"$ref": _REF + name}

    def _message_schema(self, descriptor: Descriptor) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        for field in descriptor.fields:
            field_schema = self.field_schema(field)
            described = comment(field.full_name)
            if described:
                # Siblings of a $ref are allowed in OpenAPI 3.1 (JSON Schema 2020-12).
                field_schema = {**field_schema, "description": described}
            properties[field.json_name] = field_schema
        schema: dict[str, Any] = {
            "type": "object",
            "properties": properties,
            "additionalProperties": False,
        }
        described = comment(descriptor.full_name)
        if described:
            schema["description"] = described
        exclusive = [
            {"not": {"required": [first, second]}}
            for oneof in descriptor.oneofs
            if len(oneof.fields) > 1
            for first, second in itertools.combinations([f.json_name for f in oneof.fields], 2)
        ]
        if exclusive:
            schema["allOf"] = exclusive
        return schema

    def field_schema(self, field: FieldDescriptor) -> dict[str, Any]:
        message = field.message_type
        if message is not None and message.GetOptions().map_entry:
            value_field = message.fields_by_name["value"]
            return {"type": "object", "additionalProperties": self.single_schema(value_field)}
        single = self.single_schema(field)
        if field.is_repeated:
            return {"type": "array", "items": single}
        return single

    def single_schema(self, field: FieldDescriptor) -> dict[str, Any]:
        if field.message_type is not None:
            return self.message_ref(field.message_type)
        if field.enum_type is not None:
            return self.enum_ref(field.enum_type)
        return scalar_schema(field.type)


def scalar_schema(field_type: int) -> dict[str, Any]:
    if field_type == FieldDescriptor.TYPE_STRING:
        return {"type": "string"}
    if field_type == FieldDescriptor.TYPE_BOOL:
        return {"type": "boolean"}
    if field_type == FieldDescriptor.TYPE_BYTES:
        return {"type": "string", "contentEncoding": "base64"}
    if field_type in _INT64_TYPES:
        return dict(_INT64_STRING)
    if field_type in _INT32_TYPES:
        return {"type": "integer", "format": "int32"}
    if field_type == FieldDescriptor.TYPE_DOUBLE:
        return {"type": "number", "format": "double"}
    if field_type == FieldDescriptor.TYPE_FLOAT:
        return {"type": "number", "format": "float"}
    return {}


def build_openapi(
    table: RouteTable, *, title: str = "TripSage API", version: str = "1.0.0"
) -> dict[str, Any]:
    builder = _SchemaBuilder()
    paths: dict[str, dict[str, Any]] = {}
    by_shape: dict[str, str] = {}
    for binding in table.bindings:
        # OpenAPI forbids two paths differing only in parameter names
        # ("/trips/{trip_id}" and "/trips/{trip.id}"): the first one's names win.
        own_path = binding.template.openapi_path()
        path = by_shape.setdefault(_VARIABLE.sub("{}", own_path), own_path)
        names = _VARIABLE.findall(path)
        path_item = paths.setdefault(path, {})
        method_key = binding.http_method.lower()
        if method_key in path_item:
            continue  # a less specific duplicate; the table serves the first
        path_item[method_key] = _operation(binding, builder, names)
    schemas = dict(sorted(builder.schemas.items()))
    schemas[ERROR_SCHEMA] = error_schema()
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
            },
        },
        "security": [{}, {"bearerAuth": []}, {"apiKey": []}],
    }


def _operation(binding: HttpBinding, builder: _SchemaBuilder, names: list[str]) -> dict[str, Any]:
    service = binding.method.containing_service
    operation: dict[str, Any] = {
        "operationId": binding.operation_id,
        "tags": [service.name],
        "summary": f"{service.full_name}.{binding.method.name}",
        "description": comment(binding.method.full_name) or binding.method.name,
    }
    parameters = _path_parameters(binding, builder, names)
    if binding.body != "*":
        parameters += _query_parameters(binding, builder)
    parameters.append(
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "description": "Retries with the same key return the first result (creates).",
            # What tripsage_core.idempotency accepts: 1 to 255 printable characters.
            "schema": {
                "type": "string",
                "pattern": r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$",
                "minLength": 1,
                "maxLength": MAX_KEY_LENGTH,
            },
        }
    )
    parameters += _condition_headers(binding)
    operation["parameters"] = parameters
    if binding.body:
        if binding.body == "*":
            body_schema = builder.message_ref(binding.method.input_type)
        else:
            body_schema = builder.field_schema(
                binding.method.input_type.fields_by_name[binding.body]
            )
        operation["requestBody"] = {
            "required": False,  # an empty body is an empty message
            "content": {"application/json": {"schema": body_schema}},
        }
    output = binding.method.output_type
    if binding.response_body:
        response_schema = builder.field_schema(output.fields_by_name[binding.response_body])
    else:
        response_schema = builder.message_ref(output)
    etag = conditional.reply_etag_path(binding) is not None
    if downloads.is_download(binding):
        media_types = _QUOTED_MEDIA_TYPE.findall(comment(binding.method.full_name))
        success: dict[str, Any] = {
            "description": "The file itself (google.api.HttpBody), with Content-Disposition.",
            "headers": {
                "Content-Disposition": {
                    "description": "attachment; filename=... and, if not ASCII, filename*=...",
                    "schema": {"type": "string"},
                }
            },
            "content": {
                media_type: {"schema": {"type": "string", "contentMediaType": media_type}}
                for media_type in dict.fromkeys(media_types or [downloads.DEFAULT_MEDIA_TYPE])
            },
        }
    elif binding.server_streaming:
        success = {
            "description": "A Server-Sent Events stream; each `data:` line is one message."
            " With `Accept: application/x-ndjson`, one JSON message per line instead (the"
            ' last may be `{"error": ...}`).',
            "content": {
                "text/event-stream": {"schema": _sse_event_schema(response_schema)},
                "application/x-ndjson": {
                    "schema": {"anyOf": [response_schema, {"$ref": _REF + ERROR_SCHEMA}]}
                },
            },
        }
    else:
        success = {
            "description": "OK",
            "content": {"application/json": {"schema": response_schema}},
        }
    if etag and not binding.server_streaming:
        success["headers"] = {"ETag": _ETAG_HEADER}
    responses: dict[str, Any] = {}
    if creates.is_create(binding):
        created = {**success, "description": "Created (a new resource)."}
        created["headers"] = {
            **success.get("headers", {}),
            "Location": {
                "description": "The new resource's path.",
                "schema": {"type": "string"},
            },
        }
        responses["201"] = created
        success = {**success, "description": "The first result again (an Idempotency-Key retry)."}
    responses["200"] = success
    if etag and binding.http_method == "GET" and not binding.server_streaming:
        responses["304"] = {
            "description": "Not Modified: If-None-Match names the current etag (or is *).",
            "headers": {"ETag": _ETAG_HEADER},
        }
    if conditional.request_etag_path(binding) is not None:
        responses["412"] = {
            "description": "Precondition Failed: the If-Match etag is stale.",
            "content": {"application/json": {"schema": {"$ref": _REF + ERROR_SCHEMA}}},
        }
    operation["responses"] = {
        **responses,
        "default": {
            "description": "An error (gRPC status mapped to HTTP).",
            "content": {"application/json": {"schema": {"$ref": _REF + ERROR_SCHEMA}}},
        },
    }
    return operation


def _condition_headers(binding: HttpBinding) -> list[dict[str, Any]]:
    if binding.http_method == "GET" and (conditional.reply_etag_path(binding) is not None):
        return [
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "description": "Entity tags (or *); 304 when one is the current etag.",
                "schema": {"type": "string"},
            }
        ]
    if conditional.request_etag_path(binding) is not None:
        return [
            {
                "name": "If-Match",
                "in": "header",
                "required": False,
                "description": (
                    "The etag this write expects (or *); fills the request's etag when the "
                    "body has none. Stale: 412."
                ),
                "schema": {"type": "string"},
            }
        ]
    return []


def _sse_event_schema(message_schema: dict[str, Any]) -> dict[str, Any]:
    """One Server-Sent Event: a message, or the error that ended the stream."""
    return {
        "type": "object",
        "required": ["data"],
        "properties": {
            "event": {"type": "string", "enum": ["message", "error"]},
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": {"anyOf": [message_schema, {"$ref": _REF + ERROR_SCHEMA}]},
            },
        },
    }


def _path_parameters(
    binding: HttpBinding, builder: _SchemaBuilder, names: list[str]
) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    for variable, name in zip(binding.template.variables, names, strict=True):
        leaf = _leaf_field(binding.method.input_type, variable.field_path)
        schema = builder.single_schema(leaf) if leaf is not None else {"type": "string"}
        if schema.get("type") == "string":
            schema = {**schema, "minLength": 1}
        parameter = {"name": name, "in": "path", "required": True, "schema": schema}
        described = comment(leaf.full_name) if leaf is not None else ""
        if name != variable.dotted:
            described = f"The request's {variable.dotted}. {described}".strip()
        if described:
            parameter["description"] = described
        parameters.append(parameter)
    return parameters


def _leaf_field(descriptor: Descriptor, field_path: tuple[str, ...]) -> FieldDescriptor | None:
    message: Descriptor | None = descriptor
    found: FieldDescriptor | None = None
    for name in field_path:
        if message is None:
            return None
        found = message.fields_by_name.get(name)
        if found is None:
            return None
        message = found.message_type
    return found


def _query_parameters(binding: HttpBinding, builder: _SchemaBuilder) -> list[dict[str, Any]]:
    bound = {variable.dotted for variable in binding.template.variables}
    parameters: list[dict[str, Any]] = []

    def visit(descriptor: Descriptor, prefix: str, proto_prefix: str, depth: int) -> None:
        for field in descriptor.fields:
            proto_path = proto_prefix + field.name
            if proto_path in bound or (not proto_prefix and field.name == binding.body):
                continue
            message = field.message_type
            if message is not None and message.GetOptions().map_entry:
                continue
            name = prefix + field.json_name
            if message is not None and message.full_name not in _WELL_KNOWN:
                if field.is_repeated or depth >= _QUERY_DEPTH_LIMIT:
                    continue
                visit(message, name + ".", proto_path + ".", depth + 1)
                continue
            if message is not None and _WELL_KNOWN[message.full_name].get("type") in (
                None,
                "object",
                "array",
            ):
                continue
            schema = builder.field_schema(field)
            parameter: dict[str, Any] = {
                "name": name,
                "in": "query",
                "required": False,
                "schema": schema,
            }
            if field.is_repeated:
                parameter["style"] = "form"
                parameter["explode"] = True
            described = comment(field.full_name)
            if described:
                parameter["description"] = described
            parameters.append(parameter)

    visit(binding.method.input_type, "", "", 0)
    return parameters
