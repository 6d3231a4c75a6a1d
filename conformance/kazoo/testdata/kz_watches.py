"""Raw one-shot watches: which operation fires which watch, and only once."""

import zkconf


def scenario(sc):
    w = sc.client()
    p = sc.path("w")
    events = zkconf.Events()

    def rec(tag):
        def fn(ev):
            events.add("%s %s %s %s" % (tag, ev.type, ev.state, sc.rel(ev.path)))
        return fn

    def step(label, action, expect):
        before = len(events.snapshot())
        action()
        # The sync reply follows every notification the change caused.
        w.sync(sc.root)
        got = events.wait_len(before + expect, "events after " + label)
        sc.out(label + ":", " | ".join(sorted(got[before:])) or "none")

    w.exists(p, watch=rec("exists"))
    step("create", lambda: sc.setup.create(p, b"a"), 1)
    w.get(p, watch=rec("get"))
    w.exists(p, watch=rec("exists"))
    w.get_children(p, watch=rec("children"))
    step("set", lambda: sc.setup.set(p, b"b"), 2)
    step("set again (watches were one-shot)", lambda: sc.setup.set(p, b"c"), 0)
    w.get_children(p, watch=rec("children"))
    w.get(p, watch=rec("get"))
    step("create child", lambda: sc.setup.create(p + "/c"), 1)
    step("delete child", lambda: sc.setup.delete(p + "/c"), 0)
    w.get_children(p, watch=rec("children"))
    w.exists(p + "/c", watch=rec("exists-child"))
    step("delete node", lambda: sc.setup.delete(p), 2)
    w.exists(p, watch=rec("exists"))
    step("create by watcher itself", lambda: w.create(p), 1)
    # Several watchers on one client for the same path each fire.
    w.get(p, watch=rec("get-1"))
    w.get(p, watch=rec("get-2"))
    step("two watchers, one change", lambda: sc.setup.set(p, b"z"), 2)


zkconf.run(scenario)
