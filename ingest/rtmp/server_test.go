package rtmp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/onair/onair/ingest/stream"
)

// ffmpegLimit guards against a hung ffmpeg; it is not a performance bound.
const ffmpegLimit = 90 * time.Second

// wantTrack is what a test expects of one track.
type wantTrack struct {
	codec         stream.Codec
	width, height int
	rate, chans   int
}

func TestPublishFFmpeg(t *testing.T) {
	const lavfiVideo = "testsrc2=size=320x240:rate=25"

	cases := []struct {
		name   string
		args   []string // between the input and the output
		input  []string // replaces the clip input
		tracks []wantTrack
		check  func(t *testing.T, units []*stream.Unit)
	}{
		{
			name: "copy",
			args: []string{"-c", "copy"},
			tracks: []wantTrack{
				{codec: stream.CodecH264, width: 1280, height: 720},
				{codec: stream.CodecAAC, rate: 44100, chans: 2},
			},
		},
		{
			name:   "audio only",
			args:   []string{"-vn", "-c:a", "copy"},
			tracks: []wantTrack{{codec: stream.CodecAAC, rate: 44100, chans: 2}},
		},
		{
			name:   "video only",
			args:   []string{"-an", "-c:v", "copy"},
			tracks: []wantTrack{{codec: stream.CodecH264, width: 1280, height: 720}},
		},
		{
			name: "aac 48 kHz mono",
			args: []string{"-c:v", "copy", "-c:a", "aac", "-ar", "48000", "-ac", "1"},
			tracks: []wantTrack{
				{codec: stream.CodecH264, width: 1280, height: 720},
				{codec: stream.CodecAAC, rate: 48000, chans: 1},
			},
		},
		{
			name: "aac 22050 Hz",
			args: []string{"-c:v", "copy", "-c:a", "aac", "-ar", "22050", "-ac", "2"},
			tracks: []wantTrack{
				{codec: stream.CodecH264, width: 1280, height: 720},
				{codec: stream.CodecAAC, rate: 22050, chans: 2},
			},
		},
		{
			name:  "b-frames",
			input: []string{"-f", "lavfi", "-i", lavfiVideo},
			args: []string{"-t", "3", "-c:v", "libx264", "-preset", "ultrafast", "-bf", "3",
				"-g", "25"},
			tracks: []wantTrack{{codec: stream.CodecH264, width: 320, height: 240}},
			check: func(t *testing.T, units []*stream.Unit) {
				reordered := 0
				for _, u := range units {
					if u.PTS != u.DTS {
						reordered++
					}
				}

				if reordered == 0 {
					t.Errorf("no unit of %d has PTS != DTS", len(units))
				}
			},
		},
		{
			name: "extended timestamps",
			args: []string{"-c", "copy", "-output_ts_offset", "20000"},
			tracks: []wantTrack{
				{codec: stream.CodecH264, width: 1280, height: 720},
				{codec: stream.CodecAAC, rate: 44100, chans: 2},
			},
			check: func(t *testing.T, units []*stream.Unit) {
				for _, u := range units {
					if u.DTS < 0xffffff*time.Millisecond {
						t.Fatalf("DTS %s is below the 24-bit timestamp range", u.DTS)
					}
				}
			},
		},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			dir := &testDirectory{hubs: map[string]*stream.Hub{"k1": newHub("in1", rec)}}
			addr, _ := startServer(t, dir)

			input := tc.input
			if input == nil {
				input = []string{"-t", "3", "-i", clipPath}
			}

			args := append(append(append([]string{}, input...), tc.args...),
				"-f", "flv", "rtmp://"+addr+"/live/k1")
			p := ffmpeg(t, args...)

			if code := p.wait(t, ffmpegLimit); code != 0 {
				t.Fatalf("ffmpeg exited %d: %s", code, p.out.String())
			}

			bs := rec.all()
			if len(bs) != 1 {
				t.Fatalf("got %d broadcasts, want 1", len(bs))
			}

			b := bs[0]
			waitFor(t, 10*time.Second, "broadcast end", func() bool {
				select {
				case <-b.done:
					return true
				default:
					return false
				}
			})

			if !errors.Is(b.err, stream.ErrEnded) {
				t.Errorf("broadcast ended with %v, want %v", b.err, stream.ErrEnded)
			}

			checkTracks(t, b.tracks, tc.tracks)
			units := b.snapshot()
			checkUnits(t, b.tracks, units)

			if tc.check != nil {
				tc.check(t, units)
			}
		})
	}
}

// checkTracks compares tracks with the expectation.
func checkTracks(t *testing.T, got []*stream.Track, want []wantTrack) {
	t.Helper()

	if len(got) != len(want) {
		t.Fatalf("got %d tracks (%s), want %d", len(got), describeTracks(got), len(want))
	}

	for i, w := range want {
		g := got[i]
		if g.ID != i+1 || g.Codec != w.codec || g.Width != w.width || g.Height != w.height ||
			g.SampleRate != w.rate || g.Channels != w.chans {
			t.Errorf("track %d: got id %d %s %dx%d %d Hz %d ch, want %s %dx%d %d Hz %d ch",
				i, g.ID, g.Codec, g.Width, g.Height, g.SampleRate, g.Channels,
				w.codec, w.width, w.height, w.rate, w.chans)
		}

		if w.codec == stream.CodecH264 && (len(g.SPS) == 0 || len(g.PPS) == 0) {
			t.Errorf("track %d has no SPS or PPS", i)
		}

		if w.codec == stream.CodecAAC && len(g.AudioConfig) == 0 {
			t.Errorf("track %d has no AudioSpecificConfig", i)
		}
	}
}

// checkUnits checks that every track has units, the first video unit is a
// keyframe, DTS rises within each track and PTS is never below DTS.
func checkUnits(t *testing.T, tracks []*stream.Track, units []*stream.Unit) {
	t.Helper()

	last := map[*stream.Track]time.Duration{}
	counts := map[*stream.Track]int{}

	for i, u := range units {
		if counts[u.Track] == 0 && u.Track.IsVideo() && !u.Key {
			t.Errorf("first video unit is not a keyframe")
		}

		if counts[u.Track] > 0 && u.DTS < last[u.Track] {
			t.Fatalf("unit %d: DTS %s after %s", i, u.DTS, last[u.Track])
		}

		if u.PTS < u.DTS {
			t.Fatalf("unit %d: PTS %s below DTS %s", i, u.PTS, u.DTS)
		}

		if u.Size() == 0 {
			t.Fatalf("unit %d is empty", i)
		}

		for _, n := range u.NALUs {
			if len(n) == 0 {
				t.Fatalf("unit %d has an empty NALU", i)
			}
		}

		last[u.Track] = u.DTS
		counts[u.Track]++
	}

	for _, tr := range tracks {
		if counts[tr] < 10 {
			t.Errorf("track %d (%s) got %d units", tr.ID, tr.Codec, counts[tr])
		}
	}
}

func TestPublishRefused(t *testing.T) {
	cases := []struct {
		name    string
		key     string
		disable bool
		reason  string
	}{
		{name: "wrong key", key: "nope", reason: "unknown stream key"},
		{name: "disabled input", key: "k1", disable: true, reason: "live input in1 is disabled"},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			dir := &testDirectory{
				hubs:     map[string]*stream.Hub{"k1": newHub("in1", rec)},
				disabled: map[string]bool{"k1": tc.disable},
			}
			addr, logs := startServer(t, dir)

			p := ffmpeg(t, "-t", "1", "-i", clipPath, "-c", "copy", "-f", "flv",
				"rtmp://"+addr+"/live/"+tc.key)
			if code := p.wait(t, ffmpegLimit); code == 0 {
				t.Fatalf("ffmpeg exited 0 for a refused publish")
			}

			if n := len(rec.all()); n != 0 {
				t.Errorf("got %d broadcasts, want none", n)
			}

			waitFor(t, 10*time.Second, "close log line", func() bool {
				return strings.Contains(logs.String(), "closed: ")
			})

			text := logs.String()
			if !strings.Contains(text, tc.reason) {
				t.Errorf("log does not give the reason %q:\n%s", tc.reason, text)
			}

			if strings.Contains(text, "/"+tc.key) || strings.Contains(text, "="+tc.key+" ") {
				t.Errorf("log shows the stream key:\n%s", text)
			}
		})
	}
}

func TestSecondPublisherRefused(t *testing.T) {
	rec := &recorder{}
	dir := &testDirectory{hubs: map[string]*stream.Hub{"k1": newHub("in1", rec)}}
	addr, _ := startServer(t, dir)
	url := "rtmp://" + addr + "/live/k1"

	first := ffmpeg(t, "-re", "-stream_loop", "-1", "-i", clipPath, "-c", "copy", "-f", "flv", url)

	<-rec.started
	b := rec.all()[0]
	waitFor(t, 30*time.Second, "first publisher's units", func() bool { return b.count() > 0 })

	second := ffmpeg(t, "-t", "1", "-i", clipPath, "-c", "copy", "-f", "flv", url)
	if code := second.wait(t, ffmpegLimit); code == 0 {
		t.Fatalf("second publisher was accepted")
	}

	before := b.count()
	waitFor(t, 30*time.Second, "first publisher to keep streaming", func() bool {
		return b.count() > before+24
	})

	if n := len(rec.all()); n != 1 {
		t.Errorf("got %d broadcasts, want 1", n)
	}

	select {
	case <-first.done:
		t.Fatalf("first publisher stopped: %s", first.out.String())
	default:
	}
}

func TestKickClosesPublisher(t *testing.T) {
	rec := &recorder{}
	hub := newHub("in1", rec)
	dir := &testDirectory{hubs: map[string]*stream.Hub{"k1": hub}}
	addr, logs := startServer(t, dir)

	p := ffmpeg(t, "-re", "-stream_loop", "-1", "-i", clipPath, "-c", "copy", "-f", "flv",
		"rtmp://"+addr+"/live/k1")

	<-rec.started
	b := rec.all()[0]
	waitFor(t, 30*time.Second, "units", func() bool { return b.count() > 0 })

	cause := fmt.Errorf("input disabled by test")
	hub.Kick(cause)

	p.wait(t, ffmpegLimit)
	<-b.done

	if !errors.Is(b.err, cause) {
		t.Errorf("broadcast ended with %v, want %v", b.err, cause)
	}

	waitFor(t, 10*time.Second, "close log line", func() bool {
		return strings.Contains(logs.String(), "publisher cut off: input disabled by test")
	})
}

func TestPublishRTMPS(t *testing.T) {
	rec := &recorder{}
	dir := &testDirectory{hubs: map[string]*stream.Hub{"k1": newHub("in1", rec)}}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}

	s := &Server{Directory: dir, TLSConfig: selfSigned(t)}
	if err := s.Start(ln); err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	p := ffmpeg(t, "-t", "2", "-i", clipPath, "-c", "copy", "-f", "flv",
		"rtmps://"+ln.Addr().String()+"/live/k1")
	if code := p.wait(t, ffmpegLimit); code != 0 {
		t.Fatalf("ffmpeg exited %d: %s", code, p.out.String())
	}

	bs := rec.all()
	if len(bs) != 1 {
		t.Fatalf("got %d broadcasts, want 1", len(bs))
	}

	<-bs[0].done
	checkTracks(t, bs[0].tracks, []wantTrack{
		{codec: stream.CodecH264, width: 1280, height: 720},
		{codec: stream.CodecAAC, rate: 44100, chans: 2},
	})
	checkUnits(t, bs[0].tracks, bs[0].snapshot())
}

// selfSigned returns a TLS config with a fresh certificate for 127.0.0.1.
func selfSigned(t *testing.T) *tls.Config {
	t.Helper()

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}

	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}

	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}

	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der},
		PrivateKey: key}}}
}

func TestCloseCutsPublishers(t *testing.T) {
	rec := &recorder{}
	dir := &testDirectory{hubs: map[string]*stream.Hub{"k1": newHub("in1", rec)}}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}

	s := &Server{Directory: dir}
	if err := s.Start(ln); err != nil {
		t.Fatal(err)
	}

	p := ffmpeg(t, "-re", "-stream_loop", "-1", "-i", clipPath, "-c", "copy", "-f", "flv",
		"rtmp://"+ln.Addr().String()+"/live/k1")

	<-rec.started
	b := rec.all()[0]
	waitFor(t, 30*time.Second, "units", func() bool { return b.count() > 0 })

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	<-b.done
	if !errors.Is(b.err, ErrServerClosed) {
		t.Errorf("broadcast ended with %v, want %v", b.err, ErrServerClosed)
	}

	p.wait(t, ffmpegLimit)

	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Errorf("listener still accepts after Close")
	}
}
