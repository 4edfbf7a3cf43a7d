package store

import "sync"

// DefaultCacheBytes is the default budget of decoded chunks kept per store:
// 64 HU chunks, the chunks of two 64³ cubes. Miners cut a scan's cubes in
// Z-order of their chunks, so neighbours find what they share; a larger
// cache mostly fills fresh memory, whose page faults cost more than the
// hits save (docs/BENCHMARKS.md, issue 12).
const DefaultCacheBytes = 4 << 20

type cacheKey struct {
	vol   uint64
	array uint8
	chunk int32
}

// cacheEntry is one decoded chunk. While refs > 0 a reader is copying from
// buf and the entry is neither evicted nor reused.
type cacheEntry struct {
	key        cacheKey
	buf        []byte
	refs       int
	prev, next *cacheEntry
}

// chunkCache is a byte-bounded LRU of decoded chunks shared by all volumes
// of a store. Decoding happens outside the lock; evicted buffers are reused,
// so a warm cache allocates nothing per read.
type chunkCache struct {
	mu    sync.Mutex
	limit int
	used  int
	m     map[cacheKey]*cacheEntry
	head  cacheEntry // sentinel: head.next is most recent
	free  []*cacheEntry
}

func newChunkCache(limit int) *chunkCache {
	c := &chunkCache{limit: limit, m: make(map[cacheKey]*cacheEntry)}
	c.head.next, c.head.prev = &c.head, &c.head
	return c
}

func (c *chunkCache) unlink(e *cacheEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

func (c *chunkCache) pushFront(e *cacheEntry) {
	e.next, e.prev = c.head.next, &c.head
	c.head.next.prev = e
	c.head.next = e
}

// get returns the pinned entry for k, decoding it with fill on a miss.
// The caller must call release when done with the buffer.
func (c *chunkCache) get(k cacheKey, size int, fill func(buf []byte) error) (*cacheEntry, error) {
	c.mu.Lock()
	if e, ok := c.m[k]; ok {
		e.refs++
		c.unlink(e)
		c.pushFront(e)
		c.mu.Unlock()
		return e, nil
	}
	e := c.takeLocked(size)
	c.mu.Unlock()

	e.key, e.refs = k, 1
	if err := fill(e.buf); err != nil {
		c.mu.Lock()
		e.refs = 0
		c.free = append(c.free, e)
		c.used -= len(e.buf)
		c.mu.Unlock()
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[k]; ok { // another reader decoded it meanwhile
		old.refs++
		e.refs = 0
		c.used -= len(e.buf)
		c.free = append(c.free, e)
		return old, nil
	}
	c.m[k] = e
	c.pushFront(e)
	return e, nil
}

// takeLocked finds a buffer of size bytes: by evicting unpinned entries
// beyond the budget, from the free list, or newly allocated.
func (c *chunkCache) takeLocked(size int) *cacheEntry {
	for c.used+size > c.limit {
		victim := c.head.prev
		for victim != &c.head && victim.refs > 0 {
			victim = victim.prev
		}
		if victim == &c.head {
			break // everything is pinned: go over budget for now
		}
		c.unlink(victim)
		delete(c.m, victim.key)
		c.used -= len(victim.buf)
		c.free = append(c.free, victim)
	}
	c.used += size
	for i := len(c.free) - 1; i >= 0; i-- {
		if e := c.free[i]; cap(e.buf) >= size {
			c.free[i] = c.free[len(c.free)-1]
			c.free = c.free[:len(c.free)-1]
			e.buf = e.buf[:size]
			return e
		}
	}
	return &cacheEntry{buf: make([]byte, size)}
}

func (c *chunkCache) release(e *cacheEntry) {
	c.mu.Lock()
	e.refs--
	c.mu.Unlock()
}

// drop forgets every chunk of a volume (on Close).
func (c *chunkCache) drop(vol uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if k.vol == vol && e.refs == 0 {
			c.unlink(e)
			delete(c.m, k)
			c.used -= len(e.buf)
			c.free = append(c.free, e)
		}
	}
	c.trimFree()
}

// trimFree lets go of the oldest free buffers beyond the cache's budget:
// what a volume closed leaves is what the next one needs. (Keeping the
// first 64 buffers of any size instead kept small label buffers and made
// every HU chunk of the next scan a fresh 64 KiB, 260 KB a scan.)
func (c *chunkCache) trimFree() {
	n := 0
	for _, e := range c.free {
		n += cap(e.buf)
	}
	drop := 0
	for n > c.limit && drop < len(c.free) {
		n -= cap(c.free[drop].buf)
		drop++
	}
	if drop > 0 {
		c.free = append(c.free[:0], c.free[drop:]...)
	}
}

// purge empties the cache, keeping the buffers for reuse (benchmarks use
// it for a cold cache without paying for fresh memory).
func (c *chunkCache) purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if e.refs == 0 {
			c.unlink(e)
			delete(c.m, k)
			c.used -= len(e.buf)
			c.free = append(c.free, e)
		}
	}
}
