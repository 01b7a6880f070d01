package transcode

import (
	"errors"
	"fmt"

	"github.com/asticode/go-astiav"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/onair/onair/ingest/stream"
)

// inputPadding is the zeroed tail FFmpeg's parsers may read past a packet
// (AV_INPUT_BUFFER_PADDING_SIZE in libavcodec/avcodec.h).
const inputPadding = 64

// videoDecoder decodes a source H.264 track fed as Annex-B access units.
type videoDecoder struct {
	track *stream.Track
	cc    *astiav.CodecContext
	pkt   *astiav.Packet
	frame *astiav.Frame
	buf   []byte
}

// newVideoDecoder opens an H.264 decoder for track.
func newVideoDecoder(track *stream.Track, threads int) (*videoDecoder, error) {
	codec := astiav.FindDecoder(astiav.CodecIDH264)
	if codec == nil {
		return nil, errors.New("h264 decoder is not in this FFmpeg build")
	}

	cc := astiav.AllocCodecContext(codec)
	if cc == nil {
		return nil, errors.New("allocating h264 decoder failed")
	}

	d := &videoDecoder{track: track, cc: cc, pkt: astiav.AllocPacket(), frame: astiav.AllocFrame()}
	cc.SetTimeBase(videoTimeBase)
	cc.SetThreadCount(max(threads, 1))

	if err := cc.Open(codec, nil); err != nil {
		d.Close()

		return nil, fmt.Errorf("opening h264 decoder: %w", err)
	}

	return d, nil
}

// Decode decodes one source unit with timestamps in 1/90000 s and calls each
// with every picture that came out; a nil unit flushes. The frame passed to
// each is only valid during the call.
func (d *videoDecoder) Decode(u *stream.Unit, pts, dts int64, each func(*astiav.Frame)) error {
	var sendErr error
	if u == nil {
		sendErr = d.cc.SendPacket(nil)
	} else {
		sendErr = d.send(u, pts, dts)
	}

	for {
		err := d.cc.ReceiveFrame(d.frame)
		if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
			break
		}

		if err != nil {
			return fmt.Errorf("receiving decoded picture: %w", err)
		}

		each(d.frame)
		d.frame.Unref()
	}

	return sendErr
}

func (d *videoDecoder) send(u *stream.Unit, pts, dts int64) error {
	d.buf = d.annexB(d.buf[:0], u)
	size := len(d.buf)
	d.buf = append(d.buf, make([]byte, inputPadding)...)

	if err := d.pkt.FromData(d.buf); err != nil {
		return fmt.Errorf("filling packet: %w", err)
	}
	defer d.pkt.Unref()

	d.pkt.SetSize(size)
	d.pkt.SetPts(pts)
	d.pkt.SetDts(dts)

	if u.Key {
		d.pkt.SetFlags(d.pkt.Flags().Add(astiav.PacketFlagKey))
	}

	if err := d.cc.SendPacket(d.pkt); err != nil {
		return fmt.Errorf("decoding picture at %v: %w", u.PTS, err)
	}

	return nil
}

// annexB appends u's NALUs with start codes, led by the track's parameter
// sets on keyframes that do not carry their own.
func (d *videoDecoder) annexB(buf []byte, u *stream.Unit) []byte {
	startCode := []byte{0, 0, 0, 1}

	if u.Key && !hasSPS(u.NALUs) && len(d.track.SPS) > 0 {
		buf = append(append(buf, startCode...), d.track.SPS...)
		buf = append(append(buf, startCode...), d.track.PPS...)
	}

	for _, n := range u.NALUs {
		buf = append(append(buf, startCode...), n...)
	}

	return buf
}

// Close frees the decoder.
func (d *videoDecoder) Close() {
	d.frame.Free()
	d.pkt.Free()
	d.cc.Free()
}

func hasSPS(nalus [][]byte) bool {
	for _, n := range nalus {
		if len(n) > 0 && h264.NALUType(n[0]&0x1f) == h264.NALUTypeSPS {
			return true
		}
	}

	return false
}
