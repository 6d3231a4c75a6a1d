// ZkScenarios drives a ZooKeeper server through Apache's own Java client and
// prints one normalized line per result and per watch event, so that the
// output of two correct servers is identical (zxids rebased to the first one
// the scenario sees, and after a server-side reap to the first one past it;
// session ids replaced by labels, times reduced to their relation).
//
// Usage: java -cp zookeeper.jar:. ZkScenarios host:port list|all|NAME...
//
// Part of zkafka's conformance suite (conformance/javaclient); compiled at
// test time with javac against /usr/share/java/zookeeper.jar.

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.Transaction;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooDefs.Perms;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.ClientInfo;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;

public class ZkScenarios {
    interface Call {
        Object run() throws Exception;
    }

    interface Body {
        void run(ZkScenarios t) throws Exception;
    }

    static final long WAIT_MS = 10000;

    /** One watch event and the names of the watchers it was delivered to. */
    static final class Ev {
        final WatchedEvent ev;
        final java.util.TreeSet<String> names = new java.util.TreeSet<>();

        Ev(WatchedEvent ev) {
            this.ev = ev;
        }

        @Override
        public String toString() {
            // The client hands one event to a set of watchers in hash order:
            // sort the names so the line does not depend on that order.
            return String.join(",", names) + " " + ev.getType() + " " + ev.getState() + " " + ev.getPath();
        }
    }

    /** One client session and the events its watchers saw, in delivery order. */
    final class Sess {
        final String label;
        ZooKeeper zk;
        final List<Ev> events = new ArrayList<>();
        final List<WatchedEvent> raw = Collections.synchronizedList(new ArrayList<>());
        boolean dead;
        // quietConn drops Disconnected/SyncConnected events, whose number depends on timing.
        volatile boolean quietConn;

        Sess(String label) {
            this.label = label;
        }

        Watcher w(String name) {
            return ev -> {
                if (quietConn && ev.getType() == Watcher.Event.EventType.None
                        && (ev.getState() == Watcher.Event.KeeperState.Disconnected
                                || ev.getState() == Watcher.Event.KeeperState.SyncConnected)) {
                    return;
                }
                synchronized (events) {
                    Ev last = events.isEmpty() ? null : events.get(events.size() - 1);
                    if (last == null || last.ev != ev) {
                        last = new Ev(ev);
                        events.add(last);
                        raw.add(ev);
                    }
                    last.names.add(name);
                }
            };
        }
    }

    final String connect;
    final String root;
    final List<Sess> sessions = new ArrayList<>();
    final Map<Long, String> sessionLabels = new HashMap<>();
    long baseZxid = -1;
    long maxZxid = -1; // the largest zxid printed
    long reapBarrier = -1; // maxZxid at the last reap seen
    long reapBase = -1; // the first zxid printed past reapBarrier

    ZkScenarios(String connect, String root) {
        this.connect = connect;
        this.root = root;
    }

    // ---------------------------------------------------------------- output

    static void say(String s) {
        System.out.println(s);
    }

    String p(String rel) {
        return rel.isEmpty() ? root : root + "/" + rel;
    }

    String zx(long z) {
        if (z <= 0) {
            return Long.toString(z);
        }
        maxZxid = Math.max(maxZxid, z);
        if (reapBarrier >= 0 && z > reapBarrier) {
            // After a reap: Apache's container manager may post a candidate again before its first delete is
            // applied, and that failed delete takes a zxid too, so the gap is not the same from run to run.
            if (reapBase < 0) {
                reapBase = z;
            }
            return z < reapBase ? "r-pre" : "r+" + (z - reapBase);
        }
        if (baseZxid < 0) {
            baseZxid = z;
        }
        if (z < baseZxid) {
            return "pre";
        }
        return "+" + (z - baseZxid);
    }

    /** Zxids after this point are printed relative to the first one printed after it (see zx). */
    void rebaseAfterReap() {
        reapBarrier = maxZxid;
        reapBase = -1;
    }

    String owner(long o) {
        String l = sessionLabels.get(o);
        if (l != null) {
            return l;
        }
        if (o == 0) {
            return "0";
        }
        if (o == Long.MIN_VALUE) {
            return "container";
        }
        if ((o & 0xFF00000000000000L) == 0xFF00000000000000L) {
            return "ttl(" + (o & 0x00FFFFFFFFFFFFFFL) + ")";
        }
        return "foreign-session";
    }

    String stat(Stat s) {
        if (s == null) {
            return "null";
        }
        String tm;
        if (s.getMzxid() == s.getCzxid()) {
            tm = s.getCtime() == s.getMtime() ? "c=m" : "c!=m(unmodified)";
        } else {
            tm = s.getCtime() <= s.getMtime() ? "c<=m" : "c>m";
        }
        return "{cz=" + zx(s.getCzxid()) + " mz=" + zx(s.getMzxid()) + " pz=" + zx(s.getPzxid())
                + " cv=" + s.getCversion() + " dv=" + s.getVersion() + " av=" + s.getAversion()
                + " eo=" + owner(s.getEphemeralOwner()) + " dl=" + s.getDataLength()
                + " nc=" + s.getNumChildren() + " t=" + tm + "}";
    }

    static String data(byte[] b) {
        return b == null ? "null" : "'" + new String(b, StandardCharsets.UTF_8) + "'";
    }

    static byte[] b(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    static String perms(int p) {
        StringBuilder sb = new StringBuilder();
        if ((p & Perms.CREATE) != 0) sb.append('c');
        if ((p & Perms.DELETE) != 0) sb.append('d');
        if ((p & Perms.READ) != 0) sb.append('r');
        if ((p & Perms.WRITE) != 0) sb.append('w');
        if ((p & Perms.ADMIN) != 0) sb.append('a');
        if ((p & ~Perms.ALL) != 0) sb.append("+0x").append(Integer.toHexString(p & ~Perms.ALL));
        return sb.toString();
    }

    static String acls(List<ACL> l) {
        List<String> out = new ArrayList<>();
        for (ACL a : l) {
            out.add(a.getId().getScheme() + ":" + a.getId().getId() + "=" + perms(a.getPerms()));
        }
        return out.toString();
    }

    static List<String> sorted(List<String> l) {
        List<String> c = new ArrayList<>(l);
        Collections.sort(c);
        return c;
    }

    String result(OpResult r) {
        if (r instanceof OpResult.CreateResult) {
            OpResult.CreateResult c = (OpResult.CreateResult) r;
            return "create " + c.getPath() + " " + stat(c.getStat());
        }
        if (r instanceof OpResult.SetDataResult) {
            return "setData " + stat(((OpResult.SetDataResult) r).getStat());
        }
        if (r instanceof OpResult.DeleteResult) {
            return "delete";
        }
        if (r instanceof OpResult.CheckResult) {
            return "check";
        }
        if (r instanceof OpResult.GetDataResult) {
            OpResult.GetDataResult g = (OpResult.GetDataResult) r;
            return "getData " + data(g.getData()) + " " + stat(g.getStat());
        }
        if (r instanceof OpResult.GetChildrenResult) {
            return "getChildren " + sorted(((OpResult.GetChildrenResult) r).getChildren());
        }
        if (r instanceof OpResult.ErrorResult) {
            return "error " + KeeperException.Code.get(((OpResult.ErrorResult) r).getErr());
        }
        return "unknown " + r.getClass().getSimpleName() + " type=" + r.getType();
    }

    @SuppressWarnings("unchecked")
    String value(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof Stat) {
            return stat((Stat) v);
        }
        if (v instanceof byte[]) {
            return data((byte[]) v);
        }
        if (v instanceof List) {
            List<Object> l = (List<Object>) v;
            List<String> out = new ArrayList<>();
            for (Object o : l) {
                if (o instanceof OpResult) {
                    out.add(result((OpResult) o));
                } else if (o instanceof ACL) {
                    out.add(acls(Collections.singletonList((ACL) o)));
                } else if (o instanceof ClientInfo) {
                    ClientInfo ci = (ClientInfo) o;
                    out.add(ci.getAuthScheme() + ":" + ci.getUser());
                } else {
                    out.add(String.valueOf(o));
                }
            }
            return out.toString();
        }
        return String.valueOf(v);
    }

    // ------------------------------------------------------------ operations

    /** Runs one client call, prints its result or error, then the events it caused. */
    Object op(Sess s, String desc, Call c) {
        Object v = null;
        String line;
        try {
            v = c.run();
            line = value(v);
        } catch (KeeperException.SessionExpiredException | KeeperException.AuthFailedException e) {
            line = "ERR " + e.code();
        } catch (KeeperException e) {
            line = "ERR " + e.code() + (e.getPath() != null ? " path=" + e.getPath() : "");
            List<OpResult> rs = e.getResults();
            if (rs != null) {
                List<String> out = new ArrayList<>();
                for (OpResult r : rs) {
                    out.add(result(r));
                }
                line += " results=" + out;
            }
        } catch (IllegalArgumentException e) {
            line = "EXC IllegalArgumentException";
        } catch (Exception e) {
            line = "EXC " + e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        say("[" + s.label + "] " + desc + " -> " + line);
        settle();
        return v;
    }

    /**
     * settle makes every session's pending events visible: an async exists is
     * answered on the session's event thread after all events the server sent
     * before its reply, so once its callback ran the event list is complete.
     */
    void settle() {
        for (Sess s : sessions) {
            if (s.dead) {
                continue;
            }
            CountDownLatch l = new CountDownLatch(1);
            s.zk.exists("/", false, (rc, path, ctx, st) -> l.countDown(), null);
            try {
                if (!l.await(WAIT_MS, TimeUnit.MILLISECONDS)) {
                    say("[" + s.label + "] BARRIER TIMEOUT");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            drain(s);
        }
    }

    void drain(Sess s) {
        List<String> evs = new ArrayList<>();
        synchronized (s.events) {
            for (Ev e : s.events) {
                evs.add(e.toString());
            }
            s.events.clear();
        }
        // removeWatches makes the client emit its *WatchRemoved events in the
        // order of a hash map keyed by enum identity: sort each such run.
        for (int i = 0; i < evs.size();) {
            int j = i;
            while (j < evs.size() && evs.get(j).contains("WatchRemoved ")) {
                j++;
            }
            if (j > i) {
                Collections.sort(evs.subList(i, j));
                i = j;
            } else {
                i++;
            }
        }
        for (String e : evs) {
            say("[" + s.label + "] event " + e);
            if (e.contains(" Expired ") || e.contains(" AuthFailed ") || e.contains(" Closed ")) {
                s.dead = true;
            }
        }
    }

    /** Waits (bounded) until an event matching want arrives, then prints events. */
    void awaitEvent(Sess s, String what, Predicate<WatchedEvent> want) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 3 * WAIT_MS;
        outer:
        while (System.currentTimeMillis() < deadline) {
            synchronized (s.raw) {
                for (WatchedEvent e : s.raw) {
                    if (want.test(e)) {
                        break outer;
                    }
                }
            }
            Thread.sleep(20);
        }
        boolean found = false;
        synchronized (s.raw) {
            for (WatchedEvent e : s.raw) {
                found |= want.test(e);
            }
            s.raw.clear();
        }
        if (!found) {
            say("[" + s.label + "] TIMEOUT waiting for " + what);
        }
        settle();
    }

    void awaitDeleted(Sess s, String path) throws Exception {
        // The server's reaper may run before or after the watch is set: the
        // watch's own event is not printed, only that the node went away.
        CountDownLatch gone = new CountDownLatch(1);
        Watcher w = ev -> {
            if (ev.getType() == Watcher.Event.EventType.NodeDeleted) {
                gone.countDown();
            }
        };
        if (s.zk.exists(path, w) != null && !gone.await(3 * WAIT_MS, TimeUnit.MILLISECONDS)) {
            say("[" + s.label + "] TIMEOUT waiting for the server to delete " + path);
        }
        say("[" + s.label + "] reaped " + path);
        rebaseAfterReap();
        settle();
    }

    Sess open(String label) throws Exception {
        return open(label, connect, 10000, 0, null, false);
    }

    Sess open(String label, String cs, int timeout, long sid, byte[] pw, boolean quiet) throws Exception {
        Sess s = new Sess(label);
        s.quietConn = quiet;
        CountDownLatch up = new CountDownLatch(1);
        Watcher def = s.w("default");
        Watcher first = ev -> {
            def.process(ev);
            if (ev.getType() == Watcher.Event.EventType.None
                    && ev.getState() != Watcher.Event.KeeperState.Disconnected) {
                up.countDown();
            }
        };
        s.zk = pw == null ? new ZooKeeper(cs, timeout, first) : new ZooKeeper(cs, timeout, first, sid, pw);
        if (!up.await(WAIT_MS, TimeUnit.MILLISECONDS)) {
            say("[" + label + "] CONNECT TIMEOUT");
        }
        // The first connection event is not interesting unless it is not SyncConnected.
        synchronized (s.events) {
            if (!s.events.isEmpty() && s.events.get(0).ev.getState() == Watcher.Event.KeeperState.SyncConnected) {
                s.events.remove(0);
            }
            s.raw.clear();
        }
        if (pw == null) {
            sessionLabels.put(s.zk.getSessionId(), label);
        }
        sessions.add(s);
        say("[" + label + "] open timeout=" + s.zk.getSessionTimeout());
        drain(s);
        return s;
    }

    void close(Sess s) throws InterruptedException {
        if (!s.dead) {
            settle();
        }
        s.zk.close();
        s.dead = true;
        sessions.remove(s);
        say("[" + s.label + "] closed");
        settle();
    }

    void closeAll() {
        for (Sess s : new ArrayList<>(sessions)) {
            try {
                s.zk.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        sessions.clear();
    }

    // ---------------------------------------------------- shorthand wrappers

    static final List<ACL> OPEN = Ids.OPEN_ACL_UNSAFE;

    String create(Sess s, String rel, String d, CreateMode m) {
        return create(s, rel, d, OPEN, m);
    }

    String create(Sess s, String rel, String d, List<ACL> acl, CreateMode m) {
        String path = p(rel);
        Stat st = new Stat();
        Object r = op(s, "create " + path + " " + m, () -> {
            String got = s.zk.create(path, b(d), acl, m, st);
            return got + " " + stat(st);
        });
        return r == null ? null : ((String) r).split(" ")[0];
    }

    void createTTL(Sess s, String rel, String d, CreateMode m, long ttl) {
        String path = p(rel);
        Stat st = new Stat();
        op(s, "create " + path + " " + m + " ttl=" + ttl, () -> s.zk.create(path, b(d), OPEN, m, st, ttl) + " " + stat(st));
    }

    void get(Sess s, String rel) {
        String path = p(rel);
        op(s, "getData " + path, () -> {
            Stat st = new Stat();
            byte[] d = s.zk.getData(path, false, st);
            return data(d) + " " + stat(st);
        });
    }

    void getW(Sess s, String rel, String wname) {
        String path = p(rel);
        op(s, "getData+watch(" + wname + ") " + path, () -> {
            Stat st = new Stat();
            byte[] d = s.zk.getData(path, s.w(wname), st);
            return data(d) + " " + stat(st);
        });
    }

    void set(Sess s, String rel, String d, int v) {
        String path = p(rel);
        op(s, "setData " + path + " v=" + v, () -> s.zk.setData(path, b(d), v));
    }

    void del(Sess s, String rel, int v) {
        String path = p(rel);
        op(s, "delete " + path + " v=" + v, () -> {
            s.zk.delete(path, v);
            return "ok";
        });
    }

    void exists(Sess s, String rel) {
        String path = p(rel);
        op(s, "exists " + path, () -> s.zk.exists(path, false));
    }

    void existsW(Sess s, String rel, String wname) {
        String path = p(rel);
        op(s, "exists+watch(" + wname + ") " + path, () -> s.zk.exists(path, s.w(wname)));
    }

    void children(Sess s, String rel) {
        String path = p(rel);
        op(s, "getChildren " + path, () -> {
            Stat st = new Stat();
            List<String> c = s.zk.getChildren(path, false, st);
            return sorted(c) + " " + stat(st);
        });
    }

    void childrenW(Sess s, String rel, String wname) {
        String path = p(rel);
        op(s, "getChildren+watch(" + wname + ") " + path, () -> sorted(s.zk.getChildren(path, s.w(wname))));
    }

    void multi(Sess s, String desc, List<Op> ops) {
        op(s, "multi " + desc, () -> s.zk.multi(ops));
    }

    void note(String s) {
        say("# " + s);
    }

    // ------------------------------------------------------------- scenarios

    static final Map<String, Body> SCENARIOS = new LinkedHashMap<>();

    static void def(String name, Body b) {
        SCENARIOS.put(name, b);
    }

    static {
        def("create-modes", t -> {
            Sess a = t.open("a");
            t.create(a, "", "root", CreateMode.PERSISTENT);
            t.create(a, "p", "persistent", CreateMode.PERSISTENT);
            t.create(a, "ps-", "seq1", CreateMode.PERSISTENT_SEQUENTIAL);
            t.create(a, "ps-", "seq2", CreateMode.PERSISTENT_SEQUENTIAL);
            t.create(a, "e", "eph", CreateMode.EPHEMERAL);
            t.create(a, "es-", "ephseq", CreateMode.EPHEMERAL_SEQUENTIAL);
            t.create(a, "c", "container", CreateMode.CONTAINER);
            t.createTTL(a, "ttl", "ttl", CreateMode.PERSISTENT_WITH_TTL, 86400000);
            t.createTTL(a, "ttls-", "ttlseq", CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, 86400000);
            t.create(a, "nulldata", null, CreateMode.PERSISTENT);
            t.create(a, "empty", "", CreateMode.PERSISTENT);
            t.children(a, "");
            for (String c : new String[] {"p", "e", "c", "ttl", "nulldata", "empty"}) {
                t.get(a, c);
            }
            t.exists(a, "missing");
            t.close(a);
            Sess b2 = t.open("b");
            t.children(b2, "");
        });

        def("create-errors", t -> {
            Sess a = t.open("a");
            t.create(a, "", "", CreateMode.PERSISTENT);
            t.create(a, "x", "1", CreateMode.PERSISTENT);
            t.create(a, "x", "2", CreateMode.PERSISTENT);
            t.create(a, "no/parent", "", CreateMode.PERSISTENT);
            t.create(a, "e", "", CreateMode.EPHEMERAL);
            t.create(a, "e/child", "", CreateMode.PERSISTENT);
            t.create(a, "e/seq-", "", CreateMode.EPHEMERAL_SEQUENTIAL);
            t.create(a, "c", "", CreateMode.CONTAINER);
            t.create(a, "c", "", CreateMode.CONTAINER);
            t.create(a, "emptyacl", "", new ArrayList<>(), CreateMode.PERSISTENT);
            t.createTTL(a, "ttl-parent-missing/x", "", CreateMode.PERSISTENT_WITH_TTL, 1000);
            t.create(a, "zookeeper-lookalike", "", CreateMode.PERSISTENT);
            t.children(a, "");
        });

        def("sequence-numbering", t -> {
            Sess a = t.open("a");
            t.create(a, "", "", CreateMode.PERSISTENT);
            t.create(a, "q-", "", CreateMode.PERSISTENT_SEQUENTIAL);
            t.create(a, "plain", "", CreateMode.PERSISTENT);
            t.create(a, "q-", "", CreateMode.EPHEMERAL_SEQUENTIAL);
            t.del(a, "plain", -1);
            t.create(a, "q-", "", CreateMode.PERSISTENT_SEQUENTIAL);
            // A trailing slash makes the sequence number the whole name.
            String sub = t.p("sub");
            t.create(a, "sub", "", CreateMode.PERSISTENT);
            t.op(a, "create " + sub + "/ seq", () -> a.zk.create(sub + "/", null, OPEN, CreateMode.PERSISTENT_SEQUENTIAL));
            t.children(a, "");
            t.children(a, "sub");
        });

        def("setdata-versions", t -> {
            Sess a = t.open("a");
            t.create(a, "", "", CreateMode.PERSISTENT);
            t.create(a, "n", "v0", CreateMode.PERSISTENT);
            t.set(a, "n", "v1", 0);
            t.set(a, "n", "v2", 0);
            t.set(a, "n", "v2", 1);
            t.set(a, "n", "any", -1);
            t.set(a, "n", null, -1);
            t.get(a, "n");
            t.set(a, "n", "", 4);
            t.get(a, "n");
            t.set(a, "missing", "x", -1);
            t.set(a, "n", "x", -2);
            t.get(a, "");
        });

        def("delete-versions", t -> {
            Sess a = t.open("a");
            t.create(a, "", "", CreateMode.PERSISTENT);
            t.create(a, "n", "", CreateMode.PERSISTENT);
            t.create(a, "n/child", "", CreateMode.PERSISTENT);
            t.del(a, "n", -1);
            t.del(a, "n/child", 3);
            t.set(a, "n/child", "x", -1);
            t.del(a, "n/child", 1);
            t.del(a, "n/child", 1);
            t.del(a, "n", 0);
            t.del(a, "missing/deeper", -1);
            t.children(a, "");
        });

        def("exists-and-children-stat", t -> {
            Sess a = t.open("a");
            t.create(a, "", "", CreateMode.PERSISTENT);
            t.exists(a, "");
            t.create(a, "a", "", CreateMode.PERSISTENT);
            t.create(a, "b", "", CreateMode.EPHEMERAL);
            t.exists(a, "");
            t.del(a, "a", -1);
            t.exists(a, "");
            t.children(a, "");
            t.children(a, "b");
            t.children(a, "missing");
            t.op(a, "getData /", () -> data(a.zk.getData("/", false, null)));
            t.op(a, "exists /zookeeper", () -> a.zk.exists("/zookeeper", false));
            t.op(a, "getChildren /zookeeper", () -> sorted(a.zk.getChildren("/zookeeper", false)));
            t.op(a, "exists /zookeeper/quota", () -> a.zk.exists("/zookeeper/quota", false));
        });

        def("multi-success", t -> {
            Sess a = t.open("a");
            t.create(a, "", "", CreateMode.PERSISTENT);
            t.create(a, "old", "o", CreateMode.PERSISTENT);
            t.multi(a, "create+set+check+delete", Arrays.asList(
                    Op.create(t.p("m1"), b("one"), OPEN, CreateMode.PERSISTENT),
                    Op.create(t.p("m1/s-"), b("seq"), OPEN, CreateMode.PERSISTENT_SEQUENTIAL),
                    Op.create(t.p("eph"), b("e"), OPEN, CreateMode.EPHEMERAL),
                    Op.create(t.p("cont"), b("c"), OPEN, CreateMode.CONTAINER),
                    Op.create(t.p("ttl"), b("t"), OPEN, CreateMode.PERSISTENT_WITH_TTL, 86400000),
                    Op.setData(t.p("m1"), b("uno"), 0),
                    Op.check(t.p("m1"), 1),
                    Op.delete(t.p("old"), 0)));
            t.children(a, "");
            t.get(a, "m1");
            t.multi(a, "empty", new ArrayList<>());
        });

        def("multi-failure", t -> {
            Sess a = t.open("a");
            t.create(a, "", "", CreateMode.PERSISTENT);
            t.create(a, "x", "x", CreateMode.PERSISTENT);
            t.multi(a, "check fails in the middle", Arrays.asList(
                    Op.create(t.p("new"), b(""), OPEN, CreateMode.PERSISTENT),
                    Op.setData(t.p("x"), b("changed"), -1),
                    Op.check(t.p("x"), 7),
                    Op.delete(t.p("x"), -1)));
            t.multi(a, "create of existing", Arrays.asList(
                    Op.create(t.p("x"), b(""), OPEN, CreateMode.PERSISTENT),
                    Op.create(t.p("y"), b(""), OPEN, CreateMode.PERSISTENT)));
            t.multi(a, "delete non-empty", Arrays.asList(
                    Op.create(t.p("x/c"), b(""), OPEN, CreateMode.PERSISTENT),
                    Op.delete(t.p("x"), -1)));
            t.multi(a, "last op fails", Arrays.asList(
                    Op.setData(t.p("x"), b("a"), 0),
                    Op.setData(t.p("x"), b("b"), 1),
                    Op.setData(t.p("missing"), b("c"), -1)));
            t.multi(a, "create then create under it then bad version", Arrays.asList(
                    Op.create(t.p("n"), b(""), OPEN, CreateMode.PERSISTENT),
                    Op.create(t.p("n/m"), b(""), OPEN, CreateMode.PERSISTENT),
                    Op.delete(t.p("n"), 5)));
            t.children(a, "");
            t.get(a, "x");
        });

        def("multi-transaction-api", t -> {
            Sess a = t.open("a");
            t.create(a, "", "", CreateMode.PERSISTENT);
            t.op(a, "transaction commit", () -> {
                Transaction tx = a.zk.transaction();
                tx.create(t.p("t1"), b("a"), OPEN, CreateMode.PERSISTENT);
                tx.create(t.p("t1/s-"), b("b"), OPEN, CreateMode.EPHEMERAL_SEQUENTIAL);
                tx.setData(t.p("t1"), b("c"), 0);
                tx.check(t.p(""), 0);
                return tx.commit();
            });
            t.op(a, "transaction fails", () -> {
                Transaction tx = a.zk.transaction();
                tx.delete(t.p("t1"), -1);
                tx.create(t.p("t2"), b(""), OPEN, CreateMode.PERSISTENT);
                return tx.commit();
            });
            t.op(a, "getEphemerals " + t.p(""), () -> sorted(a.zk.getEphemerals(t.p(""))));
            t.children(a, "");
            t.children(a, "t1");
        });

        def("multi-read", t -> {
            Sess a = t.open("a");
            t.create(a, "", "r", CreateMode.PERSISTENT);
            t.create(a, "k1", "v1", CreateMode.PERSISTENT);
            t.create(a, "k2", "v2", CreateMode.PERSISTENT);
            t.multi(a, "reads", Arrays.asList(
                    Op.getChildren(t.p("")),
                    Op.getData(t.p("k1")),
                    Op.getData(t.p("missing")),
                    Op.getChildren(t.p("missing")),
                    Op.getData(t.p("k2"))));
            t.multi(a, "read only of missing", Arrays.asList(Op.getData(t.p("missing"))));
        });

        def("multi-watch-events", t -> {
            Sess a = t.open("a");
            Sess w = t.open("w");
            t.create(a, "", "", CreateMode.PERSISTENT);
            t.create(a, "d", "", CreateMode.PERSISTENT);
            t.getW(w, "d", "data");
            t.childrenW(w, "", "kids");
            t.existsW(w, "new", "ex");
            t.multi(a, "triggers", Arrays.asList(
                    Op.setData(t.p("d"), b("1"), -1),
                    Op.create(t.p("new"), b(""), OPEN, CreateMode.PERSISTENT),
                    Op.create(t.p("other"), b(""), OPEN, CreateMode.PERSISTENT)));
            t.getW(w, "d", "data2");
            t.multi(a, "failing multi fires nothing", Arrays.asList(
                    Op.setData(t.p("d"), b("2"), -1),
                    Op.check(t.p("d"), 99)));
            t.multi(a, "delete", Arrays.asList(Op.delete(t.p("d"), -1)));
        });

        def("watch-data", t -> {
            Sess a = t.open("a");
            t.create(a, "", "", CreateMode.PERSISTENT);
            t.create(a, "n", "0", CreateMode.PERSISTENT);
            t.getW(a, "n", "g1");
            t.set(a, "n", "1", -1);
            t.set(a, "n", "2", -1);
            t.getW(a, "n", "g2");
            t.existsW(a, "n", "x2");
            t.del(a, "n", -1);
            t.existsW(a, "n", "x3");
            t.create(a, "n", "again", CreateMode.PERSISTENT);
            t.existsW(a, "n", "x4");
            t.set(a, "n", "3", -1);
            t.getW(a, "missing", "g5");
            t.create(a, "missing", "", CreateMode.PERSISTENT);
            // The same watcher registered twice fires once.
            Watcher once = a.w("same");
            String n = t.p("n");
            t.op(a, "getData twice with one watcher", () -> {
                a.zk.getData(n, once, null);
                a.zk.exists(n, once);
                return "ok";
            });
            t.set(a, "n", "4", -1);
        });

        def("watch-children", t -> {
            Sess a = t.open("a");
            t.create(a, "", "", CreateMode.PERSISTENT);
            t.childrenW(a, "", "c1");
            t.set(a, "", "data does not fire child watch", -1);
            t.create(a, "k", "", CreateMode.PERSISTENT);
            t.childrenW(a, "", "c2");
            t.childrenW(a, "k", "c3");
            t.getW(a, "k", "d3");
            t.del(a, "k", -1);
            t.childrenW(a, "", "c4");
            t.create(a, "e", "", CreateMode.EPHEMERAL);
            t.childrenW(a, "", "c5");
            t.childrenW(a, "missing", "c6");
            t.create(a, "missing", "", CreateMode.PERSISTENT);
            t.del(a, "e", -1);
        });

        def("watch-cross-session", t -> {
            Sess a = t.open("a");
            Sess b2 = t.open("b");
            t.create(a, "", "", CreateMode.PERSISTENT);
            t.existsW(b2, "e", "ex");
            t.childrenW(b2, "", "kids");
            t.create(a, "e", "", CreateMode.EPHEMERAL);
            t.getW(b2, "e", "data");
            t.childrenW(b2, "", "kids2");
            t.close(a);
            t.exists(b2, "e");
        });

        def("persistent-watch", t -> {
            Sess a = t.open("a");
            t.create(a, "", "", CreateMode.PERSISTENT);
            Watcher pw = a.w("pers");
            String n = t.p("n");
            t.op(a, "addWatch PERSISTENT " + n, () -> {
                a.zk.addWatch(n, pw, AddWatchMode.PERSISTENT);
                return "ok";
            });
            t.create(a, "n", "", CreateMode.PERSISTENT);
            t.set(a, "n", "1", -1);
            t.create(a, "n/kid", "", CreateMode.PERSISTENT);
            t.set(a, "n/kid", "not seen", -1);
            t.create(a, "n/kid/grand", "", CreateMode.PERSISTENT);
            t.del(a, "n/kid/grand", -1);
            t.del(a, "n/kid", -1);
            t.del(a, "n", -1);
            t.create(a, "n", "back", CreateMode.PERSISTENT);
            t.op(a, "removeWatches Any " + n, () -> {
                a.zk.removeWatches(n, pw, Watcher.WatcherType.Any, false);
                return "ok";
            });
            t.set(a, "n", "quiet", -1);
        });

        def("persistent-recursive-watch", t -> {
            Sess a = t.open("a");
            Sess w = t.open("w");
            t.create(a, "", "", CreateMode.PERSISTENT);
            Watcher rw = w.w("rec");
            String r = t.p("");
            t.op(w, "addWatch PERSISTENT_RECURSIVE " + r, () -> {
                w.zk.addWatch(r, rw, AddWatchMode.PERSISTENT_RECURSIVE);
                return "ok";
            });
            t.create(a, "a", "", CreateMode.PERSISTENT);
            t.create(a, "a/b", "", CreateMode.PERSISTENT);
            t.create(a, "a/b/c", "", CreateMode.EPHEMERAL);
            t.set(a, "a/b", "x", -1);
            t.set(a, "", "root", -1);
            t.multi(a, "two creates", Arrays.asList(
                    Op.create(t.p("m1"), b(""), OPEN, CreateMode.PERSISTENT),
                    Op.create(t.p("m1/m2"), b(""), OPEN, CreateMode.PERSISTENT)));
            t.del(a, "a/b/c", -1);
            t.getW(w, "a/b", "oneshot");
            t.set(a, "a/b", "y", -1);
            t.close(a);
            t.op(w, "removeAllWatches Any " + r, () -> {
                w.zk.removeAllWatches(r, Watcher.WatcherType.Any, false);
                return "ok";
            });
            t.create(w, "after", "", CreateMode.PERSISTENT);
        });

        def("persistent-and-standard", t -> {
            Sess a = t.open("a");
            t.create(a, "", "", CreateMode.PERSISTENT);
            t.create(a, "n", "", CreateMode.PERSISTENT);
            String n = t.p("n");
            t.op(a, "addWatch PERSISTENT+RECURSIVE " + n, () -> {
                a.zk.addWatch(n, a.w("p"), AddWatchMode.PERSISTENT);
                a.zk.addWatch(t.p(""), a.w("r"), AddWatchMode.PERSISTENT_RECURSIVE);
                return "ok";
            });
            t.getW(a, "n", "d");
            t.childrenW(a, "n", "c");
            t.existsW(a, "n", "e");
            t.set(a, "n", "1", -1);
            t.create(a, "n/k", "", CreateMode.PERSISTENT);
            t.del(a, "n/k", -1);
            t.del(a, "n", -1);
        });

        def("remove-watches", t -> {
            Sess a = t.open("a");
            t.create(a, "", "", CreateMode.PERSISTENT);
            t.create(a, "n", "", CreateMode.PERSISTENT);
            String n = t.p("n");
            Watcher dw = a.w("dw");
            Watcher cw = a.w("cw");
            t.op(a, "set data+child watches", () -> {
                a.zk.getData(n, dw, null);
                a.zk.getChildren(n, cw);
                return "ok";
            });
            t.op(a, "removeWatches Data dw", () -> {
                a.zk.removeWatches(n, dw, Watcher.WatcherType.Data, false);
                return "ok";
            });
            t.op(a, "removeWatches Data dw again", () -> {
                a.zk.removeWatches(n, dw, Watcher.WatcherType.Data, false);
                return "ok";
            });
            t.op(a, "removeWatches Children cw", () -> {
                a.zk.removeWatches(n, cw, Watcher.WatcherType.Children, false);
                return "ok";
            });
            t.set(a, "n", "x", -1);
            t.create(a, "n/k", "", CreateMode.PERSISTENT);
            Watcher any = a.w("any");
            t.op(a, "set data+child+exists watches with one watcher", () -> {
                a.zk.getData(n, any, null);
                a.zk.getChildren(n, any);
                return "ok";
            });
            t.op(a, "removeWatches Any", () -> {
                a.zk.removeWatches(n, any, Watcher.WatcherType.Any, false);
                return "ok";
            });
            t.op(a, "removeAllWatches on unwatched node", () -> {
                a.zk.removeAllWatches(t.p(""), Watcher.WatcherType.Any, false);
                return "ok";
            });
            t.op(a, "removeAllWatches missing node", () -> {
                a.zk.removeAllWatches(t.p("missing"), Watcher.WatcherType.Any, false);
                return "ok";
            });
            t.op(a, "watch then removeAllWatches Data", () -> {
                a.zk.exists(t.p("missing"), a.w("ex"));
                a.zk.removeAllWatches(t.p("missing"), Watcher.WatcherType.Data, false);
                return "ok";
            });
            t.create(a, "missing", "", CreateMode.PERSISTENT);
            t.set(a, "n", "y", -1);
        });

        def("acl-digest", t -> {
            Sess a = t.open("a");
            Sess other = t.open("other");
            Sess anon = t.open("anon");
            t.create(a, "", "", CreateMode.PERSISTENT);
            t.op(a, "addAuthInfo digest user:pw", () -> {
                a.zk.addAuthInfo("digest", b("user:pw"));
                return "ok";
            });
            t.create(a, "secret", "s", Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
            String s = t.p("secret");
            t.op(a, "getACL " + s, () -> {
                Stat st = new Stat();
                return acls(a.zk.getACL(s, st)) + " " + t.stat(st);
            });
            t.get(a, "secret");
            t.get(anon, "secret");
            t.exists(anon, "secret");
            t.set(anon, "secret", "x", -1);
            t.create(anon, "secret/kid", "", CreateMode.PERSISTENT);
            t.op(anon, "getACL " + s, () -> acls(anon.zk.getACL(s, null)));
            t.children(anon, "secret");
            t.op(other, "addAuthInfo digest user:wrong", () -> {
                other.zk.addAuthInfo("digest", b("user:wrong"));
                return "ok";
            });
            t.get(other, "secret");
            t.op(other, "addAuthInfo digest user:pw", () -> {
                other.zk.addAuthInfo("digest", b("user:pw"));
                return "ok";
            });
            t.get(other, "secret");
            t.set(other, "secret", "by other", 0);
            t.op(anon, "addAuthInfo digest super:test", () -> {
                anon.zk.addAuthInfo("digest", b("super:test"));
                return "ok";
            });
            t.get(anon, "secret");
            t.op(anon, "whoAmI", () -> anon.zk.whoAmI());
            t.create(a, "auth", "", Arrays.asList(new ACL(Perms.ALL, new Id("auth", ""))), CreateMode.PERSISTENT);
            t.op(a, "getACL auth-scheme node", () -> acls(a.zk.getACL(t.p("auth"), null)));
            t.del(anon, "secret", -1);
        });

        def("acl-read-unsafe", t -> {
            Sess a = t.open("a");
            t.create(a, "", "", CreateMode.PERSISTENT);
            t.create(a, "ro", "r", Ids.READ_ACL_UNSAFE, CreateMode.PERSISTENT);
            t.get(a, "ro");
            t.set(a, "ro", "w", -1);
            t.create(a, "ro/kid", "", CreateMode.PERSISTENT);
            String ro = t.p("ro");
            t.op(a, "setACL " + ro, () -> a.zk.setACL(ro, OPEN, -1));
            t.op(a, "getACL " + ro, () -> acls(a.zk.getACL(ro, null)));
            t.create(a, "cw", "", Arrays.asList(new ACL(Perms.CREATE | Perms.WRITE, Ids.ANYONE_ID_UNSAFE)), CreateMode.PERSISTENT);
            t.create(a, "cw/kid", "", CreateMode.PERSISTENT);
            t.get(a, "cw");
            t.children(a, "cw");
            t.del(a, "cw/kid", -1);
            t.del(a, "ro", -1);
        });

        def("acl-invalid", t -> {
            Sess a = t.open("a");
            t.create(a, "", "", CreateMode.PERSISTENT);
            t.create(a, "creator", "", Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
            t.create(a, "baddigest", "", Arrays.asList(new ACL(Perms.ALL, new Id("digest", "nocolon"))), CreateMode.PERSISTENT);
            t.create(a, "badscheme", "", Arrays.asList(new ACL(Perms.ALL, new Id("nosuch", "x"))), CreateMode.PERSISTENT);
            t.create(a, "badip", "", Arrays.asList(new ACL(Perms.ALL, new Id("ip", "300.1.2.3"))), CreateMode.PERSISTENT);
            t.create(a, "badworld", "", Arrays.asList(new ACL(Perms.ALL, new Id("world", "someone"))), CreateMode.PERSISTENT);
            t.create(a, "ok", "", OPEN, CreateMode.PERSISTENT);
            String ok = t.p("ok");
            t.op(a, "setACL creator-all without auth", () -> a.zk.setACL(ok, Ids.CREATOR_ALL_ACL, -1));
            t.op(a, "setACL empty", () -> a.zk.setACL(ok, new ArrayList<>(), -1));
            t.multi(a, "create with invalid ACL in multi", Arrays.asList(
                    Op.create(t.p("m"), b(""), OPEN, CreateMode.PERSISTENT),
                    Op.create(t.p("m2"), b(""), Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT)));
            t.children(a, "");
        });

        def("acl-versions", t -> {
            Sess a = t.open("a");
            t.create(a, "", "", CreateMode.PERSISTENT);
            t.create(a, "n", "", CreateMode.PERSISTENT);
            String n = t.p("n");
            List<ACL> two = Arrays.asList(new ACL(Perms.READ | Perms.ADMIN, Ids.ANYONE_ID_UNSAFE),
                    new ACL(Perms.ALL, new Id("ip", "127.0.0.1")));
            t.op(a, "setACL v=5", () -> a.zk.setACL(n, two, 5));
            t.op(a, "setACL v=0", () -> a.zk.setACL(n, two, 0));
            t.op(a, "setACL v=0 again", () -> a.zk.setACL(n, OPEN, 0));
            t.op(a, "getACL", () -> {
                Stat st = new Stat();
                return acls(a.zk.getACL(n, st)) + " " + t.stat(st);
            });
            t.set(a, "n", "ip grants write", -1);
            t.op(a, "setACL missing", () -> a.zk.setACL(t.p("missing"), OPEN, -1));
            t.op(a, "setACL read-only", () -> a.zk.setACL(n, Ids.READ_ACL_UNSAFE, -1));
            t.op(a, "setACL without ADMIN", () -> a.zk.setACL(n, OPEN, -1));
            t.create(a, "net", "", Arrays.asList(new ACL(Perms.ALL, new Id("ip", "10.0.0.0/8"))), CreateMode.PERSISTENT);
            t.get(a, "net");
            t.create(a, "lo", "", Arrays.asList(new ACL(Perms.ALL, new Id("ip", "127.0.0.0/8"))), CreateMode.PERSISTENT);
            t.get(a, "lo");
        });

        def("auth-failed", t -> {
            Sess a = t.open("a");
            Sess b2 = t.open("b");
            t.create(b2, "", "", CreateMode.PERSISTENT);
            a.quietConn = true;
            a.zk.addAuthInfo("nosuchscheme", b("x"));
            say("[a] addAuthInfo nosuchscheme");
            t.awaitEvent(a, "AuthFailed", e -> e.getState() == Watcher.Event.KeeperState.AuthFailed);
            t.op(a, "exists after auth failure", () -> a.zk.exists(t.p(""), false));
            t.exists(b2, "");
        });

        def("whoami", t -> {
            Sess a = t.open("a");
            t.op(a, "whoAmI", () -> a.zk.whoAmI());
            t.op(a, "addAuthInfo digest u1:p1", () -> {
                a.zk.addAuthInfo("digest", b("u1:p1"));
                return "ok";
            });
            t.op(a, "whoAmI", () -> a.zk.whoAmI());
            t.op(a, "addAuthInfo digest u2:p2 + u1:p1 again", () -> {
                a.zk.addAuthInfo("digest", b("u2:p2"));
                a.zk.addAuthInfo("digest", b("u1:p1"));
                return "ok";
            });
            t.op(a, "whoAmI", () -> a.zk.whoAmI());
            t.op(a, "addAuthInfo ip 10.1.1.1", () -> {
                a.zk.addAuthInfo("ip", b("10.1.1.1"));
                return "ok";
            });
            t.op(a, "whoAmI", () -> a.zk.whoAmI());
        });

        def("ephemerals", t -> {
            Sess a = t.open("a");
            Sess b2 = t.open("b");
            t.create(a, "", "", CreateMode.PERSISTENT);
            t.create(a, "x", "", CreateMode.PERSISTENT);
            t.create(a, "e1", "", CreateMode.EPHEMERAL);
            t.create(a, "x/e2", "", CreateMode.EPHEMERAL);
            t.create(a, "x/es-", "", CreateMode.EPHEMERAL_SEQUENTIAL);
            t.create(b2, "eb", "", CreateMode.EPHEMERAL);
            String r = t.p("");
            t.op(a, "getEphemerals " + r, () -> sorted(a.zk.getEphemerals(r)));
            t.op(a, "getEphemerals " + r + "/x", () -> sorted(a.zk.getEphemerals(r + "/x")));
            t.op(a, "getEphemerals " + r + "/x/e (prefix)", () -> sorted(a.zk.getEphemerals(r + "/x/e")));
            t.op(a, "getEphemerals " + r + "/nomatch", () -> sorted(a.zk.getEphemerals(r + "/nomatch")));
            t.op(b2, "getEphemerals " + r, () -> sorted(b2.zk.getEphemerals(r)));
            t.op(b2, "getEphemerals /", () -> sorted(b2.zk.getEphemerals("/")));
            t.op(b2, "getEphemerals", () -> sorted(b2.zk.getEphemerals()));
            t.childrenW(b2, "x", "kids");
            t.existsW(b2, "e1", "e1");
            t.close(a);
            t.children(b2, "");
        });

        def("all-children-number", t -> {
            Sess a = t.open("a");
            t.create(a, "", "", CreateMode.PERSISTENT);
            t.create(a, "a", "", CreateMode.PERSISTENT);
            t.create(a, "a/b", "", CreateMode.PERSISTENT);
            t.create(a, "a/b/c", "", CreateMode.EPHEMERAL);
            t.create(a, "d", "", CreateMode.CONTAINER);
            String r = t.p("");
            t.op(a, "getAllChildrenNumber " + r, () -> a.zk.getAllChildrenNumber(r));
            t.op(a, "getAllChildrenNumber " + r + "/a", () -> a.zk.getAllChildrenNumber(r + "/a"));
            t.op(a, "getAllChildrenNumber " + r + "/a/b/c", () -> a.zk.getAllChildrenNumber(r + "/a/b/c"));
            t.op(a, "getAllChildrenNumber missing", () -> a.zk.getAllChildrenNumber(r + "/missing"));
            t.op(a, "getAllChildrenNumber /zookeeper", () -> a.zk.getAllChildrenNumber("/zookeeper"));
        });

        def("container", t -> {
            Sess a = t.open("a");
            t.create(a, "", "", CreateMode.PERSISTENT);
            t.create(a, "used", "u", CreateMode.CONTAINER);
            t.create(a, "never", "n", CreateMode.CONTAINER);
            t.create(a, "used/kid", "", CreateMode.PERSISTENT);
            t.create(a, "used/eph", "", CreateMode.EPHEMERAL);
            t.get(a, "used");
            t.del(a, "used/kid", -1);
            t.del(a, "used/eph", -1);
            t.awaitDeleted(a, t.p("used"));
            t.exists(a, "used");
            t.exists(a, "never");
            t.create(a, "never/kid", "", CreateMode.CONTAINER);
            t.del(a, "never/kid", -1);
            t.awaitDeleted(a, t.p("never"));
            t.children(a, "");
        });

        def("ttl", t -> {
            Sess a = t.open("a");
            t.create(a, "", "", CreateMode.PERSISTENT);
            t.createTTL(a, "short", "s", CreateMode.PERSISTENT_WITH_TTL, 300);
            t.createTTL(a, "parent", "p", CreateMode.PERSISTENT_WITH_TTL, 300);
            t.create(a, "parent/kid", "", CreateMode.PERSISTENT);
            t.createTTL(a, "seq-", "q", CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, 300);
            t.awaitDeleted(a, t.p("short"));
            t.awaitDeleted(a, t.p("seq-0000000002"));
            t.exists(a, "parent");
            t.del(a, "parent/kid", -1);
            t.awaitDeleted(a, t.p("parent"));
            t.createTTL(a, "long", "l", CreateMode.PERSISTENT_WITH_TTL, 86400000);
            t.get(a, "long");
            t.children(a, "");
        });

        def("sync-and-config", t -> {
            Sess a = t.open("a");
            t.op(a, "sync /", () -> {
                CountDownLatch l = new CountDownLatch(1);
                int[] rc = new int[1];
                String[] p = new String[1];
                a.zk.sync("/", (code, path, ctx) -> {
                    rc[0] = code;
                    p[0] = path;
                    l.countDown();
                }, null);
                l.await(WAIT_MS, TimeUnit.MILLISECONDS);
                return KeeperException.Code.get(rc[0]) + " " + p[0];
            });
            t.op(a, "sync missing", () -> {
                CountDownLatch l = new CountDownLatch(1);
                int[] rc = new int[1];
                a.zk.sync("/no/such/node", (code, path, ctx) -> {
                    rc[0] = code;
                    l.countDown();
                }, null);
                l.await(WAIT_MS, TimeUnit.MILLISECONDS);
                return KeeperException.Code.get(rc[0]);
            });
            t.op(a, "getConfig+watch", () -> {
                Stat st = new Stat();
                return data(a.zk.getConfig(a.w("cfg"), st)) + " " + t.stat(st);
            });
            t.op(a, "getData /zookeeper/config", () -> data(a.zk.getData("/zookeeper/config", false, null)));
            t.op(a, "getACL /zookeeper/config", () -> acls(a.zk.getACL("/zookeeper/config", null)));
            t.op(a, "getData /zookeeper/quota", () -> data(a.zk.getData("/zookeeper/quota", false, null)));
            t.op(a, "getChildren /zookeeper", () -> sorted(a.zk.getChildren("/zookeeper", false)));
        });

        def("reserved-paths", t -> {
            Sess a = t.open("a");
            t.op(a, "delete /zookeeper", () -> {
                a.zk.delete("/zookeeper", -1);
                return "ok";
            });
            t.op(a, "setData /zookeeper/config", () -> a.zk.setData("/zookeeper/config", b("x"), -1));
            t.op(a, "create /zookeeper/x", () -> a.zk.create("/zookeeper/x", null, OPEN, CreateMode.EPHEMERAL));
            t.op(a, "delete /zookeeper/x", () -> {
                a.zk.delete("/zookeeper/x", -1);
                return "ok";
            });
            t.op(a, "delete /", () -> {
                a.zk.delete("/", -1);
                return "ok";
            });
            t.op(a, "setData / v=123", () -> a.zk.setData("/", b(""), 123));
            t.op(a, "create / (exists)", () -> a.zk.create("/", null, OPEN, CreateMode.PERSISTENT));
        });

        def("session-expiry", t -> {
            Sess a = t.open("a", t.connect, 10000, 0, null, true);
            Sess b2 = t.open("b");
            t.create(a, "", "", CreateMode.PERSISTENT);
            t.create(a, "eph", "", CreateMode.EPHEMERAL);
            t.existsW(b2, "eph", "gone");
            Sess dup = t.open("dup", t.connect, 10000, a.zk.getSessionId(), a.zk.getSessionPasswd(), true);
            say("[dup] same session id: " + (dup.zk.getSessionId() == a.zk.getSessionId()));
            t.sessions.remove(dup);
            dup.zk.close();
            say("[dup] closed");
            t.awaitEvent(a, "Expired", e -> e.getState() == Watcher.Event.KeeperState.Expired);
            t.awaitEvent(b2, "NodeDeleted", e -> e.getType() == Watcher.Event.EventType.NodeDeleted);
            t.exists(a, "");
            t.children(b2, "");
        });

        def("session-bad-password", t -> {
            Sess a = t.open("a", t.connect, 10000, 0, null, true);
            byte[] pw = a.zk.getSessionPasswd().clone();
            pw[0] ^= 0x55;
            Sess bad = t.open("bad", t.connect, 10000, a.zk.getSessionId(), pw, true);
            t.settle();
            t.op(bad, "exists /", () -> bad.zk.exists("/", false));
            t.op(a, "exists /", () -> a.zk.exists("/", false) != null);
            Sess bogus = t.open("bogus", t.connect, 10000, 0x7777777777L, new byte[16], true);
            t.settle();
        });

        def("session-timeout-negotiation", t -> {
            for (int ms : new int[] {100, 999, 1000, 4000, 60000, 100000}) {
                Sess s = t.open("t" + ms, t.connect, ms, 0, null, false);
                t.close(s);
            }
        });

        def("chroot", t -> {
            Sess a = t.open("a");
            t.create(a, "", "", CreateMode.PERSISTENT);
            Sess c = t.open("c", t.connect + t.root, 10000, 0, null, false);
            t.op(c, "create /x", () -> c.zk.create("/x", b("x"), OPEN, CreateMode.PERSISTENT));
            t.op(c, "create /s-", () -> c.zk.create("/s-", b(""), OPEN, CreateMode.EPHEMERAL_SEQUENTIAL));
            t.op(c, "getChildren /", () -> sorted(c.zk.getChildren("/", false)));
            t.op(c, "exists+watch /x", () -> c.zk.exists("/x", c.w("ex")));
            t.op(c, "addWatch recursive /", () -> {
                c.zk.addWatch("/", c.w("rec"), AddWatchMode.PERSISTENT_RECURSIVE);
                return "ok";
            });
            t.set(a, "x", "from outside", -1);
            t.create(a, "y", "", CreateMode.PERSISTENT);
            t.op(c, "multi", () -> c.zk.multi(Arrays.asList(
                    Op.create("/m", b(""), OPEN, CreateMode.PERSISTENT),
                    Op.setData("/x", b("2"), -1),
                    Op.delete("/m", -1),
                    Op.create("/m", b("again"), OPEN, CreateMode.PERSISTENT_SEQUENTIAL))));
            t.op(c, "multi read", () -> c.zk.multi(Arrays.asList(Op.getChildren("/"), Op.getData("/m"))));
            t.op(c, "getEphemerals /", () -> sorted(c.zk.getEphemerals("/")));
            t.op(c, "getAllChildrenNumber /", () -> c.zk.getAllChildrenNumber("/"));
            t.op(c, "sync /", () -> {
                CountDownLatch l = new CountDownLatch(1);
                String[] p = new String[1];
                c.zk.sync("/", (code, path, ctx) -> {
                    p[0] = KeeperException.Code.get(code) + " " + path;
                    l.countDown();
                }, null);
                l.await(WAIT_MS, TimeUnit.MILLISECONDS);
                return p[0];
            });
            t.op(c, "getData /zookeeper", () -> data(c.zk.getData("/zookeeper", false, null)));
            t.op(c, "delete /x", () -> {
                c.zk.delete("/x", -1);
                return "ok";
            });
            t.children(a, "");
        });

        def("ephemeral-close-events", t -> {
            Sess a = t.open("a");
            Sess w = t.open("w");
            t.create(a, "", "", CreateMode.PERSISTENT);
            t.create(a, "p", "", CreateMode.PERSISTENT);
            t.create(a, "p/e1", "", CreateMode.EPHEMERAL);
            t.create(a, "p/e2", "", CreateMode.EPHEMERAL);
            t.create(a, "e3", "", CreateMode.EPHEMERAL);
            t.childrenW(w, "p", "kids");
            t.getW(w, "p/e1", "d1");
            t.existsW(w, "e3", "x3");
            String r = t.p("");
            t.op(w, "addWatch PERSISTENT_RECURSIVE " + r, () -> {
                w.zk.addWatch(r, w.w("rec"), AddWatchMode.PERSISTENT_RECURSIVE);
                return "ok";
            });
            t.close(a);
            t.children(w, "");
            t.children(w, "p");
        });

        def("large-and-binary-data", t -> {
            Sess a = t.open("a");
            t.create(a, "", "", CreateMode.PERSISTENT);
            byte[] big = new byte[512 * 1024];
            for (int i = 0; i < big.length; i++) {
                big[i] = (byte) (i * 31);
            }
            String p = t.p("big");
            t.op(a, "create 512KiB", () -> a.zk.create(p, big, OPEN, CreateMode.PERSISTENT));
            t.op(a, "getData 512KiB", () -> {
                Stat st = new Stat();
                byte[] d = a.zk.getData(p, false, st);
                return "len=" + d.length + " equal=" + Arrays.equals(d, big) + " " + t.stat(st);
            });
            byte[] bin = new byte[256];
            for (int i = 0; i < 256; i++) {
                bin[i] = (byte) i;
            }
            t.op(a, "setData binary", () -> a.zk.setData(p, bin, -1));
            t.op(a, "getData binary", () -> Arrays.equals(a.zk.getData(p, false, null), bin));
            t.op(a, "create unicode name", () -> a.zk.create(t.p("名前-ü"), b("ünï"), OPEN, CreateMode.PERSISTENT));
            t.children(a, "");
        });
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: ZkScenarios host:port list|all|NAME...");
            System.exit(2);
        }
        if (args[1].equals("list")) {
            for (String n : SCENARIOS.keySet()) {
                say(n);
            }
            return;
        }
        List<String> names = new ArrayList<>();
        if (args[1].equals("all")) {
            names.addAll(SCENARIOS.keySet());
        } else {
            names.addAll(Arrays.asList(args).subList(1, args.length));
        }
        int bad = 0;
        for (String n : names) {
            Body body = SCENARIOS.get(n);
            say("=== " + n);
            if (body == null) {
                say("UNKNOWN SCENARIO");
                bad++;
                continue;
            }
            ZkScenarios t = new ZkScenarios(args[0], "/jc-" + n);
            try {
                body.run(t);
            } catch (Throwable e) {
                say("SCENARIO EXCEPTION " + e);
            } finally {
                t.closeAll();
            }
        }
        System.out.flush();
        System.exit(bad == 0 ? 0 : 1);
    }
}
