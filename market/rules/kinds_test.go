package rules

import (
	"encoding/json"
	"testing"
)

func TestPhaseKindAndStatusNamesRoundTrip(t *testing.T) {
	for _, name := range []string{"pending", "open", "paused", "closed"} {
		p, err := ParsePhase(name)
		if err != nil || p.String() != name {
			t.Errorf("ParsePhase(%q) = %v, %v", name, p, err)
		}
	}
	for _, name := range []string{"buy", "sell", "feed", "invest", "gibb", "harvest"} {
		k, err := ParseKind(name)
		if err != nil || k.String() != name {
			t.Errorf("ParseKind(%q) = %v, %v", name, k, err)
		}
	}
	for _, name := range []string{"accepted", "insufficient_coins", "insufficient_shares", "invalid", "rate_limited",
		"market_closed", "market_paused", "harvest"} {
		s, err := ParseStatus(name)
		if err != nil || s.String() != name {
			t.Errorf("ParseStatus(%q) = %v, %v", name, s, err)
		}
	}
}

func TestTraderCannotSendAHarvest(t *testing.T) {
	if k, err := ParseOrderKind("harvest"); err == nil {
		t.Fatalf("ParseOrderKind(harvest) = %v; want an error", k)
	}
	for _, bad := range []string{"", "BUY", "steal", "buy "} {
		if _, err := ParseOrderKind(bad); err == nil {
			t.Errorf("ParseOrderKind(%q) accepted", bad)
		}
	}
}

func TestNamesTravelAsTextInJSON(t *testing.T) {
	type wire struct {
		P Phase
		K Kind
		S Status
	}
	b, err := json.Marshal(wire{PhasePaused, KindInvest, StatusRateLimited})
	if err != nil || string(b) != `{"P":"paused","K":"invest","S":"rate_limited"}` {
		t.Fatalf("json.Marshal = %s, %v", b, err)
	}
	var w wire
	if err := json.Unmarshal(b, &w); err != nil || w != (wire{PhasePaused, KindInvest, StatusRateLimited}) {
		t.Fatalf("json.Unmarshal = %+v, %v", w, err)
	}
}
