package rtmp

import "fmt"

// flvVideoCodecs names the FLV CodecID values onair does not decode (FLV
// spec 10.1, E.4.3.1), so that a refused publisher is told which codec.
var flvVideoCodecs = map[byte]string{
	2: "Sorenson H.263",
	3: "Screen video",
	4: "On2 VP6",
	5: "On2 VP6 with alpha",
	6: "Screen video version 2",
}

// flvAudioCodecs names the FLV SoundFormat values onair does not decode
// (FLV spec 10.1, E.4.2.1).
var flvAudioCodecs = map[byte]string{
	0:  "Linear PCM",
	1:  "ADPCM",
	3:  "Linear PCM little-endian",
	4:  "Nellymoser 16 kHz",
	5:  "Nellymoser 8 kHz",
	6:  "Nellymoser",
	7:  "G.711 A-law",
	8:  "G.711 mu-law",
	11: "Speex",
	15: "device-specific sound",
}

// fourCCCodecs names the enhanced RTMP FourCCs onair does not decode.
var fourCCCodecs = map[string]string{
	"av01": "AV1",
	"vp08": "VP8",
	"vp09": "VP9",
	"ac-3": "AC-3",
	"ec-3": "E-AC-3",
	"fLaC": "FLAC",
}

// codecName returns the name of an FLV codec id from names, or the id itself.
func codecName(names map[byte]string, id byte) string {
	if n, ok := names[id]; ok {
		return n
	}

	return fmt.Sprintf("FLV codec id %d", id)
}

// fourCCName returns the name of an enhanced RTMP FourCC, or the FourCC.
func fourCCName(fourCC string) string {
	if n, ok := fourCCCodecs[fourCC]; ok {
		return n
	}

	return fmt.Sprintf("FourCC %q", fourCC)
}
