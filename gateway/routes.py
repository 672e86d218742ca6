"""The route table: HTTP bindings read from the protos' google.api.http options."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from google.api import annotations_pb2, http_pb2
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor

from gateway.path_template import PathTemplate, SegmentKind, TemplateError, parse_template

logger = logging.getLogger("tripsage.gateway")

HTTP_METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH")


@dataclass(frozen=True, slots=True)
class HttpBinding:
    """One HTTP verb + path template bound to one RPC."""

    http_method: str
    template: PathTemplate
    body: str  # "" (no body), "*" (whole request) or a top-level field name
    response_body: str  # "" (whole response) or a top-level field name
    method: MethodDescriptor = field(compare=False, hash=False)
    binding_index: int = 0  # 0: the primary rule; n: additional_bindings[n - 1]

    @property
    def service_name(self) -> str:
        return self.method.containing_service.full_name

    @property
    def grpc_path(self) -> str:
        return f"/{self.service_name}/{self.method.name}"

    @property
    def operation_id(self) -> str:
        base = f"{self.method.containing_service.name}.{self.method.name}"
        return f"{base}_{self.binding_index}" if self.binding_index else base

    @property
    def server_streaming(self) -> bool:
        return bool(self.method.server_streaming)

    @property
    def client_streaming(self) -> bool:
        return bool(self.method.client_streaming)


@dataclass(frozen=True, slots=True)
class RouteMatch:
    binding: HttpBinding
    path_params: dict[str, str]


@dataclass(frozen=True, slots=True)
class NoRoute:
    """No binding for this request; ``allowed`` lists methods the path has."""

    allowed: tuple[str, ...]


def bindings_for_method(method: MethodDescriptor) -> list[HttpBinding]:
    """The HTTP bindings declared on one RPC (primary + additional_bindings)."""
    options = method.GetOptions()
    if not options.HasExtension(annotations_pb2.http):
        return []
    rule: http_pb2.HttpRule = options.Extensions[annotations_pb2.http]
    rules = [rule, *rule.additional_bindings]
    bindings: list[HttpBinding] = []
    for index, one in enumerate(rules):
        binding = _binding_from_rule(method, one, index)
        if binding is not None:
            bindings.append(binding)
    return bindings


def _binding_from_rule(
    method: MethodDescriptor, rule: http_pb2.HttpRule, index: int
) -> HttpBinding | None:
    kind = rule.WhichOneof("pattern")
    if kind is None:
        return None
    if kind == "custom":
        http_method, path = rule.custom.kind.upper(), rule.custom.path
    else:
        http_method, path = kind.upper(), getattr(rule, kind)
    if method.client_streaming:
        logger.warning("%s is client-streaming; not exposed over HTTP", method.full_name)
        return None
    try:
        template = parse_template(path)
    except TemplateError as error:
        logger.warning("%s: %s", method.full_name, error)
        return None
    for variable in template.variables:
        if not _field_path_exists(method, variable.field_path):
            logger.warning(
                "%s: path variable %s is not a request field", method.full_name, variable.dotted
            )
            return None
    if rule.body not in ("", "*") and rule.body not in method.input_type.fields_by_name:
        logger.warning("%s: body field %s does not exist", method.full_name, rule.body)
        return None
    return HttpBinding(
        http_method=http_method,
        template=template,
        body=rule.body,
        response_body=rule.response_body,
        method=method,
        binding_index=index,
    )


def _field_path_exists(method: MethodDescriptor, field_path: Sequence[str]) -> bool:
    message = method.input_type
    for index, name in enumerate(field_path):
        found = message.fields_by_name.get(name)
        if found is None:
            return False
        if index < len(field_path) - 1:
            if found.message_type is None:
                return False
            message = found.message_type
    return True


class RouteTable:
    """All bindings, matched most-specific-first."""

    def __init__(self, bindings: Iterable[HttpBinding]) -> None:
        ordered = sorted(bindings, key=lambda b: b.template.specificity, reverse=True)
        self.bindings: tuple[HttpBinding, ...] = tuple(ordered)
        # A template without a multi-segment variable matches only paths of its own
        # number of segments: counting them once spares trying every template.
        self._sizes: tuple[tuple[HttpBinding, int | None], ...] = tuple(
            (binding, _fixed_size(binding)) for binding in ordered
        )

    @classmethod
    def from_services(cls, services: Iterable[ServiceDescriptor]) -> RouteTable:
        bindings: list[HttpBinding] = []
        for service in services:
            for method in service.methods:
                bindings.extend(bindings_for_method(method))
        return cls(bindings)

    @property
    def services(self) -> list[str]:
        return sorted({binding.service_name for binding in self.bindings})

    def match(self, http_method: str, raw_path: str) -> RouteMatch | NoRoute:
        """Find the binding for a request; literals beat variables.

        ``raw_path`` is the still percent-encoded path. A path whose best
        match is a custom-verb template bound to another HTTP method is a 405,
        not a fall-through to a plain ``{id}`` template.
        """
        matches: list[RouteMatch] = []
        body = raw_path[1:]
        size = body.count("/") + 1 if body else 0
        for binding, fixed in self._sizes:
            if fixed is not None and fixed != size:
                continue
            params = binding.template.match(raw_path)
            if params is not None:
                matches.append(RouteMatch(binding=binding, path_params=params))
        if any(match.binding.template.verb is not None for match in matches):
            matches = [match for match in matches if match.binding.template.verb is not None]
        for match in matches:
            if match.binding.http_method == http_method:
                return match
        allowed = tuple(dict.fromkeys(match.binding.http_method for match in matches))
        return NoRoute(allowed=allowed)


def _fixed_size(binding: HttpBinding) -> int | None:
    """How many path segments the binding's template matches, if always the same."""
    segments = binding.template.segments
    if binding.template.verb is not None or any(
        segment.kind is SegmentKind.MULTI for segment in segments
    ):
        return None  # tried on every path, as before
    return len(segments)
