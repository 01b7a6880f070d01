package main

import (
	"fmt"
	"net"
	"strconv"

	"github.com/onair/onair/ingest/rtmp"
	"github.com/onair/onair/ingest/srt"
)

// ingestListeners are the RTMPS and SRT servers of a node; each is off when
// its flag is empty.
type ingestListeners struct {
	rtmpsLn net.Listener
	rtmps   *rtmp.Server
	srt     *srt.Server
	srtPort int
}

// start opens --rtmps and --srt.
func (l *ingestListeners) start(n *node) error {
	if n.cfg.RTMPS != "" {
		if err := l.startRTMPS(n); err != nil {
			return err
		}
	}

	if n.cfg.SRT != "" {
		if err := l.startSRT(n); err != nil {
			l.close()

			return err
		}
	}

	return nil
}

func (l *ingestListeners) startRTMPS(n *node) error {
	tc, err := tlsConfig(n.cfg)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", n.cfg.RTMPS)
	if err != nil {
		return fmt.Errorf("--rtmps: %w", err)
	}

	s := &rtmp.Server{Directory: n.inputs, Log: n.log, TLSConfig: tc, Protocol: "rtmps"}
	if err := s.Start(ln); err != nil {
		ln.Close()

		return fmt.Errorf("rtmps: %w", err)
	}

	l.rtmpsLn, l.rtmps = ln, s

	return nil
}

func (l *ingestListeners) startSRT(n *node) error {
	addr, port, err := srtAddress(n.cfg.SRT)
	if err != nil {
		return err
	}

	s := &srt.Server{Address: addr, Directory: n.inputs, Log: n.log}
	if err := s.Start(); err != nil {
		return fmt.Errorf("--srt: %w", err)
	}

	l.srt, l.srtPort = s, port

	return nil
}

// srtAddress resolves --srt; port 0 is replaced by a port the kernel hands
// out for UDP right now, since libsrt cannot report the port it bound.
func srtAddress(addr string) (string, int, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("--srt %q: %w", addr, err)
	}

	port, err := strconv.Atoi(portText)
	if err != nil {
		return "", 0, fmt.Errorf("--srt %q: port is not a number", addr)
	}

	if port == 0 {
		pc, err := net.ListenPacket("udp", net.JoinHostPort(host, "0"))
		if err != nil {
			return "", 0, fmt.Errorf("--srt %q: %w", addr, err)
		}

		port = pc.LocalAddr().(*net.UDPAddr).Port
		pc.Close()
	}

	return net.JoinHostPort(host, strconv.Itoa(port)), port, nil
}

// close stops both servers and waits for their connections.
func (l *ingestListeners) close() {
	if l.rtmps != nil {
		l.rtmps.Close()
	}

	if l.srt != nil {
		l.srt.Close()
	}
}

// rtmpsPort is the RTMPS port, 0 when off.
func (l *ingestListeners) rtmpsPort() int {
	return portOf(l.rtmpsLn)
}

// srtString is the SRT address for the startup line, "off" when disabled.
func (l *ingestListeners) srtString() string {
	if l.srt == nil {
		return "off"
	}

	return l.srt.Address + " (udp)"
}
