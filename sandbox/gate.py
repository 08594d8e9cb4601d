"""The sandbox's front door: one pure ASGI middleware that every request passes.

Order for every public (non-`/_sandbox/`) request: count it, add latency, maybe drop the
connection, maybe answer 5xx, maybe answer an injected 429, check the bearer token, enforce the
real limits (`sandbox.faults.Gatekeeper`), then let the app answer and add HubSpot's
rate-limit headers.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.faults import Gatekeeper, correlation_id, endpoint_key, error_body, is_search, is_write


class GateMiddleware:
    """Pure ASGI middleware; outermost, so `send` is the server's own (needed to drop sockets)."""

    def __init__(self, app: ASGIApp, gate: Gatekeeper) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox"):
            await self.app(scope, receive, send)
            return
        gate = self.gate
        endpoint = endpoint_key(scope["method"], scope["path"])
        gate.stats.requests[endpoint] += 1
        if gate.faults.latency_ms and gate.faults.targets(endpoint) and gate.slowed():
            receive = await _buffered(receive)  # HubSpot finishes requests whose client left
            await asyncio.sleep(gate.faults.latency_ms / 1000)
        fault = gate.injected(endpoint)
        if fault is not None:
            kind, detail = fault
            gate.stats.faults[kind if kind != "rate_limit" else f"rate_limit:{detail}"] += 1
            if kind == "drop":
                await _drop(send)
                return
            if kind == "server_error":
                await _respond(
                    send,
                    detail,
                    error_body("Service unavailable (injected)", "INTERNAL_ERROR"),
                    gate,
                )
                return
            await self._too_many(send, detail, endpoint)
            return
        if not self._authorized(scope):
            await _respond(send, 401, _unauthorized(), gate)
            return
        if gate.faults.missing_scopes and gate.faults.targets(endpoint):
            gate.stats.faults["missing_scopes"] += 1
            await _respond(send, 403, _forbidden(gate.faults.missing_scopes), gate)
            return
        policy = gate.over_limit(endpoint)
        if policy is not None:
            await self._too_many(send, policy, endpoint)
            return
        status_box: list[int] = []

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_box.append(message["status"])
                headers = list(message.get("headers", []))
                if not is_search(endpoint):
                    headers += gate.rate_headers(endpoint)
                headers.append((b"x-hubspot-correlation-id", correlation_id().encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
        status = status_box[0] if status_box else 500
        gate.stats.statuses[str(status)] += 1
        if status < 300 and is_write(endpoint):
            gate.stats.writes[endpoint] += 1

    def _authorized(self, scope: Scope) -> bool:
        for key, value in scope.get("headers", []):
            if key == b"authorization":
                return value.decode("latin-1") == f"Bearer {self.gate.token}"
        return False

    async def _too_many(self, send: Send, policy: str, endpoint: str) -> None:
        gate = self.gate
        gate.stats.rate_limited[policy] += 1
        body = {
            "status": "error",
            "message": f"You have reached your {policy.lower()} limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": correlation_id(),
            "policyName": policy,
        }
        extra = gate.exhausted_headers(policy, endpoint)
        if gate.faults.retry_after is not None:
            extra.append((b"retry-after", str(gate.faults.retry_after).encode()))
        await _respond(send, 429, body, gate, extra)


def _forbidden(scopes: list[str]) -> dict[str, Any]:
    """HubSpot's answer when the token lacks a scope the endpoint needs."""
    return error_body(
        "This app hasn't been granted all required scopes to make this call. Read more about "
        "required scopes here: https://developers.hubspot.com/scopes.",
        "MISSING_SCOPES",
        errors=[
            {
                "message": "One or more of the following scopes are required.",
                "context": {"requiredGranularScopes": list(scopes)},
            }
        ],
        links={"scopes": "https://developers.hubspot.com/scopes"},
    )


def _unauthorized() -> dict[str, Any]:
    return error_body(
        "Authentication credentials not found. This API supports OAuth 2.0 authentication and "
        "you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
        "INVALID_AUTHENTICATION",
    )


async def _respond(
    send: Send,
    status: int,
    body: dict[str, Any],
    gate: Gatekeeper,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    gate.stats.statuses[str(status)] += 1
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json;charset=utf-8"),
        (b"content-length", str(len(payload)).encode()),
        (b"x-hubspot-correlation-id", body.get("correlationId", correlation_id()).encode()),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def _buffered(receive: Receive) -> Receive:
    """Read the request body now and replay it to the app, so a request whose client gives up
    (a read timeout, a killed process) during the added latency is still processed."""
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body"):
            break

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return replay


async def _drop(send: Send) -> None:
    """Close the socket without an answer (uvicorn's `send` carries its transport)."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is not None:
        transport.close()
        await asyncio.sleep(0.01)  # let the server notice the disconnect: no 500 is written
        return
    # Another server: start a response and break it off mid-body.
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1000")]}
    )
    raise ConnectionAbortedError("sandbox dropped the connection (injected fault)")
