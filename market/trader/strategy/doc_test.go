package strategy

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/monkonomy/monkonomy/market/rules"
)

const traderDoc = "../../../docs/writing-a-trader.md"

func readDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(traderDoc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// docScript is the Starlark example of docs/writing-a-trader.md.
func docScript(t *testing.T) []byte {
	t.Helper()
	blocks := regexp.MustCompile("(?s)```python\n(.*?)```").FindAllStringSubmatch(readDoc(t), -1)
	if len(blocks) != 1 {
		t.Fatalf("found %d python blocks in %s, want the one script", len(blocks), traderDoc)
	}
	return []byte(blocks[0][1])
}

func TestDocScriptTradesFeedsAndPlantsWithoutErrors(t *testing.T) {
	var logs []string
	s, err := LoadScript("bot.star", docScript(t), ScriptOptions{Log: func(m string) { logs = append(logs, m) }})
	if err != nil {
		t.Fatal(err)
	}
	// A falling price, then a rise: the script buys the dip, feeds and plants.
	a := account("10", 5)
	kinds := map[rules.Kind]int{}
	for seq := int64(1); seq <= 30; seq++ {
		price := "1.00"
		if seq > 20 {
			price = "0.90"
		}
		for _, act := range s.OnTick(tick(seq, price, "1"), a) {
			kinds[act.Kind]++
		}
	}
	s.OnResult(rules.Result{Kind: rules.KindHarvest, Status: rules.StatusHarvest})
	got := s.OnGibb(rules.GibbEffect{Author: "ana", Text: "banana #mktd", Points: 100})
	if len(got) != 1 || got[0].Kind != rules.KindGibb {
		t.Errorf("on_gibb answered %v, want a gibb", got)
	}
	if kinds[rules.KindBuy] == 0 || kinds[rules.KindFeed] == 0 || kinds[rules.KindInvest] == 0 {
		t.Errorf("the script's orders by kind: %v; want buys, feeds and investments", kinds)
	}
	if st := s.Stats(); st.Errors != 0 {
		t.Fatalf("the doc's script failed: %s\n%s", st, strings.Join(logs, "\n"))
	}
}

func TestDocListsEveryBuiltinStrategyWithItsParameters(t *testing.T) {
	doc := readDoc(t)
	for _, name := range Names() {
		b, _ := Lookup(name)
		row := ""
		for _, line := range strings.Split(doc, "\n") {
			if strings.HasPrefix(line, "| `"+name+"` |") {
				row = line
			}
		}
		if row == "" {
			t.Errorf("%s has no row in the table of built-in strategies", name)
			continue
		}
		for _, p := range b.Params {
			if want := "`" + p.Name + "` (" + p.Default + ")"; !strings.Contains(row, want) {
				t.Errorf("the row of %s lacks %s", name, want)
			}
		}
	}
}
