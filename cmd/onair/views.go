package main

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/onair/onair/analytics"
	"github.com/onair/onair/delivery"
	"github.com/onair/onair/internal/geoip"
)

// startViews starts the analytics collector and chooses where viewers'
// countries come from: --geoip, else --country-header, else nowhere (XX).
func (n *node) startViews() error {
	country, err := countrySource(n.cfg)
	if err != nil {
		return err
	}

	n.country = country
	n.views = &analytics.Collector{Sink: n.store, Log: n.log.With("component", "analytics"),
		Now: n.viewClock}

	return n.views.Start()
}

// countrySource returns the function that finds a request's country.
func countrySource(cfg *config) (func(*http.Request) string, error) {
	if cfg.GeoIP != "" {
		db, err := openGeoIP(cfg.GeoIP)
		if err != nil {
			return nil, err
		}

		return db.country, nil
	}

	if name := cfg.CountryHeader; name != "" {
		return func(r *http.Request) string { return countryCode(r.Header.Get(name)) }, nil
	}

	return nil, nil
}

// geoIP finds viewers' countries by address.
type geoIP struct {
	db *geoip.DB
}

func openGeoIP(path string) (*geoIP, error) {
	db, err := geoip.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--geoip: %w", err)
	}

	return &geoIP{db: db}, nil
}

// country returns the country of r's remote address.
func (g *geoIP) country(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return delivery.UnknownCountry
	}

	if c, ok := g.db.Country(ap.Addr()); ok {
		return countryCode(c)
	}

	return delivery.UnknownCountry
}

// countryCode returns s as an upper-case ISO 3166-1 alpha-2 code, or
// delivery.UnknownCountry when it is not two letters.
func countryCode(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
		return delivery.UnknownCountry
	}

	return s
}
