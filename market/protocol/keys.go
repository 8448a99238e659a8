// Package protocol is the wire format of a market: the Redis keys, the fields of every stream
// entry, and how they are encoded and validated. The engine, the trader SDK, the operator
// and the tests all use it, so there is one place that says what travels where.
package protocol

import (
	"fmt"
	"regexp"
	"strings"
)

// Version is the protocol version carried in the "v" field of every stream entry.
const Version = "1"

// DefaultNamespace is the namespace of markets that do not live in Kubernetes (the arena).
const DefaultNamespace = "default"

// nameRE is a Kubernetes object name (DNS-1123 label): traders and markets are named like
// the objects that represent them on a cluster.
var nameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// ValidateName checks a market, namespace or trader name.
func ValidateName(kind, name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%s name %q is not valid: use 1-63 lower-case letters, digits and '-', starting and ending with a letter or digit", kind, name)
	}
	return nil
}

// Market names a market as NAMESPACE/NAME.
type Market struct {
	Namespace string
	Name      string
}

// ParseMarket reads "NS/NAME", or "NAME" in the default namespace.
func ParseMarket(s string) (Market, error) {
	ns, name, ok := strings.Cut(s, "/")
	if !ok {
		ns, name = DefaultNamespace, s
	}
	m := Market{Namespace: ns, Name: name}
	if err := ValidateName("namespace", ns); err != nil {
		return Market{}, fmt.Errorf("market %q: %w", s, err)
	}
	if err := ValidateName("market", name); err != nil {
		return Market{}, fmt.Errorf("market %q: %w", s, err)
	}
	return m, nil
}

func (m Market) String() string { return m.Namespace + "/" + m.Name }

// Keys returns the Redis keys of this market.
func (m Market) Keys() Keys { return Keys{Prefix: "mk:{" + m.Namespace + "/" + m.Name + "}:"} }

// Keys are the Redis keys of one market. They share one hash tag, so a market lives on one
// Redis Cluster slot and many markets spread over a cluster.
type Keys struct {
	Prefix string
}

func (k Keys) Ticks() string                { return k.Prefix + "ticks" }
func (k Keys) Orders(trader string) string  { return k.Prefix + "orders:" + trader }
func (k Keys) Results(trader string) string { return k.Prefix + "results:" + trader }
func (k Keys) Gibbs() string                { return k.Prefix + "gibbs" }
func (k Keys) Inbox() string                { return k.Prefix + "inbox" }
func (k Keys) Traders() string              { return k.Prefix + "traders" }
func (k Keys) Accounts() string             { return k.Prefix + "accounts" }
func (k Keys) Scores() string               { return k.Prefix + "scores" }
func (k Keys) State() string                { return k.Prefix + "state" }
func (k Keys) Harvests() string             { return k.Prefix + "harvests" }
func (k Keys) Journal() string              { return k.Prefix + "journal" }
func (k Keys) Lease() string                { return k.Prefix + "lease" }

// Cursors is a hash of stream key → the entry id of the last order (or inbox entry) the
// engine applied from that stream. The engine writes it in the same MULTI/EXEC as the
// batch that applied those entries and reads on after it, so an entry is applied exactly
// once whenever the engine stops.
func (k Keys) Cursors() string { return k.Prefix + "cursors" }
