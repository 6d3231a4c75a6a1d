"""TreeCache: initial population and the events of later changes."""

from kazoo.recipe.cache import TreeCache, TreeEvent

import zkconf

NAMES = {
    TreeEvent.NODE_ADDED: "ADDED",
    TreeEvent.NODE_UPDATED: "UPDATED",
    TreeEvent.NODE_REMOVED: "REMOVED",
    TreeEvent.CONNECTION_SUSPENDED: "SUSPENDED",
    TreeEvent.CONNECTION_RECONNECTED: "RECONNECTED",
    TreeEvent.CONNECTION_LOST: "LOST",
    TreeEvent.INITIALIZED: "INITIALIZED",
}


def scenario(sc):
    root = sc.path("tree")
    for p, d in [("", b"r"), ("/a", b"1"), ("/a/x", b"2"), ("/b", b"3")]:
        sc.setup.create(root + p, d)
    events = zkconf.Events()

    def listener(ev):
        d = ev.event_data
        if d is None:
            events.add(NAMES[ev.event_type])
        else:
            events.add("%s %s %r v%d" % (NAMES[ev.event_type], sc.rel(d.path), d.data, d.stat.version))

    cache = TreeCache(sc.client(), root)
    cache.listen(listener)
    cache.start()
    got = events.wait_len(5, "initial events")
    # Initial loads race each other; INITIALIZED comes last.
    sc.out("initial:", " | ".join(sorted(got[:4])))
    sc.out("then:", got[4])
    sc.out("cached children", sorted(cache.get_children(root)))
    sc.out("cached a/x", cache.get_data(root + "/a/x").data)
    n = 5
    for label, action in [
        ("set b", lambda: sc.setup.set(root + "/b", b"33")),
        ("create c", lambda: sc.setup.create(root + "/c", b"4")),
        ("create a/y", lambda: sc.setup.create(root + "/a/y", b"5")),
        ("delete a/x", lambda: sc.setup.delete(root + "/a/x")),
        ("delete b", lambda: sc.setup.delete(root + "/b")),
    ]:
        action()
        n += 1
        got = events.wait_len(n, "event after " + label)
        sc.out(label + ":", got[-1])
    sc.out("cached children", sorted(cache.get_children(root)))
    cache.close()


zkconf.run(scenario)
