"""The launcher's restart backoff: doubling from half a second up to 30 s while a process
keeps exiting, and starting over once it stayed up a minute."""

from tripsage.launcher import RESTART_MAX_DELAY, RESTART_STABLE_AFTER, Restarts


def test_restarts_back_off_doubling_up_to_the_cap() -> None:
    restarts = Restarts()
    delays = [restarts.schedule(now=100.0, uptime=1.0) for _ in range(9)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert restarts.count == 9
    assert restarts.due == 100.0 + RESTART_MAX_DELAY


def test_a_process_that_stayed_up_starts_over() -> None:
    restarts = Restarts()
    for _ in range(5):
        restarts.schedule(now=0.0, uptime=1.0)
    assert restarts.schedule(now=500.0, uptime=RESTART_STABLE_AFTER) == 0.5
    assert restarts.count == 1
