"""sync, /zookeeper/config, reconfig on a standalone server, NonBlockingLease."""

import datetime

from kazoo.exceptions import KazooException
from kazoo.recipe.lease import MultiNonBlockingLease, NonBlockingLease

import zkconf


def scenario(sc):
    c = sc.client()
    sc.out("sync root", sc.rel(c.sync(sc.root)))
    data, st = c.get("/zookeeper/config")
    sc.out("config data", repr(data), "version", st.version)
    try:
        c.reconfig(joining=None, leaving="1", new_members=None)
        sc.out("reconfig", "ok")
    except KazooException as e:
        sc.out("reconfig", zkconf.exc_name(e))

    # Leases are timestamps in znodes; a second holder is refused while valid.
    hour = datetime.timedelta(hours=1)
    lease_path = sc.path("lease")
    first = NonBlockingLease(sc.client(), lease_path, hour, identifier="one")
    sc.out("first lease", bool(first))
    second = NonBlockingLease(sc.client(), lease_path, hour, identifier="two")
    sc.out("second lease", bool(second))
    again = NonBlockingLease(first.client if hasattr(first, "client") else c, lease_path, hour, identifier="one")
    sc.out("same identifier renews", bool(again))
    multi = [MultiNonBlockingLease(sc.client(), 2, sc.path("multi"), hour, identifier="m%d" % i)
             for i in range(3)]
    sc.out("multi leases", [bool(m) for m in multi])


zkconf.run(scenario)
