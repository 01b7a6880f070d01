package srt

import (
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/haivision/srtgo"
)

// libsrt logs through one process-wide handler; the servers of a process
// share it, and its lines go to the logger of the server started last.
var (
	libsrtLogOnce sync.Once
	libsrtLog     atomic.Pointer[slog.Logger]
)

// routeLibsrtLog sends libsrt's warnings and errors (handshake rejections,
// a passphrase that does not match) to log instead of stderr.
func routeLibsrtLog(log *slog.Logger) {
	libsrtLog.Store(log.With("source", "libsrt"))

	libsrtLogOnce.Do(func() {
		srtgo.SrtSetLogLevel(srtgo.SrtLogLevelWarning)
		srtgo.SrtSetLogHandler(func(level srtgo.SrtLogLevel, _ string, _ int, area, msg string) {
			l := libsrtLog.Load()
			if l == nil {
				return
			}

			// libsrt's errors are about one connection (a bad handshake, a
			// passphrase that does not match) and anyone who reaches the
			// port can cause them: they are warnings for onair. Only its
			// critical lines are errors of the process.
			msg = strings.TrimSpace(msg)
			if level < srtgo.SrtLogLevelErr {
				l.Error(msg, "area", area)
			} else {
				l.Warn(msg, "area", area)
			}
		})
	})
}
