package main

import (
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkclient"
)

type command struct {
	opts string // zkCli's option string, shown in usage
	run  func(c *cli, args []string) error
}

var commands map[string]command

func init() {
	commands = map[string]command{
		"connect":      {opts: "host:port"},
		"history":      {opts: ""},
		"redo":         {opts: "cmdno"},
		"printwatches": {opts: "on|off"},
		"quit":         {opts: ""},
		"close":        {opts: "", run: (*cli).cmdClose},
		"create":       {opts: "[-s] [-e] [-c] [-t ttl] path [data] [acl]", run: (*cli).cmdCreate},
		"delete":       {opts: "[-v version] path", run: (*cli).cmdDelete},
		"deleteall":    {opts: "path [-b batch size]", run: (*cli).cmdDeleteAll},
		"set":          {opts: "[-s] [-v version] path data", run: (*cli).cmdSet},
		"get":          {opts: "[-s] [-w] path", run: (*cli).cmdGet},
		"ls":           {opts: "[-s] [-w] [-R] path", run: (*cli).cmdLs},
		"getAcl":       {opts: "[-s] path", run: (*cli).cmdGetACL},
		"setAcl":       {opts: "[-s] [-v version] [-R] path acl", run: (*cli).cmdSetACL},
		"stat":         {opts: "[-w] path", run: (*cli).cmdStat},
		"sync":         {opts: "path", run: (*cli).cmdSync},
		"setquota":     {opts: "-n|-b|-N|-B val path", run: unsupported},
		"listquota":    {opts: "path", run: unsupported},
		"delquota":     {opts: "[-n|-b|-N|-B] path", run: unsupported},
		"addauth":      {opts: "scheme auth", run: (*cli).cmdAddAuth},
		"reconfig": {opts: "[-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;port3[,...]*]] | " +
			"[-add serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]", run: unsupported},
		"config":               {opts: "[-c] [-w] [-s]", run: (*cli).cmdConfig},
		"removewatches":        {opts: "path [-c|-d|-a] [-l]", run: (*cli).cmdRemoveWatches},
		"getEphemerals":        {opts: "path", run: (*cli).cmdGetEphemerals},
		"getAllChildrenNumber": {opts: "path", run: (*cli).cmdGetAllChildrenNumber},
		"version":              {opts: "", run: (*cli).cmdVersion},
		"addWatch": {opts: "[-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE",
			run: (*cli).cmdAddWatch},
		"whoami": {opts: "", run: (*cli).cmdWhoAmI},
	}
}

func usageErr(name string) error { return failf("%s %s", name, commands[name].opts) }

func unsupported(c *cli, args []string) error {
	return failf("zkcli: %s is not supported yet", args[0])
}

// zkErr turns a client error into CliWrapperException's message for path.
func (c *cli) zkErr(err error, path string) error {
	var code jute.Err
	if errors.As(err, &code) {
		return failf("%s", keeperMessage(code, path))
	}
	return failf("%s", err.Error())
}

// conn returns the session, connecting first if needed.
func (c *cli) connFor(path string) (*zkclient.Conn, error) {
	if err := c.ensureConn(); err != nil {
		return nil, c.zkErr(err, path)
	}
	return c.conn, nil
}

func validate(path string, seq bool) error {
	if err := zkclient.ValidatePath(path, seq); err != nil {
		return failf("%s", err.Error())
	}
	return nil
}

// parseWithCompat parses and applies the "cmd path watch" rewrite that
// ls, get and stat keep for old scripts.
func (c *cli) parseWithCompat(spec optSpec, args []string, deprecated string) (cmdLine, error) {
	cl, err := parseOpts(spec, args)
	if err != nil || len(cl.args) <= 2 {
		return cl, err
	}
	args = append([]string(nil), args...)
	args[2] = "-w"
	c.eprintln(deprecated)
	return parseOpts(spec, args)
}

func (c *cli) cmdLs(args []string) error {
	spec := optSpec{"?": false, "s": false, "w": false, "R": false}
	cl, err := c.parseWithCompat(spec, args, "'ls path [watch]' has been deprecated. Please use 'ls [-w] path' instead.")
	if err != nil {
		return err
	}
	if cl.has("?") {
		c.println("usage: ls [options] path\n -?   help\n -R   recurse\n -s   stat\n -w   watch")
	}
	if len(cl.args) < 2 {
		return usageErr("ls")
	}
	path, watch := cl.args[1], cl.has("w")
	if err := validate(path, false); err != nil {
		return err
	}
	zk, err := c.connFor(path)
	if err != nil {
		return err
	}
	if cl.has("R") {
		return c.visitDFS(zk, path, watch, func(p string) { c.println(p) })
	}
	var kids []string
	var st jute.Stat
	if cl.has("s") {
		kids, st, err = zk.Children2(path, watch)
	} else {
		kids, err = zk.Children(path, watch)
	}
	if err != nil {
		return c.zkErr(err, path)
	}
	if watch {
		c.watches.child[path] = true
	}
	sort.Strings(kids)
	c.println(javaList(kids))
	if cl.has("s") {
		printStat(c.out, st)
	}
	return nil
}

// visitDFS is ZKUtil.visitSubTreeDFS: the root (checked with getData), then
// each node's sorted children, then their subtrees; nodes vanishing midway
// are skipped.
func (c *cli) visitDFS(zk *zkclient.Conn, path string, watch bool, visit func(string)) error {
	if _, _, err := zk.Get(path, watch); err != nil {
		return c.zkErr(err, path)
	}
	if watch {
		c.watches.data[path] = true
	}
	visit(path)
	var walk func(p string) error
	walk = func(p string) error {
		kids, err := zk.Children(p, watch)
		if errors.Is(err, jute.ErrNoNode) {
			return nil
		}
		if err != nil {
			return c.zkErr(err, p)
		}
		if watch {
			c.watches.child[p] = true
		}
		sort.Strings(kids)
		prefix := p + "/"
		if p == "/" {
			prefix = "/"
		}
		for _, k := range kids {
			visit(prefix + k)
		}
		for _, k := range kids {
			if err := walk(prefix + k); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(path)
}

func (c *cli) cmdCreate(args []string) error {
	cl, err := parseOpts(optSpec{"e": false, "s": false, "c": false, "t": true}, args)
	if err != nil {
		return err
	}
	if len(cl.args) < 2 {
		return usageErr("create")
	}
	hasE, hasS, hasC, hasT := cl.has("e"), cl.has("s"), cl.has("c"), cl.has("t")
	if hasC && (hasE || hasS) {
		return failf("-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.")
	}
	var ttl int64
	if hasT {
		ttl, err = strconv.ParseInt(cl.opts["t"], 10, 64)
		if err != nil {
			return failf("-t argument must be a long value")
		}
	}
	if hasT && hasE {
		return failf("TTLs cannot be used with Ephemeral znodes")
	}
	if hasT && hasC {
		return failf("TTLs cannot be used with Container znodes")
	}
	var mode int32
	switch {
	case hasE && hasS:
		mode = jute.ModeEphemeralSequential
	case hasE:
		mode = jute.ModeEphemeral
	case hasS && hasT:
		mode = jute.ModePersistentSequentialWithTTL
	case hasS:
		mode = jute.ModePersistentSequential
	case hasC:
		mode = jute.ModeContainer
	case hasT:
		mode = jute.ModePersistentWithTTL
	}
	const maxTTL = 1<<40 - 1
	if hasT && (ttl <= 0 || ttl > maxTTL) {
		return failf("ttl must be positive and cannot be larger than: %d", int64(maxTTL))
	}
	path := cl.args[1]
	var data []byte
	if len(cl.args) > 2 {
		data = []byte(cl.args[2])
	}
	acl := jute.OpenACLUnsafe
	if len(cl.args) > 3 {
		acl = parseACL(cl.args[3], c.eprintln)
	}
	if err := validate(path, hasS); err != nil {
		return err
	}
	zk, err := c.connFor(path)
	if err != nil {
		return err
	}
	var created string
	switch {
	case hasT:
		created, _, err = zk.CreateTTL(path, data, acl, mode, ttl)
	case hasC:
		created, _, err = zk.CreateContainer(path, data, acl)
	default:
		created, err = zk.Create(path, data, acl, mode)
	}
	switch {
	case errors.Is(err, jute.ErrEphemeralOnLocalSession):
		c.eprintln("Unable to create ephemeral node on a local session")
	case errors.Is(err, jute.ErrInvalidACL):
		c.eprintln(keeperExceptionMessage(jute.ErrInvalidACL, path))
	}
	if err != nil {
		return c.zkErr(err, path)
	}
	c.eprintln("Created " + created)
	return nil
}

func (c *cli) cmdGet(args []string) error {
	spec := optSpec{"s": false, "w": false}
	cl, err := parseOpts(spec, args)
	if err != nil {
		return err
	}
	if len(cl.args) < 2 {
		return usageErr("get")
	}
	if cl, err = c.parseWithCompat(spec, args, "'get path [watch]' has been deprecated. Please use 'get [-s] [-w] path' instead."); err != nil {
		return err
	}
	path := cl.args[1]
	if err := validate(path, false); err != nil {
		return err
	}
	zk, err := c.connFor(path)
	if err != nil {
		return err
	}
	data, st, err := zk.Get(path, cl.has("w"))
	if err != nil {
		return c.zkErr(err, path)
	}
	if cl.has("w") {
		c.watches.data[path] = true
	}
	if data == nil {
		c.println("null")
	} else {
		c.println(javaString(data))
	}
	if cl.has("s") {
		printStat(c.out, st)
	}
	return nil
}

func parseVersion(cl cmdLine) (int32, error) {
	v, ok := cl.opts["v"]
	if !ok {
		return -1, nil
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0, failf("java.lang.NumberFormatException: For input string: \"%s\"", v)
	}
	return int32(n), nil
}

func (c *cli) cmdSet(args []string) error {
	cl, err := parseOpts(optSpec{"s": false, "v": true}, args)
	if err != nil {
		return err
	}
	if len(cl.args) < 3 {
		return usageErr("set")
	}
	path, data := cl.args[1], []byte(cl.args[2])
	version, err := parseVersion(cl)
	if err != nil {
		return err
	}
	if err := validate(path, false); err != nil {
		return err
	}
	zk, err := c.connFor(path)
	if err != nil {
		return err
	}
	st, err := zk.Set(path, data, version)
	if err != nil {
		return c.zkErr(err, path)
	}
	if cl.has("s") {
		c.flushEvents()
		printStat(c.out, st)
	}
	return nil
}

func (c *cli) cmdDelete(args []string) error {
	cl, err := parseOpts(optSpec{"v": true}, args)
	if err != nil {
		return err
	}
	if len(cl.args) < 2 {
		return usageErr("delete")
	}
	if len(cl.args) > 2 {
		// zkCli warns but, reparsing the same words, still deletes any version.
		c.eprintln("'delete path [version]' has been deprecated. Please use 'delete [-v version] path' instead.")
	}
	path := cl.args[1]
	version, err := parseVersion(cl)
	if err != nil {
		return err
	}
	if err := validate(path, false); err != nil {
		return err
	}
	zk, err := c.connFor(path)
	if err != nil {
		return err
	}
	if err := zk.Delete(path, version); err != nil {
		return c.zkErr(err, path)
	}
	return nil
}

func (c *cli) cmdDeleteAll(args []string) error {
	cl, err := parseOpts(optSpec{"b": true}, args)
	if err != nil {
		return err
	}
	if len(cl.args) < 2 {
		return usageErr("deleteall")
	}
	batch := 1000
	if v, ok := cl.opts["b"]; ok {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			return failf("-b argument must be an int value")
		}
		batch = int(n)
	}
	path := cl.args[1]
	if err := validate(path, false); err != nil {
		return err
	}
	zk, err := c.connFor(path)
	if err != nil {
		return err
	}
	// ZKUtil.deleteRecursive: list the subtree breadth first, then delete
	// from the leaves up in multi batches, stopping at the first failure.
	tree := []string{path}
	for i := 0; i < len(tree); i++ {
		kids, err := zk.Children(tree[i], false)
		if err != nil {
			return c.zkErr(err, tree[i])
		}
		prefix := tree[i] + "/"
		if tree[i] == "/" {
			prefix = "/"
		}
		for _, k := range kids {
			tree = append(tree, prefix+k)
		}
	}
	ok := true
	var ops []jute.Op
	for i := len(tree) - 1; i >= 0; i-- {
		ops = append(ops, zkclient.DeleteOp(tree[i], -1))
		if len(ops) == batch || i == 0 {
			if !ok {
				break
			}
			if _, err := zk.Multi(ops...); err != nil {
				var code jute.Err
				if !errors.As(err, &code) {
					return c.zkErr(err, path)
				}
				ok = false
			}
			ops = nil
		}
	}
	if !ok {
		c.eprintln("Failed to delete some node(s) in the subtree!")
	}
	return nil
}

func (c *cli) cmdStat(args []string) error {
	spec := optSpec{"w": false}
	cl, err := parseOpts(spec, args)
	if err != nil {
		return err
	}
	if len(cl.args) < 2 {
		return usageErr("stat")
	}
	if cl, err = c.parseWithCompat(spec, args, "'stat path [watch]' has been deprecated. Please use 'stat [-w] path' instead."); err != nil {
		return err
	}
	path := cl.args[1]
	if err := validate(path, false); err != nil {
		return err
	}
	zk, err := c.connFor(path)
	if err != nil {
		return err
	}
	st, ok, err := zk.Exists(path, cl.has("w"))
	if err != nil {
		return c.zkErr(err, path)
	}
	if cl.has("w") && ok {
		c.watches.data[path] = true
	} else if cl.has("w") {
		c.watches.exist[path] = true
	}
	if !ok {
		return c.zkErr(jute.ErrNoNode, path)
	}
	c.flushEvents()
	printStat(c.out, st)
	return nil
}

func (c *cli) cmdGetACL(args []string) error {
	cl, err := parseOpts(optSpec{"s": false}, args)
	if err != nil {
		return err
	}
	if len(cl.args) < 2 {
		return usageErr("getAcl")
	}
	path := cl.args[1]
	if err := validate(path, false); err != nil {
		return err
	}
	zk, err := c.connFor(path)
	if err != nil {
		return err
	}
	acl, st, err := zk.GetACL(path)
	if err != nil {
		return c.zkErr(err, path)
	}
	for _, a := range acl {
		c.println(idString(a.ID) + ": " + permString(a.Perms))
	}
	if cl.has("s") {
		c.flushEvents()
		printStat(c.out, st)
	}
	return nil
}

func (c *cli) cmdSetACL(args []string) error {
	cl, err := parseOpts(optSpec{"s": false, "v": true, "R": false}, args)
	if err != nil {
		return err
	}
	if len(cl.args) < 3 {
		return usageErr("setAcl")
	}
	path := cl.args[1]
	acl := parseACL(cl.args[2], c.eprintln)
	version, err := parseVersion(cl)
	if err != nil {
		return err
	}
	if err := validate(path, false); err != nil {
		return err
	}
	zk, err := c.connFor(path)
	if err != nil {
		return err
	}
	if cl.has("R") {
		return c.visitDFS(zk, path, false, func(p string) {
			if _, err := zk.SetACL(p, acl, version); err != nil {
				var code jute.Err
				if errors.As(err, &code) {
					c.flushEvents()
					fmt.Fprint(c.out, keeperExceptionMessage(code, p)) // zkCli prints these without a newline
				}
			}
		})
	}
	st, err := zk.SetACL(path, acl, version)
	if err != nil {
		return c.zkErr(err, path)
	}
	if cl.has("s") {
		c.flushEvents()
		printStat(c.out, st)
	}
	return nil
}

func (c *cli) cmdSync(args []string) error {
	cl, err := parseOpts(optSpec{}, args)
	if err != nil {
		return err
	}
	if len(cl.args) < 2 {
		return usageErr("sync")
	}
	path := cl.args[1]
	if err := validate(path, false); err != nil {
		return err
	}
	zk, err := c.connFor(path)
	if err != nil {
		return err
	}
	_, err = zk.Sync(path)
	var code jute.Err
	switch {
	case err == nil:
		c.println("Sync is OK")
	case errors.As(err, &code):
		c.println(fmt.Sprintf("Sync has failed. rc=%d", int32(code)))
	default:
		return c.zkErr(err, path)
	}
	return nil
}

func (c *cli) cmdAddAuth(args []string) error {
	cl, err := parseOpts(optSpec{}, args)
	if err != nil {
		return err
	}
	if len(cl.args) < 2 {
		return usageErr("addauth")
	}
	var auth []byte
	if len(cl.args) >= 3 {
		auth = []byte(cl.args[2])
	}
	zk, err := c.connFor("")
	if err != nil {
		return err
	}
	// zkCli sends auth asynchronously: a refusal shows as an AuthFailed
	// event, never as a command error.
	err = zk.AddAuth(cl.args[1], auth)
	switch {
	case errors.Is(err, jute.ErrAuthFailed):
		c.authFailed()
	case err == nil:
		c.auths = append(c.auths, jute.AuthPacket{Scheme: cl.args[1], Auth: auth})
	}
	return nil
}

func (c *cli) cmdAddWatch(args []string) error {
	cl, err := parseOpts(optSpec{"m": true}, args)
	if err != nil {
		return err
	}
	if len(cl.args) != 2 {
		return usageErr("addWatch")
	}
	mode := jute.AddWatchPersistentRecursive
	if m, ok := cl.opts["m"]; ok {
		switch strings.ToUpper(m) {
		case "PERSISTENT":
			mode = jute.AddWatchPersistent
		case "PERSISTENT_RECURSIVE":
		default:
			return usageErr("addWatch")
		}
	}
	path := cl.args[1]
	if err := validate(path, false); err != nil {
		return err
	}
	zk, err := c.connFor(path)
	if err != nil {
		return err
	}
	if err := zk.AddWatch(path, mode); err != nil {
		return c.zkErr(err, path)
	}
	if mode == jute.AddWatchPersistent {
		c.watches.persistent[path] = true
	} else {
		c.watches.recursive[path] = true
	}
	return nil
}

func (c *cli) cmdGetEphemerals(args []string) error {
	cl, err := parseOpts(optSpec{}, args)
	if err != nil {
		return err
	}
	prefix := "/"
	if len(cl.args) >= 2 {
		prefix = cl.args[1]
		if err := validate(prefix, false); err != nil {
			return err
		}
	}
	zk, err := c.connFor("")
	if err != nil {
		return err
	}
	eph, err := zk.GetEphemerals(prefix)
	if err != nil {
		var code jute.Err
		if errors.As(err, &code) { // thrown without a path
			return failf("%s", keeperMessage(code, "null"))
		}
		return c.zkErr(err, "")
	}
	c.println(javaList(eph))
	return nil
}

func (c *cli) cmdGetAllChildrenNumber(args []string) error {
	cl, err := parseOpts(optSpec{}, args)
	if err != nil {
		return err
	}
	if len(cl.args) < 2 {
		return usageErr("getAllChildrenNumber")
	}
	path := cl.args[1]
	if err := validate(path, false); err != nil {
		return err
	}
	zk, err := c.connFor(path)
	if err != nil {
		return err
	}
	n, err := zk.GetAllChildrenNumber(path)
	if err != nil {
		return c.zkErr(err, path)
	}
	c.println(strconv.Itoa(int(n)))
	return nil
}

func (c *cli) cmdWhoAmI(args []string) error {
	zk, err := c.connFor("")
	if err != nil {
		return err
	}
	infos, err := zk.WhoAmI()
	if err != nil {
		return c.zkErr(err, "")
	}
	c.println("Auth scheme: User")
	for _, ci := range infos {
		c.println(ci.AuthScheme + ": " + ci.User)
	}
	return nil
}

// versionString stands in for Version.getFullVersion: the protocol version
// zkcli speaks, tagged as ours, with the VCS time when the build knows it.
func versionString() string {
	built := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.time" {
				built = s.Value
			}
		}
	}
	return "3.8.0-zkafka, built on " + built
}

func (c *cli) cmdVersion(args []string) error {
	cl, err := parseOpts(optSpec{}, args)
	if err != nil {
		return err
	}
	if len(cl.args) > 1 {
		return usageErr("version")
	}
	c.println("ZooKeeper CLI version: " + versionString())
	return nil
}

const configNode = "/zookeeper/config"

func (c *cli) cmdConfig(args []string) error {
	cl, err := parseOpts(optSpec{"s": false, "w": false, "c": false}, args)
	if err != nil {
		return err
	}
	zk, err := c.connFor(configNode)
	if err != nil {
		return err
	}
	// getConfig reads /zookeeper/config itself, never under the chroot.
	var resp jute.GetDataResponse
	hdr, err := zk.Do(jute.OpGetData, &jute.GetDataRequest{Path: configNode, Watch: cl.has("w")}, &resp)
	if err == nil && hdr.Err != 0 {
		err = jute.Err(hdr.Err)
	}
	if err != nil {
		return c.zkErr(err, configNode)
	}
	data := "null"
	if resp.Data != nil {
		data = javaString(resp.Data)
	}
	if cl.has("c") {
		c.println(clientConfigStr(data))
	} else {
		c.println(data)
	}
	if cl.has("s") {
		c.flushEvents()
		printStat(c.out, resp.Stat)
	}
	return nil
}

// clientConfigStr is ConfigUtils.getClientConfigStr: "version host:port,..."
// from the server.N lines' client addresses (sorted by key here; Java's
// order follows a Hashtable).
func clientConfigStr(cfg string) string {
	props := map[string]string{}
	var keys []string
	for _, line := range strings.Split(cfg, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if _, dup := props[k]; !dup {
			keys = append(keys, k)
		}
		props[k] = v
	}
	sort.Strings(keys)
	var addrs []string
	for _, k := range keys {
		if !strings.HasPrefix(k, "server.") {
			continue
		}
		_, client, ok := strings.Cut(props[k], ";")
		if !ok {
			addrs = append(addrs, "")
			continue
		}
		host, port, found := strings.Cut(client, ":")
		if !found {
			host, port = "0.0.0.0", client
		}
		addrs = append(addrs, host+":"+port)
	}
	return props["version"] + " " + strings.Join(addrs, ",")
}

func (c *cli) cmdClose(args []string) error {
	c.closeConn()
	return nil
}

func (c *cli) cmdRemoveWatches(args []string) error {
	cl, err := parseOpts(optSpec{"c": false, "d": false, "a": false, "l": false}, args)
	if err != nil {
		return err
	}
	if len(cl.args) < 2 {
		return usageErr("removewatches")
	}
	typ := jute.WatcherAny
	switch {
	case cl.has("c"):
		typ = jute.WatcherChildren
	case cl.has("d"):
		typ = jute.WatcherData
	}
	path := cl.args[1]
	if err := validate(path, false); err != nil {
		return err
	}
	zk, err := c.connFor(path)
	if err != nil {
		return err
	}
	// The Java client checks its own watch table first.
	if !c.watches.has(path, typ) {
		return c.zkErr(jute.ErrNoWatcher, path)
	}
	if err := zk.RemoveWatches(path, typ); err != nil {
		return c.zkErr(err, path)
	}
	for _, ev := range c.watches.remove(path, typ) {
		c.flushEvents()
		c.printEvent(ev, zkclient.StateSyncConnected, path)
	}
	return nil
}
