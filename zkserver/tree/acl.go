package tree

import (
	"github.com/zkafka/zkafka/jute"
)

// openACLIndex is the index of OPEN_ACL_UNSAFE, implicit and never stored.
const openACLIndex int64 = -1

// aclEntry is one cached ACL list and its reference count.
type aclEntry struct {
	acl  []jute.ACL
	refs int64
}

// aclCache is Apache's ReferenceCountedACLCache: nodes store an int64 index
// into a table of distinct ACL lists; an entry is dropped when its last user
// goes. Indexes only grow (aclIndex), so a list re-added later gets a new one.
type aclCache struct {
	byIndex map[int64]*aclEntry
	byKey   map[string]int64
	last    int64 // aclIndex: the highest index handed out or loaded
}

func newACLCache() aclCache {
	return aclCache{byIndex: map[int64]*aclEntry{}, byKey: map[string]int64{}}
}

// aclKey is a list's identity: Java compares List<ACL> element by element,
// which the Jute encoding captures exactly.
func aclKey(acl []jute.ACL) string {
	e := jute.Encoder{Buf: make([]byte, 0, 32*len(acl))}
	for i := range acl {
		acl[i].Encode(&e)
	}
	return string(e.Buf)
}

// convert is convertAcls: the index for acl, adding one usage. A nil list
// (a null vector) means OPEN_ACL_UNSAFE; an empty one is a list of its own.
func (c *aclCache) convert(acl []jute.ACL) int64 {
	if acl == nil {
		return openACLIndex
	}
	k := aclKey(acl)
	idx, ok := c.byKey[k]
	if !ok {
		c.last++
		idx = c.last
		cp := append([]jute.ACL(nil), acl...)
		if cp == nil {
			cp = []jute.ACL{}
		}
		c.byIndex[idx] = &aclEntry{acl: cp}
		c.byKey[k] = idx
	}
	c.addUsage(idx)
	return idx
}

// lookup is convertLong; ok is false for an index the cache does not hold
// (Apache throws there).
func (c *aclCache) lookup(idx int64) ([]jute.ACL, bool) {
	if idx == openACLIndex {
		return jute.OpenACLUnsafe, true
	}
	e := c.byIndex[idx]
	if e == nil {
		return nil, false
	}
	return e.acl, true
}

func (c *aclCache) addUsage(idx int64) {
	if e := c.byIndex[idx]; e != nil {
		e.refs++
	}
}

func (c *aclCache) removeUsage(idx int64) {
	e := c.byIndex[idx]
	if e == nil {
		return
	}
	e.refs--
	if e.refs <= 0 {
		delete(c.byIndex, idx)
		delete(c.byKey, aclKey(e.acl))
	}
}

// purgeUnused drops entries no node uses (after loading a snapshot).
func (c *aclCache) purgeUnused() {
	for idx, e := range c.byIndex {
		if e.refs <= 0 {
			delete(c.byIndex, idx)
			delete(c.byKey, aclKey(e.acl))
		}
	}
}

// put loads one serialized entry with no usages yet.
func (c *aclCache) put(idx int64, acl []jute.ACL) {
	if idx > c.last {
		c.last = idx
	}
	if acl == nil {
		acl = []jute.ACL{}
	}
	c.byIndex[idx] = &aclEntry{acl: acl}
	c.byKey[aclKey(acl)] = idx
}
