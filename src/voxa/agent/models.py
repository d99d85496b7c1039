"""LLM providers are configuration: ``VOXA_LLM=local`` (default)
or ``openai:<model>`` with ``VOXA_LLM_BASE_URL`` / ``VOXA_LLM_API_KEY`` for
OpenAI or any OpenAI-compatible server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from livekit.agents import APIConnectOptions, llm

from voxa.settings import Settings

LOCAL_MODEL_ALIAS = "smollm2-135m-instruct"
# Where child processes (voice jobs) find the shared local model server.
LOCAL_LLM_URL_ENV = "VOXA_LOCAL_LLM_URL"
# Requests queue at one shared model server (local) or a rate-limited provider:
# a request behind several long generations waits well past livekit's 10 s
# default. Used by text turns and voice jobs alike.
MODEL_CONN_OPTIONS = APIConnectOptions(max_retry=1, retry_interval=0.5, timeout=90)


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    kind: str  # "local" | "openai"
    model: str
    base_url: str | None
    api_key: str | None


def parse_provider(settings: Settings) -> ProviderSpec:
    value = settings.llm.strip()
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    if value == "local":
        return ProviderSpec("local", LOCAL_MODEL_ALIAS, None, None)
    if value == "scripted":
        return ProviderSpec("scripted", "scripted", None, None)
    kind, _, model = value.partition(":")
    if kind == "openai" and model:
        return ProviderSpec("openai", model, settings.llm_base_url, key)
    raise ValueError(f"VOXA_LLM must be 'local', 'openai:<model>' or 'scripted', not {value!r}")


def build_llm(settings: Settings, *, local_url: str | None,
              max_tokens: int = 256) -> llm.LLM[Any]:
    """The configured model, for text turns and voice jobs alike. ``local``
    reaches the shared model server at ``local_url`` (started by ``serve``;
    a voice job finds it in ``LOCAL_LLM_URL_ENV``)."""
    spec = parse_provider(settings)
    if spec.kind == "scripted":
        return scripted()
    base_url = spec.base_url
    if spec.kind == "local":
        if not local_url:
            raise RuntimeError(
                f"VOXA_LLM=local needs the shared model server ({LOCAL_LLM_URL_ENV})")
        base_url = local_url
    return openai_compatible(model=spec.model, base_url=base_url, api_key=spec.api_key,
                             max_tokens=max_tokens)


def scripted() -> llm.LLM[Any]:
    """The deterministic provider (tests, demos, benchmarks): see ``scripted_llm``."""
    from voxa.agent.scripted_llm import ScriptedLLM, command_script

    return ScriptedLLM(command_script)


def openai_compatible(*, model: str, base_url: str | None, api_key: str | None,
                      max_tokens: int = 256) -> llm.LLM[Any]:
    """An OpenAI-compatible chat model whose replies stop at ``max_tokens``."""
    from livekit.plugins import openai

    kwargs: dict[str, object] = {"model": model, "max_completion_tokens": max_tokens}
    if base_url:
        kwargs["base_url"] = base_url
        if not _is_openai(base_url):
            # llama-cpp's server (and other compatible servers) ignore OpenAI's
            # newer `max_completion_tokens` and read only `max_tokens`: without
            # it a local reply runs on to the context limit, minutes at 70 tok/s.
            kwargs["extra_body"] = {"max_tokens": max_tokens}
    # A local server needs no key but the client insists on one.
    kwargs["api_key"] = api_key or "not-needed"
    return openai.LLM(**kwargs)  # type: ignore[arg-type]


def _is_openai(base_url: str) -> bool:
    # OpenAI itself refuses `max_tokens` for its reasoning models.
    return urlsplit(base_url).hostname == "api.openai.com"
