"""Party and ShallowParty: membership as clients join and leave."""

from kazoo.recipe.party import Party, ShallowParty

import zkconf


def scenario(sc):
    for kind, cls in (("party", Party), ("shallow", ShallowParty)):
        path = sc.path(kind)
        members = [cls(sc.client(), path, identifier="m%d" % i) for i in range(3)]
        sc.out(kind, "empty len", len(members[0]))
        for m in members:
            m.join()
        sc.out(kind, "len", len(members[0]), "members", ",".join(sorted(members[1])))
        members[1].join()
        sc.out(kind, "join twice len", len(members[0]))
        members[1].leave()
        sc.out(kind, "after leave", ",".join(sorted(members[0])))
        sc.out(kind, "leave again", members[1].leave())
        # A member's node is ephemeral: its session ending removes it.
        owner = members[2].client
        owner.stop()
        owner.close()
        sc.clients.remove(owner)
        sc.out(kind, "after session end", ",".join(sorted(members[0])))


zkconf.run(scenario)
