// Package srt serves SRT (Secure Reliable Transport) publishers and players:
// a listener that admits each caller during the handshake by its stream ID
// and the live input's passphrase, an MPEG-TS demuxer that turns what a
// publisher sends into stream tracks and units, and an MPEG-TS muxer that
// sends a broadcast back to players as it arrives.
package srt
