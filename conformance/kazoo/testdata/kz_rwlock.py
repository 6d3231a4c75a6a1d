"""ReadLock/WriteLock: readers share, a writer excludes and queues behind readers."""

import threading

from kazoo.recipe.lock import ReadLock, WriteLock

import zkconf


def scenario(sc):
    path = sc.path("rw")
    r1 = ReadLock(sc.client(), path, identifier="r1")
    r2 = ReadLock(sc.client(), path, identifier="r2")
    w = WriteLock(sc.client(), path, identifier="w")
    sc.out("r1 acquire", r1.acquire(timeout=zkconf.TIMEOUT))
    sc.out("r2 acquire", r2.acquire(timeout=zkconf.TIMEOUT))
    sc.out("w nonblocking", w.acquire(blocking=False))
    got = threading.Event()

    def writer():
        zkconf.check(w.acquire(timeout=zkconf.TIMEOUT), "writer timed out")
        got.set()

    t = sc.spawn(writer)
    zkconf.wait_for(lambda: len(r1.contenders()) == 3, "writer queued")
    sc.out("contenders", ",".join(r1.contenders()))
    r1.release()
    sc.out("writer held while r2 reads", got.is_set())
    r2.release()
    sc.join(t)
    sc.out("writer acquired", got.is_set())
    r3 = ReadLock(sc.client(), path, identifier="r3")
    sc.out("r3 nonblocking while writer holds", r3.acquire(blocking=False))
    w.release()
    sc.out("r3 after writer release", r3.acquire(timeout=zkconf.TIMEOUT))
    r3.release()
    sc.out("children", len(sc.setup.get_children(path)))


zkconf.run(scenario)
