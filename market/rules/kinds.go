package rules

import "fmt"

var (
	phaseNames  = [...]string{PhasePending: "pending", PhaseOpen: "open", PhasePaused: "paused", PhaseClosed: "closed"}
	kindNames   = [...]string{KindBuy: "buy", KindSell: "sell", KindFeed: "feed", KindInvest: "invest", KindGibb: "gibb", KindHarvest: "harvest"}
	statusNames = [...]string{
		StatusAccepted:           "accepted",
		StatusInsufficientCoins:  "insufficient_coins",
		StatusInsufficientShares: "insufficient_shares",
		StatusInvalid:            "invalid",
		StatusRateLimited:        "rate_limited",
		StatusMarketClosed:       "market_closed",
		StatusMarketPaused:       "market_paused",
		StatusHarvest:            "harvest",
	}
)

// String returns the phase's wire name: pending, open, paused or closed.
func (p Phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return fmt.Sprintf("phase(%d)", uint8(p))
}

// ParsePhase reads a phase's wire name.
func ParsePhase(s string) (Phase, error) {
	for p, name := range phaseNames {
		if s == name {
			return Phase(p), nil
		}
	}
	return 0, fmt.Errorf("unknown phase %q; use pending, open, paused or closed", s)
}

// MarshalText writes the phase's wire name.
func (p Phase) MarshalText() ([]byte, error) {
	if int(p) >= len(phaseNames) {
		return nil, fmt.Errorf("unknown phase %d", uint8(p))
	}
	return []byte(phaseNames[p]), nil
}

// UnmarshalText reads a phase's wire name.
func (p *Phase) UnmarshalText(b []byte) error {
	v, err := ParsePhase(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// String returns the kind's wire name; the zero Kind (not understood) is "".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ParseKind reads any kind's wire name, harvest included (results carry it). Use
// ParseOrderKind for what a trader sends.
func ParseKind(s string) (Kind, error) {
	if s == "harvest" {
		return KindHarvest, nil
	}
	return ParseOrderKind(s)
}

// ParseOrderKind reads the kind of an order a trader sent: buy, sell, feed, invest or gibb.
// A trader cannot send a harvest; only the market makes those.
func ParseOrderKind(s string) (Kind, error) {
	switch s {
	case "buy":
		return KindBuy, nil
	case "sell":
		return KindSell, nil
	case "feed":
		return KindFeed, nil
	case "invest":
		return KindInvest, nil
	case "gibb":
		return KindGibb, nil
	case "harvest":
		return 0, fmt.Errorf("kind %q is not an order: harvests are made by the market; use buy, sell, feed, invest or gibb", s)
	}
	return 0, fmt.Errorf("unknown order kind %.20q; use buy, sell, feed, invest or gibb", s)
}

// MarshalText writes the kind's wire name ("" for the zero Kind).
func (k Kind) MarshalText() ([]byte, error) {
	if int(k) >= len(kindNames) {
		return nil, fmt.Errorf("unknown kind %d", uint8(k))
	}
	return []byte(kindNames[k]), nil
}

// UnmarshalText reads a kind's wire name ("" is the zero Kind).
func (k *Kind) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*k = 0
		return nil
	}
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// String returns the status's wire name; the zero Status is "".
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// ParseStatus reads a status's wire name.
func ParseStatus(s string) (Status, error) {
	for st, name := range statusNames {
		if st != 0 && s == name {
			return Status(st), nil
		}
	}
	return 0, fmt.Errorf("unknown status %q", s)
}

// MarshalText writes the status's wire name ("" for the zero Status).
func (s Status) MarshalText() ([]byte, error) {
	if int(s) >= len(statusNames) {
		return nil, fmt.Errorf("unknown status %d", uint8(s))
	}
	return []byte(statusNames[s]), nil
}

// UnmarshalText reads a status's wire name ("" is the zero Status).
func (s *Status) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*s = 0
		return nil
	}
	v, err := ParseStatus(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
