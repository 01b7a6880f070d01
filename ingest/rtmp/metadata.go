package rtmp

import (
	"bytes"
	"fmt"

	"github.com/yutopp/go-amf0"
)

// metadata is what onMetaData (FLV spec 10.1, E.5) says about the tracks.
type metadata struct {
	HasVideo, HasAudio bool
}

// maxMetadataValues bounds the AMF values read from one data message.
const maxMetadataValues = 8

// parseMetadata reads the AMF0 values of an @setDataFrame payload: the name
// "onMetaData" and an object or ECMA array in which the presence of
// videocodecid and audiocodecid says which tracks the stream carries.
func parseMetadata(payload []byte) (metadata, error) {
	if err := checkAMF0(payload); err != nil {
		return metadata{}, fmt.Errorf("onMetaData: %w", err)
	}

	dec := amf0.NewDecoder(bytes.NewReader(payload))

	for i := 0; i < maxMetadataValues; i++ {
		var v interface{}
		if err := dec.Decode(&v); err != nil {
			return metadata{}, fmt.Errorf("onMetaData value %d: %w", i, err)
		}

		var props map[string]interface{}
		switch v := v.(type) {
		case amf0.ECMAArray:
			props = v

		case map[string]interface{}:
			props = v

		default:
			continue // the "onMetaData" name
		}

		_, video := props["videocodecid"]
		_, audio := props["audiocodecid"]

		return metadata{HasVideo: video, HasAudio: audio}, nil
	}

	return metadata{}, fmt.Errorf("onMetaData has no object in its first %d values",
		maxMetadataValues)
}
