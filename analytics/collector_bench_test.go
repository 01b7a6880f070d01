package analytics_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/onair/onair/analytics"
)

// discard is a Sink that stores nothing.
type discard struct{}

func (discard) AddViews(context.Context, []analytics.Row) error { return nil }

// BenchmarkRecord measures the cost a playback request pays for analytics:
// a session key and a Record, over 10,000 sessions.
func BenchmarkRecord(b *testing.B) {
	c := &analytics.Collector{Sink: discard{}, FlushEvery: time.Hour}
	if err := c.Start(); err != nil {
		b.Fatal(err)
	}
	defer c.Close()

	agents := make([]string, 10_000)
	for i := range agents {
		agents[i] = "player/" + strconv.Itoa(i)
	}

	b.ResetTimer()

	for i := 0; b.Loop(); i++ {
		key := analytics.SessionKey("", "192.0.2.1", agents[i%len(agents)], "v1")
		c.Record(analytics.Request{UID: "v1", LiveInput: "v1", Country: "GB", Session: key,
			Media: 2 * time.Second})
	}
}
