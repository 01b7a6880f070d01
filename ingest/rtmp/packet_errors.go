package rtmp

import (
	"fmt"
	"log/slog"
	"time"
)

// packetErrorPeriod is how often dropped packets are reported.
const packetErrorPeriod = time.Second

// packetErrors counts packets dropped on one connection and reports them at
// most once per period, so that a stream of bad packets cannot flood the log.
type packetErrors struct {
	log *slog.Logger
	now func() time.Time

	count    int   // since the last report
	total    int   // over the connection
	last     error // the latest cause
	reported time.Time
}

// add counts one dropped packet and reports if a period has passed since
// the last report; the first drop is reported at once.
func (p *packetErrors) add(err error) {
	p.count++
	p.total++
	p.last = err

	now := p.now()
	if now.Sub(p.reported) >= packetErrorPeriod {
		p.flush()
		p.reported = now
	}
}

// flush reports the packets counted since the last report, if any.
func (p *packetErrors) flush() {
	if p.count == 0 {
		return
	}

	p.log.Warn(fmt.Sprintf("%d packets dropped", p.count), "last", p.last.Error())
	p.count = 0
}
