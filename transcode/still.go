package transcode

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"os"
	"time"

	"github.com/asticode/go-astiav"
)

// Fit modes of a still, as Cloudflare Stream's thumbnails name them.
const (
	FitCrop  = "crop"  // fill width x height, cropping what overflows
	FitClip  = "clip"  // fit inside width x height, keeping the aspect ratio
	FitScale = "scale" // stretch to width x height
	FitFill  = "fill"  // fit inside width x height, padded with black
)

// stillQuality is the JPEG quality of stills.
const stillQuality = 85

// ErrNoPicture is returned by Still when the segment has no picture to
// decode.
var ErrNoPicture = errors.New("no picture in the segment")

// Still decodes the picture at offset from the first picture of a CMAF video
// segment (init is its init segment; an offset past the last picture gives
// the last), sizes it to width x height as fit says (zero for one of them
// keeps the aspect ratio, zero for both the picture's size) and encodes it
// as a JPEG.
func Still(init, segment []byte, offset time.Duration, width, height int,
	fit string) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("still: decoder panicked: %v", r)
		}
	}()

	f, err := os.CreateTemp("", "onair-still-*.mp4")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())

	_, err = f.Write(append(append([]byte(nil), init...), segment...))
	if err = errors.Join(err, f.Close()); err != nil {
		return nil, err
	}

	pic, err := decodeAt(f.Name(), offset)
	if err != nil {
		return nil, err
	}
	defer pic.Free()

	img, err := sized(pic, width, height, fit)
	if err != nil {
		return nil, err
	}

	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: stillQuality}); err != nil {
		return nil, fmt.Errorf("still: jpeg: %w", err)
	}

	return b.Bytes(), nil
}

// decodeAt returns the first decoded picture of the file at or after offset
// from its first one, or its last picture.
func decodeAt(path string, offset time.Duration) (*astiav.Frame, error) {
	fc := astiav.AllocFormatContext()
	if fc == nil {
		return nil, errors.New("still: allocating format context failed")
	}
	defer fc.Free()

	if err := fc.OpenInput(path, nil, nil); err != nil {
		return nil, fmt.Errorf("still: opening segment: %w", err)
	}
	defer fc.CloseInput()

	if err := fc.FindStreamInfo(nil); err != nil {
		return nil, fmt.Errorf("still: reading segment: %w", err)
	}

	var st *astiav.Stream
	for _, s := range fc.Streams() {
		if s.CodecParameters().MediaType() == astiav.MediaTypeVideo {
			st = s

			break
		}
	}

	if st == nil {
		return nil, ErrNoPicture
	}

	d := &stillDecoder{stream: st, offset: offset}
	if err := d.open(); err != nil {
		return nil, err
	}
	defer d.close()

	return d.run(fc)
}

// stillDecoder decodes one stream until the picture asked for.
type stillDecoder struct {
	stream *astiav.Stream
	offset time.Duration

	cc    *astiav.CodecContext
	first int64
	found bool
	last  *astiav.Frame
}

func (d *stillDecoder) open() error {
	codec := astiav.FindDecoder(d.stream.CodecParameters().CodecID())
	if codec == nil {
		return fmt.Errorf("still: no decoder for %s", d.stream.CodecParameters().CodecID())
	}

	if d.cc = astiav.AllocCodecContext(codec); d.cc == nil {
		return errors.New("still: allocating decoder failed")
	}

	if err := d.cc.FromCodecParameters(d.stream.CodecParameters()); err != nil {
		return fmt.Errorf("still: decoder parameters: %w", err)
	}

	d.cc.SetTimeBase(d.stream.TimeBase())

	if err := d.cc.Open(codec, nil); err != nil {
		return fmt.Errorf("still: opening decoder: %w", err)
	}

	return nil
}

func (d *stillDecoder) close() {
	d.cc.Free()
}

// run reads and decodes packets until the picture at the offset, or the end.
func (d *stillDecoder) run(fc *astiav.FormatContext) (*astiav.Frame, error) {
	pkt := astiav.AllocPacket()
	defer pkt.Free()

	for !d.found {
		err := fc.ReadFrame(pkt)
		if errors.Is(err, astiav.ErrEof) {
			break
		}

		if err != nil {
			return nil, fmt.Errorf("still: reading: %w", err)
		}

		if pkt.StreamIndex() == d.stream.Index() {
			err = d.cc.SendPacket(pkt)
		}

		pkt.Unref()

		if err != nil && !errors.Is(err, astiav.ErrEagain) {
			return nil, fmt.Errorf("still: decoding: %w", err)
		}

		if err := d.receive(); err != nil {
			return nil, err
		}
	}

	if !d.found {
		if err := d.cc.SendPacket(nil); err == nil {
			if err := d.receive(); err != nil {
				return nil, err
			}
		}
	}

	if d.last == nil {
		return nil, ErrNoPicture
	}

	return d.last, nil
}

// receive takes the decoded pictures, keeping the latest until one reaches
// the offset.
func (d *stillDecoder) receive() error {
	for !d.found {
		f := astiav.AllocFrame()

		err := d.cc.ReceiveFrame(f)
		if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
			f.Free()

			return nil
		}

		if err != nil {
			f.Free()

			return fmt.Errorf("still: decoding: %w", err)
		}

		if d.last == nil {
			d.first = f.Pts()
		} else {
			d.last.Free()
		}

		d.last = f
		tb := d.stream.TimeBase()
		at := time.Duration(float64(f.Pts()-d.first) * tb.Float64() * float64(time.Second))
		d.found = at >= d.offset
	}

	return nil
}

// sized scales pic as fit says and returns it as an image.
func sized(pic *astiav.Frame, width, height int, fit string) (image.Image, error) {
	box := stillBox(pic.Width(), pic.Height(), width, height, fit)

	img, err := scaleRGBA(pic, box.scaledW, box.scaledH)
	if err != nil {
		return nil, err
	}

	canvas := image.NewRGBA(image.Rect(0, 0, box.outW, box.outH))
	if fit == FitFill {
		draw.Draw(canvas, canvas.Bounds(), image.Black, image.Point{}, draw.Src)
	}

	at := image.Pt((box.outW-box.scaledW)/2, (box.outH-box.scaledH)/2)
	draw.Draw(canvas, img.Bounds().Add(at), img, image.Point{}, draw.Src)

	return canvas, nil
}

// scaleRGBA scales pic to width x height RGBA.
func scaleRGBA(pic *astiav.Frame, width, height int) (*image.RGBA, error) {
	sws, err := astiav.CreateSoftwareScaleContext(pic.Width(), pic.Height(), pic.PixelFormat(),
		width, height, astiav.PixelFormatRgba,
		astiav.NewSoftwareScaleContextFlags(astiav.SoftwareScaleContextFlagBicubic))
	if err != nil {
		return nil, fmt.Errorf("still: scaler %dx%d to %dx%d: %w", pic.Width(), pic.Height(),
			width, height, err)
	}
	defer sws.Free()

	out := astiav.AllocFrame()
	defer out.Free()

	if err := sws.ScaleFrame(pic, out); err != nil {
		return nil, fmt.Errorf("still: scaling: %w", err)
	}

	img := &image.RGBA{}
	if err := out.Data().ToImage(img); err != nil {
		return nil, fmt.Errorf("still: %w", err)
	}

	return img, nil
}

// box is the size a picture is scaled to and the size of the still.
type box struct {
	scaledW, scaledH int
	outW, outH       int
}

// stillBox works out the sizes of a still of a srcW x srcH picture asked
// as width x height with fit.
func stillBox(srcW, srcH, width, height int, fit string) box {
	switch {
	case width <= 0 && height <= 0:
		width, height = srcW, srcH
	case width <= 0:
		width = max(1, (srcW*height+srcH/2)/srcH)
	case height <= 0:
		height = max(1, (srcH*width+srcW/2)/srcW)
	}

	sx, sy := float64(width)/float64(srcW), float64(height)/float64(srcH)

	scaled := func(s float64) (int, int) {
		return max(1, int(float64(srcW)*s+0.5)), max(1, int(float64(srcH)*s+0.5))
	}

	switch fit {
	case FitScale:
		return box{width, height, width, height}
	case FitClip:
		w, h := scaled(min(sx, sy))

		return box{w, h, w, h}
	case FitFill:
		w, h := scaled(min(sx, sy))

		return box{w, h, width, height}
	default: // FitCrop
		w, h := scaled(max(sx, sy))

		return box{w, h, width, height}
	}
}
