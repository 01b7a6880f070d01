package srt

import "github.com/asticode/go-astits"

// otherVideoTypes names the PMT video stream types onair does not decode
// (ISO/IEC 13818-1, table 2-34; 0x42, 0xd1 and 0xea by registration). A
// programme whose picture is one of these is carried as a track of an
// unrecognised codec, so that the input fails saying which, rather than
// playing without its picture.
var otherVideoTypes = map[astits.StreamType]string{
	astits.StreamTypeMPEG1Video: "MPEG-1 video",
	astits.StreamTypeMPEG2Video: "MPEG-2 video",
	astits.StreamTypeMPEG4Video: "MPEG-4 Part 2 video",
	astits.StreamTypeCAVSVideo:  "AVS video",
	astits.StreamTypeDIRACVideo: "Dirac video",
	astits.StreamTypeVC1Video:   "VC-1 video",
}

// mpegAudioNames names the MPEG audio stream types, which onair carries as
// CodecMP3 but which may hold any of the three layers.
var mpegAudioNames = map[astits.StreamType]string{
	astits.StreamTypeMPEG1Audio: "MPEG-1 audio",
	astits.StreamTypeMPEG2Audio: "MPEG-2 audio",
}
