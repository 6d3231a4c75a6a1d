"""TransactionRequest: a committed multi and one rolled back by a failing op."""

import zkconf


def show(sc, results):
    out = []
    for r in results:
        if isinstance(r, Exception):
            out.append(zkconf.exc_name(r))
        elif isinstance(r, bool):
            out.append(str(r))
        elif isinstance(r, str):
            out.append("path:" + sc.rel(r))
        elif r is None:
            out.append("None")
        else:
            out.append("stat:v%d" % r.version)
    return ",".join(out)


def scenario(sc):
    c = sc.client()
    a, b = sc.path("a"), sc.path("b")
    c.create(a, b"0")
    t = c.transaction()
    t.check(a, 0)
    t.set_data(a, b"1")
    t.create(b, b"new")
    t.create(sc.path("seq-"), sequence=True)
    t.delete(a)
    sc.out("commit ok:", show(sc, t.commit()))
    sc.out("after: a exists", c.exists(a) is not None, "b", c.get(b)[0])

    t = c.transaction()
    t.set_data(b, b"changed")
    t.check(b, 7)
    t.create(sc.path("never"))
    sc.out("commit with bad version:", show(sc, t.commit()))
    sc.out("after: b", c.get(b)[0], "never exists", c.exists(sc.path("never")) is not None)

    t = c.transaction()
    t.create(sc.path("x"))
    t.create(sc.path("x"))
    sc.out("commit duplicate create:", show(sc, t.commit()))

    t = c.transaction()
    t.delete(sc.path("missing"))
    t.create(sc.path("y"))
    sc.out("commit delete missing:", show(sc, t.commit()))

    t = c.transaction()
    t.create(sc.path("p"))
    t.create(sc.path("p", "child"))
    t.delete(sc.path("p"))
    sc.out("commit delete non-empty:", show(sc, t.commit()))
    sc.out("children", ",".join(sorted(c.get_children(sc.root))))

    with c.transaction() as t:
        t.create(sc.path("ctx"), b"1")
    sc.out("context manager committed", c.exists(sc.path("ctx")) is not None)
    try:
        t.create(sc.path("late"))
    except ValueError as e:
        sc.out("reuse committed transaction", zkconf.exc_name(e))


zkconf.run(scenario)
