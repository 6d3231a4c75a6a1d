"""Counter: concurrent increments from three clients all land."""

from kazoo.recipe.counter import Counter

import zkconf

PER_CLIENT = 15


def scenario(sc):
    path = sc.path("counter")
    c = Counter(sc.setup, path)
    sc.out("initial", c.value)
    c += 5
    sc.out("after +5", c.value, "pre", c.pre_value, "post", c.post_value)
    c -= 2
    sc.out("after -2", c.value)

    def worker(client):
        mine = Counter(client, path)
        for _ in range(PER_CLIENT):
            mine += 1

    ts = [sc.spawn(worker, sc.client()) for _ in range(3)]
    for t in ts:
        sc.join(t)
    sc.out("after concurrent increments", c.value)
    data, stat = sc.setup.get(path)
    sc.out("stored", data.decode(), "version", stat.version)

    f = Counter(sc.setup, sc.path("float"), default=0.5)
    f += 1.25
    sc.out("float", f.value)
    try:
        c += "x"
    except TypeError as e:
        sc.out("bad increment", zkconf.exc_name(e))


zkconf.run(scenario)
