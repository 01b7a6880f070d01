package delivery

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onair/onair/packager"
)

func TestOriginRecordsViews(t *testing.T) {
	_, p := newOrigin(t, true)
	views := &recorded{}
	o := &Origin{Presentations: &presentations{m: map[string]*packager.Presentation{"in1": p}},
		Viewing: views}
	srv := httptest.NewServer(o.Handler())
	t.Cleanup(srv.Close)

	base := srv.URL + "/in1/manifest/"
	_, _, mv := get(t, base+"video.m3u8", nil)
	media := firstURI(mv)
	_, _, pl := get(t, base+media, nil)

	// The first segment and its EXTINF.
	dir := media[:strings.LastIndex(media, "/")+1]
	var extinf float64
	var seg string

	for _, line := range strings.Split(pl, "\n") {
		if v, ok := strings.CutPrefix(line, "#EXTINF:"); ok && extinf == 0 {
			extinf, _ = strconv.ParseFloat(strings.TrimSuffix(v, ","), 64)
		} else if line != "" && line[0] != '#' && seg == "" {
			seg = dir + line
		}
	}

	status, hdr, _ := get(t, base+seg, nil)
	if status != 200 || ParseMediaSeconds(hdr.Get(DurationHeader)) == 0 {
		t.Fatalf("segment: %d, %s %q", status, DurationHeader, hdr.Get(DurationHeader))
	}

	req, _ := http.NewRequest(http.MethodHead, base+seg, nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}

	get(t, base+seg, map[string]string{EdgeHeader: "1"}) // an edge's fetch: not counted

	views.mu.Lock()
	defer views.mu.Unlock()

	if len(views.reqs) != 4 {
		t.Fatalf("%d requests recorded, want 4 (two playlists, the segment, its HEAD)",
			len(views.reqs))
	}

	want := time.Duration(extinf * float64(time.Second))
	got := views.reqs[2].Media

	if d := got - want; d < -time.Millisecond || d > time.Millisecond {
		t.Errorf("segment counted %v, want its EXTINF %v", got, want)
	}

	if views.reqs[0].Media != 0 || views.reqs[3].Media != 0 || views.reqs[0].Country != "XX" {
		t.Errorf("playlist or HEAD counted media, or no country: %+v", views.reqs)
	}

	for _, r := range views.reqs {
		if r.Session != views.reqs[0].Session || r.UID != "in1" {
			t.Errorf("request %+v: want one session of in1", r)
		}
	}
}
