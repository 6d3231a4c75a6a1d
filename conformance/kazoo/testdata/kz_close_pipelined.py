"""Requests still in flight when the client closes are answered first: the
server replies in request order, closeSession last."""

import logging

from kazoo.exceptions import KazooException

import zkconf


def scenario(sc):
    p = sc.path("n")
    sc.setup.create(p, b"v")
    c = sc.client()
    futures = [
        ("exists missing", c.exists_async(sc.path("missing"), watch=lambda e: None)),
        ("exists", c.exists_async(p)),
        ("get", c.get_async(p)),
        ("children", c.get_children_async(sc.root)),
        ("set", c.set_async(p, b"w")),
        ("get after set", c.get_async(p)),
    ]
    c.stop()
    for name, f in futures:
        try:
            r = f.get(timeout=zkconf.TIMEOUT)
            if isinstance(r, tuple) and len(r) == 2 and hasattr(r[1], "version"):
                r = "data=%r v%d" % (r[0], r[1].version)
            elif hasattr(r, "version"):
                r = "stat v%d" % r.version
            sc.out(name, "->", r)
        except (KazooException, RuntimeError) as e:
            sc.out(name, "->", zkconf.exc_name(e))
    sc.out("value after close", sc.setup.get(p)[0])


# kazoo logs the connection-loop failure this scenario provokes on a bad server.
logging.basicConfig(level=logging.CRITICAL)
zkconf.run(scenario)
