"""Node back-off: failed nodes are skipped for a doubling delay."""

from ganeti.rpc.backoff import NodeBackoff


class Result:
    def __init__(self, fail_msg=None, offline=False):
        self.fail_msg = fail_msg
        self.offline = offline


def test_failed_node_skipped_then_retried():
    now = [100.0]
    backoff = NodeBackoff(initial=5, maximum=20, clock=lambda: now[0])
    assert backoff.split(["a", "b"]) == (["a", "b"], [])
    assert backoff.record({"a": Result("Node is unreachable"),
                           "b": Result()}) == ["a"]
    assert backoff.split(["a", "b"]) == (["b"], ["a"])
    now[0] += 5.1
    assert backoff.split(["a", "b"]) == (["a", "b"], [])
    backoff.record({"a": Result("down")})       # second failure: 10 s
    now[0] += 6
    assert backoff.split(["a"]) == ([], ["a"])
    now[0] += 5
    backoff.record({"a": Result()})             # answered: cleared
    assert backoff.failing() == []
    backoff.record({"c": Result("x", offline=True)})
    assert backoff.failing() == []              # offline is not a failure
