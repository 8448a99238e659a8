package strategy

import (
	"slices"
	"strings"
	"testing"

	"github.com/monkonomy/monkonomy/market/rules"
)

func tick(seq int64, price, forecast string) rules.Tick {
	p, _ := rules.ParseMicro(price)
	f, _ := rules.ParseMicro(forecast)
	return rules.Tick{Seq: seq, Price: p, Forecast: f, Phase: rules.PhaseOpen, TimeMs: seq * 1000}
}

func account(coins string, shares int64) rules.Account {
	c, _ := rules.ParseMicro(coins)
	return rules.Account{Coins: c, Shares: shares}
}

func actionStrings(actions []Action) []string {
	out := make([]string, len(actions))
	for i, a := range actions {
		out[i] = a.String()
	}
	return out
}

func TestClassicFeedsOnceBuysOnUpForecastAndInvestsAllButOneCoin(t *testing.T) {
	s, err := New("classic", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := actionStrings(s.OnTick(tick(1, "1.000000", "1.010000"), account("10", 5)))
	want := []string{"feed 1", "buy 1", "invest 8.000000"}
	if !slices.Equal(got, want) {
		t.Fatalf("first tick: got %v, want %v", got, want)
	}
	got = actionStrings(s.OnTick(tick(2, "2.000000", "0.990000"), account("1", 5)))
	want = []string{"sell 1", "invest 2.000000"}
	if !slices.Equal(got, want) {
		t.Fatalf("second tick: got %v, want %v", got, want)
	}
}

func TestClassicInvestsAtMostOncePerInterval(t *testing.T) {
	s, err := New("classic", Params{"invest-every": "3s"})
	if err != nil {
		t.Fatal(err)
	}
	invests := 0
	for seq := int64(1); seq <= 9; seq++ {
		for _, a := range s.OnTick(tick(seq, "1", "1"), account("10", 0)) {
			if a.Kind == rules.KindInvest {
				invests++
			}
		}
	}
	if invests != 3 {
		t.Fatalf("invested %d times in 9 seconds with invest-every=3s, want 3", invests)
	}
}

func TestFeederFeedsSharesAboveItsReserveAndBuysWithSpareCoins(t *testing.T) {
	s, err := New("feeder", Params{"reserve-shares": "2", "max-buy": "3", "invest": "0.25"})
	if err != nil {
		t.Fatal(err)
	}
	got := actionStrings(s.OnTick(tick(1, "1", "1"), account("9", 5)))
	want := []string{"feed 3", "invest 2.000000", "buy 3"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestMomentumBuysARiseAndSellsAFall(t *testing.T) {
	s, err := New("momentum", Params{"window": "2", "feed-every": "0"})
	if err != nil {
		t.Fatal(err)
	}
	acct := account("10", 5)
	var got []string
	for i, p := range []string{"1.00", "1.01", "1.02", "1.01", "0.98"} {
		got = append(got, strings.Join(actionStrings(s.OnTick(tick(int64(i+1), p, "1"), acct)), "+"))
	}
	want := []string{"", "", "buy 1", "", "sell 1"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestMeanReversionBuysBelowTheBandAndSellsAbove(t *testing.T) {
	s, err := New("mean-reversion", Params{"window": "3", "band": "0.05", "feed-every": "0"})
	if err != nil {
		t.Fatal(err)
	}
	acct := account("10", 5)
	var got []string
	for i, p := range []string{"1.00", "1.00", "0.80", "0.93", "1.40"} {
		got = append(got, strings.Join(actionStrings(s.OnTick(tick(int64(i+1), p, "1"), acct)), "+"))
	}
	want := []string{"", "", "buy 1", "", "sell 1"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestTrendStrategiesTradeThenFeedWhatTheyStillHold(t *testing.T) {
	for _, c := range []struct {
		name   string
		params Params
		prices []string
	}{
		{"momentum", Params{"window": "2", "feed-every": "3"}, []string{"1.00", "1.01", "1.02", "1.01", "0.98", "0.98"}},
		{"mean-reversion", Params{"window": "3", "band": "0.05", "feed-every": "3"}, []string{"1.00", "1.00", "0.80", "0.93", "1.40", "1.40"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := New(c.name, c.params)
			if err != nil {
				t.Fatal(err)
			}
			acct := account("10", 5)
			var got []string
			for i, p := range c.prices {
				got = append(got, strings.Join(actionStrings(s.OnTick(tick(int64(i+1), p, "1"), acct)), "+"))
			}
			// Every third tick feeds the shares above keep-shares (1): all 4 after a buy,
			// whose shares are not held yet, and 3 after a sell.
			want := []string{"", "", "buy 1+feed 4", "", "sell 1", "sell 1+feed 3"}
			if !slices.Equal(got, want) {
				t.Fatalf("got %q, want %q", got, want)
			}
		})
	}
}

func TestEveryBuiltinStartsWithItsDeclaredDefaults(t *testing.T) {
	for _, name := range Names() {
		if _, err := New(name, nil); err != nil {
			t.Errorf("%s with its declared defaults: %v", name, err)
		}
		b, _ := Lookup(name)
		empty := Params{}
		for _, p := range b.Params {
			empty[p.Name] = ""
		}
		if _, err := New(name, empty); err != nil {
			t.Errorf("%s with every parameter empty: %v", name, err)
		}
	}
}

func TestRandomIsDeterministicForASeed(t *testing.T) {
	play := func(seed string) []string {
		s, err := New("random", Params{"seed": seed, "p": "1"})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for seq := int64(1); seq <= 30; seq++ {
			out = append(out, actionStrings(s.OnTick(tick(seq, "1", "1"), account("10", 5)))...)
		}
		return out
	}
	a, b, c := play("7"), play("7"), play("8")
	if !slices.Equal(a, b) {
		t.Fatalf("same seed played differently:\n%v\n%v", a, b)
	}
	if slices.Equal(a, c) {
		t.Fatalf("seeds 7 and 8 played the same orders: %v", a)
	}
}

func TestBadParametersAreAllReportedClearly(t *testing.T) {
	_, err := New("momentum", Params{"window": "zero", "qty": "-1", "colour": "red"})
	if err == nil {
		t.Fatal("bad parameters were accepted")
	}
	for _, want := range []string{`window="zero"`, `qty="-1"`, `unknown parameter "colour"`, "known: window, threshold"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, err := New("martingale", nil); err == nil || !strings.Contains(err.Error(), "classic, feeder, mean-reversion, momentum, random") {
		t.Errorf("unknown strategy error %v does not list the built-ins", err)
	}
}

func TestParseParamsReadsNameValuePairs(t *testing.T) {
	p, err := ParseParams([]string{"window=3", "band = 0.5"})
	if err != nil || p["window"] != "3" || p["band"] != "0.5" {
		t.Fatalf("got %v, %v", p, err)
	}
	if _, err := ParseParams([]string{"window"}); err == nil {
		t.Fatal("a parameter without = was accepted")
	}
}
