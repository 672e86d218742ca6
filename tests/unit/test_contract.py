"""Rules of the v1 contract that buf lint does not check (DESIGN.md, "The contract").

Reads a descriptor set built from protos/ (not the generated code, which
test_generated_code.py keeps in step) and checks the HTTP bindings the
gateway transcodes from, enum zero values and JSON-friendly field types. The
slice other code is written against is pinned too.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2

REPO_ROOT = Path(__file__).resolve().parents[2]
FieldType = descriptor_pb2.FieldDescriptorProto
Method = tuple[str, descriptor_pb2.MethodDescriptorProto]  # (full service name, method)

VERBS = ("get", "put", "post", "delete", "patch")
VARIABLE_RE = re.compile(r"\{([a-z_][a-z0-9_.]*)(?:=[^}]*)?\}")
INT64_TYPES = {
    FieldType.TYPE_INT64,
    FieldType.TYPE_UINT64,
    FieldType.TYPE_SINT64,
    FieldType.TYPE_FIXED64,
    FieldType.TYPE_SFIXED64,
}

# The bindings other services, the gateway and clients are coded against.
PINNED_BINDINGS = {
    "tripsage.auth.v1.AuthService.Register": ("post", "/api/v1/auth/register", "*"),
    "tripsage.auth.v1.AuthService.Login": ("post", "/api/v1/auth/login", "*"),
    "tripsage.auth.v1.AuthService.RefreshSession": ("post", "/api/v1/auth/refresh", "*"),
    "tripsage.auth.v1.AuthService.Logout": ("post", "/api/v1/auth/logout", "*"),
    "tripsage.auth.v1.AuthService.GetCurrentUser": ("get", "/api/v1/users/me", ""),
    "tripsage.auth.v1.AuthService.UpdateCurrentUser": ("patch", "/api/v1/users/me", "user"),
    "tripsage.auth.v1.AuthService.ResolveCredential": (
        "post",
        "/api/v1/auth/credentials:resolve",
        "*",
    ),
    "tripsage.trips.v1.TripService.CreateTrip": ("post", "/api/v1/trips", "trip"),
    "tripsage.trips.v1.TripService.GetTrip": ("get", "/api/v1/trips/{trip_id}", ""),
    "tripsage.trips.v1.TripService.ListTrips": ("get", "/api/v1/trips", ""),
    "tripsage.trips.v1.TripService.UpdateTrip": ("patch", "/api/v1/trips/{trip.id}", "trip"),
    "tripsage.trips.v1.TripService.DeleteTrip": ("delete", "/api/v1/trips/{trip_id}", ""),
    "tripsage.travel.v1.TravelService.SearchFlights": ("post", "/api/v1/flights:search", "*"),
    "tripsage.travel.v1.TravelService.SearchAccommodations": (
        "post",
        "/api/v1/accommodations:search",
        "*",
    ),
    "tripsage.assistant.v1.AssistantService.SendMessage": (
        "post",
        "/api/v1/conversations/{conversation_id}/messages",
        "*",
    ),
    "tripsage.assistant.v1.AssistantService.StreamMessage": (
        "post",
        "/api/v1/conversations/{conversation_id}/messages:stream",
        "*",
    ),
}
EXPECTED_SERVICES = {
    "tripsage.auth.v1.AuthService",
    "tripsage.trips.v1.TripService",
    "tripsage.travel.v1.TravelService",
    "tripsage.assistant.v1.AssistantService",
}


def _load_gen_protos() -> ModuleType:
    path = REPO_ROOT / "scripts" / "gen_protos.py"
    spec = importlib.util.spec_from_file_location("gen_protos", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_protos", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[descriptor_pb2.FileDescriptorProto]:
    image = tmp_path_factory.mktemp("protos") / "tripsage.binpb"
    _load_gen_protos().write_descriptor_set(image)
    descriptor_set = descriptor_pb2.FileDescriptorSet.FromString(image.read_bytes())
    ours = [f for f in descriptor_set.file if f.name.startswith("tripsage/")]
    assert ours, "no tripsage/* files in the descriptor set"
    return ours


@pytest.fixture(scope="module")
def messages(
    files: list[descriptor_pb2.FileDescriptorProto],
) -> dict[str, descriptor_pb2.DescriptorProto]:
    """Every message of our files (nested too) by fully-qualified name."""
    found: dict[str, descriptor_pb2.DescriptorProto] = {}

    def add(prefix: str, message: descriptor_pb2.DescriptorProto) -> None:
        name = f"{prefix}.{message.name}"
        found[name] = message
        for nested in message.nested_type:
            add(name, nested)

    for file in files:
        for message in file.message_type:
            add(file.package, message)
    return found


@pytest.fixture(scope="module")
def methods(files: list[descriptor_pb2.FileDescriptorProto]) -> list[Method]:
    return [
        (f"{file.package}.{service.name}", method)
        for file in files
        for service in file.service
        for method in service.method
    ]


def _is_bidi(method: descriptor_pb2.MethodDescriptorProto) -> bool:
    return method.client_streaming and method.server_streaming


def _rule(method: descriptor_pb2.MethodDescriptorProto) -> http_pb2.HttpRule | None:
    if not method.options.HasExtension(annotations_pb2.http):
        return None
    return method.options.Extensions[annotations_pb2.http]


def _bindings(rule: http_pb2.HttpRule) -> Iterator[tuple[str, str, str]]:
    """(verb, path, body) of a rule and its additional bindings."""
    for each in [rule, *rule.additional_bindings]:
        pattern = each.WhichOneof("pattern")
        if pattern == "custom":
            yield each.custom.kind.lower(), each.custom.path, each.body
        elif pattern is not None:
            yield pattern, getattr(each, pattern), each.body


def _enums(
    files: list[descriptor_pb2.FileDescriptorProto],
) -> Iterator[descriptor_pb2.EnumDescriptorProto]:
    def nested(
        message: descriptor_pb2.DescriptorProto,
    ) -> Iterator[descriptor_pb2.EnumDescriptorProto]:
        yield from message.enum_type
        for inner in message.nested_type:
            yield from nested(inner)

    for file in files:
        yield from file.enum_type
        for message in file.message_type:
            yield from nested(message)


def _field(
    messages: dict[str, descriptor_pb2.DescriptorProto], message_name: str, dotted: str
) -> descriptor_pb2.FieldDescriptorProto | None:
    """The field a dotted path (e.g. "trip.id") names, or None."""
    field = None
    message = messages.get(message_name)
    for part in dotted.split("."):
        if message is None:
            return None
        field = next((f for f in message.field if f.name == part), None)
        if field is None:
            return None
        message = messages.get(field.type_name.lstrip(".")) if field.type_name else None
    return field


def test_the_four_services_exist(methods: list[Method]) -> None:
    assert {service for service, _ in methods} == EXPECTED_SERVICES


def test_every_rpc_but_bidi_streams_has_an_http_binding(methods: list[Method]) -> None:
    missing = [f"{s}.{m.name}" for s, m in methods if not _is_bidi(m) and _rule(m) is None]
    assert not missing, f"RPCs without option (google.api.http): {missing}"


def test_paths_are_under_api_v1(methods: list[Method]) -> None:
    wrong = [
        f"{s}.{m.name}: {path}"
        for s, m in methods
        if (rule := _rule(m)) is not None
        for _, path, _ in _bindings(rule)
        if not path.startswith("/api/v1/")
    ]
    assert not wrong


def test_get_and_delete_have_no_body(methods: list[Method]) -> None:
    wrong = [
        f"{s}.{m.name}: {verb} body={body!r}"
        for s, m in methods
        if (rule := _rule(m)) is not None
        for verb, _, body in _bindings(rule)
        if verb in ("get", "delete") and body
    ]
    assert not wrong


def test_bindings_use_known_verbs_and_no_response_body(methods: list[Method]) -> None:
    for service, method in methods:
        rule = _rule(method)
        if rule is None:
            continue
        for each in [rule, *rule.additional_bindings]:
            assert each.WhichOneof("pattern") in VERBS, f"{service}.{method.name}"
            assert not each.response_body, f"{service}.{method.name} uses response_body"


def test_custom_methods_are_post(methods: list[Method]) -> None:
    # AIP-136 lets a read-only custom method use GET: a watch stream (WatchTrip) changes
    # nothing and is what a browser's EventSource can open (it only sends GET).
    wrong = [
        f"{s}.{m.name}: {verb} {path}"
        for s, m in methods
        if (rule := _rule(m)) is not None
        for verb, path, _ in _bindings(rule)
        if ":" in path.rsplit("/", 1)[-1].split("}")[-1]
        and verb != "post"
        and not (verb == "get" and m.server_streaming)
    ]
    assert not wrong


def test_path_variables_and_bodies_name_request_fields(
    methods: list[Method], messages: dict[str, descriptor_pb2.DescriptorProto]
) -> None:
    problems = []
    for service, method in methods:
        rule = _rule(method)
        if rule is None:
            continue
        request = method.input_type.lstrip(".")
        for verb, path, body in _bindings(rule):
            for variable in VARIABLE_RE.findall(path):
                field = _field(messages, request, variable)
                if field is None or field.type == FieldType.TYPE_MESSAGE:
                    problems.append(
                        f"{service}.{method.name}: {{{variable}}} is not a scalar field"
                    )
                elif field.label == FieldType.LABEL_REPEATED:
                    problems.append(f"{service}.{method.name}: {{{variable}}} is repeated")
            if body and body != "*" and _field(messages, request, body) is None:
                problems.append(f"{service}.{method.name}: body {body!r} is not a field")
            if verb in ("post", "put", "patch") and not body:
                problems.append(f"{service}.{method.name}: {verb} without a body")
    assert not problems


def test_no_two_rpcs_share_a_route(methods: list[Method]) -> None:
    seen: dict[tuple[str, str], str] = {}
    for service, method in methods:
        rule = _rule(method)
        if rule is None:
            continue
        for verb, path, _ in _bindings(rule):
            # Variables match the same URLs whatever they are called.
            route = (verb, VARIABLE_RE.sub("{}", path))
            assert route not in seen, f"{service}.{method.name} and {seen[route]} share {route}"
            seen[route] = f"{service}.{method.name}"


def test_updates_with_a_field_mask_are_patch(
    methods: list[Method], messages: dict[str, descriptor_pb2.DescriptorProto]
) -> None:
    for service, method in methods:
        mask = _field(messages, method.input_type.lstrip("."), "update_mask")
        rule = _rule(method)
        if mask is None or rule is None:
            continue
        assert mask.type_name == ".google.protobuf.FieldMask"
        assert rule.WhichOneof("pattern") == "patch", f"{service}.{method.name}"
        assert rule.body not in ("", "*"), f"{service}.{method.name} should take the resource"


def test_requests_and_responses_are_named_after_their_rpc(methods: list[Method]) -> None:
    """Files are the one exception: their reply is google.api.HttpBody (served raw)."""
    for service, method in methods:
        package = service.rsplit(".", 1)[0]
        assert method.input_type == f".{package}.{method.name}Request"
        if method.output_type == ".google.api.HttpBody":
            assert method.name.startswith("Export"), f"{service}.{method.name}"
            continue
        assert method.output_type == f".{package}.{method.name}Response"


def test_lists_page_with_tokens(
    methods: list[Method], messages: dict[str, descriptor_pb2.DescriptorProto]
) -> None:
    for _, method in methods:
        request = method.input_type.lstrip(".")
        response = method.output_type.lstrip(".")
        if _field(messages, request, "page_token") is None:
            continue
        page_size = _field(messages, request, "page_size")
        assert page_size is not None, method.name
        assert page_size.type == FieldType.TYPE_INT32, method.name
        token = _field(messages, response, "next_page_token")
        assert token is not None, method.name
        assert token.type == FieldType.TYPE_STRING, method.name


def test_enum_zero_values_end_in_unspecified(
    files: list[descriptor_pb2.FileDescriptorProto],
) -> None:
    wrong = [
        f"{enum.name}.{enum.value[0].name}"
        for enum in _enums(files)
        if enum.value[0].number != 0 or not enum.value[0].name.endswith("_UNSPECIFIED")
    ]
    assert not wrong


def test_no_64_bit_integers(messages: dict[str, descriptor_pb2.DescriptorProto]) -> None:
    # proto3 JSON writes 64-bit integers as strings; counts should be numbers.
    wrong = [
        f"{name}.{field.name}"
        for name, message in messages.items()
        for field in message.field
        if field.type in INT64_TYPES
    ]
    assert not wrong


@pytest.mark.parametrize("rpc", sorted(PINNED_BINDINGS))
def test_pinned_bindings(rpc: str, methods: list[Method]) -> None:
    by_name = {f"{service}.{method.name}": method for service, method in methods}
    assert rpc in by_name, f"{rpc} is missing"
    rule = _rule(by_name[rpc])
    assert rule is not None
    verb, path, body = next(_bindings(rule))
    assert (verb, path, body) == PINNED_BINDINGS[rpc]


def test_stream_message_is_server_streaming(methods: list[Method]) -> None:
    streaming = {
        f"{service}.{method.name}"
        for service, method in methods
        if method.server_streaming or method.client_streaming
    }
    assert streaming == {
        "tripsage.assistant.v1.AssistantService.StreamMessage",
        "tripsage.trips.v1.TripService.WatchTrip",
    }
