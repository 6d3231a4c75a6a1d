package pipeline

import (
	"container/list"
	"strings"
	"sync/atomic"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/metrics"
	"github.com/zkafka/zkafka/zkserver/tree"
)

// responseCache is Apache's ResponseCache: the encoded bodies of getData (or getChildren2) answers by path, reused
// while the node's stat is the one they were made with. It is a LinkedHashMap in insertion order that drops its
// eldest entry once it holds size entries, so it keeps at most size-1 (none for a size of 0 or 1). Hits and
// misses are ServerMetrics' response_packet(_get_children)_cache_hits and _misses. Used on the core goroutine.
type responseCache struct {
	size     int
	byPath   map[string]*list.Element
	order    list.List // of *cachedBody, eldest first
	counters CacheCounters
}

// CacheCounters are a response cache's hits and misses.
type CacheCounters struct{ Hits, Misses atomic.Int64 }

// ResponseCacheCounters are both caches' counters.
type ResponseCacheCounters struct{ Data, Children *CacheCounters }

// Named lists the counters under Apache's names.
func (r ResponseCacheCounters) Named() metrics.Named {
	return metrics.Named{Counters: map[string]*atomic.Int64{
		"response_packet_cache_hits": &r.Data.Hits, "response_packet_cache_misses": &r.Data.Misses,
		"response_packet_get_children_cache_hits":   &r.Children.Hits,
		"response_packet_get_children_cache_misses": &r.Children.Misses}}
}

type cachedBody struct {
	path string
	stat jute.Stat
	body []byte
}

func newResponseCache(size int) *responseCache {
	return &responseCache{size: size, byPath: map[string]*list.Element{}}
}

// body returns the encoded answer for path with stat, from the cache or made by encode and then cached.
func (c *responseCache) body(path string, stat jute.Stat, encode func() []byte) []byte {
	if el, ok := c.byPath[path]; ok {
		e := el.Value.(*cachedBody)
		if e.stat == stat {
			c.counters.Hits.Add(1)
			return e.body
		}
		// A changed node: ResponseCache.get drops the entry; the new one goes in last.
		c.order.Remove(el)
		delete(c.byPath, path)
	}
	c.counters.Misses.Add(1)
	b := encode()
	c.byPath[path] = c.order.PushBack(&cachedBody{path: path, stat: stat, body: b})
	if len(c.byPath) >= c.size {
		eldest := c.order.Front()
		c.order.Remove(eldest)
		delete(c.byPath, eldest.Value.(*cachedBody).path)
	}
	return b
}

// cacheable: a successful getData or getChildren2 answer, not for a quota's stats node, goes through a cache
// (ServerCnxn.serialize); it returns the cache, the path and the stat the answer is valid for.
func (p *Processor) cacheable(r *Request, body jute.Record) (*responseCache, string, jute.Stat) {
	switch b := body.(type) {
	case *jute.GetDataResponse:
		if req, ok := r.Body.(*jute.GetDataRequest); ok && !strings.HasSuffix(req.Path, tree.StatNode) {
			return p.dataCache, req.Path, b.Stat
		}
	case *jute.GetChildren2Response:
		if req, ok := r.Body.(*jute.GetChildren2Request); ok && !strings.HasSuffix(req.Path, tree.StatNode) {
			return p.childrenCache, req.Path, b.Stat
		}
	}
	return nil, "", jute.Stat{}
}

// replyRead answers a read as FinalRequestProcessor does, taking the body of a cacheable answer from its cache.
func (p *Processor) replyRead(c *Client, r *Request, e jute.Err, body jute.Record) {
	var out ReplyBody = body
	if cache, path, stat := p.cacheable(r, body); cache != nil && e == jute.ErrOK {
		out = encodedBody(cache.body(path, stat, func() []byte {
			var en jute.Encoder
			body.Encode(&en)
			return en.Buf
		}))
	}
	p.reply(c, r.Xid, p.zxid, e, out)
}

// encodedBody is an answer's body encoded before.
type encodedBody []byte

func (b encodedBody) Encode(e *jute.Encoder) { e.Buf = append(e.Buf, b...) }
