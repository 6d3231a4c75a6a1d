"""Async API and the exception each failing operation maps to."""

from kazoo.exceptions import KazooException

import zkconf


def scenario(sc):
    c = sc.client()
    p = sc.path("n")
    c.create(p, b"v")
    sys_child = "/zookeeper/" + sc.root.strip("/").replace("/", "-")
    cases = [
        ("get missing", lambda: c.get_async(sc.path("missing"))),
        ("set missing", lambda: c.set_async(sc.path("missing"), b"")),
        ("set bad version", lambda: c.set_async(p, b"x", version=9)),
        ("delete bad version", lambda: c.delete_async(p, version=9)),
        ("create existing", lambda: c.create_async(p)),
        ("children missing", lambda: c.get_children_async(sc.path("missing"))),
        ("exists missing", lambda: c.exists_async(sc.path("missing"))),
        ("acls missing", lambda: c.get_acls_async(sc.path("missing"))),
        ("sync missing", lambda: c.sync_async(sc.path("missing"))),
        ("set good version", lambda: c.set_async(p, b"y", version=0)),
        ("create under /zookeeper", lambda: c.create_async(sys_child)),
        ("delete under /zookeeper", lambda: c.delete_async(sys_child)),
        ("delete /zookeeper", lambda: c.delete_async("/zookeeper")),
        ("delete root", lambda: c.delete_async("/")),
        ("set /zookeeper/quota", lambda: c.set_async("/zookeeper/quota", b"", version=-1)),
    ]
    # Issue everything before reading any result: replies come in order.
    futures = [(name, mk()) for name, mk in cases]
    for name, f in futures:
        try:
            r = f.get(timeout=zkconf.TIMEOUT)
            if name == "set /zookeeper/quota":
                r = "stat"
            elif hasattr(r, "version"):
                r = "stat v%d" % r.version
            elif isinstance(r, str):
                r = sc.rel(r).replace(sys_child, "/zookeeper/CHILD")
            elif isinstance(r, tuple):
                r = "tuple"
            sc.out(name, "->", r)
        except KazooException as e:
            sc.out(name, "->", zkconf.exc_name(e))
    # Client-side validation never reaches the server.
    for name, op in [("str data", lambda: c.create(p + "x", "str")), ("bad acl", lambda: c.create(p + "y", acl="x"))]:
        try:
            op()
            sc.out(name, "-> ok")
        except (ValueError, TypeError) as e:
            sc.out(name, "->", zkconf.exc_name(e))


zkconf.run(scenario)
