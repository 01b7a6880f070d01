package rtmp

import (
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/sirupsen/logrus"
)

// maxLoggedError bounds the go-rtmp error text kept as a close reason.
const maxLoggedError = 200

// logHook receives go-rtmp's logrus lines. Warnings and errors go to the
// connection's slog logger at debug level, and the latest error is kept as
// the reason a connection closed. Info lines are never read: go-rtmp writes
// the publish command, stream key included, at that level.
type logHook struct {
	log *slog.Logger

	mu      sync.Mutex
	lastErr string
}

// logger returns a logrus logger that writes nowhere but to the hook.
func (h *logHook) logger() *logrus.Logger {
	l := logrus.New()
	l.Out = io.Discard
	l.Level = logrus.WarnLevel
	l.AddHook(h)

	return l
}

// Levels returns the levels the hook receives.
func (h *logHook) Levels() []logrus.Level {
	return []logrus.Level{logrus.PanicLevel, logrus.FatalLevel, logrus.ErrorLevel,
		logrus.WarnLevel}
}

// Fire handles one go-rtmp line.
func (h *logHook) Fire(e *logrus.Entry) error {
	line, _, _ := strings.Cut(e.Message, "\n")
	if len(line) > maxLoggedError {
		line = line[:maxLoggedError]
	}

	h.log.Debug("go-rtmp: " + line)

	if e.Level <= logrus.ErrorLevel {
		h.mu.Lock()
		h.lastErr = line
		h.mu.Unlock()
	}

	return nil
}

// err returns the latest go-rtmp error line, or "".
func (h *logHook) err() string {
	h.mu.Lock()
	defer h.mu.Unlock()

	return h.lastErr
}
