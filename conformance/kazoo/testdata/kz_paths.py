"""ensure_path, makepath, recursive delete, node flags and stat fields."""

import zkconf
from kazoo.exceptions import NoNodeError, NodeExistsError, NotEmptyError


def scenario(sc):
    c = sc.client()
    deep = sc.path("a", "b", "c", "d")
    sc.out("ensure_path", sc.rel(str(c.ensure_path(deep))))
    sc.out("ensure_path again", c.ensure_path(deep))
    sc.out("children of a", c.get_children(sc.path("a")))
    sc.out("create makepath", sc.rel(c.create(sc.path("m", "n", "o"), b"leaf", makepath=True)))
    sc.out("m data", c.get(sc.path("m"))[0], "o data", c.get(sc.path("m", "n", "o"))[0])
    for i in range(3):
        sc.out("sequence", sc.rel(c.create(sc.path("a", "s-"), b"", sequence=True)))
    sc.out("ephemeral sequence", sc.rel(c.create(sc.path("a", "e-"), ephemeral=True, sequence=True)))
    st = c.exists(sc.path("a"))
    sc.out("a stat: children", st.numChildren, "cversion", st.cversion, "version", st.version,
           "ephemeral", st.ephemeralOwner != 0, "dataLength", st.dataLength)
    eph = c.exists(sc.path("a", "e-0000000004"))
    sc.out("ephemeral owner is session", eph.ephemeralOwner == c.client_id[0])
    kids = c.get_children(sc.path("a"), include_data=True)
    sc.out("children with stat", ",".join(sorted(kids[0])), "numChildren", kids[1].numChildren)
    try:
        c.create(sc.path("a"))
    except NodeExistsError as e:
        sc.out("create existing", zkconf.exc_name(e))
    try:
        c.delete(sc.path("a"))
    except NotEmptyError as e:
        sc.out("delete non-empty", zkconf.exc_name(e))
    try:
        c.create(sc.path("nope", "x"))
    except NoNodeError as e:
        sc.out("create without parent", zkconf.exc_name(e))
    try:
        c.create(sc.path("a", "e-0000000004", "child"))
    except Exception as e:
        sc.out("child of ephemeral", zkconf.exc_name(e))
    sc.out("delete recursive", c.delete(sc.path("a"), recursive=True))
    sc.out("a exists", c.exists(sc.path("a")) is not None)
    sc.out("delete recursive missing", c.delete(sc.path("a"), recursive=True))
    data = bytes(range(256)) * 4
    c.create(sc.path("bin"), data)
    got, st = c.get(sc.path("bin"))
    sc.out("binary roundtrip", got == data, "dataLength", st.dataLength)
    c.set(sc.path("bin"), b"")
    sc.out("empty data", repr(c.get(sc.path("bin"))[0]))
    sc.out("root children", ",".join(sorted(c.get_children(sc.root))))
    sc.out("/zookeeper children", ",".join(sorted(c.get_children("/zookeeper"))))


zkconf.run(scenario)
