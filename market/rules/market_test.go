package rules

import (
	"slices"
	"testing"
)

func TestPhasesMoveAsTheRulesAllow(t *testing.T) {
	m := NewMarket(Config{})
	if m.Phase() != PhasePending {
		t.Fatalf("new market is %s", m.Phase())
	}
	if err := m.SetPhase(PhasePaused); err == nil {
		t.Error("pending → paused allowed")
	}
	for _, p := range []Phase{PhaseOpen, PhaseOpen, PhasePaused, PhaseOpen, PhaseClosed, PhaseClosed} {
		if err := m.SetPhase(p); err != nil {
			t.Fatalf("→ %s: %v", p, err)
		}
	}
	for _, p := range []Phase{PhaseOpen, PhasePaused, PhasePending} {
		if err := m.SetPhase(p); err == nil {
			t.Errorf("closed → %s allowed", p)
		}
	}
}

func TestOpeningFillsEveryBucket(t *testing.T) {
	m := NewMarket(Config{})
	m.AddTrader("alice")
	m.accounts["alice"].Bucket = 0
	_ = m.SetPhase(PhaseOpen)
	if a, _ := m.Account("alice"); a.Bucket != 10 {
		t.Fatalf("bucket after opening = %d; want 10", a.Bucket)
	}
}

func TestTradersStartWithTheInitialAccount(t *testing.T) {
	m := NewMarket(Config{InitialCoins: Coins(7), InitialShares: 2})
	if !m.AddTrader("bob") || !m.AddTrader("alice") || m.AddTrader("bob") || m.AddTrader("") {
		t.Fatal("AddTrader did not report new and known traders")
	}
	a, ok := m.Account("bob")
	if !ok || a.Coins != Coins(7) || a.Shares != 2 || a.Fed != 0 || a.Bailouts != 0 {
		t.Fatalf("bob = %+v", a)
	}
	if _, ok := m.Account("carol"); ok {
		t.Fatal("carol has an account")
	}
	var names []string
	m.Accounts(func(n string, _ Account) { names = append(names, n) })
	if !slices.Equal(names, []string{"alice", "bob"}) {
		t.Fatalf("Accounts visited %v; want name order", names)
	}
}
