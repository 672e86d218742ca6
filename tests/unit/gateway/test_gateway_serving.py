"""The coalescing transport under the gateway's uvicorn protocol (gateway/serving.py),
over a real socket pair: what one event-loop turn writes is sent at the turn's end."""

from __future__ import annotations

import asyncio
import socket

from gateway.serving import _CoalescingTransport


async def _pair() -> tuple[_CoalescingTransport, socket.socket]:
    ours, peer = socket.socketpair()
    peer.setblocking(False)
    transport, _ = await asyncio.get_running_loop().connect_accepted_socket(asyncio.Protocol, ours)
    return _CoalescingTransport(transport), peer


def _sent(peer: socket.socket) -> bytes:
    try:
        return peer.recv(65536)
    except BlockingIOError:
        return b""


async def test_writes_of_one_turn_are_sent_together_at_its_end() -> None:
    coalescing, peer = await _pair()
    coalescing.write(b"HTTP/1.1 200 OK\r\n\r\n")
    coalescing.write(b"")
    coalescing.writelines([b"{", b"}"])
    assert _sent(peer) == b""  # an unwrapped transport would have sent the head already
    assert coalescing.get_write_buffer_size() == 21
    await asyncio.sleep(0)
    assert _sent(peer) == b"HTTP/1.1 200 OK\r\n\r\n{}"
    coalescing.write(b"next")  # a later turn: sent at its own end
    await asyncio.sleep(0)
    assert _sent(peer) == b"next"
    coalescing.close()


async def test_close_sends_what_is_held_and_abort_drops_it() -> None:
    coalescing, peer = await _pair()
    coalescing.write(b"last words")
    coalescing.close()
    assert coalescing.is_closing()  # the transport's own, passed through
    await asyncio.sleep(0.05)
    assert _sent(peer) == b"last words"

    aborted, dropped = await _pair()
    aborted.write(b"never")
    aborted.abort()
    await asyncio.sleep(0.05)
    try:
        received = dropped.recv(65536)  # b"": closed, without the held bytes
    except (BlockingIOError, ConnectionError):
        received = b""
    assert received == b""
