package protocol

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/monkonomy/monkonomy/market/rules"
)

// values turns XADD arguments into the map a reader gets back.
func values(args []any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(args); i += 2 {
		var s string
		switch v := args[i+1].(type) {
		case string:
			s = v
		case int64:
			s = itoa(v)
		case int:
			s = itoa(int64(v))
		case *string:
			s = *v
		case *int64:
			s = itoa(*v)
		default:
			panic("unexpected value type")
		}
		m[args[i].(string)] = s
	}
	return m
}

func itoa(v int64) string { b, _ := json.Marshal(v); return string(b) }

func TestOrdersRoundTrip(t *testing.T) {
	for _, o := range []rules.Order{
		{Trader: "t1", ID: "a-1", Kind: rules.KindBuy, Qty: 3},
		{Trader: "t1", ID: "b.2", Kind: rules.KindSell, Qty: 1_000_000},
		{Trader: "t1", ID: "c:3", Kind: rules.KindFeed, Qty: 1},
		{Trader: "t1", ID: "d_4", Kind: rules.KindInvest, Coins: 1_234_567},
		{Trader: "t1", ID: "e", Kind: rules.KindGibb, Text: "banana up 🍌 #mktd"},
	} {
		got := DecodeOrder("t1", "1-1", values(AppendOrder(nil, o)))
		if got != o {
			t.Errorf("order %+v came back as %+v", o, got)
		}
	}
}

func TestOrderWithoutIDIsAnsweredByItsEntryID(t *testing.T) {
	got := DecodeOrder("t1", "17-0", map[string]any{"kind": "buy", "qty": "1"})
	if got.ID != "17-0" || got.Invalid != "" {
		t.Fatalf("got %+v, want a valid order with id 17-0", got)
	}
}

func TestMalformedOrdersAreInvalidWithAReason(t *testing.T) {
	long := strings.Repeat("x", 300)
	cases := map[string]map[string]any{
		"unknown field":      {"kind": "buy", "qty": "1", "price": "2"},
		"unknown kind":       {"kind": "steal", "qty": "1"},
		"harvest kind":       {"kind": "harvest"},
		"missing kind":       {"qty": "1"},
		"missing qty":        {"kind": "sell"},
		"zero qty":           {"kind": "buy", "qty": "0"},
		"negative qty":       {"kind": "buy", "qty": "-1"},
		"fractional qty":     {"kind": "buy", "qty": "1.5"},
		"too many shares":    {"kind": "buy", "qty": "1000001"},
		"huge qty":           {"kind": "buy", "qty": strings.Repeat("9", 40)},
		"seven decimals":     {"kind": "invest", "coins": "1.0000001"},
		"zero coins":         {"kind": "invest", "coins": "0"},
		"coins on a buy":     {"kind": "buy", "qty": "1", "coins": "1"},
		"id too long":        {"kind": "buy", "qty": "1", "id": strings.Repeat("a", 65)},
		"id with space":      {"kind": "buy", "qty": "1", "id": "a b"},
		"binary junk":        {"kind": "\x00\xff\xfe", "qty": "\x01"},
		"text too long":      {"kind": "gibb", "text": "banana " + long},
		"text too big":       {"kind": "gibb", "text": strings.Repeat("🍌", 270)},
		"text not UTF-8":     {"kind": "gibb", "text": "banana \xff"},
		"wrong type":         {"kind": "buy", "qty": 3},
		"wrong version":      {"v": "2", "kind": "buy", "qty": "1"},
		"too many fields":    {"a": "1", "b": "1", "c": "1", "d": "1", "e": "1", "f": "1", "g": "1", "h": "1", "i": "1"},
		"long unknown field": {"kind": "buy", "qty": "1", long: "1"},
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) {
			o := DecodeOrder("t1", "5-0", v)
			if o.Invalid == "" {
				t.Fatalf("order %v was understood: %+v", v, o)
			}
			if len(o.Invalid) > 200 {
				t.Errorf("reason is %d bytes long: %q", len(o.Invalid), o.Invalid)
			}
			if o.ID == "" || !ValidID(o.ID) {
				t.Errorf("order id %q cannot be answered", o.ID)
			}
		})
	}
}

func TestResultRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name  string
		r     rules.Result
		entry string // the order's entry id
	}{
		{"harvest", rules.Result{ID: "o1", Kind: rules.KindHarvest, Status: rules.StatusHarvest, Reason: "harvested",
			Tick: 12, Price: 1_020_000, Score: -13, Credit: 11_500_000,
			Account: rules.Account{Coins: 21_500_000, Shares: 4, Fed: 7, Bailouts: 1, InFlight: 2}}, "8-0"},
		// An order without an id of its own goes by its entry id.
		{"order without an id", rules.Result{ID: "1764886012345-17", Kind: rules.KindBuy, Status: rules.StatusAccepted,
			Tick: 100_000, Price: 123_456_789_012, Score: 4_000_000,
			Account: rules.Account{Coins: -1_500_001, Shares: 1 << 40, Fed: 4_000_001}}, "1764886012345-17"},
		{"rejected", rules.Result{ID: "x", Kind: rules.KindSell, Status: rules.StatusInsufficientShares,
			Reason: "no shares", Tick: 3, Price: 7}, "5-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.r
			got, err := DecodeResult(redis.XMessage{ID: "9-1", Values: values(AppendResult(nil, r, tc.entry))})
			if err != nil {
				t.Fatal(err)
			}
			want := Result{EntryID: "9-1", ID: r.ID, Order: tc.entry, Kind: r.Kind, Status: r.Status, Reason: r.Reason,
				Tick: r.Tick, Price: r.Price, Account: r.Account, Score: r.Score, Credit: r.Credit}
			if got != want {
				t.Fatalf("got %+v, want %+v", got, want)
			}
			r.Trader = "t1"
			if back := got.Rules("t1"); back != r {
				t.Fatalf("result as the rules' = %+v, want %+v", back, r)
			}
		})
	}
}

func TestTickAndGibbTravelAsDecimalStrings(t *testing.T) {
	at := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	tk := Tick{Seq: 12, Price: 1_020_000, Forecast: 998_000, EMA: 1_010_000, Hype: 30_000, Burst: 2,
		Phase: rules.PhaseOpen, Time: at, MarketMs: 11_000}
	got, err := DecodeTick(redis.XMessage{ID: "1-0", Values: values(AppendTick(nil, tk))})
	if err != nil || got != tk {
		t.Fatalf("tick came back as %+v (%v)", got, err)
	}
	b, _ := json.Marshal(tk)
	want := `{"seq":12,"price":"1.020000","forecast":"0.998000","ema":"1.010000","hype":"0.030000","burst":2,"phase":"open","time":"2026-01-02T15:04:05.000Z","marketMs":11000}`
	if string(b) != want {
		t.Fatalf("tick JSON\n got %s\nwant %s", b, want)
	}
	var back Tick
	if err := json.Unmarshal(b, &back); err != nil || back.Price != tk.Price || !back.Time.Equal(at) || back.MarketMs != tk.MarketMs {
		t.Fatalf("tick JSON came back as %+v (%v)", back, err)
	}
	// Exports of older versions have no marketMs.
	old := strings.Replace(string(b), `,"marketMs":11000`, "", 1)
	if err := json.Unmarshal([]byte(old), &back); err != nil || back.Seq != 12 || back.MarketMs != 0 {
		t.Fatalf("tick JSON without marketMs came back as %+v (%v)", back, err)
	}
	if rt := tk.Rules(); rt != (rules.Tick{Seq: 12, Price: tk.Price, Forecast: tk.Forecast, EMA: tk.EMA, Hype: tk.Hype,
		Burst: 2, Phase: rules.PhaseOpen, TimeMs: 11_000}) {
		t.Fatalf("tick as the rules' = %+v", rt)
	}

	g := Gibb{Seq: 3, Author: "t1", Text: "banana up #mktd", Points: 101, Hype: 1_010_000, Tick: 12, Burst: true, Time: at}
	gg, err := DecodeGibb(redis.XMessage{ID: "2-0", Values: values(AppendGibb(nil, g))})
	if err != nil || gg != g {
		t.Fatalf("gibb came back as %+v (%v)", gg, err)
	}
	b, _ = json.Marshal(g)
	if want := `{"seq":3,"author":"t1","text":"banana up #mktd","points":101,"hype":"1.010000","tick":12,"burst":true,"time":"2026-01-02T15:04:05.000Z"}`; string(b) != want {
		t.Fatalf("gibb JSON\n got %s\nwant %s", b, want)
	}
	if rg := g.Rules(); rg != (rules.GibbEffect{Seq: 3, Author: "t1", Text: "banana up #mktd", Points: 101, Hype: 1_010_000, Tick: 12, Burst: true}) {
		t.Fatalf("gibb as the rules' = %+v", rg)
	}
}

func TestInboxEntries(t *testing.T) {
	for _, in := range []Inbox{
		{Kind: InboxGibb, Author: "Ada", Text: "banana love"},
		{Kind: InboxPhase, Phase: PhasePause},
		{Kind: InboxPhase, Phase: PhaseClose},
	} {
		got, err := DecodeInbox(values(AppendInbox(nil, in)))
		if err != nil || got != in {
			t.Errorf("inbox %+v came back as %+v (%v)", in, got, err)
		}
	}
	for _, bad := range []map[string]any{
		{"kind": "phase", "phase": "explode"},
		{"kind": "gibb", "author": "", "text": "banana"},
		{"kind": "gibb", "author": "x", "text": "banana", "extra": "1"},
		{"kind": "reset"},
	} {
		if _, err := DecodeInbox(bad); err == nil {
			t.Errorf("inbox entry %v was accepted", bad)
		}
	}
}

func TestAccountRoundTrip(t *testing.T) {
	a := rules.Account{Coins: -1, Shares: 5, Fed: 9, Bailouts: 1, InFlight: 2, Invested: 3_000_000,
		ScoredAt: 40, Accepted: 11, Rejected: 2, Bucket: 7, BucketTick: 30, GibbTick: 29, GibbCount: 1}
	s := string(AppendAccountJSON(nil, a, -11))
	rec, got, err := DecodeAccount(s)
	if err != nil || got != a || rec.Score != -11 || rec.Coins != "-0.000001" {
		t.Fatalf("account %s came back as %+v %+v (%v)", s, rec, got, err)
	}
}

func TestJournalRoundTrip(t *testing.T) {
	var b []byte
	b, err := AppendJournalConfig(b, rules.Config{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	o := rules.Order{Trader: "t1", ID: "x", Kind: rules.KindGibb, Text: "banana \"up\"\n yes", Invalid: ""}
	bad := rules.Order{Trader: "t1", ID: "1-0", Invalid: "unknown field \"x y\""}
	p := rules.Plantation{Trader: "t2", OrderID: "i1", Coins: 5_000_000, Credit: 5_700_000, DueMs: 1234}
	b = AppendJournalTrader(b, "t1")
	b = AppendJournalPhase(b, rules.PhaseOpen)
	b = AppendJournalTime(b, 1500)
	b = AppendJournalTick(b, rules.Tick{Seq: 2, Price: 990_000})
	b = AppendJournalOrder(b, o, rules.StatusAccepted)
	b = AppendJournalOrder(b, bad, rules.StatusInvalid)
	b = AppendJournalGibb(b, "Ada Lovelace", "banana")
	b = AppendJournalHarvest(b, p)
	evs, err := ParseJournal(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 9 {
		t.Fatalf("got %d events, want 9", len(evs))
	}
	var cfg rules.Config
	if err := json.Unmarshal([]byte(evs[0].Config), &cfg); err != nil || cfg.Seed != 7 {
		t.Errorf("config came back as %+v (%v)", cfg, err)
	}
	if evs[1].Trader != "t1" || evs[2].Phase != rules.PhaseOpen || evs[3].TimeMs != 1500 || evs[4].Seq != 2 || evs[4].Price != 990_000 {
		t.Errorf("events came back as %+v", evs[:5])
	}
	if evs[5].Order != o || evs[5].Status != rules.StatusAccepted || evs[6].Order != bad || evs[6].Status != rules.StatusInvalid {
		t.Errorf("orders came back as %+v and %+v", evs[5], evs[6])
	}
	if evs[7].Author != "Ada Lovelace" || evs[7].Text != "banana" || evs[8].Plantation != p {
		t.Errorf("gibb and harvest came back as %+v and %+v", evs[7], evs[8])
	}
}

func TestSettingsBecomeRulesConfig(t *testing.T) {
	m := Market{Namespace: "default", Name: "demo"}
	seed := uint64(42)
	s := Settings{Seed: &seed, Price: PriceSettings{Initial: "2.5"}, Rules: RulesSettings{InitialCoins: "20.5", Bailout: BailoutSettings{Coins: "3"}}}
	cfg, err := s.RulesConfig(m)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Seed != 42 || cfg.PriceInitial != 2.5 || cfg.InitialCoins != 20_500_000 || cfg.BailoutCoins != 3_000_000 || cfg.TickInterval != time.Second {
		t.Fatalf("config is %+v", cfg)
	}
	a, _ := Settings{}.RulesConfig(m)
	b, _ := Settings{}.RulesConfig(m)
	c, _ := Settings{}.RulesConfig(Market{Namespace: "default", Name: "other"})
	if a.Seed != b.Seed || a.Seed == c.Seed {
		t.Fatalf("derived seeds: %d %d %d; want the same per market name and different between markets", a.Seed, b.Seed, c.Seed)
	}
	for _, bad := range []Settings{
		{Price: PriceSettings{Volatility: "lots"}},
		{Rules: RulesSettings{InitialCoins: "1.0000001"}},
		{Rules: RulesSettings{InitialCoins: "-3"}},
	} {
		if _, err := bad.RulesConfig(m); err == nil {
			t.Errorf("settings %+v were accepted", bad)
		}
	}
}
