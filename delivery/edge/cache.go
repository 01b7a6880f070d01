package edge

import (
	"container/list"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onair/onair/delivery"
)

// Defaults of a Cache's settings.
const (
	// DefaultMaxBytes bounds the bytes the cached objects hold.
	DefaultMaxBytes = 256 << 20

	// DefaultTimeout bounds one origin fetch, headers and body. It is longer
	// than an LL-HLS blocking reload may take: three target durations
	// (RFC 8216bis 6.2.5.2) of a few seconds each.
	DefaultTimeout = 10 * time.Second

	// DefaultPlaylistTTL caps how long a playlist or MPD is served from the
	// cache: a fraction of a part or a segment, so that viewers see a new
	// part or segment soon after the origin lists it.
	DefaultPlaylistTTL = 250 * time.Millisecond

	// DefaultBlockingTTL caps how long the answer to an LL-HLS blocking
	// reload (_HLS_msn) is served to later requests for the same msn and part.
	DefaultBlockingTTL = time.Second

	// DefaultNotFoundTTL is how long a 404 is kept, so that a stampede on a
	// missing object does not reach the origin.
	DefaultNotFoundTTL = time.Second

	// DefaultMaxTTL caps the lifetime of any object, immutable ones included.
	DefaultMaxTTL = 24 * time.Hour
)

// Internal limits.
const (
	// objectShare makes the default MaxObjectBytes MaxBytes/objectShare.
	objectShare = 8

	// entryOverhead is what one cached object is counted for beside its body
	// and key: its headers, map entry and list element.
	entryOverhead = 512

	// downFor is how long an origin that failed is tried after the others.
	downFor = 2 * time.Second

	// sweepEvery is how often expired objects are dropped.
	sweepEvery = 5 * time.Second

	// maxErrorBody bounds what is read of an origin's error answer.
	maxErrorBody = 64 << 10
)

// Cache is a caching reverse proxy in front of onair origins. Fill the
// settings, call Start, mount Handler, and call Close when done.
type Cache struct {
	// Origins are the origins' base URLs. An object always goes to the same
	// one, chosen by a hash of its playback id (the first path element);
	// when that one is down the next ones are tried in turn.
	Origins []*url.URL

	// MaxBytes bounds the bytes held by cached objects, counted as body, key
	// and a fixed overhead each; the least recently used go first. Zero
	// means DefaultMaxBytes.
	MaxBytes int64

	// MaxObjectBytes is the largest body kept; larger ones are streamed from
	// the origin to each viewer uncached. Zero means MaxBytes/8.
	MaxObjectBytes int64

	// Timeout bounds one origin fetch; past it viewers get 504. Zero means
	// DefaultTimeout.
	Timeout time.Duration

	// PlaylistTTL caps the time a playlist or MPD is cached; half of an
	// LL-HLS playlist's PART-TARGET caps it further. Zero means
	// DefaultPlaylistTTL.
	PlaylistTTL time.Duration

	// BlockingTTL caps the time an LL-HLS blocking reload's answer is
	// cached. Zero means DefaultBlockingTTL.
	BlockingTTL time.Duration

	// NotFoundTTL is the time a 404 or 410 is cached. Zero means
	// DefaultNotFoundTTL.
	NotFoundTTL time.Duration

	// MaxTTL caps the time any object is cached. Zero means DefaultMaxTTL.
	MaxTTL time.Duration

	// Client makes the origin requests. Nil means a client of the cache's
	// own, which ignores proxy environment variables.
	Client *http.Client

	// Clock tells the time that freshness is judged by. Nil means time.Now.
	Clock func() time.Time

	// Log receives the cache's lines; nil discards them.
	Log *slog.Logger

	// Guard, when set, checks the tokens and allowed origins of playback
	// requests with the origin's rules before the cache answers them.
	Guard *delivery.Guard

	// Viewing, when set, counts the manifests and segments the edge serves
	// (a delivery.ViewReporter sends them to the origin).
	Viewing delivery.Viewing

	// OriginToken, when set, goes with every origin request as a bearer
	// token, so that the origin trusts the viewer checks this edge made.
	OriginToken string

	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	origins []*origin
	ownTr   *http.Transport

	mu      sync.Mutex
	started bool
	closed  bool
	objects map[string]*object
	lru     list.List // of *object, most recently used first
	bytes   int64
	flights map[string]*flight

	hits, misses, coalesced, passed, fetches atomic.Int64
}

// Stats counts what a Cache has done since Start.
type Stats struct {
	Hits      int64 // answered from a fresh cached object
	Misses    int64 // started an origin fetch
	Coalesced int64 // waited for a fetch another request started
	Passed    int64 // streamed through uncached (large objects, other methods)
	Fetches   int64 // requests sent to origins, failovers and pass-through included
	Objects   int   // objects held
	Bytes     int64 // bytes counted against MaxBytes
}

// Start checks the settings, fills in the defaults and starts the sweeper.
func (c *Cache) Start() error {
	c.mu.Lock()
	defer c.mu.Unlock()

	if c.started {
		return ErrStarted
	}

	if len(c.Origins) == 0 {
		return ErrNoOrigin
	}

	for _, u := range c.Origins {
		if u == nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%w: %v", ErrBadOrigin, u)
		}

		c.origins = append(c.origins, &origin{url: u})
	}

	c.setDefaults()
	c.started = true
	c.objects = map[string]*object{}
	c.flights = map[string]*flight{}
	c.ctx, c.cancel = context.WithCancel(context.Background())

	c.wg.Add(1)
	go c.sweeper()

	c.Log.Info("edge started", "origins", len(c.origins), "max_bytes", c.MaxBytes)

	return nil
}

// setDefaults fills the zero settings.
func (c *Cache) setDefaults() {
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultMaxBytes
	}

	if c.MaxObjectBytes <= 0 {
		c.MaxObjectBytes = c.MaxBytes / objectShare
	}

	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&c.Timeout, DefaultTimeout},
		{&c.PlaylistTTL, DefaultPlaylistTTL},
		{&c.BlockingTTL, DefaultBlockingTTL},
		{&c.NotFoundTTL, DefaultNotFoundTTL},
		{&c.MaxTTL, DefaultMaxTTL},
	} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}

	if c.Clock == nil {
		c.Clock = time.Now
	}

	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}

	c.Log = c.Log.With("component", "edge")

	if c.Client == nil {
		c.ownTr = &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConns:        512,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
		}
		c.Client = &http.Client{Transport: c.ownTr}
	}
}

// Close aborts the origin fetches in flight, waits for them and for the
// sweeper, and drops the cached objects. Requests after Close get 503.
func (c *Cache) Close() error {
	c.mu.Lock()
	if !c.started || c.closed {
		c.mu.Unlock()
		return nil
	}

	c.closed = true
	c.mu.Unlock()

	c.cancel()
	c.wg.Wait()

	c.mu.Lock()
	c.objects = map[string]*object{}
	c.lru.Init()
	c.bytes = 0
	c.mu.Unlock()

	if c.ownTr != nil {
		c.ownTr.CloseIdleConnections()
	}

	c.Log.Info("edge closed")

	return nil
}

// Stats returns the cache's counters.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	objects, bytes := len(c.objects), c.bytes
	c.mu.Unlock()

	return Stats{
		Hits:      c.hits.Load(),
		Misses:    c.misses.Load(),
		Coalesced: c.coalesced.Load(),
		Passed:    c.passed.Load(),
		Fetches:   c.fetches.Load(),
		Objects:   objects,
		Bytes:     bytes,
	}
}

// sweeper drops expired objects now and then, so that the playlists of ended
// broadcasts do not wait for eviction to leave.
func (c *Cache) sweeper() {
	defer c.wg.Done()

	t := time.NewTicker(sweepEvery)
	defer t.Stop()

	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
			c.sweep(c.Clock())
		}
	}
}
