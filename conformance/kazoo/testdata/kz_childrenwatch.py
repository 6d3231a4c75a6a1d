"""ChildrenWatch: the callback sequence as children come and go."""

import zkconf


def scenario(sc):
    parent = sc.path("parent")
    sc.setup.create(parent)
    events = zkconf.Events()
    watcher = sc.client()

    def on_children(children, event):
        ev = event.type if event is not None else "-"
        events.add("%s %s" % (ev, ",".join(sorted(children))))

    watcher.ChildrenWatch(parent, on_children, send_event=True)
    n = 1
    events.wait_len(n)
    for step, action in [
        ("create a", lambda: sc.setup.create(parent + "/a")),
        ("create b", lambda: sc.setup.create(parent + "/b", ephemeral=True)),
        ("set a (no child event)", lambda: sc.setup.set(parent + "/a", b"x")),
        ("create a/deep (no child event)", lambda: sc.setup.create(parent + "/a/deep")),
        ("create seq", lambda: sc.setup.create(parent + "/s-", sequence=True)),
        ("delete a", lambda: sc.setup.delete(parent + "/a", recursive=True)),
        ("delete b", lambda: sc.setup.delete(parent + "/b")),
        ("delete seq", lambda: sc.setup.delete(parent + "/s-0000000002")),
    ]:
        action()
        if "no child event" in step:
            continue
        n += 1
        events.wait_len(n, "event after " + step)
    # Deleting the watched parent ends the watch without a callback; a sync
    # on the watcher's session orders any stray event before the check.
    sc.setup.delete(parent)
    watcher.sync(sc.root)
    for e in events.snapshot():
        sc.out(e)


zkconf.run(scenario)
