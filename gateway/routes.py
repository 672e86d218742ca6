"""The route table: HTTP bindings read from the protos' google.api.http options."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote

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
    # Read on every request: worked out once from the descriptor.
    service_name: str = field(init=False, compare=False, repr=False)
    grpc_path: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        service = self.method.containing_service.full_name
        object.__setattr__(self, "service_name", service)
        object.__setattr__(self, "grpc_path", f"/{service}/{self.method.name}")

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
    """All bindings, matched most-specific-first.

    Only templates that can match a path are tried (route matching was a tenth of
    the gateway's CPU when every template was): a template without a custom verb or
    a multi-segment variable matches only paths of its own number of segments whose
    segments equal its literals, so those are looked up by the path's segments at
    their literal positions; one with a custom verb is tried only on paths ending in
    ``:`` and that verb; one with ``**`` on every path. The template's own match
    then decides, in the table's order, as if every template had been tried.
    """

    def __init__(self, bindings: Iterable[HttpBinding]) -> None:
        ordered = sorted(bindings, key=lambda b: b.template.specificity, reverse=True)
        self.bindings: tuple[HttpBinding, ...] = tuple(ordered)
        # segment count -> [(literal positions, {their values: [(rank, binding)]})]
        self._fixed: dict[int, list[_Shape]] = {}
        self._by_verb: dict[str | None, list[_Ranked]] = {None: []}
        for rank, binding in enumerate(ordered):
            template = binding.template
            size = _fixed_size(binding)
            if size is not None:
                positions = tuple(
                    index
                    for index, segment in enumerate(template.segments)
                    if segment.kind is SegmentKind.LITERAL
                )
                values = tuple(template.segments[index].literal for index in positions)
                shapes = self._fixed.setdefault(size, [])
                index = next((found for at, found in shapes if at == positions), None)
                if index is None:
                    index = {}
                    shapes.append((positions, index))
                index.setdefault(values, []).append((rank, binding))
            elif template.verb is not None:
                self._by_verb.setdefault(template.verb, []).append((rank, binding))
            else:  # "**": may match a path of any length, with a verb or not
                self._by_verb[None].append((rank, binding))
        for verb, ranked in self._by_verb.items():
            if verb is not None:
                ranked.extend(self._by_verb[None])
                ranked.sort(key=_rank)

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
        # Verb templates come first in the table's order (and a verb match hides
        # every other), so the first match of this method can be returned at once.
        matches: list[RouteMatch] = []
        verb_matched = False
        for binding in self._candidates(raw_path):
            has_verb = binding.template.verb is not None
            if verb_matched and not has_verb:
                break
            params = binding.template.match(raw_path)
            if params is None:
                continue
            found = RouteMatch(binding=binding, path_params=params)
            if binding.http_method == http_method:
                return found
            verb_matched = verb_matched or has_verb
            matches.append(found)
        allowed = tuple(dict.fromkeys(match.binding.http_method for match in matches))
        return NoRoute(allowed=allowed)

    def _candidates(self, raw_path: str) -> list[HttpBinding]:
        """The bindings whose template may match the path, in the table's order."""
        body = raw_path[1:]
        # A verb cannot hold ":", so it is whatever follows the path's last one.
        verb = body.rpartition(":")[2] if ":" in body else None
        found = list(self._by_verb.get(verb) or self._by_verb[None])
        shapes = self._fixed.get(body.count("/") + 1 if body else 0)
        if shapes:
            parts = [unquote(part) for part in body.split("/")] if body else []
            for positions, index in shapes:
                hit = index.get(tuple([parts[at] for at in positions]))
                if hit:
                    found.extend(hit)
            found.sort(key=_rank)
        return [binding for _, binding in found]


_Ranked = tuple[int, HttpBinding]  # a binding and its place in the table's order
_Shape = tuple[tuple[int, ...], dict[tuple[str, ...], list[_Ranked]]]


def _rank(entry: _Ranked) -> int:
    return entry[0]


def _fixed_size(binding: HttpBinding) -> int | None:
    """How many path segments the binding's template matches, if always the same."""
    segments = binding.template.segments
    if binding.template.verb is not None or any(
        segment.kind is SegmentKind.MULTI for segment in segments
    ):
        return None  # tried on every path, as before
    return len(segments)
