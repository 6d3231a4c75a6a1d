"""Election: the first contender leads; when the leader leaves the next leads."""

import threading

from kazoo.recipe.election import Election

import zkconf


def scenario(sc):
    path = sc.path("election")
    names = ["e1", "e2", "e3"]
    elections = {n: Election(sc.client(), path, identifier=n) for n in names}
    leaders = zkconf.Events()
    leave = {n: threading.Event() for n in names}
    leading = [0]
    mu = threading.Lock()

    def lead(n):
        with mu:
            leading[0] += 1
            zkconf.check(leading[0] == 1, "two leaders at once")
        leaders.add(n)
        leave[n].wait(zkconf.TIMEOUT)
        with mu:
            leading[0] -= 1

    for i, n in enumerate(names):
        sc.spawn(elections[n].run, lead, n)
        zkconf.wait_for(lambda: len(elections["e1"].contenders()) == i + 1, "contender " + n)
    sc.out("contenders", ",".join(elections["e1"].contenders()))
    leaders.wait_len(1)
    sc.out("leader", leaders.snapshot()[0])

    # A contender that cancels before it leads is skipped.
    elections["e2"].cancel()
    zkconf.wait_for(lambda: len(elections["e1"].contenders()) == 2, "e2 cancelled")
    sc.out("contenders after e2 cancels", ",".join(elections["e1"].contenders()))

    leave["e1"].set()
    leaders.wait_len(2)
    sc.out("leader after e1 leaves", leaders.snapshot()[1])
    sc.out("contenders", ",".join(elections["e3"].contenders()))
    leave["e3"].set()
    for t in list(sc.threads):
        sc.join(t)
    sc.out("leaders in order", ",".join(leaders.snapshot()))
    sc.out("contenders at end", len(elections["e1"].contenders()))


zkconf.run(scenario)
