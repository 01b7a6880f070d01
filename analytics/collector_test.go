package analytics_test

import (
	"context"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/onair/onair/analytics"
	"github.com/onair/onair/store"
)

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()

	c.t = c.t.Add(d)
}

// newCollector starts a collector over a real SQLite store.
func newCollector(t *testing.T, clk *clock) (*analytics.Collector, *store.Store) {
	t.Helper()

	st, err := store.Open(filepath.Join(t.TempDir(), "onair.db"))
	if err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { st.Close() })

	c := &analytics.Collector{Sink: st, Now: clk.now, FlushEvery: time.Hour}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { c.Close() })

	return c, st
}

func query(t *testing.T, st *store.Store, since time.Time, step time.Duration,
	dims ...string) []store.ViewTotal {
	t.Helper()

	rows, err := st.QueryViews(context.Background(), store.ViewQuery{Since: since,
		Until: since.Add(24 * time.Hour), Step: step, Dimensions: dims})
	if err != nil {
		t.Fatal(err)
	}

	return rows
}

func TestSessionsAndMinutes(t *testing.T) {
	start := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	clk := &clock{t: start}
	c, st := newCollector(t, clk)

	a := analytics.SessionKey("", "192.0.2.1", "player/1", "v1")
	b := analytics.SessionKey("", "192.0.2.1", "player/2", "v1")
	seg := 2 * time.Second

	steps := []struct {
		advance time.Duration
		session string
		country string
		media   time.Duration
	}{
		{0, a, "GB", 0},             // a's playlist: a view
		{time.Second, a, "GB", seg}, // a's segment
		{time.Second, b, "FR", seg}, // b: a view
		{30 * time.Second, a, "GB", seg},
		{59 * time.Second, a, "GB", seg}, // within the idle gap: same session
		{61 * time.Second, a, "GB", seg}, // after it: a new view
	}

	for _, s := range steps {
		clk.add(s.advance)
		c.Record(analytics.Request{UID: "v1", LiveInput: "in1", Creator: "c1",
			Country: s.country, Session: s.session, Media: s.media})
	}

	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	total := query(t, st, start, 24*time.Hour)
	if len(total) != 1 || total[0].Views != 3 || total[0].MediaSeconds != 10 {
		t.Fatalf("day total %+v, want 3 views and 10 media seconds", total)
	}

	byCountry := query(t, st, start, time.Hour, "clientCountryName")
	want := map[string][2]float64{"GB": {2, 8}, "FR": {1, 2}}

	for _, r := range byCountry {
		w := want[r.Dimensions["clientCountryName"]]
		if float64(r.Views) != w[0] || r.MediaSeconds != w[1] {
			t.Errorf("country row %+v, want views %v seconds %v", r, w[0], w[1])
		}
	}

	minutes := query(t, st, start, time.Minute, "uid", "liveInput", "creator")
	if len(minutes) != 3 || minutes[0].Dimensions["creator"] != "c1" ||
		minutes[0].Dimensions["liveInput"] != "in1" {
		t.Errorf("minute rows %+v, want three minutes with the dimensions", minutes)
	}
}

func TestLiveViewers(t *testing.T) {
	clk := &clock{t: time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)}
	c, _ := newCollector(t, clk)

	watch := func(who string) {
		c.Record(analytics.Request{UID: "v1", Session: who, Country: "XX"})
	}

	cases := []struct {
		advance time.Duration
		watch   []string
		want    int
	}{
		{0, []string{"a", "b"}, 2},
		{20 * time.Second, []string{"b"}, 2},
		{15 * time.Second, nil, 1}, // a silent for 35 s
		{10 * time.Second, []string{"c"}, 2},
		{31 * time.Second, nil, 0},
	}

	for i, tc := range cases {
		clk.add(tc.advance)

		for _, w := range tc.watch {
			watch(w)
		}

		if got := c.LiveViewers("v1"); got != tc.want {
			t.Errorf("step %d: %d live viewers, want %d", i, got, tc.want)
		}
	}

	if got := c.LiveViewers("other"); got != 0 {
		t.Errorf("other id: %d live viewers", got)
	}
}

func TestSessionKey(t *testing.T) {
	fp := analytics.SessionKey("", "192.0.2.1", "ua", "v1")

	cases := []struct {
		name string
		key  string
		same bool
	}{
		{"same request", analytics.SessionKey("", "192.0.2.1", "ua", "v1"), true},
		{"other address", analytics.SessionKey("", "192.0.2.2", "ua", "v1"), false},
		{"other agent", analytics.SessionKey("", "192.0.2.1", "ub", "v1"), false},
		{"other id", analytics.SessionKey("", "192.0.2.1", "ua", "v2"), false},
		{"token", analytics.SessionKey("tok", "192.0.2.1", "ua", "v1"), false},
	}

	for _, tc := range cases {
		if (tc.key == fp) != tc.same {
			t.Errorf("%s: key equal %v, want %v", tc.name, tc.key == fp, tc.same)
		}
	}

	if analytics.SessionKey("tok", "a", "b", "v1") != analytics.SessionKey("tok", "c", "d", "v1") {
		t.Error("a token's session changed with the address")
	}
}

// TestCloseFlushes checks that counts reach the store at Close, and in
// batches when there are many rows.
func TestCloseFlushes(t *testing.T) {
	start := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	clk := &clock{t: start}

	st, err := store.Open(filepath.Join(t.TempDir(), "onair.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	c := &analytics.Collector{Sink: st, Now: clk.now, FlushEvery: time.Hour}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}

	const uids = 1200 // over two batches

	for i := range uids {
		c.Record(analytics.Request{UID: "v" + strconv.Itoa(i), Session: strconv.Itoa(i),
			Country: "XX", Media: time.Second})
	}

	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	rows := query(t, st, start, time.Hour, "uid")
	if len(rows) != uids {
		t.Errorf("%d rows stored, want %d", len(rows), uids)
	}
}
