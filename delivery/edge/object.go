package edge

import (
	"container/list"
	"net/http"
	"strconv"
	"time"
)

// object is one origin answer, cached or only shared by the requests that
// waited for it.
type object struct {
	key     string
	status  int
	header  http.Header // cleaned of hop-by-hop fields, ETag filled in for 200
	body    []byte
	length  []string  // Content-Length value of body
	modTime time.Time // from Last-Modified, or zero
	fetched time.Time // edge clock at the answer
	baseAge int64     // the origin's Age, in seconds
	expires time.Time // fetched + ttl
	ttl     time.Duration

	// large marks an object too big to keep: only the decision is cached,
	// and every viewer streams it from the origin.
	large bool

	size int64
	elem *list.Element
}

// fresh says whether o may be served at now.
func (o *object) fresh(now time.Time) bool {
	return now.Before(o.expires)
}

// age is the Age header value at now (RFC 9111 4.2.3), in seconds.
func (o *object) age(now time.Time) string {
	a := o.baseAge + int64(now.Sub(o.fetched)/time.Second)
	if a < 0 {
		a = 0
	}

	return strconv.FormatInt(a, 10)
}

// store keeps o under its key, replacing an older one, and evicts the least
// recently used objects until the bytes held are within MaxBytes. An object
// bigger than MaxBytes on its own is not kept. c.mu must be held.
func (c *Cache) store(o *object) {
	if old := c.objects[o.key]; old != nil {
		c.remove(old)
	}

	o.size = int64(len(o.body)+len(o.key)) + entryOverhead
	if o.size > c.MaxBytes {
		return
	}

	o.elem = c.lru.PushFront(o)
	c.objects[o.key] = o
	c.bytes += o.size

	for c.bytes > c.MaxBytes {
		c.remove(c.lru.Back().Value.(*object))
	}
}

// remove forgets o. c.mu must be held.
func (c *Cache) remove(o *object) {
	c.lru.Remove(o.elem)
	delete(c.objects, o.key)
	c.bytes -= o.size
}

// sweep forgets the objects expired at now.
func (c *Cache) sweep(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()

	for e := c.lru.Back(); e != nil; {
		prev := e.Prev()

		if o := e.Value.(*object); !o.fresh(now) {
			c.remove(o)
		}

		e = prev
	}
}
