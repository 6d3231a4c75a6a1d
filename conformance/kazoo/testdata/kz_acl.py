"""ACLs with digest auth: make_digest_acl, NoAuth, add_auth, get/set_acls."""

from kazoo.exceptions import BadVersionError, InvalidACLError, NoAuthError
from kazoo.security import OPEN_ACL_UNSAFE, make_acl, make_digest_acl

import zkconf


def acl_str(acls):
    return ",".join(sorted("%s:%s:%d" % (a.id.scheme, a.id.id, a.perms) for a in acls))


def scenario(sc):
    owner = sc.client(auth_data=[("digest", "alice:secret")])
    anon = sc.client()
    p = sc.path("secret")
    acl = make_digest_acl("alice", "secret", all=True)
    owner.create(p, b"hidden", acl=[acl])
    acls, st = owner.get_acls(p)
    sc.out("acls", acl_str(acls), "aversion", st.aversion)
    sc.out("owner reads", owner.get(p)[0])
    for name, op in [
        ("get", lambda: anon.get(p)),
        ("set", lambda: anon.set(p, b"x")),
        ("create child", lambda: anon.create(p + "/c")),
        ("get_children", lambda: anon.get_children(p)),
    ]:
        try:
            op()
            sc.out("anon", name, "allowed")
        except NoAuthError as e:
            sc.out("anon", name, zkconf.exc_name(e))
    sc.out("anon exists (no ACL check)", anon.exists(p) is not None)
    try:
        sc.out("anon get_acls", acl_str(anon.get_acls(p)[0]))
    except NoAuthError as e:
        sc.out("anon get_acls", zkconf.exc_name(e))
    anon.add_auth("digest", "alice:wrong")
    try:
        anon.get(p)
        sc.out("wrong password get", "allowed")
    except NoAuthError as e:
        sc.out("wrong password get", zkconf.exc_name(e))
    anon.add_auth("digest", "alice:secret")
    sc.out("after add_auth", anon.get(p)[0])

    ro = make_acl("world", "anyone", read=True)
    try:
        owner.set_acls(p, [ro], version=5)
    except BadVersionError as e:
        sc.out("set_acls bad version", zkconf.exc_name(e))
    st = owner.set_acls(p, [ro, acl])
    sc.out("set_acls aversion", st.aversion)
    third = sc.client()
    sc.out("world read after set_acls", third.get(p)[0])
    try:
        third.set(p, b"no")
    except NoAuthError as e:
        sc.out("world write", zkconf.exc_name(e))
    try:
        owner.create(sc.path("bad"), acl=[make_acl("digest", "malformed", all=True)])
    except InvalidACLError as e:
        sc.out("malformed digest acl", zkconf.exc_name(e))
    # kazoo substitutes its default ACL for an empty list.
    owner.create(sc.path("empty"), acl=[])
    sc.out("empty acl list", acl_str(owner.get_acls(sc.path("empty"))[0]))
    c = owner.create(sc.path("auth"), acl=[make_acl("auth", "", all=True)])
    sc.out("auth scheme acl", acl_str(owner.get_acls(c)[0]))
    owner.set_acls(p, OPEN_ACL_UNSAFE)
    sc.out("reopened", acl_str(third.get_acls(p)[0]))


zkconf.run(scenario)
