package packager

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onair/onair/ingest/stream"
	"github.com/onair/onair/packager/packagertest"
)

// audioOnly starts an audio-only presentation of 1 s segments and 250 ms
// parts and writes n AAC frames of 1024 samples at 48 kHz.
func audioOnly(t *testing.T, n int) (*Presentation, *stream.Track) {
	t.Helper()

	audio := &stream.Track{ID: 1, Codec: stream.CodecAAC, Name: "audio",
		AudioConfig: aacLC48kStereo, SampleRate: 48000, Channels: 2, Bitrate: 64000}
	p := &Presentation{SegmentDuration: time.Second, Window: 2,
		PartDuration: 250 * time.Millisecond}

	err := p.Start([]*stream.Track{audio})
	if err != nil {
		t.Fatal(err)
	}

	for i := range n {
		p.Write(audioFrame(audio, i))
	}

	return p, audio
}

// audioFrame returns AAC frame i of 1024 samples at 48 kHz.
func audioFrame(track *stream.Track, i int) *stream.Unit {
	ts := time.Duration(i*1024) * time.Second / 48000

	return &stream.Unit{Track: track, PTS: ts, DTS: ts, Key: true, Payload: []byte{1, 2, 3}}
}

func TestLowLatencyPlaylistText(t *testing.T) {
	// 150 frames: segments of 47 frames (1.00267 s) cut into parts of 11
	// frames (0.23467 s, the most under 0.25 s) and a last one of 3; 9 frames
	// are left in segment 3, 8 of them taken: no part of it yet.
	p, _ := audioOnly(t, 150)
	live, _ := p.LowLatencyPlaylist("audio")
	mv := p.LowLatencyMultivariant()
	p.End()
	ended, _ := p.LowLatencyPlaylist("audio")

	seg := func(seq string, last string) string {
		var b strings.Builder
		for i := range 4 {
			b.WriteString("#EXT-X-PART:DURATION=0.23467,URI=\"S/part_" + seq + "_" +
				strconv.Itoa(i) + ".m4s\",INDEPENDENT=YES\n")
		}

		return b.String() + "#EXT-X-PART:DURATION=" + last + ",URI=\"S/part_" + seq +
			"_4.m4s\",INDEPENDENT=YES\n"
	}

	head := "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:1\n" +
		"#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.750\n" +
		"#EXT-X-PART-INF:PART-TARGET=0.250\n"

	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"live", live, head + "#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-INDEPENDENT-SEGMENTS\n" +
			"#EXT-X-MAP:URI=\"S/init.mp4\"\n#EXT-X-PROGRAM-DATE-TIME:T\n" +
			seg("1", "0.06400") + "#EXTINF:1.00267,\nS/seg_1.m4s\n" +
			seg("2", "0.06400") + "#EXTINF:1.00267,\nS/seg_2.m4s\n" +
			"#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"S/part_3_0.m4s\"\n"},
		// End closes segment 3 with its 9 frames in one part of 0.192 s.
		{"ended", ended, head + "#EXT-X-MEDIA-SEQUENCE:2\n#EXT-X-INDEPENDENT-SEGMENTS\n" +
			"#EXT-X-MAP:URI=\"S/init.mp4\"\n#EXT-X-PROGRAM-DATE-TIME:T\n" +
			seg("2", "0.06400") + "#EXTINF:1.00267,\nS/seg_2.m4s\n" +
			"#EXT-X-PART:DURATION=0.19200,URI=\"S/part_3_0.m4s\",INDEPENDENT=YES\n" +
			"#EXTINF:0.19200,\nS/seg_3.m4s\n#EXT-X-ENDLIST\n"},
		{"multivariant", mv, "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n" +
			"#EXT-X-STREAM-INF:BANDWIDTH=B,AVERAGE-BANDWIDTH=B,CODECS=\"mp4a.40.2\"\n" +
			"audio/llhls.m3u8\n"},
	}

	clean := strings.NewReplacer(p.Session()+"/", "S/")
	pdt := regexp.MustCompile(`PROGRAM-DATE-TIME:\S+`)
	bw := regexp.MustCompile(`BANDWIDTH=\d+`)

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := clean.Replace(string(tt.got))
			got = pdt.ReplaceAllString(got, "PROGRAM-DATE-TIME:T")
			got = bw.ReplaceAllString(got, "BANDWIDTH=B")

			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

var (
	partRE = regexp.MustCompile(`#EXT-X-PART:DURATION=([0-9.]+),` +
		`URI="[0-9a-f]+/part_(\d+)_(\d+)\.m4s"(,INDEPENDENT=YES)?`)
	reportRE = regexp.MustCompile(`#EXT-X-RENDITION-REPORT:` +
		`URI="\.\./([^/]+)/llhls\.m3u8",LAST-MSN=(\d+),LAST-PART=(\d+)`)
)

func TestPartsMakeSegments(t *testing.T) {
	m := packagertest.Make(t, packagertest.Options{Rungs: twoRungs, Audio: true,
		Duration: 5 * time.Second})
	p := &Presentation{}
	feed(t, p, m, nil)

	for _, name := range []string{"360p", "180p", "audio"} {
		pl, err := p.LowLatencyPlaylist(name)
		if err != nil {
			t.Fatal(err)
		}

		parts := map[uint64][]byte{}
		segs := 0

		for _, pm := range partRE.FindAllStringSubmatch(string(pl), -1) {
			d, _ := strconv.ParseFloat(pm[1], 64)
			seq, _ := strconv.ParseUint(pm[2], 10, 64)
			idx, _ := strconv.Atoi(pm[3])

			if d > DefaultPartDuration.Seconds() || d <= 0 {
				t.Errorf("%s part %d.%d lasts %v s, target %v", name, seq, idx, d,
					DefaultPartDuration)
			}

			// Video parts are independent exactly when they start a segment:
			// the keyframes are 2 s apart.
			if want := name == "audio" || idx == 0; (pm[4] != "") != want {
				t.Errorf("%s part %d.%d INDEPENDENT %q, want %v", name, seq, idx, pm[4], want)
			}

			data, err := p.Part(name, seq, idx)
			if err != nil {
				t.Fatalf("listed part %s %d.%d: %v", name, seq, idx, err)
			}

			if !bytes.Contains(data[:min(len(data), 16)], []byte("moof")) {
				t.Errorf("part %s %d.%d does not start with a moof", name, seq, idx)
			}

			parts[seq] = append(parts[seq], data...)
		}

		for seq, joined := range parts {
			seg, err := p.Segment(name, seq)
			if errors.Is(err, ErrNotFound) {
				continue // the open segment
			}

			if err != nil {
				t.Fatal(err)
			}

			segs++

			if !bytes.Equal(seg, joined) {
				t.Errorf("%s segment %d (%d bytes) is not its parts joined (%d bytes)", name,
					seq, len(seg), len(joined))
			}
		}

		if segs < 2 || len(parts) < 3 {
			t.Errorf("%s: %d finished segments with parts among %d:\n%s", name, segs,
				len(parts), pl)
		}

		// Every other rendition is reported at its newest part.
		reports := reportRE.FindAllStringSubmatch(string(pl), -1)
		if len(reports) != 2 {
			t.Errorf("%s: %d rendition reports:\n%s", name, len(reports), pl)
		}

		for _, rep := range reports {
			other, _ := p.LowLatencyPlaylist(rep[1])
			all := partRE.FindAllStringSubmatch(string(other), -1)
			last := all[len(all)-1]

			if rep[2] != last[2] || rep[3] != last[3] {
				t.Errorf("%s reports %s at %s.%s, its last part is %s.%s", name, rep[1],
					rep[2], rep[3], last[2], last[3])
			}
		}
	}

	// ffmpeg reads an ended LL-HLS playlist (a live one it reloads for
	// minutes) by its segments.
	p.End()
	probe(t, serve(t, p)+"180p/llhls.m3u8")
}

func TestAwaitPart(t *testing.T) {
	// After 100 frames segments 0 and 1 are done (47 frames each) and
	// segment 2 has 5 frames, no part yet.
	tests := []struct {
		name    string
		msn     uint64
		part    int
		wantErr error
	}{
		{"next part", 2, 0, nil},
		{"part after next", 2, 1, nil},
		{"next segment whole", 2, -1, nil},
		{"past the last part of segment 1", 1, 40, nil}, // stands for 2.0
		{"two segments ahead", 4, 0, nil},
		{"three segments ahead", 5, 0, ErrTooFarAhead},
		{"three parts ahead", 2, 3, ErrTooFarAhead},
		{"far past the open segment's parts", 2, 7, ErrTooFarAhead},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, audio := audioOnly(t, 100)

			if tt.wantErr != nil {
				err := p.AwaitPart(context.Background(), "audio", tt.msn, tt.part)
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("AwaitPart = %v, want %v", err, tt.wantErr)
				}

				return
			}

			var writing atomic.Int64 // index of the frame being written
			writing.Store(99)

			type result struct {
				at  int64
				err error
			}

			done := make(chan result, 1)

			go func() {
				err := p.AwaitPart(context.Background(), "audio", tt.msn, tt.part)
				done <- result{writing.Load(), err}
			}()

			waitForWaiter(t, p)

			// Find, by writing, the first frame whose Write makes what the
			// waiter asks for; the waiter must not answer before it.
			want := int64(-1)

			for i := 100; i < 400 && want < 0; i++ {
				writing.Store(int64(i))
				p.Write(audioFrame(audio, i))

				p.mu.Lock()
				if p.byName["audio"].has(tt.msn, tt.part) {
					want = int64(i)
				}
				p.mu.Unlock()
			}

			res := <-done

			if !errors.Is(res.err, tt.wantErr) {
				t.Fatalf("AwaitPart = %v, want %v", res.err, tt.wantErr)
			}

			if tt.wantErr == nil && res.at < want {
				t.Errorf("answered while writing frame %d, before frame %d made the part",
					res.at, want)
			}
		})
	}
}

// waitForWaiter returns once a reader waits on p.
func waitForWaiter(t *testing.T, p *Presentation) {
	t.Helper()

	deadline := time.Now().Add(10 * time.Second)

	for time.Now().Before(deadline) {
		p.mu.Lock()
		n := p.waiting
		p.mu.Unlock()

		if n > 0 {
			return
		}

		runtime.Gosched()
	}

	t.Fatal("no reader waits on the presentation")
}

func TestAwaitPartEnds(t *testing.T) {
	p, _ := audioOnly(t, 100)

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)

	go func() { errc <- p.AwaitPart(ctx, "audio", 3, 0) }()

	cancel()

	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("AwaitPart after cancel = %v", err)
	}

	go func() { errc <- p.AwaitPart(context.Background(), "audio", 3, 0) }()

	waitForWaiter(t, p)
	p.End()

	if err := <-errc; err != nil {
		t.Errorf("AwaitPart after End = %v", err)
	}

	if err := p.AwaitPart(context.Background(), "video", 0, 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("AwaitPart of an unknown rendition = %v", err)
	}
}

func TestPreloadHintPart(t *testing.T) {
	p, audio := audioOnly(t, 100)
	uri := "audio/" + p.Session() + "/part_2_0.m4s"

	if _, err := p.Open(uri); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Open of a part to come = %v, want ErrNotFound", err)
	}

	resc := make(chan *Resource, 1)

	go func() {
		res, err := p.Serve(context.Background(), Request{URI: uri, Wait: true})
		if err != nil {
			t.Error(err)
		}

		resc <- res
	}()

	waitForWaiter(t, p)

	for i := 100; i < 120; i++ {
		p.Write(audioFrame(audio, i))
	}

	res := <-resc
	want, err := p.Part("audio", 2, 0)

	if err != nil || res == nil || !bytes.Equal(res.Data, want) || res.Kind != KindPart {
		t.Errorf("preload hint answered %+v, part is %d bytes (%v)", res, len(want), err)
	}

	// A part its segment finished without never comes.
	p.End()

	_, err = p.Serve(context.Background(), Request{URI: "audio/" + p.Session() +
		"/part_2_9.m4s", Wait: true})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("part past its segment's end = %v, want ErrNotFound", err)
	}
}

func TestParsePartURI(t *testing.T) {
	tests := []struct {
		uri  string
		seq  uint64
		idx  int
		want bool
	}{
		{"part_0_0.m4s", 0, 0, true},
		{"part_42_3.m4s", 42, 3, true},
		{"part_42_03.m4s", 0, 0, false},
		{"part_042_3.m4s", 0, 0, false},
		{"part_42.m4s", 0, 0, false},
		{"part_4_-1.m4s", 0, 0, false},
		{"part_4_+1.m4s", 0, 0, false},
		{"part_4_1.mp4", 0, 0, false},
		{"seg_4.m4s", 0, 0, false},
		{"part_4_1234567.m4s", 0, 0, false},
	}

	for _, tt := range tests {
		seq, idx, ok := parsePartURI(tt.uri)
		if ok != tt.want || seq != tt.seq || idx != tt.idx {
			t.Errorf("parsePartURI(%q) = %d, %d, %v; want %d, %d, %v", tt.uri, seq, idx, ok,
				tt.seq, tt.idx, tt.want)
		}

		if tt.want && partURI(seq, idx) != tt.uri {
			t.Errorf("partURI(%d, %d) = %q", seq, idx, partURI(seq, idx))
		}
	}
}
