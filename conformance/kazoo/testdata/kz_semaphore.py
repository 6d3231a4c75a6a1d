"""Semaphore: at most max_leases holders; a waiter gets the lease released."""

import threading

from kazoo.recipe.lock import Semaphore

import zkconf


def scenario(sc):
    path = sc.path("sem")
    names = ["s1", "s2", "s3"]
    sems = {n: Semaphore(sc.client(), path, identifier=n, max_leases=2) for n in names}
    sc.out("s1 acquire", sems["s1"].acquire(timeout=zkconf.TIMEOUT))
    sc.out("s2 acquire", sems["s2"].acquire(timeout=zkconf.TIMEOUT))
    sc.out("holders", ",".join(sorted(sems["s1"].lease_holders())))
    sc.out("s3 nonblocking", sems["s3"].acquire(blocking=False))
    got = threading.Event()

    def third():
        zkconf.check(sems["s3"].acquire(timeout=zkconf.TIMEOUT), "s3 timed out")
        got.set()

    t = sc.spawn(third)
    sems["s1"].release()
    sc.join(t)
    sc.out("s3 acquired after s1 release", got.is_set())
    sc.out("holders", ",".join(sorted(sems["s2"].lease_holders())))

    # A client with a different max_leases is refused.
    odd = Semaphore(sc.client(), path, identifier="odd", max_leases=5)
    try:
        odd.acquire(blocking=False)
        sc.out("mismatched max_leases", "accepted")
    except ValueError as e:
        sc.out("mismatched max_leases", zkconf.exc_name(e))

    # Exclusion under contention: never more than two holders.
    sems["s2"].release()
    sems["s3"].release()
    state = {"in": 0, "max": 0, "n": 0}
    mu = threading.Lock()

    def worker(client, n):
        s = Semaphore(client, sc.path("sem2"), identifier=n, max_leases=2)
        for _ in range(5):
            with s:
                with mu:
                    state["in"] += 1
                    state["max"] = max(state["max"], state["in"])
                client.sync(sc.root)
                with mu:
                    state["in"] -= 1
                    state["n"] += 1

    ts = [sc.spawn(worker, sc.client(), "w%d" % i) for i in range(3)]
    for t in ts:
        sc.join(t)
    sc.out("contended leases", state["n"], "at most two", state["max"] <= 2)
    sc.out("leases left", len(sc.setup.get_children(sc.path("sem2"))))
    sc.out("lock nodes left", len(sc.setup.get_children(sc.path("sem2-__lock__"))))


zkconf.run(scenario)
