"""Lock: three clients acquire repeatedly; exactly one holder at a time."""

import threading

from kazoo.recipe.lock import Lock

import zkconf

ROUNDS = 8


def scenario(sc):
    path = sc.path("lock")
    state = {"holders": 0, "max": 0, "total": 0}
    mu = threading.Lock()
    shared = sc.path("value")
    sc.setup.create(shared, b"0")

    def worker(client, n):
        lock = Lock(client, path, identifier=n)
        for _ in range(ROUNDS):
            with lock:
                with mu:
                    state["holders"] += 1
                    state["max"] = max(state["max"], state["holders"])
                # A read-modify-write without versions is safe only under the lock.
                v, _ = client.get(shared)
                client.set(shared, str(int(v) + 1).encode())
                with mu:
                    state["holders"] -= 1
                    state["total"] += 1

    ts = [sc.spawn(worker, sc.client(), "w%d" % i) for i in range(3)]
    for t in ts:
        sc.join(t)
    v, stat = sc.setup.get(shared)
    sc.out("acquisitions", state["total"])
    sc.out("max simultaneous holders", state["max"])
    sc.out("value", v.decode(), "version", stat.version)
    sc.out("lock children", sc.setup.get_children(path))


zkconf.run(scenario)
