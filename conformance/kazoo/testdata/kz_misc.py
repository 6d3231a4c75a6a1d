"""sync, /zookeeper/config and the NonBlockingLease recipes."""

import datetime

from kazoo.recipe.lease import MultiNonBlockingLease, NonBlockingLease

import zkconf


def scenario(sc):
    c = sc.client()
    sc.out("sync root", sc.rel(c.sync(sc.root)))
    data, st = c.get("/zookeeper/config")
    sc.out("config data", repr(data), "version", st.version)
    # No reconfig here: kazoo 2.8 has no exception for ZRECONFIGDISABLED
    # (-123) and its connection loop dies on it (the cli_mt suite covers it).

    # Leases are timestamps in znodes; a second holder is refused while valid.
    hour = datetime.timedelta(hours=1)
    lease_path = sc.path("lease")
    first = NonBlockingLease(sc.client(), lease_path, hour, identifier="one")
    sc.out("first lease", bool(first))
    second = NonBlockingLease(sc.client(), lease_path, hour, identifier="two")
    sc.out("second lease", bool(second))
    again = NonBlockingLease(sc.client(), lease_path, hour, identifier="one")
    sc.out("same identifier renews", bool(again))
    multi = [MultiNonBlockingLease(sc.client(), 2, sc.path("multi"), hour, identifier="m%d" % i)
             for i in range(3)]
    sc.out("multi leases", [bool(m) for m in multi])


zkconf.run(scenario)
