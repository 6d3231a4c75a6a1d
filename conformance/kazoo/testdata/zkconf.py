"""Shared helpers for the kazoo conformance scripts.

Every script is run as: python3 script.py HOST:PORT ROOT
It prints deterministic lines on stdout (no session ids, zxids or times),
ends with "OK" and exits 0, or prints a traceback on stderr and exits 1.
Outcomes that depend on thread scheduling are checked here and reduced to
facts every correct server agrees on.
"""

import sys
import threading
import time
import traceback

from kazoo.client import KazooClient

# Generous bound for anything a server does promptly; never a timing check.
TIMEOUT = 15.0


class Scenario(object):
    def __init__(self, hosts, root):
        self.hosts = hosts
        self.root = root
        self.clients = []
        self.threads = []
        self.errors = []
        self._out = threading.Lock()

    def client(self, **kwargs):
        """Returns a started client that is stopped when the scenario ends."""
        kwargs.setdefault("timeout", 10.0)
        c = KazooClient(hosts=self.hosts, **kwargs)
        c.start(timeout=TIMEOUT)
        self.clients.append(c)
        return c

    def path(self, *parts):
        return "/".join((self.root,) + parts)

    def rel(self, path):
        """Path relative to the scenario root, for printing."""
        if path.startswith(self.root):
            return path[len(self.root):] or "/"
        return path

    def out(self, *args):
        with self._out:
            sys.stdout.write(" ".join(str(a) for a in args) + "\n")
            sys.stdout.flush()

    def spawn(self, fn, *args):
        """Runs fn in a daemon thread; its exception fails the scenario."""

        def body():
            try:
                fn(*args)
            except Exception:
                self.errors.append(traceback.format_exc())

        t = threading.Thread(target=body, daemon=True)
        t.start()
        self.threads.append(t)
        return t

    def join(self, t):
        t.join(TIMEOUT)
        check(not t.is_alive(), "thread did not finish")
        self.raise_errors()

    def raise_errors(self):
        if self.errors:
            raise AssertionError("thread failed:\n" + "\n".join(self.errors))


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def wait_for(cond, what, timeout=TIMEOUT):
    """Polls cond until it is true; fails after timeout."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.005)


class Events(object):
    """A thread-safe list of event descriptions with blocking waits."""

    def __init__(self):
        self._cond = threading.Condition()
        self.items = []

    def add(self, item):
        with self._cond:
            self.items.append(item)
            self._cond.notify_all()

    def wait_len(self, n, what="events"):
        deadline = time.monotonic() + TIMEOUT
        with self._cond:
            while len(self.items) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("timed out waiting for %d %s, have %r" % (n, what, self.items))
                self._cond.wait(left)
            return list(self.items)

    def snapshot(self):
        with self._cond:
            return list(self.items)


def exc_name(e):
    return type(e).__name__


def run(fn):
    if len(sys.argv) != 3:
        sys.stderr.write("usage: %s HOST:PORT ROOT\n" % sys.argv[0])
        sys.exit(2)
    sc = Scenario(sys.argv[1], sys.argv[2])
    code = 0
    try:
        setup = sc.client()
        setup.ensure_path(sc.root)
        sc.setup = setup
        fn(sc)
        sc.raise_errors()
        sc.out("OK")
    except Exception:
        traceback.print_exc()
        sys.stdout.flush()
        code = 1
    finally:
        for c in reversed(sc.clients):
            try:
                c.stop()
                c.close()
            except Exception:
                pass
    sys.exit(code)
