"""Natural sorting, incremental and not."""

import random

from ganeti.utils import text


def test_nice_sort_orders_numbers_naturally():
    assert text.nice_sort(["node10", "node9", "node1"]) == \
        ["node1", "node9", "node10"]


def test_incremental_sort_matches_full_sort_through_changes():
    rng = random.Random(4)
    pool = ["inst%d.gnt.test" % rng.randrange(10 ** 6) for _ in range(3000)]
    pool += ["web%02d" % n for n in range(40)] + ["a", "a1", "a01", "b-2"]
    sorter = text.IncrementalNiceSort()
    current = set()
    for step in range(300):
        if step % 50 == 0:            # big jumps: rebuilt from scratch
            current = set(rng.sample(pool, rng.randrange(len(pool))))
        else:                         # small changes: bisection path
            for _ in range(rng.randrange(1, 5)):
                current.add(rng.choice(pool))
            for name in rng.sample(sorted(current), min(2, len(current))):
                current.discard(name)
        # ties (a1, a01) come out by name: deterministic, unlike set order
        assert sorter.update(current) == \
            text.nice_sort(sorted(current)), step


def test_incremental_sort_empty_and_repeat():
    sorter = text.IncrementalNiceSort()
    assert sorter.update([]) == []
    assert sorter.update(["b", "a"]) == ["a", "b"]
    assert sorter.update(["b", "a"]) == ["a", "b"]
    assert sorter.update([]) == []
