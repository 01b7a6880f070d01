package main

import (
	"net/http"

	"github.com/onair/onair/delivery"
)

// startRules gives the edge the origin's playback rules and a reporter of
// its viewers, when it has the origins' API token; without it the edge
// leaves both to the origin, which sees only the edge's misses.
func (n *edgeNode) startRules() error {
	if n.cfg.APIToken == "" {
		n.log.Warn("no --api-token: signed URLs and allowed origins are checked by the origin " +
			"on cache misses only, and viewers served from the cache are not counted")

		return nil
	}

	country, err := countrySource(&config{GeoIP: n.cfg.GeoIP, CountryHeader: n.cfg.CountryHeader})
	if err != nil {
		return err
	}

	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	n.reports = &delivery.ViewReporter{Origins: n.cfg.originURLs, Token: n.cfg.APIToken,
		Client: client, Log: n.log.With("component", "analytics")}

	if err := n.reports.Start(); err != nil {
		return err
	}

	n.cache.Guard = &delivery.Guard{Country: country, Access: &delivery.RemoteAccess{
		Origins: n.cfg.originURLs, Token: n.cfg.APIToken, Client: client,
		Log: n.log.With("component", "access")}}
	n.cache.Viewing = n.reports
	n.cache.OriginToken = n.cfg.APIToken

	return nil
}

// stopReports sends the views left and stops the reporter.
func (n *edgeNode) stopReports() error {
	if n.reports == nil {
		return nil
	}

	return n.reports.Close()
}
