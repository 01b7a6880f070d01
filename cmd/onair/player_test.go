package main

import (
	"sync"
	"testing"

	"github.com/bluenviron/gohlslib/v2"
	"github.com/bluenviron/gohlslib/v2/pkg/codecs"
)

// hlsPlayer is gohlslib's HLS client reading a multivariant playlist as a
// player does: it picks a variant and its audio rendition, downloads segments
// as they appear and hands back their access units.
type hlsPlayer struct {
	client *gohlslib.Client

	mu        sync.Mutex
	video     int   // pictures received
	audio     int   // audio frames received
	lastDTS   int64 // of the last picture
	dtsFaults int   // pictures whose DTS did not rise
}

func startPlayer(t *testing.T, url string) *hlsPlayer {
	t.Helper()

	p := &hlsPlayer{}
	p.client = &gohlslib.Client{URI: url, StartDistance: 2}
	p.client.OnDecodeError = func(err error) { t.Logf("hls client: decode error: %v", err) }
	p.client.OnTracks = func(tracks []*gohlslib.Track) error {
		for _, tr := range tracks {
			switch tr.Codec.(type) {
			case *codecs.H264:
				p.client.OnDataH26x(tr, func(_, dts int64, _ [][]byte) { p.onVideo(dts) })
			case *codecs.MPEG4Audio:
				p.client.OnDataMPEG4Audio(tr, func(_ int64, aus [][]byte) { p.onAudio(len(aus)) })
			}
		}

		return nil
	}

	if err := p.client.Start(); err != nil {
		t.Fatalf("hls client: %v", err)
	}

	go func() {
		err := p.client.Wait2()
		v, a, _ := p.counts()
		t.Logf("hls client stopped after %d pictures and %d audio frames: %v", v, a, err)
	}()
	t.Cleanup(p.client.Close)

	return p
}

func (p *hlsPlayer) onVideo(dts int64) {
	p.mu.Lock()
	defer p.mu.Unlock()

	if p.video > 0 && dts <= p.lastDTS {
		p.dtsFaults++
	}

	p.video++
	p.lastDTS = dts
}

func (p *hlsPlayer) onAudio(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()

	p.audio += n
}

// counts returns the pictures and audio frames received so far, and how many
// pictures came with a DTS that did not rise.
func (p *hlsPlayer) counts() (video, audio, dtsFaults int) {
	p.mu.Lock()
	defer p.mu.Unlock()

	return p.video, p.audio, p.dtsFaults
}
