package rules

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestRestoredMarketContinuesByteForByte(t *testing.T) {
	traders := []string{"alice", "bob", "carol"}
	cfg := Config{Seed: 21}
	orig := openMarket(t, cfg, traders...)
	p := newPlayer(21, traders)
	var discard strings.Builder
	for i := 0; i < 3000; i++ {
		p.step(orig, &discard)
	}
	orig.PostGibb("ann", "banana up") // a person's limit is part of the state

	accounts := map[string]Account{}
	orig.Accounts(func(n string, a Account) { accounts[n] = a })
	blob, err := json.Marshal(struct {
		State    State
		Accounts map[string]Account
	}{orig.State(), accounts})
	if err != nil {
		t.Fatal(err)
	}
	var saved struct {
		State    State
		Accounts map[string]Account
	}
	if err := json.Unmarshal(blob, &saved); err != nil {
		t.Fatal(err)
	}
	restored, err := Restore(cfg, saved.State, saved.Accounts)
	if err != nil {
		t.Fatal(err)
	}
	if restored.LastTick() != orig.LastTick() {
		t.Fatalf("last tick %+v; want %+v", restored.LastTick(), orig.LastTick())
	}

	pa, pb := *p, *p
	pa.pending = append([]Plantation(nil), p.pending...)
	pb.rng = rand.New(rand.NewPCG(99, 1))
	pa.rng = rand.New(rand.NewPCG(99, 1))
	var a, b strings.Builder
	for i := 0; i < 3000; i++ {
		pa.step(orig, &a)
		pb.step(restored, &b)
	}
	if a.String() != b.String() {
		al, bl := strings.Split(a.String(), "\n"), strings.Split(b.String(), "\n")
		for i := range min(len(al), len(bl)) {
			if al[i] != bl[i] {
				t.Fatalf("line %d differs:\n%s\n%s", i, al[i], bl[i])
			}
		}
		t.Fatalf("the original market wrote %d lines, the restored one %d", len(al), len(bl))
	}
	s1, _ := json.Marshal(orig.State())
	s2, _ := json.Marshal(restored.State())
	if string(s1) != string(s2) {
		t.Fatalf("states differ:\n%s\n%s", s1, s2)
	}
}

func TestExactFloatSurvivesJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < 10_000; i++ {
		f := math.Float64frombits(rng.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		b, err := json.Marshal(ExactFloat(f))
		var back ExactFloat
		if err != nil || json.Unmarshal(b, &back) != nil || math.Float64bits(float64(back)) != math.Float64bits(f) {
			t.Fatalf("%v went through JSON as %s and came back as %v (%v)", f, b, back, err)
		}
	}
}

func TestRestoreRefusesAnImpossibleState(t *testing.T) {
	good := NewMarket(Config{}).State()
	for name, st := range map[string]func(*State){
		"negative tick":   func(s *State) { s.Tick = -1 },
		"zero price":      func(s *State) { s.Price = 0 },
		"burst step 11":   func(s *State) { s.BurstSteps = 11 },
		"unknown phase":   func(s *State) { s.Phase = 9 },
		"tick after time": func(s *State) { s.TickTimeMs = 5 },
	} {
		s := good
		st(&s)
		if _, err := Restore(Config{}, s, nil); err == nil {
			t.Errorf("%s: Restore accepted %+v", name, s)
		}
	}
	if _, err := Restore(Config{PriceVolatility: -1}, good, nil); err == nil {
		t.Error("Restore accepted an invalid config")
	}
	if _, err := Restore(Config{}, good, map[string]Account{"": {}}); err == nil {
		t.Error("Restore accepted an account without a trader name")
	}
}
