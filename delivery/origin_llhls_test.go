package delivery

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onair/onair/ingest/stream"
	"github.com/onair/onair/packager"
	"github.com/onair/onair/packager/packagertest"
)

// liveTest is a presentation of two rungs and audio, cut into 1 s segments
// and 250 ms parts, served by an origin, with units left to write.
type liveTest struct {
	base  string
	p     *packager.Presentation
	units []*stream.Unit
}

// newLiveOrigin encodes duration of media and starts serving it without
// writing any unit yet; the origin gives up blocking after timeout (zero:
// its default).
func newLiveOrigin(t *testing.T, duration time.Duration, window int,
	timeout time.Duration) *liveTest {
	t.Helper()

	m := packagertest.Make(t, packagertest.Options{
		Rungs: []packagertest.Rung{
			{Name: "360p", Width: 640, Height: 360, Bitrate: 600_000},
			{Name: "180p", Width: 320, Height: 180, Bitrate: 200_000},
		},
		Audio:       true,
		Duration:    duration,
		KeyInterval: time.Second,
	})

	p := &packager.Presentation{SegmentDuration: time.Second, Window: window,
		PartDuration: 250 * time.Millisecond}

	err := p.Start(m.Tracks)
	if err != nil {
		t.Fatal(err)
	}

	o := &Origin{
		Presentations: &presentations{m: map[string]*packager.Presentation{"in1": p}},
		BlockTimeout:  timeout,
	}
	srv := httptest.NewServer(o.Handler())
	t.Cleanup(srv.Close)

	return &liveTest{base: srv.URL + "/in1/manifest/", p: p, units: m.Units}
}

// writeUntil writes the units whose DTS is before d, from the first unwritten.
func (l *liveTest) writeUntil(d time.Duration) {
	for len(l.units) > 0 && l.units[0].DTS < d {
		l.p.Write(l.units[0])
		l.units = l.units[1:]
	}
}

// writeOne writes the next unit and reports whether there was one.
func (l *liveTest) writeOne() bool {
	if len(l.units) == 0 {
		return false
	}

	l.p.Write(l.units[0])
	l.units = l.units[1:]

	return true
}

// m3u8Line is one line of a playlist: a tag with its attributes, or a URI.
type m3u8Line struct {
	tag   string // "#EXT-X-PART", or "" for a URI line
	value string // what follows the colon, or the URI
	attrs map[string]string
}

// parseM3U8 splits a playlist into its lines.
func parseM3U8(t *testing.T, body string) []m3u8Line {
	t.Helper()

	if !strings.HasPrefix(body, "#EXTM3U\n") {
		t.Fatalf("not a playlist: %.80q", body)
	}

	var out []m3u8Line

	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())

		switch {
		case line == "":
		case strings.HasPrefix(line, "#"):
			tag, value, _ := strings.Cut(line, ":")
			out = append(out, m3u8Line{tag: tag, value: value, attrs: attributes(value)})
		default:
			out = append(out, m3u8Line{value: line})
		}
	}

	return out
}

// attributes splits an attribute list (RFC 8216 4.2), keeping quoted commas.
func attributes(s string) map[string]string {
	attrs := map[string]string{}

	for s != "" {
		name, rest, ok := strings.Cut(s, "=")
		if !ok {
			break
		}

		var value string

		if strings.HasPrefix(rest, `"`) {
			end := strings.IndexByte(rest[1:], '"') + 1
			if end == 0 {
				break
			}

			value, rest = rest[1:end], rest[end+1:]
		} else {
			value, rest, _ = strings.Cut(rest, ",")
			rest = "," + rest
		}

		attrs[name] = value
		s = strings.TrimPrefix(rest, ",")
	}

	return attrs
}

// tagged returns the lines with tag.
func tagged(lines []m3u8Line, tag string) []m3u8Line {
	var out []m3u8Line

	for _, l := range lines {
		if l.tag == tag {
			out = append(out, l)
		}
	}

	return out
}

// seconds parses a decimal-floating-point attribute.
func seconds(t *testing.T, s string) float64 {
	t.Helper()

	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("%q is not a number of seconds", s)
	}

	return f
}

// get fetches url and returns its status, headers and body.
func get(t *testing.T, url string) (int, http.Header, []byte) {
	t.Helper()

	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()

	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}

	return resp.StatusCode, resp.Header, body
}

// partRef is a part by media sequence number and index.
type partRef struct {
	msn uint64
	idx int
}

// parsePartURI reads SESSION/part_MSN_IDX.m4s.
func parsePartURI(t *testing.T, uri string) partRef {
	t.Helper()

	_, file, _ := strings.Cut(uri, "/")
	f := strings.Split(strings.TrimSuffix(strings.TrimPrefix(file, "part_"), ".m4s"), "_")

	if len(f) != 2 {
		t.Fatalf("part URI %q is not SESSION/part_MSN_IDX.m4s", uri)
	}

	msn, err1 := strconv.ParseUint(f[0], 10, 64)
	idx, err2 := strconv.Atoi(f[1])

	if err1 != nil || err2 != nil {
		t.Fatalf("part URI %q is not SESSION/part_MSN_IDX.m4s", uri)
	}

	return partRef{msn, idx}
}

func TestOriginLowLatencyMultivariant(t *testing.T) {
	l := newLiveOrigin(t, 3*time.Second, 6, 0)
	l.writeUntil(2500 * time.Millisecond)

	code, hdr, body := get(t, l.base+"video.m3u8?protocol=llhls")
	if code != 200 || hdr.Get("Content-Type") != "application/vnd.apple.mpegurl" {
		t.Fatalf("status %d, type %q", code, hdr.Get("Content-Type"))
	}

	lines := parseM3U8(t, string(body))

	var variants []string

	for i, line := range lines {
		if line.tag == "#EXT-X-STREAM-INF" && i+1 < len(lines) {
			variants = append(variants, lines[i+1].value)

			for _, a := range []string{"BANDWIDTH", "RESOLUTION", "CODECS", "AUDIO"} {
				if line.attrs[a] == "" {
					t.Errorf("variant %s lacks %s", lines[i+1].value, a)
				}
			}
		}
	}

	media := tagged(lines, "#EXT-X-MEDIA")
	if len(media) != 1 || media[0].attrs["URI"] != "audio/llhls.m3u8" {
		t.Errorf("EXT-X-MEDIA %+v, want the audio rendition's llhls.m3u8", media)
	}

	if strings.Join(variants, " ") != "360p/llhls.m3u8 180p/llhls.m3u8" {
		t.Errorf("variants %v, want the LL-HLS playlists of 360p and 180p", variants)
	}

	// Without the parameter, the same playlist names the plain HLS ones.
	_, _, plain := get(t, l.base+"video.m3u8")
	if bytes.Contains(plain, []byte("llhls.m3u8")) {
		t.Errorf("multivariant without protocol=llhls names LL-HLS playlists:\n%s", plain)
	}
}

func TestOriginLowLatencyMediaPlaylists(t *testing.T) {
	l := newLiveOrigin(t, 4*time.Second, 6, 0)
	l.writeUntil(3300 * time.Millisecond)

	names := []string{"360p", "180p", "audio"}
	edges := map[string]partRef{} // the last part each playlist lists

	for _, name := range names {
		code, hdr, body := get(t, l.base+name+"/llhls.m3u8")
		if code != 200 || hdr.Get("Cache-Control") != playlistCache {
			t.Fatalf("%s: status %d, Cache-Control %q", name, code, hdr.Get("Cache-Control"))
		}

		lines := parseM3U8(t, string(body))
		edges[name] = checkLowLatency(t, l, name, lines)
	}

	// Each playlist reports every other rendition's last part as that
	// rendition's own playlist lists it (RFC 8216bis 4.4.5.4).
	for _, name := range names {
		_, _, body := get(t, l.base+name+"/llhls.m3u8")
		reports := tagged(parseM3U8(t, string(body)), "#EXT-X-RENDITION-REPORT")

		got := map[string]partRef{}
		for _, r := range reports {
			msn, _ := strconv.ParseUint(r.attrs["LAST-MSN"], 10, 64)
			idx, _ := strconv.Atoi(r.attrs["LAST-PART"])
			got[r.attrs["URI"]] = partRef{msn, idx}
		}

		for _, other := range names {
			uri := "../" + other + "/llhls.m3u8"

			switch ref, ok := got[uri]; {
			case other == name && ok:
				t.Errorf("%s reports itself", name)
			case other != name && !ok:
				t.Errorf("%s has no EXT-X-RENDITION-REPORT for %s: %v", name, other, reports)
			case other != name && ref != edges[other]:
				t.Errorf("%s reports %s at %+v, its playlist ends at %+v", name, other, ref,
					edges[other])
			}
		}
	}
}

// checkLowLatency checks one live LL-HLS media playlist and returns its last
// listed part.
func checkLowLatency(t *testing.T, l *liveTest, name string, lines []m3u8Line) partRef {
	t.Helper()

	inf := tagged(lines, "#EXT-X-PART-INF")
	if len(inf) != 1 {
		t.Fatalf("%s: %d EXT-X-PART-INF tags, want 1", name, len(inf))
	}

	target := seconds(t, inf[0].attrs["PART-TARGET"])
	if target != 0.25 {
		t.Errorf("%s: PART-TARGET %v, want the presentation's 0.25", name, target)
	}

	ctl := tagged(lines, "#EXT-X-SERVER-CONTROL")
	if len(ctl) != 1 || ctl[0].attrs["CAN-BLOCK-RELOAD"] != "YES" {
		t.Fatalf("%s: EXT-X-SERVER-CONTROL %+v, want CAN-BLOCK-RELOAD=YES", name, ctl)
	}

	// RFC 8216bis 4.4.3.8: PART-HOLD-BACK at least twice the part target.
	if hold := seconds(t, ctl[0].attrs["PART-HOLD-BACK"]); hold < 2*target {
		t.Errorf("%s: PART-HOLD-BACK %v under twice PART-TARGET %v", name, hold, target)
	}

	if len(tagged(lines, "#EXT-X-ENDLIST")) != 0 {
		t.Errorf("%s: a live playlist has EXT-X-ENDLIST", name)
	}

	parts := tagged(lines, "#EXT-X-PART")
	if len(parts) == 0 {
		t.Fatalf("%s: no EXT-X-PART", name)
	}

	bySegment := map[uint64][][]byte{}

	for _, pt := range parts {
		ref := parsePartURI(t, pt.attrs["URI"])

		// RFC 8216bis 4.4.4.9: a part lasts at most PART-TARGET.
		if d := seconds(t, pt.attrs["DURATION"]); d > target || d <= 0 {
			t.Errorf("%s: part %+v lasts %v, PART-TARGET %v", name, ref, d, target)
		}

		if ref.idx == 0 && name != "audio" && pt.attrs["INDEPENDENT"] != "YES" {
			t.Errorf("%s: first part of segment %d not INDEPENDENT=YES", name, ref.msn)
		}

		code, hdr, body := get(t, l.base+name+"/"+pt.attrs["URI"])
		if code != 200 || !bytes.Contains(body, []byte("moof")) ||
			hdr.Get("Cache-Control") != segmentCache {
			t.Errorf("%s part %+v: status %d, %d bytes, Cache-Control %q", name, ref, code,
				len(body), hdr.Get("Cache-Control"))
		}

		bySegment[ref.msn] = append(bySegment[ref.msn], body)
	}

	checkPartsMakeSegments(t, l, name, lines, bySegment)

	hints := tagged(lines, "#EXT-X-PRELOAD-HINT")
	if len(hints) != 1 || hints[0].attrs["TYPE"] != "PART" {
		t.Fatalf("%s: EXT-X-PRELOAD-HINT %+v, want one of TYPE=PART", name, hints)
	}

	last := parsePartURI(t, parts[len(parts)-1].attrs["URI"])
	hint := parsePartURI(t, hints[0].attrs["URI"])

	if hint != (partRef{last.msn, last.idx + 1}) && hint != (partRef{last.msn + 1, 0}) {
		t.Errorf("%s: preload hint %+v does not follow the last part %+v", name, hint, last)
	}

	return last
}

// checkPartsMakeSegments checks that the parts of every listed segment are
// its bytes, cut in order: one copy serves both.
func checkPartsMakeSegments(t *testing.T, l *liveTest, name string, lines []m3u8Line,
	bySegment map[uint64][][]byte) {
	t.Helper()

	var checked int

	for _, line := range lines {
		if line.tag != "" || !strings.Contains(line.value, "/seg_") {
			continue
		}

		seq, err := strconv.ParseUint(strings.TrimSuffix(strings.SplitN(line.value, "seg_", 2)[1],
			".m4s"), 10, 64)
		if err != nil {
			t.Fatalf("%s: segment URI %q", name, line.value)
		}

		parts, ok := bySegment[seq]
		if !ok {
			continue
		}

		_, _, seg := get(t, l.base+name+"/"+line.value)
		if !bytes.Equal(bytes.Join(parts, nil), seg) {
			t.Errorf("%s: segment %d (%d bytes) is not its %d parts put together", name, seq,
				len(seg), len(parts))
		}

		checked++
	}

	if checked == 0 {
		t.Errorf("%s: no finished segment lists its parts", name)
	}
}

// hintOf returns the preload hint of a rendition's LL-HLS playlist.
func hintOf(t *testing.T, l *liveTest, name string) (partRef, string) {
	t.Helper()

	_, _, body := get(t, l.base+name+"/llhls.m3u8")

	hints := tagged(parseM3U8(t, string(body)), "#EXT-X-PRELOAD-HINT")
	if len(hints) != 1 {
		t.Fatalf("%s: no preload hint:\n%s", name, body)
	}

	return parsePartURI(t, hints[0].attrs["URI"]), hints[0].attrs["URI"]
}

// answer is an HTTP answer received in the background.
type answer struct {
	code int
	hdr  http.Header
	body []byte
	err  error
}

// getAsync fetches url in the background.
func getAsync(url string) <-chan answer {
	ch := make(chan answer, 1)

	go func() {
		resp, err := http.Get(url)
		if err != nil {
			ch <- answer{err: err}

			return
		}
		defer resp.Body.Close()

		body, err := io.ReadAll(resp.Body)
		ch <- answer{code: resp.StatusCode, hdr: resp.Header, body: body, err: err}
	}()

	return ch
}

// waitFor polls cond until it holds, failing after 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()

	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}

		time.Sleep(5 * time.Millisecond)
	}
}

// TestOriginBlockingReload asks for the hinted part with a blocking reload
// and the hinted part's URI: neither answers before the part exists, both
// answer once it does, with the part listed and its bytes.
func TestOriginBlockingReload(t *testing.T) {
	l := newLiveOrigin(t, 4*time.Second, 6, time.Minute)
	l.writeUntil(2100 * time.Millisecond)

	hint, uri := hintOf(t, l, "360p")

	reload := getAsync(l.base + "360p/llhls.m3u8?_HLS_msn=" +
		strconv.FormatUint(hint.msn, 10) + "&_HLS_part=" + strconv.Itoa(hint.idx))
	part := getAsync(l.base + "360p/" + uri)

	waitFor(t, "both requests to wait", func() bool { return l.p.Waiting() == 2 })

	for {
		_, err := l.p.Part("360p", hint.msn, hint.idx)
		if err == nil {
			break
		}

		select {
		case a := <-reload:
			t.Fatalf("blocking reload answered %d before part %+v existed", a.code, hint)
		case a := <-part:
			t.Fatalf("hinted part answered %d before it existed", a.code)
		default:
		}

		if !l.writeOne() {
			t.Fatalf("part %+v never came", hint)
		}
	}

	var a answer

	select {
	case a = <-reload:
	case <-time.After(30 * time.Second):
		t.Fatal("blocking reload not answered after its part came")
	}

	if a.err != nil || a.code != 200 || !bytes.Contains(a.body, []byte(uri)) {
		t.Fatalf("blocking reload: %v, status %d, lists the part: %v\n%s", a.err, a.code,
			bytes.Contains(a.body, []byte(uri)), a.body)
	}

	if got := a.hdr.Get("Cache-Control"); got != blockedCache {
		t.Errorf("blocking reload Cache-Control %q, want %q", got, blockedCache)
	}

	want, _ := l.p.Part("360p", hint.msn, hint.idx)

	select {
	case a = <-part:
	case <-time.After(30 * time.Second):
		t.Fatal("hinted part not answered after it came")
	}

	if a.err != nil || a.code != 200 || !bytes.Equal(a.body, want) {
		t.Fatalf("hinted part: %v, status %d, %d bytes, want %d", a.err, a.code, len(a.body),
			len(want))
	}

	// A reload for a part that is already there answers at once.
	code, _, _ := get(t, l.base+"360p/llhls.m3u8?_HLS_msn=0&_HLS_part=0")
	if code != 200 {
		t.Errorf("reload for an old part: status %d", code)
	}
}

func TestOriginBlockingReloadRefusals(t *testing.T) {
	l := newLiveOrigin(t, 3*time.Second, 6, 300*time.Millisecond)
	l.writeUntil(2100 * time.Millisecond)

	hint, _ := hintOf(t, l, "180p")
	msn := strconv.FormatUint(hint.msn, 10)

	tests := []struct {
		name, query string
		status      int
		cache       string
	}{
		// RFC 8216bis 6.2.5.2: more than two segments ahead, or more than
		// three parts past the last one, is an error, not a wait.
		{"three segments ahead", "_HLS_msn=" + strconv.FormatUint(hint.msn+3, 10), 400,
			errorCache},
		{"parts too far ahead", "_HLS_msn=" + msn + "&_HLS_part=" +
			strconv.Itoa(hint.idx+3), 400, errorCache},
		{"part without msn", "_HLS_part=1", 400, errorCache},
		{"msn not a number", "_HLS_msn=x", 400, errorCache},
		{"negative part", "_HLS_msn=" + msn + "&_HLS_part=-1", 400, errorCache},
		// Within the limits but never written: 503 once the wait is over,
		// never a stale playlist.
		{"part that does not come", "_HLS_msn=" + msn + "&_HLS_part=" +
			strconv.Itoa(hint.idx+1), 503, errorCache},
		{"segment that does not come", "_HLS_msn=" + strconv.FormatUint(hint.msn+2, 10),
			503, errorCache},
		{"part there", "_HLS_msn=0&_HLS_part=0", 200, blockedCache},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, hdr, body := get(t, l.base+"180p/llhls.m3u8?"+tt.query)
			if code != tt.status || hdr.Get("Cache-Control") != tt.cache {
				t.Errorf("status %d, Cache-Control %q, want %d and %q: %s", code,
					hdr.Get("Cache-Control"), tt.status, tt.cache, body)
			}
		})
	}

	// Once the broadcast ends, a reload for a part that will never come
	// answers at once with the ended playlist.
	l.p.End()

	code, _, body := get(t, l.base+"180p/llhls.m3u8?_HLS_msn="+
		strconv.FormatUint(hint.msn+1, 10))
	lines := parseM3U8(t, string(body))

	if code != 200 || len(tagged(lines, "#EXT-X-ENDLIST")) != 1 ||
		len(tagged(lines, "#EXT-X-PRELOAD-HINT")) != 0 {
		t.Errorf("reload after the end: status %d, want the ended playlist:\n%s", code, body)
	}
}
