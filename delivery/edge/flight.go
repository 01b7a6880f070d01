package edge

// flight is one origin fetch that every request for the same key waits for.
// Its result is set before done is closed and never changes after.
type flight struct {
	done chan struct{}
	res  *result
}

// result is what a fetch ended with: an object to serve (cached or not), a
// failure of the edge's own making, or a note that the object is too big to
// keep and each viewer must stream it.
type result struct {
	obj *object

	status int    // of a failure: 502, 503 or 504
	msg    string // of a failure, for the viewer
}

// lookup returns a fresh object for key, or the flight to wait for, starting
// one when none is under way; leader says it was started for this call. After
// Close it returns neither.
func (c *Cache) lookup(key, path, query string) (o *object, f *flight, leader bool) {
	now := c.Clock()

	c.mu.Lock()
	defer c.mu.Unlock()

	if o := c.objects[key]; o != nil && o.fresh(now) {
		c.lru.MoveToFront(o.elem)

		return o, nil, false
	}

	if f := c.flights[key]; f != nil {
		return nil, f, false
	}

	if c.closed {
		return nil, nil, false
	}

	f = &flight{done: make(chan struct{})}
	c.flights[key] = f

	c.wg.Add(1)
	go c.fly(key, path, query, f)

	return nil, f, true
}

// fly fetches key from the origins, keeps the answer when it may be cached,
// and releases the waiting requests.
func (c *Cache) fly(key, path, query string, f *flight) {
	defer c.wg.Done()

	res := c.load(key, path, query)

	c.mu.Lock()
	if res.obj != nil && res.obj.ttl > 0 {
		c.store(res.obj)
	}

	delete(c.flights, key)
	c.mu.Unlock()

	f.res = res
	close(f.done)
}
