package cclient

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"
)

func a(cmd string) Step { return Step{Client: 0, Cmd: cmd} }
func b(cmd string) Step { return Step{Client: 1, Cmd: cmd} }

// Scenarios are the cli_mt scenarios. In cli_mt, get, ls, ls2 and exists
// leave a watch, so later changes by the same session print events too.
func Scenarios() []Scenario {
	return []Scenario{
		{Name: "crud", Steps: []Step{
			a("create $R/x"), a("get $R/x"), a("set $R/x hello world"), a("get $R/x"),
			a("set $R/x second"), a("exists $R/x"), a("delete $R/x"), a("get $R/x"), a("exists $R/x"),
		}},
		{Name: "ls", Steps: []Step{
			a("create $R/p"), a("create $R/p/b"), a("create $R/p/a"), a("create $R/p/a/deep"),
			a("ls $R/p"), a("ls2 $R/p"), a("ls $R/p/a/deep"), a("ls $R/missing"), a("ls2 $R/missing"),
			a("ls /zookeeper"), a("ls2 /zookeeper"),
		}},
		{Name: "modes", Steps: []Step{
			a("create +e $R/e"), a("create +s $R/s-"), a("create +s $R/s-"), a("create +es $R/es-"),
			a("create +c $R/cont"), a("create +t=60000 $R/ttl"), a("create +t=60000 $R/ttl2"),
			a("ls2 $R"), a("get $R/e"), a("get $R/cont"), a("get $R/ttl"),
			a("create $R/e/child"), a("create +s $R/cont/s-"),
		}},
		{Name: "create2", Steps: []Step{
			a("create2 $R/c"), a("create2 +s $R/c/s-"), a("create2 +e $R/eph"), a("create2 $R/c"),
			a("create2 $R/missing/x"),
		}},
		{Name: "errors", Steps: []Step{
			a("create $R/dup"), a("create $R/dup"), a("delete $R/missing"), a("create $R/dup/child"),
			a("delete $R/dup"), a("create $R/nop/x"), a("set $R/missing v"), a("set $R/dup"),
			a("create relative"), a("get relative"), a("create $R/trailing/"), a("create $R//double"),
			a("delete /"), a("delete /zookeeper"), a("set /zookeeper/quota q"), a("ls $R/bad/"),
			a("get $R/dup/child/"),
		}},
		{Name: "watch-data", Clients: 2, Steps: []Step{
			a("create $R/w"), a("get $R/w"), b("set $R/w v2"), b("set $R/w v3"),
			a("get $R/w"), b("delete $R/w"), b("create $R/w"),
		}},
		{Name: "watch-children", Clients: 2, Steps: []Step{
			a("ls $R"), b("create $R/k1"), b("create $R/k2"), a("ls2 $R"), b("set $R/k1 data"),
			b("delete $R/k1"), a("ls $R"), b("create +e $R/k3"), b("quit"), a("ls $R"),
		}},
		{Name: "watch-exists", Clients: 2, Steps: []Step{
			a("exists $R/nw"), b("create $R/nw"), a("exists $R/nw"), b("set $R/nw x"),
			a("wexists $R/nw"), b("delete $R/nw"), a("wexists $R/nw"), b("create $R/nw"),
		}},
		{Name: "watch-own-change", Steps: []Step{
			a("create $R/o"), a("get $R/o"), a("ls $R"), a("set $R/o mine"), a("create $R/o2"),
			a("exists $R/o2"), a("delete $R/o2"),
		}},
		{Name: "ephemeral-end", Clients: 2, Steps: []Step{
			a("create +e $R/eph"), a("create +es $R/eseq-"), b("get $R/eph"), b("ls $R"),
			a("quit"), b("ls2 $R"), b("exists $R/eph"),
		}},
		{Name: "acl", Clients: 2, Setup: setupACL, Steps: []Step{
			a("get $R/secret"), a("ls $R/secret"), a("set $R/secret x"), a("create $R/secret/c"),
			a("exists $R/secret"), a("addauth digest u:wrong"), a("get $R/secret"),
			a("addauth digest u:p"), a("get $R/secret"), a("set $R/secret changed"), b("get $R/secret"),
			a("get $R/ro"), a("set $R/ro x"), a("delete $R/ro"), a("create $R/ro/c"), a("delete $R/secret"),
		}},
		{Name: "auth-failed", Clients: 2, Steps: []Step{
			a("create $R/n"),
			{Client: 0, Cmd: "addauth nosuchscheme x", Until: "Authentication failure", Ends: true},
			b("ls $R"),
		}},
		// The get is written right behind the failing auth packet.
		{Name: "auth-failed-pipelined", Steps: []Step{
			{Client: 0, Cmd: "addauth nosuchscheme x\nget $R", Until: "Authentication failure", Ends: true},
		}},
		{Name: "myid-sync", Steps: []Step{
			a("myid"), a("sync $R"), a("sync $R/missing"), a("sync /"), a("create $R/s"), a("sync $R/s"),
		}},
		{Name: "config-reconfig", Steps: []Step{
			a("config"), a("get /zookeeper/config"), a("reconfig -remove 2"),
			a("reconfig -add 2=127.0.0.1:1:2;3"), a("reconfig -members 1=127.0.0.1:1:2;3 -version 1"),
			a("reconfig -add"), a("get /zookeeper/quota"),
		}},
		{Name: "async-prefix", Steps: []Step{
			a("acreate $R/x"), a("aget $R/x"), a("aset $R/x v"), a("als $R"), a("als2 $R"),
			a("aexists $R/x"), a("async $R/x"), a("adelete $R/x"), a("aget $R/x"),
		}},
		{Name: "versions", Steps: []Step{
			a("create $R/v"), a("set $R/v 1"), a("set $R/v 2"), a("set $R/v 3"), a("ls2 $R"),
			a("create $R/v/c"), a("delete $R/v/c"), a("ls2 $R/v"), a("get $R/v"),
		}},
		{Name: "data", Steps: []Step{
			a("create $R/d"), a("set $R/d " + strings.Repeat("0123456789", 300)), a("get $R/d"),
			a("set $R/d  leading and trailing spaces  "), a("get $R/d"), a("set $R/d ünïcödé"), a("get $R/d"),
		}},
	}
}

type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}

// setupACL makes $R/secret readable and writable only by digest u:p and
// $R/ro world-readable only, with go-zookeeper (cli_mt cannot set ACLs).
func setupACL(ctx context.Context, addr, root string) error {
	conn, _, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogger(quietLogger{}))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	if _, err := conn.Create(root+"/secret", []byte("top"), 0, zk.DigestACL(zk.PermAll, "u", "p")); err != nil {
		return fmt.Errorf("create secret: %w", err)
	}
	if _, err := conn.Create(root+"/ro", []byte("read-only"), 0, zk.WorldACL(zk.PermRead)); err != nil {
		return fmt.Errorf("create ro: %w", err)
	}
	return nil
}
