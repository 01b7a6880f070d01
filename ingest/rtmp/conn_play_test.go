package rtmp

import (
	"encoding/json"
	"net"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/onair/onair/ingest/stream"
)

// playDirectory admits publishers by testDirectory and players by playback
// keys.
type playDirectory struct {
	*testDirectory
	playback map[string]*stream.Hub
}

func (d *playDirectory) PlaybackHub(protocol, key string) (*stream.Hub, stream.Secret, error) {
	h, ok := d.playback[key]
	if !ok || protocol != "rtmp" {
		return nil, "", &stream.AuthError{Reason: stream.AuthUnknownKey}
	}

	return h, "", nil
}

func TestPlayWithFFprobe(t *testing.T) {
	cases := []struct {
		name   string
		tls    bool
		scheme string
	}{
		{"rtmp", false, "rtmp"},
		{"rtmps", true, "rtmps"},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			hub := newHub("in1", rec)
			dir := &playDirectory{
				testDirectory: &testDirectory{hubs: map[string]*stream.Hub{"k1": hub}},
				playback:      map[string]*stream.Hub{"p1": hub},
			}

			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}

			s := &Server{Directory: dir}
			if tc.tls {
				s.TLSConfig = selfSigned(t)
			}

			if err := s.Start(ln); err != nil {
				t.Fatal(err)
			}
			defer s.Close()

			base := tc.scheme + "://" + ln.Addr().String() + "/live/"
			p := ffmpeg(t, "-re", "-t", "4", "-i", clipPath, "-c", "copy", "-f", "flv", base+"k1")
			defer p.wait(t, ffmpegLimit)

			select {
			case <-rec.started:
			case <-time.After(20 * time.Second):
				t.Fatalf("publisher did not start: %s", p.out.String())
			}

			got, err := probeCodecs(base + "p1")
			if err != nil {
				t.Fatalf("ffprobe: %v", err)
			}

			if strings.Join(got, ",") != "aac,h264" {
				t.Fatalf("ffprobe found %v, want aac and h264", got)
			}
		})
	}
}

func TestPlayUnknownKeyRefused(t *testing.T) {
	rec := &recorder{}
	dir := &playDirectory{
		testDirectory: &testDirectory{hubs: map[string]*stream.Hub{"k1": newHub("in1", rec)}},
	}
	addr, logs := startServer(t, dir)

	if got, err := probeCodecs("rtmp://" + addr + "/live/nobody"); err == nil {
		t.Fatalf("ffprobe played an unknown key: %v", got)
	}

	waitFor(t, 10*time.Second, "refusal logged", func() bool {
		return strings.Contains(logs.String(), "play refused")
	})
}

// probeCodecs returns the sorted codec names ffprobe finds at url.
func probeCodecs(url string) ([]string, error) {
	out, err := exec.Command("ffprobe", "-v", "error", "-rw_timeout", "10000000",
		"-tls_verify", "0", "-show_entries", "stream=codec_name", "-of", "json", url).Output()
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
