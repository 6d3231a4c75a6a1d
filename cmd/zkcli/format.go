package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkclient"
)

// javaDate formats epoch milliseconds as java.util.Date.toString does.
func javaDate(ms int64) string {
	return time.UnixMilli(ms).Format("Mon Jan 02 15:04:05 MST 2006")
}

func hex(v int64) string { return "0x" + strconv.FormatUint(uint64(v), 16) }

// printStat is StatPrinter.print.
func printStat(w io.Writer, s jute.Stat) {
	fmt.Fprintf(w, "cZxid = %s\nctime = %s\nmZxid = %s\nmtime = %s\npZxid = %s\n"+
		"cversion = %d\ndataVersion = %d\naclVersion = %d\nephemeralOwner = %s\ndataLength = %d\nnumChildren = %d\n",
		hex(s.Czxid), javaDate(s.Ctime), hex(s.Mzxid), javaDate(s.Mtime), hex(s.Pzxid),
		s.Cversion, s.Version, s.Aversion, hex(s.EphemeralOwner), s.DataLength, s.NumChildren)
}

// permString is ZKUtil.getPermString.
func permString(p int32) string {
	var b strings.Builder
	for _, x := range []struct {
		bit int32
		c   byte
	}{{jute.PermCreate, 'c'}, {jute.PermDelete, 'd'}, {jute.PermRead, 'r'}, {jute.PermWrite, 'w'}, {jute.PermAdmin, 'a'}} {
		if p&x.bit != 0 {
			b.WriteByte(x.c)
		}
	}
	return b.String()
}

// idString is Id.toString (jute's ToStringOutputArchive): quoted, escaped
// fields and a trailing newline.
func idString(id jute.Id) string {
	return escapeJute(id.Scheme) + "," + escapeJute(id.ID) + "\n"
}

func escapeJute(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case 0:
			b.WriteString("%00")
		case '\n':
			b.WriteString("%0A")
		case '\r':
			b.WriteString("%0D")
		case ',':
			b.WriteString("%2C")
		case '}':
			b.WriteString("%7D")
		case '%':
			b.WriteString("%25")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// javaList is AbstractCollection.toString.
func javaList(l []string) string { return "[" + strings.Join(l, ", ") + "]" }

// javaString decodes bytes as new String(b, UTF_8) does (bad bytes -> U+FFFD).
func javaString(b []byte) string { return strings.ToValidUTF8(string(b), "\uFFFD") }

var eventTypeNames = map[int32]string{
	jute.EventNone: "None", jute.EventNodeCreated: "NodeCreated", jute.EventNodeDeleted: "NodeDeleted",
	jute.EventNodeDataChanged: "NodeDataChanged", jute.EventNodeChildrenChanged: "NodeChildrenChanged",
	jute.EventDataWatchRemoved: "DataWatchRemoved", jute.EventChildWatchRemoved: "ChildWatchRemoved",
	jute.EventPersistentWatchRemoved: "PersistentWatchRemoved",
}

var stateNames = map[int32]string{
	-1: "Unknown", zkclient.StateDisconnected: "Disconnected", 1: "NoSyncConnected",
	zkclient.StateSyncConnected: "SyncConnected", zkclient.StateAuthFailed: "AuthFailed",
	zkclient.StateConnectedRO: "ConnectedReadOnly", 6: "SaslAuthenticated",
	zkclient.StateExpired: "Expired", zkclient.StateClosed: "Closed",
}

// eventString is WatchedEvent.toString.
func eventString(typ, state int32, path string) string {
	if path == "" {
		path = "null"
	}
	return "WatchedEvent state:" + stateNames[state] + " type:" + eventTypeNames[typ] + " path:" + path
}

// keeperMessage is CliWrapperException's message for a ZooKeeper error.
func keeperMessage(code jute.Err, path string) string {
	switch code {
	case jute.ErrNoNode:
		return "Node does not exist: " + path
	case jute.ErrNoChildrenForEphemerals:
		return "Ephemerals cannot have children: " + path
	case jute.ErrNodeExists:
		return "Node already exists: " + path
	case jute.ErrNotEmpty:
		return "Node not empty: " + path
	case jute.ErrNotReadOnly:
		return "Not a read-only call: " + path
	case jute.ErrInvalidACL:
		return "Acl is not valid : " + path
	case jute.ErrNoAuth:
		return "Insufficient permission : " + path
	case jute.ErrBadArguments:
		return "Arguments are not valid : " + path
	case jute.ErrBadVersion:
		return "version No is not valid : " + path
	case jute.ErrReconfigInProgress:
		return "Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)"
	case jute.ErrNewConfigNoQuorum:
		return "No quorum of new config is connected and up-to-date with the leader of last commmitted config - try invoking reconfiguration after new servers are connected and synced"
	case jute.ErrQuotaExceeded:
		return "Quota has exceeded : " + path
	}
	return keeperExceptionMessage(code, path)
}

// keeperExceptionMessage is KeeperException.getMessage.
func keeperExceptionMessage(code jute.Err, path string) string {
	if path == "" {
		return "KeeperErrorCode = " + codeMessage(code)
	}
	return "KeeperErrorCode = " + codeMessage(code) + " for " + path
}

func codeMessage(code jute.Err) string {
	switch code {
	case jute.ErrOK:
		return "ok"
	case jute.ErrNotEmpty:
		return "Directory not empty"
	case jute.ErrSessionExpired:
		return "Session expired"
	case jute.ErrInvalidCallback:
		return "Invalid callback"
	case jute.ErrSessionMoved:
		return "Session moved"
	case jute.ErrNotReadOnly:
		return "Not a read-only call"
	case jute.ErrEphemeralOnLocalSession:
		return "Ephemeral node on local session"
	case jute.ErrNoWatcher:
		return "No such watcher"
	case jute.ErrReconfigDisabled:
		return "Reconfig is disabled"
	case jute.ErrSessionClosedRequireAuth:
		return "Session closed because client failed to authenticate"
	case jute.ErrQuotaExceeded:
		return "Quota has exceeded"
	case jute.ErrThrottledOp:
		return "Op throttled due to high load"
	case jute.ErrRequestTimeout: // not in getCodeMessage's switch: the enum name shows
		return "Unknown error REQUESTTIMEOUT"
	case jute.ErrUnknownSession:
		return "Unknown error UNKNOWNSESSION"
	}
	if _, known := map[jute.Err]bool{jute.ErrSystemError: true, jute.ErrRuntimeInconsistency: true,
		jute.ErrDataInconsistency: true, jute.ErrConnectionLoss: true, jute.ErrMarshallingError: true,
		jute.ErrNewConfigNoQuorum: true, jute.ErrReconfigInProgress: true, jute.ErrUnimplemented: true,
		jute.ErrOperationTimeout: true, jute.ErrBadArguments: true, jute.ErrAPIError: true, jute.ErrNoNode: true,
		jute.ErrNoAuth: true, jute.ErrBadVersion: true, jute.ErrNoChildrenForEphemerals: true,
		jute.ErrNodeExists: true, jute.ErrInvalidACL: true, jute.ErrAuthFailed: true}[code]; known {
		return code.Error()
	}
	return fmt.Sprintf("Unknown error %d", int32(code))
}
