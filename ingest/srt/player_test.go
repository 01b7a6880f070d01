package srt

import (
	"encoding/json"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/onair/onair/ingest/stream"
)

func TestPlaybackWithFFprobe(t *testing.T) {
	const pass = stream.Secret("0123456789abcdef0123")
	const playPass = stream.Secret("fedcba9876543210fedc")

	cases := []struct {
		name     string
		streamID string
	}{
		{"bare playback id", "play-id"},
		{"access-control request", "#!::r=play-id,m=request"},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, rec := newTestInput("in1", pass)
			player := &testInput{hub: in.hub, passphrase: playPass}
			dir := &testDirectory{
				publish:  map[string]*testInput{"pub-id": in},
				playback: map[string]*testInput{"play-id": player},
			}
			_, addr, tl := startServer(t, dir)

			done := make(chan struct{})
			go func() {
				defer close(done)
				_, _ = runFFmpeg(t, 30*time.Second, publishArgs(srtURL(addr, pass), "pub-id", 4)...)
			}()
			defer func() { <-done }()

			waitStarted(t, rec)

			got, err := probe(srtURL(addr, playPass), tc.streamID)
			if err != nil {
				t.Fatalf("ffprobe: %v\n%s", err, tl.String())
			}

			if strings.Join(got, ",") != "aac,h264" {
				t.Fatalf("ffprobe found %v, want aac and h264", got)
			}
		})
	}
}

// probe returns the sorted codec names ffprobe finds at an SRT URL.
func probe(url, streamID string) ([]string, error) {
	out, err := exec.Command("ffprobe", "-v", "error", "-rw_timeout", "10000000",
		"-srt_streamid", streamID, "-show_entries", "stream=codec_name", "-of", "json",
		url).Output()
	if err != nil {
		return nil, err
	}

	var res struct {
		Streams []struct {
			CodecName string `json:"codec_name"`
		} `json:"streams"`
	}

	if err := json.Unmarshal(out, &res); err != nil {
		return nil, err
	}

	var names []string
	for _, s := range res.Streams {
		names = append(names, s.CodecName)
	}

	sort.Strings(names)

	return names, nil
}
