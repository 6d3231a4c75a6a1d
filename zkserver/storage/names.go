// Package storage keeps ZooKeeper's durable state in Apache ZooKeeper 3.8's
// own on-disk format: txn logs (log.<zxid>), snapshots (snapshot.<zxid>) and
// the epoch files, so a data directory moves between Apache and zkafka in
// both directions.
package storage

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

const (
	logPrefix  = "log"
	snapPrefix = "snapshot"
	// headerLen is a FileHeader: int magic, int version, long dbid.
	headerLen   = 16
	fileVersion = 2
)

// zxidFromName parses "<prefix>.<hex>[.ext]" as Util.getZxidFromName does:
// the part after the first dot is the zxid; -1 if the name does not fit.
func zxidFromName(name, prefix string) int64 {
	parts := strings.Split(name, ".")
	if len(parts) < 2 || parts[0] != prefix {
		return -1
	}
	// Long.parseLong(s, 16) accepts a sign; file names never carry one, but
	// keep the same acceptance so odd names sort the same way.
	v, err := strconv.ParseInt(parts[1], 16, 64)
	if err != nil {
		return -1
	}
	return v
}

// logName and snapName use Long.toHexString: lowercase, no padding. Zxids are
// never negative, so %x of the int64 matches.
func logName(zxid int64) string  { return logPrefix + "." + strconv.FormatUint(uint64(zxid), 16) }
func snapName(zxid int64) string { return snapPrefix + "." + strconv.FormatUint(uint64(zxid), 16) }

type namedFile struct {
	path string
	zxid int64
}

// listByZxid returns the files in dir named <prefix>.<hex>..., sorted by zxid
// ascending (or descending). A missing dir is an empty list.
func listByZxid(dir, prefix string, ascending bool) ([]namedFile, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	var out []namedFile
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		z := zxidFromName(e.Name(), prefix)
		if z < 0 {
			continue
		}
		out = append(out, namedFile{path: filepath.Join(dir, e.Name()), zxid: z})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if ascending {
			return out[i].zxid < out[j].zxid
		}
		return out[i].zxid > out[j].zxid
	})
	return out, nil
}

// logFilesFrom mirrors FileTxnLog.getLogFiles: the newest log that starts at
// or before zxid, and every later one.
func logFilesFrom(files []namedFile, zxid int64) []namedFile {
	start := int64(0)
	for _, f := range files {
		if f.zxid > zxid {
			break
		}
		if f.zxid > start {
			start = f.zxid
		}
	}
	var out []namedFile
	for _, f := range files {
		if f.zxid >= start {
			out = append(out, f)
		}
	}
	return out
}

// syncDir makes a create, rename or delete in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
