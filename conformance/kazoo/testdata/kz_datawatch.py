"""DataWatch: the callback sequence through create, set, delete, re-create."""

import zkconf


def scenario(sc):
    path = sc.path("node")
    events = zkconf.Events()
    watcher = sc.client()

    def on_data(data, stat, event):
        ev = event.type if event is not None else "-"
        ver = stat.version if stat is not None else "-"
        events.add("%s data=%r version=%s" % (ev, data, ver))

    watcher.DataWatch(path, on_data)
    n = 1
    events.wait_len(n)
    for step, action in [
        ("create", lambda: sc.setup.create(path, b"v0")),
        ("set", lambda: sc.setup.set(path, b"v1")),
        ("set", lambda: sc.setup.set(path, b"v2")),
        ("delete", lambda: sc.setup.delete(path)),
        ("create", lambda: sc.setup.create(path, b"again")),
    ]:
        action()
        n += 1
        events.wait_len(n, "event after " + step)
    stop_events = zkconf.Events()

    # Returning False from the callback stops the watch.
    def once(data, stat):
        stop_events.add(data)
        return False

    watcher.DataWatch(path, once)
    stop_events.wait_len(1)
    sc.setup.set(path, b"after-stop")
    n += 1
    events.wait_len(n, "event after final set")
    for e in events.snapshot():
        sc.out(e)
    sc.out("stopped watch saw", stop_events.snapshot())


zkconf.run(scenario)
