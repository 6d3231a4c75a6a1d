package zkmeta

import (
	"strings"

	"github.com/go-zookeeper/zk"
)

// sensitiveRoots are ZkData.SensitiveRootPaths: user and broker configs (they may hold SCRAM credentials and
// passwords) and delegation tokens, which nobody but the brokers may read.
var sensitiveRoots = []string{"/config/users", "/config/brokers", "/delegation_token/tokens"}

// DefaultACL is ZkData.defaultAcls for a (chroot-relative) path: open to all unless secure (zookeeper.set.acl);
// secure, everything to the creating identity (ZooKeeper's "auth" id: the ids the broker authenticated with) plus
// reading for anyone, except on sensitive paths. The old consumers' /consumers stays open: they write under it.
func DefaultACL(secure bool, path string) []zk.ACL {
	if !secure || path == "/consumers" {
		return zk.WorldACL(zk.PermAll)
	}
	acl := zk.AuthACL(zk.PermAll)
	for _, root := range sensitiveRoots {
		if strings.HasPrefix(path, root) {
			return acl
		}
	}
	return append(acl, zk.WorldACL(zk.PermRead)...)
}
