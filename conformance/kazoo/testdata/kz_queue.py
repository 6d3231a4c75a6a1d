"""Queue and LockingQueue: put/get order, priorities, locking semantics."""

from kazoo.recipe.queue import LockingQueue, Queue

import zkconf


def scenario(sc):
    q = Queue(sc.client(), sc.path("queue"))
    sc.out("empty get", q.get(), "len", len(q))
    for v in [b"one", b"two", b"three"]:
        q.put(v)
    q.put(b"urgent", priority=1)
    q.put(b"late", priority=200)
    sc.out("len", len(q))
    got = []
    while True:
        v = q.get()
        if v is None:
            break
        got.append(v.decode())
    sc.out("order", ",".join(got))

    # Two consumers on one queue: every item exactly once.
    q2a = Queue(sc.client(), sc.path("shared"))
    q2b = Queue(sc.client(), sc.path("shared"))
    for i in range(20):
        q2a.put(("%02d" % i).encode())
    seen = zkconf.Events()

    def consume(q):
        while True:
            v = q.get()
            if v is None:
                return
            seen.add(v.decode())

    ts = [sc.spawn(consume, q2a), sc.spawn(consume, q2b)]
    for t in ts:
        sc.join(t)
    items = seen.snapshot()
    sc.out("shared consumed", len(items), "distinct", len(set(items)))

    lq = LockingQueue(sc.client(), sc.path("locking"))
    lq.put(b"a")
    lq.put_all([b"b", b"c"])
    lq.put(b"first", priority=5)
    sc.out("locking len", len(lq))
    v = lq.get(timeout=zkconf.TIMEOUT)
    sc.out("locking get", v.decode(), "holds lock", lq.holds_lock())
    other = LockingQueue(sc.client(), sc.path("locking"))
    v2 = other.get(timeout=zkconf.TIMEOUT)
    sc.out("second consumer gets next", v2.decode())
    sc.out("release second", other.release())
    v3 = other.get(timeout=zkconf.TIMEOUT)
    sc.out("released item comes back", v3.decode())
    sc.out("consume first", lq.consume(), "holds lock", lq.holds_lock())
    sc.out("consume second", other.consume())
    rest = []
    while len(lq) > 0:
        rest.append(lq.get(timeout=zkconf.TIMEOUT).decode())
        lq.consume()
    sc.out("rest", ",".join(rest), "len", len(lq))
    sc.out("get on empty with timeout", lq.get(timeout=0.1))


zkconf.run(scenario)
