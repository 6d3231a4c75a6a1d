"""Lock: three clients contend; the wait queue is FIFO by sequence number."""

import threading

from kazoo.exceptions import LockTimeout
from kazoo.recipe.lock import Lock

import zkconf


def scenario(sc):
    path = sc.path("lock")
    names = ["c1", "c2", "c3"]
    locks = {n: Lock(sc.client(), path, identifier=n) for n in names}
    order = zkconf.Events()
    release = {n: threading.Event() for n in names}
    holders = [0]
    mu = threading.Lock()

    def contend(n):
        with locks[n]:
            with mu:
                holders[0] += 1
                zkconf.check(holders[0] == 1, "two holders at once")
            order.add(n)
            release[n].wait(zkconf.TIMEOUT)
            with mu:
                holders[0] -= 1

    # Enter one at a time so the queue order is known.
    for i, n in enumerate(names):
        sc.spawn(contend, n)
        zkconf.wait_for(lambda: len(locks["c1"].contenders()) == i + 1, "contender " + n)
    sc.out("contenders", ",".join(locks["c1"].contenders()))
    order.wait_len(1)
    sc.out("holder", order.snapshot()[0])

    other = Lock(sc.client(), path, identifier="probe")
    sc.out("nonblocking acquire", other.acquire(blocking=False))
    try:
        other.acquire(timeout=0.2)
        sc.out("timed acquire", True)
    except LockTimeout:
        sc.out("timed acquire", "LockTimeout")
    sc.out("contenders after probe", ",".join(locks["c1"].contenders()))

    for i, n in enumerate(names):
        release[n].set()
        if i + 1 < len(names):
            order.wait_len(i + 2)
            sc.out("next holder", order.snapshot()[i + 1])
    for t in list(sc.threads):
        sc.join(t)
    sc.out("acquisition order", ",".join(order.snapshot()))
    sc.out("contenders at end", len(locks["c1"].contenders()))
    sc.out("lock children", len(sc.setup.get_children(path)))


zkconf.run(scenario)
