package rtmp

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/yutopp/go-amf0"
	gortmp "github.com/yutopp/go-rtmp"
	"github.com/yutopp/go-rtmp/handshake"
	"github.com/yutopp/go-rtmp/message"

	"github.com/onair/onair/ingest/stream"
)

// Parameter sets taken from libx264 output: 1280x720 and 640x360.
var (
	sps720 = mustHex("6764001fac2484014016ec0440000003004000000c23c60c92")
	pps720 = mustHex("68ee32c8b0")
	sps360 = mustHex("6742c01eda0280bfe5c044000003000400000300c83c58ba80")
	pps360 = mustHex("68ce0fc8")
)

// AudioSpecificConfigs: AAC-LC 44100 Hz stereo and 48000 Hz mono.
var (
	asc44k2 = []byte{0x12, 0x10}
	asc48k1 = []byte{0x11, 0x88}
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}

	return b
}

// RTMP message type IDs (RTMP spec 7.1).
const (
	msgSetChunkSize = 1
	msgAudio        = 8
	msgVideo        = 9
	msgData         = 18
	msgCommand      = 20
)

// testMsg is one message a crafted publisher sends on its stream.
type testMsg struct {
	typeID  byte
	ts      uint32
	payload []byte
}

// testClient is a minimal RTMP publisher with a chunk writer of its own, so
// that tests control chunk sizes and extended timestamps byte for byte.
type testClient struct {
	t         *testing.T
	nc        net.Conn
	chunkSize int
	statuses  chan string
	readDone  chan struct{}
}

func dialClient(t *testing.T, addr string) *testClient {
	t.Helper()

	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}

	if err := handshake.HandshakeWithServer(nc, nc, &handshake.Config{}); err != nil {
		t.Fatal(err)
	}

	c := &testClient{t: t, nc: nc, chunkSize: 128, statuses: make(chan string, 16),
		readDone: make(chan struct{})}
	go c.readLoop()

	t.Cleanup(func() {
		_ = nc.Close()
		<-c.readDone
	})

	return c
}

// readLoop collects the onStatus codes the server sends.
func (c *testClient) readLoop() {
	defer close(c.readDone)

	cs := gortmp.NewChunkStreamer(bufio.NewReader(c.nc), io.Discard, nil)
	defer cs.Close()

	var cm gortmp.ChunkMessage
	for {
		if _, _, err := cs.Read(&cm); err != nil {
			close(c.statuses)

			return
		}

		switch m := cm.Message.(type) {
		case *message.SetChunkSize:
			_ = cs.PeerState().SetChunkSize(m.ChunkSize)

		case *message.CommandMessage:
			if m.CommandName == "onStatus" {
				c.statuses <- statusCode(m.Body)
			}
		}
	}
}

// statusCode reads the code of an onStatus info object.
func statusCode(body io.Reader) string {
	dec := amf0.NewDecoder(body)
	for {
		var v interface{}
		if err := dec.Decode(&v); err != nil {
			return ""
		}

		switch v := v.(type) {
		case map[string]interface{}:
			code, _ := v["code"].(string)

			return code

		case amf0.ECMAArray:
			code, _ := v["code"].(string)

			return code
		}
	}
}

// send writes one message as chunks: a type 0 chunk, then type 3 chunks that
// repeat the extended timestamp when there is one (RTMP spec 5.3.1.3).
func (c *testClient) send(csid byte, typeID byte, sid, ts uint32, payload []byte) {
	c.t.Helper()

	var b bytes.Buffer
	ext := ts >= 0xffffff
	field := min(ts, 0xffffff)

	b.WriteByte(csid)
	b.Write([]byte{byte(field >> 16), byte(field >> 8), byte(field)})
	n := len(payload)
	b.Write([]byte{byte(n >> 16), byte(n >> 8), byte(n), typeID})
	_ = binary.Write(&b, binary.LittleEndian, sid)

	if ext {
		_ = binary.Write(&b, binary.BigEndian, ts)
	}

	for i := 0; i < len(payload); i += c.chunkSize {
		if i > 0 {
			b.WriteByte(0xc0 | csid)

			if ext {
				_ = binary.Write(&b, binary.BigEndian, ts)
			}
		}

		b.Write(payload[i:min(i+c.chunkSize, len(payload))])
	}

	if _, err := c.nc.Write(b.Bytes()); err != nil {
		c.t.Fatalf("writing message type %d: %v", typeID, err)
	}
}

// command sends an AMF0 command on message stream sid.
func (c *testClient) command(sid uint32, values ...interface{}) {
	c.t.Helper()

	var b bytes.Buffer
	enc := amf0.NewEncoder(&b)
	for _, v := range values {
		if err := enc.Encode(v); err != nil {
			c.t.Fatal(err)
		}
	}

	c.send(3, msgCommand, sid, 0, b.Bytes())
}

// publish connects to app live and publishes key on stream 1.
func (c *testClient) publish(key string) {
	c.command(0, "connect", 1.0, map[string]interface{}{
		"app": "live", "type": "nonprivate", "tcUrl": "rtmp://127.0.0.1/live",
	})
	c.command(0, "createStream", 2.0, nil)
	c.command(1, "publish", 0.0, nil, key, "live")
}

// media sends one message on the publishing stream; a SetChunkSize message
// also switches the client's own chunk size after it is sent.
func (c *testClient) media(m testMsg) {
	switch m.typeID {
	case msgSetChunkSize:
		c.send(2, msgSetChunkSize, 0, 0, m.payload)
		c.chunkSize = int(binary.BigEndian.Uint32(m.payload))

	case msgAudio:
		c.send(4, msgAudio, 1, m.ts, m.payload)

	default:
		c.send(6, m.typeID, 1, m.ts, m.payload)
	}
}

// unpublish ends the stream cleanly and half-closes the connection, so
// that the server reads everything before it sees the end.
func (c *testClient) unpublish() {
	c.command(0, "FCUnpublish", 4.0, nil, "k1")
	c.command(0, "deleteStream", 5.0, nil, 1.0)

	if err := c.nc.(*net.TCPConn).CloseWrite(); err != nil {
		c.t.Fatal(err)
	}
}

func setChunkSize(n uint32) testMsg {
	return testMsg{typeID: msgSetChunkSize, payload: binary.BigEndian.AppendUint32(nil, n)}
}

func avcHeader(sps, pps []byte) testMsg {
	b := []byte{0x17, 0, 0, 0, 0, 1, sps[1], sps[2], sps[3], 0xff, 0xe1}
	b = binary.BigEndian.AppendUint16(b, uint16(len(sps)))
	b = append(b, sps...)
	b = append(b, 1)
	b = binary.BigEndian.AppendUint16(b, uint16(len(pps)))
	b = append(b, pps...)

	return testMsg{typeID: msgVideo, payload: b}
}

// avcFrame is a picture of one NALU of size bytes (IDR when key).
func avcFrame(ts uint32, key bool, cts int32, size int) testMsg {
	b := []byte{0x27, 1, byte(cts >> 16), byte(cts >> 8), byte(cts)}
	nalu := bytes.Repeat([]byte{0xab}, size)
	nalu[0] = 0x41
	if key {
		b[0] = 0x17
		nalu[0] = 0x65
	}

	b = binary.BigEndian.AppendUint32(b, uint32(size))

	return testMsg{typeID: msgVideo, ts: ts, payload: append(b, nalu...)}
}

func aacHeader(asc []byte) testMsg {
	return testMsg{typeID: msgAudio, payload: append([]byte{0xaf, 0}, asc...)}
}

func aacFrame(ts uint32) testMsg {
	return testMsg{typeID: msgAudio, ts: ts, payload: []byte{0xaf, 1, 0x21, 0x10, 0x04, 0x60}}
}

func metadataMsg(video, audio bool) testMsg {
	props := amf0.ECMAArray{"duration": 0.0}
	if video {
		props["videocodecid"] = 7.0
	}

	if audio {
		props["audiocodecid"] = 10.0
	}

	var b bytes.Buffer
	enc := amf0.NewEncoder(&b)
	_ = enc.Encode("@setDataFrame")
	_ = enc.Encode("onMetaData")
	_ = enc.Encode(props)

	return testMsg{typeID: msgData, payload: b.Bytes()}
}

// interleaved returns n video frames (a keyframe every 25) and n audio
// frames, 40 ms apart from start.
func interleaved(start uint32, n, size int) []testMsg {
	var msgs []testMsg
	for i := 0; i < n; i++ {
		ts := start + uint32(i)*40
		msgs = append(msgs, avcFrame(ts, i%25 == 0, 0, size), aacFrame(ts))
	}

	return msgs
}

func concat(parts ...[]testMsg) []testMsg {
	var all []testMsg
	for _, p := range parts {
		all = append(all, p...)
	}

	return all
}

func TestCraftedPublisher(t *testing.T) {
	h264 := wantTrack{codec: stream.CodecH264, width: 1280, height: 720}
	aac := wantTrack{codec: stream.CodecAAC, rate: 44100, chans: 2}
	headers := []testMsg{avcHeader(sps720, pps720), aacHeader(asc44k2)}

	cases := []struct {
		name   string
		msgs   []testMsg
		tracks [][]wantTrack // per broadcast
		log    string        // must appear in the server log
		nolog  string        // must not appear
		check  func(t *testing.T, b []*recording)
	}{
		{
			name:   "chunk size 65536 after publish, no onMetaData",
			msgs:   concat([]testMsg{setChunkSize(65536)}, headers, interleaved(0, 30, 100000)),
			tracks: [][]wantTrack{{h264, aac}},
			check: func(t *testing.T, b []*recording) {
				units := b[0].snapshot()
				checkCount(t, units, 30, 30)

				if units[0].DTS != 0 || units[0].NALUs == nil || len(units[0].NALUs[0]) != 100000 {
					t.Errorf("first unit: DTS %s, want the 100000-byte keyframe at 0", units[0].DTS)
				}
			},
		},
		{
			name: "repeated onMetaData announcing video only",
			msgs: concat([]testMsg{metadataMsg(true, false), metadataMsg(true, false),
				avcHeader(sps720, pps720)},
				interleavedVideo(0, 20), []testMsg{metadataMsg(true, false)},
				interleavedVideo(800, 20)),
			tracks: [][]wantTrack{{h264}},
			check: func(t *testing.T, b []*recording) {
				checkCount(t, b[0].snapshot(), 40, 0)
			},
		},
		{
			name:   "video only without onMetaData waits, then writes what it held",
			msgs:   concat([]testMsg{avcHeader(sps720, pps720)}, interleavedVideo(0, 50)),
			tracks: [][]wantTrack{{h264}},
			check: func(t *testing.T, b []*recording) {
				units := b[0].snapshot()
				checkCount(t, units, 50, 0)

				if units[0].DTS != 0 {
					t.Errorf("first unit at %s, want 0", units[0].DTS)
				}
			},
		},
		{
			name:   "onMetaData announcing audio only",
			msgs:   concat([]testMsg{metadataMsg(false, true), aacHeader(asc48k1)}, audioRun(0, 20)),
			tracks: [][]wantTrack{{{codec: stream.CodecAAC, rate: 48000, chans: 1}}},
		},
		{
			name:   "backwards jump is rebased",
			msgs:   concat(headers, interleaved(0, 30, 500), interleaved(0, 30, 500)),
			tracks: [][]wantTrack{{h264, aac}},
			log:    "timestamp discontinuity, rebasing",
			check: func(t *testing.T, b []*recording) {
				units := b[0].snapshot()
				checkCount(t, units, 60, 60)

				// Video and audio sent with the same timestamp keep one DTS.
				for i := 0; i+1 < len(units); i += 2 {
					if units[i].DTS != units[i+1].DTS {
						t.Fatalf("pair %d: video DTS %s, audio DTS %s", i/2, units[i].DTS,
							units[i+1].DTS)
					}
				}

				if units[60].DTS <= units[58].DTS {
					t.Errorf("DTS after the jump %s is not above %s", units[60].DTS, units[58].DTS)
				}
			},
		},
		{
			name: "garbage video tags are dropped",
			msgs: concat(headers, interleaved(0, 10, 500), []testMsg{
				{typeID: msgVideo, ts: 400, payload: []byte{0x17, 1, 0, 0, 0, 0, 0, 0, 99, 0x65}},
				{typeID: msgVideo, ts: 400, payload: []byte{0x17}},
				{typeID: msgVideo, ts: 400, payload: []byte{0x17, 9, 0, 0, 0}},
				{typeID: msgVideo, ts: 400, payload: []byte{0x27, 1, 0, 0, 0, 0, 0}},
				{typeID: msgAudio, ts: 400, payload: []byte{0xaf, 0, 0xff}},
			}, interleaved(400, 10, 500)),
			tracks: [][]wantTrack{{h264, aac}},
			log:    "packets dropped",
			check: func(t *testing.T, b []*recording) {
				checkCount(t, b[0].snapshot(), 20, 20)
			},
		},
		{
			name:   "timestamps crossing 24 bits",
			msgs:   concat(headers, interleaved(0xffffff-400, 20, 1000)),
			tracks: [][]wantTrack{{h264, aac}},
			nolog:  "rebasing",
			check: func(t *testing.T, b []*recording) {
				units := b[0].snapshot()
				checkCount(t, units, 20, 20)

				for i, u := range units {
					want := time.Duration(0xffffff-400+uint32(i/2)*40) * time.Millisecond
					if u.DTS != want {
						t.Fatalf("unit %d: DTS %s, want %s", i, u.DTS, want)
					}
				}
			},
		},
		{
			name: "new sequence header starts a new broadcast",
			msgs: concat(headers, interleaved(0, 10, 500),
				[]testMsg{avcHeader(sps360, pps360)}, interleaved(400, 10, 500)),
			tracks: [][]wantTrack{{h264, aac},
				{{codec: stream.CodecH264, width: 640, height: 360}, aac}},
		},
		{
			name: "hevc is reported, not parsed",
			msgs: []testMsg{metadataMsg(true, false), {typeID: msgVideo,
				payload: append([]byte{0x90, 'h', 'v', 'c', '1'}, 1, 2, 3)}},
			tracks: [][]wantTrack{{{codec: stream.CodecH265}}},
			log:    "video codec H.265",
		},
		{
			name: "mp3 is reported",
			msgs: []testMsg{metadataMsg(false, true),
				{typeID: msgAudio, payload: []byte{0x2f, 0xff, 0xfb, 0x90, 0x00}}},
			tracks: [][]wantTrack{{{codec: stream.CodecMP3, rate: 44100, chans: 2}}},
			log:    "audio codec MP3",
		},
		{
			name: "b-frame composition offsets",
			msgs: concat(headers, []testMsg{
				avcFrame(0, true, 80, 100), avcFrame(40, false, 120, 100),
				avcFrame(80, false, 0, 100), avcFrame(120, false, 0, 100),
			}, audioRun(0, 30), interleavedVideo(160, 20)),
			tracks: [][]wantTrack{{h264, aac}},
			check: func(t *testing.T, b []*recording) {
				var video []*stream.Unit
				for _, u := range b[0].snapshot() {
					if u.Track.IsVideo() {
						video = append(video, u)
					}
				}

				if len(video) < 2 || video[1].PTS-video[1].DTS != 120*time.Millisecond {
					t.Errorf("second picture does not carry its 120 ms composition offset")
				}
			},
		},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			dir := &testDirectory{hubs: map[string]*stream.Hub{"k1": newHub("in1", rec)}}
			addr, logs := startServer(t, dir)

			c := dialClient(t, addr)
			c.publish("k1")

			for _, m := range tc.msgs {
				c.media(m)
			}

			c.unpublish()

			waitFor(t, 20*time.Second, "the connection to close", func() bool {
				return strings.Contains(logs.String(), "closed: ")
			})

			bs := rec.all()
			if len(bs) != len(tc.tracks) {
				t.Fatalf("got %d broadcasts, want %d", len(bs), len(tc.tracks))
			}

			for i, b := range bs {
				<-b.done
				checkTracks(t, b.tracks, tc.tracks[i])

				if len(b.tracks) > 0 && b.tracks[0].Codec == stream.CodecH264 {
					checkUnits(t, b.tracks, b.snapshot())
				}
			}

			if !strings.Contains(logs.String(), "closed: publisher ended the stream") {
				t.Errorf("connection did not end cleanly")
			}

			if tc.log != "" && !strings.Contains(logs.String(), tc.log) {
				t.Errorf("log lacks %q", tc.log)
			}

			if tc.nolog != "" && strings.Contains(logs.String(), tc.nolog) {
				t.Errorf("log has %q", tc.nolog)
			}

			if tc.check != nil {
				tc.check(t, bs)
			}
		})
	}
}

// interleavedVideo returns n video frames 40 ms apart, a keyframe every 25.
func interleavedVideo(start uint32, n int) []testMsg {
	var msgs []testMsg
	for i := 0; i < n; i++ {
		msgs = append(msgs, avcFrame(start+uint32(i)*40, i%25 == 0, 0, 200))
	}

	return msgs
}

// audioRun returns n AAC frames 40 ms apart.
func audioRun(start uint32, n int) []testMsg {
	var msgs []testMsg
	for i := 0; i < n; i++ {
		msgs = append(msgs, aacFrame(start+uint32(i)*40))
	}

	return msgs
}

// checkCount checks the number of video and audio units.
func checkCount(t *testing.T, units []*stream.Unit, video, audio int) {
	t.Helper()

	v, a := 0, 0
	for _, u := range units {
		if u.Track.IsVideo() {
			v++
		} else {
			a++
		}
	}

	if v != video || a != audio {
		t.Errorf("got %d video and %d audio units, want %d and %d", v, a, video, audio)
	}
}

func TestHostileAMFRefused(t *testing.T) {
	// Each declares far more than it carries; go-amf0 alone would allocate
	// what the length fields say (gigabytes) and take the process down.
	cases := []struct {
		name    string
		publish bool
		typeID  byte
		payload []byte
	}{
		{name: "strict array in connect", typeID: msgCommand,
			payload: append(amfValues(t, "connect", 1.0), 0x0a, 0x7f, 0xff, 0xff, 0xff, 0)},
		{name: "long string in onMetaData", publish: true, typeID: msgData,
			payload: append(amfValues(t, "@setDataFrame", "onMetaData"), 0x0c, 0xff, 0xff,
				0xff, 0x00, 'x')},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			dir := &testDirectory{hubs: map[string]*stream.Hub{"k1": newHub("in1", rec)}}
			addr, logs := startServer(t, dir)

			c := dialClient(t, addr)
			sid := uint32(0)
			if tc.publish {
				c.publish("k1")
				sid = 1
			}

			c.send(3, tc.typeID, sid, 0, tc.payload)

			waitFor(t, 20*time.Second, "the connection to close", func() bool {
				return strings.Contains(logs.String(), "closed: ")
			})

			if !strings.Contains(logs.String(), "refused: amf0") {
				t.Errorf("close reason does not name the bad AMF value")
			}
		})
	}
}

// amfValues encodes values as AMF0.
func amfValues(t *testing.T, values ...interface{}) []byte {
	t.Helper()

	var b bytes.Buffer
	enc := amf0.NewEncoder(&b)
	for _, v := range values {
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
	}

	return b.Bytes()
}

func TestCraftedCommandsRefused(t *testing.T) {
	cases := []struct {
		name string
		cmd  string
		want message.NetStreamOnStatusCode
	}{
		{name: "wrong key with a query", cmd: "publish",
			want: message.NetStreamOnStatusCodePublishBadName},
		{name: "play", cmd: "play", want: message.NetStreamOnStatusCodePlayFailed},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			dir := &testDirectory{hubs: map[string]*stream.Hub{"k1": newHub("in1", rec)}}
			addr, _ := startServer(t, dir)

			c := dialClient(t, addr)
			c.command(0, "connect", 1.0, map[string]interface{}{"app": "live"})
			c.command(0, "createStream", 2.0, nil)

			if tc.cmd == "publish" {
				c.command(1, "publish", 0.0, nil, "wrong?token=1", "live")
			} else {
				c.command(1, "play", 0.0, nil, "k1", -2000.0)
			}

			var codes []string
			for code := range c.statuses {
				codes = append(codes, code)
			}

			if len(codes) == 0 || codes[0] != string(tc.want) {
				t.Errorf("got onStatus codes %v, want %s first", codes, tc.want)
			}

			if n := len(rec.all()); n != 0 {
				t.Errorf("got %d broadcasts, want none", n)
			}
		})
	}
}

func TestBrokenConnectionEndsBroadcast(t *testing.T) {
	rec := &recorder{}
	dir := &testDirectory{hubs: map[string]*stream.Hub{"k1": newHub("in1", rec)}}
	addr, _ := startServer(t, dir)

	c := dialClient(t, addr)
	c.publish("k1")

	for _, m := range concat([]testMsg{avcHeader(sps720, pps720), aacHeader(asc44k2)},
		interleaved(0, 10, 500)) {
		c.media(m)
	}

	<-rec.started
	_ = c.nc.Close()

	b := rec.all()[0]
	<-b.done

	if !errors.Is(b.err, ErrConnectionLost) {
		t.Errorf("broadcast ended with %v, want %v", b.err, ErrConnectionLost)
	}
}
