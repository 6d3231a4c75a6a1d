"""server_version() parses the envi four-letter word; four-letter words via command()."""

import zkconf


def scenario(sc):
    c = sc.client()
    v = c.server_version()
    sc.out("server_version major.minor", "%d.%d" % v[:2])
    zkconf.check(v[:2] == (3, 8), "want a 3.8.x server, got %r" % (v,))
    sc.out("ruok", c.command(b"ruok"))
    envi = c.command(b"envi")
    sc.out("envi header", envi.splitlines()[0])
    keys = sorted(line.split("=", 1)[0] for line in envi.splitlines()[1:] if "=" in line)
    sc.out("envi has zookeeper.version", "zookeeper.version" in keys)
    srvr = c.command(b"srvr")
    sc.out("srvr mode", [line for line in srvr.splitlines() if line.startswith("Mode:")])
    sc.out("srvr version 3.8", srvr.startswith("Zookeeper version: 3.8."))
    sc.out("isro", c.command(b"isro"))


zkconf.run(scenario)
