"""tripsage_core.cache.LocalCache: bounded, each entry for its seconds, None cacheable."""

from __future__ import annotations

from tripsage_core.cache import LocalCache


def test_an_entry_lives_its_seconds_and_none_is_a_value() -> None:
    now = [0.0]
    cache: LocalCache[str, str | None] = LocalCache(10, 4, clock=lambda: now[0])
    assert cache.lookup("a") == (False, None)
    cache.store("a", None)
    cache.store("b", "B")
    now[0] = 9.9
    assert cache.lookup("a") == (True, None)
    assert cache.lookup("b") == (True, "B")
    now[0] = 10.0
    assert cache.lookup("a") == (False, None)
    assert len(cache) == 1  # the expired entry went when it was looked up


def test_the_oldest_stored_goes_first_when_full() -> None:
    cache: LocalCache[int, int] = LocalCache(60, 3)
    for number in range(5):
        cache.store(number, number)
    assert len(cache) == 3
    assert [cache.lookup(n)[0] for n in range(5)] == [False, False, True, True, True]
    cache.store(2, 20)  # storing again makes it the newest
    cache.store(5, 5)
    assert cache.lookup(3) == (False, None)
    assert cache.lookup(2) == (True, 20)


def test_zero_seconds_keeps_nothing_and_forget_drops_one() -> None:
    off: LocalCache[str, str] = LocalCache(0, 10)
    off.store("a", "A")
    assert off.lookup("a") == (False, None)
    cache: LocalCache[str, str] = LocalCache(5, 10)
    cache.store("a", "A")
    cache.forget("a")
    cache.forget("never stored")
    assert cache.lookup("a") == (False, None)
