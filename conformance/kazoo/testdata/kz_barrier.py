"""Barrier blocks waiters until removed; DoubleBarrier lets all in and out together."""

import threading

from kazoo.recipe.barrier import Barrier, DoubleBarrier

import zkconf


def scenario(sc):
    bpath = sc.path("barrier")
    b = Barrier(sc.client(), bpath)
    sc.out("wait without barrier", b.wait(timeout=zkconf.TIMEOUT))
    b.create()
    sc.out("barrier exists", sc.setup.exists(bpath) is not None)
    sc.out("wait with barrier, short timeout", b.wait(timeout=0.1))
    waiter = Barrier(sc.client(), bpath)
    passed = zkconf.Events()
    t = sc.spawn(lambda: passed.add(waiter.wait(timeout=zkconf.TIMEOUT)))
    b.remove()
    sc.join(t)
    sc.out("waiter passed after remove", passed.snapshot())
    sc.out("remove again", b.remove())

    dpath = sc.path("double")
    n = 3
    entered = zkconf.Events()
    left = zkconf.Events()
    go_leave = threading.Event()
    members = [DoubleBarrier(sc.client(), dpath, n, identifier="m%d" % i) for i in range(n)]

    def member(i):
        members[i].enter()
        entered.add(i)
        go_leave.wait(zkconf.TIMEOUT)
        members[i].leave()
        left.add(i)

    # The first two block in enter() until the third arrives.
    ts = [sc.spawn(member, i) for i in range(n - 1)]
    zkconf.wait_for(lambda: sc.setup.exists(dpath) and len(sc.setup.get_children(dpath)) == n - 1,
                    "two members waiting")
    sc.out("entered before last member", len(entered.snapshot()))
    ts.append(sc.spawn(member, n - 1))
    entered.wait_len(n, "entered")
    sc.out("entered after last member", len(entered.snapshot()))
    sc.out("ready node", sc.setup.exists(dpath + "/ready") is not None)
    go_leave.set()
    for t in ts:
        sc.join(t)
    sc.out("left", len(left.snapshot()))
    sc.out("double barrier children", sc.setup.get_children(dpath))


zkconf.run(scenario)
