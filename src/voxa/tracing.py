"""OpenTelemetry tracing: off by default, on when ``OTEL_EXPORTER_OTLP_ENDPOINT``
(or ``..._TRACES_ENDPOINT``) is set or ``VOXA_TRACING=1``.

The HTTP server span of each request is FastAPI's own (its native
telemetry joins a caller's ``traceparent``); voxa adds auth and the turn's
steps below it. Code records spans through the OpenTelemetry API (``span(...)``): without a
configured provider they are no-ops costing a context-variable lookup. The
exporter is OTLP, configured by the standard ``OTEL_*`` variables
(endpoint, headers, protocol, ``OTEL_SERVICE_NAME``, sampler). The voice
worker hands the same provider to livekit-agents, whose own spans (user
turn, STT, LLM, TTS) then join the job's trace.

Trace context crosses processes as a W3C ``traceparent`` in the agent
dispatch's JSON metadata (``inject_metadata`` / ``context_from_metadata``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
from collections.abc import Callable, Coroutine, Iterator, Mapping
from typing import Any, ParamSpec, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Span, SpanKind

from voxa.domain import tenant_key
from voxa.settings import Settings

TRACER_NAME = "voxa"
P = ParamSpec("P")
R = TypeVar("R")
_ENDPOINT_VARS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def tracing_enabled(settings: Settings) -> bool:
    if settings.tracing is not None:
        return settings.tracing
    return any(os.environ.get(var) for var in _ENDPOINT_VARS)


def _otlp_exporter() -> SpanExporter:
    # OTEL_EXPORTER_OTLP_PROTOCOL picks the transport; http/protobuf is the
    # specification's default and needs no gRPC runtime.
    protocol = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        return OTLPSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter as HttpExporter,
    )
    return HttpExporter()


def setup_tracing(settings: Settings, *, service: str,
                  exporter: SpanExporter | None = None) -> TracerProvider | None:
    """Install the process's tracer provider (once per process: the
    OpenTelemetry global can be set only once) and return it, or None when
    tracing is off. ``service`` is the default ``service.name``
    (``OTEL_SERVICE_NAME`` wins)."""
    if exporter is None and not tracing_enabled(settings):
        return None
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service)})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(exporter or _otlp_exporter()))
    trace.set_tracer_provider(provider)
    return provider


def use_in_livekit_agents(provider: TracerProvider) -> None:
    """livekit-agents keeps its own tracer (user turn, STT, LLM, TTS spans);
    hand it ours so they are exported with voxa's, without conversation text
    (transcripts are personal data: LIVEKIT_TELEMETRY_ALLOW_PII=1 opts in)."""
    from livekit.agents.telemetry import set_tracer_provider

    set_tracer_provider(provider, allow_pii=os.environ.get(
        "LIVEKIT_TELEMETRY_ALLOW_PII", "").lower() in ("1", "true"))


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


AttributeValue = str | int | float | bool


@contextlib.contextmanager
def span(name: str, attributes: Mapping[str, AttributeValue | None] | None = None, *,
         kind: SpanKind = SpanKind.INTERNAL, context: otel_context.Context | None = None,
         **more: AttributeValue | None) -> Iterator[Span]:
    """A child span of the current one (or of ``context``), made current;
    ``None`` attributes are left out."""
    attrs = {k: v for k, v in {**(attributes or {}), **more}.items() if v is not None}
    with tracer().start_as_current_span(name, context=context, kind=kind,
                                        attributes=attrs) as current:
        yield current


AsyncFn = Callable[P, Coroutine[Any, Any, R]]


def traced(name: str, attributes: Callable[..., Mapping[str, AttributeValue | None]] | None = None
           ) -> Callable[[AsyncFn[P, R]], AsyncFn[P, R]]:
    """Run a coroutine function in a span; ``attributes`` gets its arguments.
    (A decorator, so instrumenting a step leaves its body untouched.)"""

    def wrap(fn: AsyncFn[P, R]) -> AsyncFn[P, R]:
        @functools.wraps(fn)
        async def inner(*args: P.args, **kwargs: P.kwargs) -> R:
            with span(name, attributes(*args, **kwargs) if attributes else None):
                return await fn(*args, **kwargs)

        return inner

    return wrap


def start_wait_span(name: str) -> Span:
    """A child span that does not become current, for a wait whose end the
    caller marks with ``.end()`` once it is over."""
    return tracer().start_span(name)


def session_attributes(session_id: str, business: str | None, role: str | None = None
                       ) -> dict[str, str]:
    attrs = {"session_id": session_id, "business": tenant_key(business)}
    if role:
        attrs["role"] = role
    return attrs


def inject_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """``metadata`` plus the current trace context (``traceparent``,
    ``tracestate``) when a span is recording; unchanged otherwise."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return {**metadata, **carrier}


def context_from_metadata(metadata: Mapping[str, Any] | str | None) -> otel_context.Context:
    """The trace context a dispatch's metadata (a dict, or its JSON text)
    carries; an empty context if none or unreadable."""
    if isinstance(metadata, str) or metadata is None:
        try:
            metadata = json.loads(metadata or "{}")
        except ValueError:
            metadata = {}
    if not isinstance(metadata, Mapping):
        metadata = {}
    carrier = {k: str(v) for k, v in metadata.items()
               if k in ("traceparent", "tracestate") and isinstance(v, str)}
    return propagate.extract(carrier)


async def flush() -> None:
    """Export what is buffered (a job process exits soon after its job)."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        await asyncio.to_thread(provider.force_flush, 5000)
