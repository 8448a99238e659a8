package kubeplugin

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/monkonomy/monkonomy/api/v1alpha1"
)

func trader(name string, rank int32, score int64) v1alpha1.Trader {
	return v1alpha1.Trader{ObjectMeta: metav1.ObjectMeta{Name: name},
		Status: v1alpha1.TraderStatus{Rank: rank, Score: score}}
}

func TestLeaderboardPutsUnrankedTradersLast(t *testing.T) {
	ts := []v1alpha1.Trader{trader("new", 0, 0), trader("second", 2, 10), trader("newer", 0, 5), trader("first", 1, 30)}
	SortByRank(ts)
	var got []string
	for _, tr := range ts {
		got = append(got, tr.Name)
	}
	if want := "first,second,newer,new"; strings.Join(got, ",") != want {
		t.Errorf("order %v, want %s", got, want)
	}
}

func TestTraderNameIsMadeFromTheTeamsName(t *testing.T) {
	for team, want := range map[string]string{
		"The Monkeys":           "the-monkeys",
		"  Ünïcode & Co!  ":     "n-code-co",
		strings.Repeat("a", 80): strings.Repeat("a", 56),
		"---":                   "",
	} {
		if got := TraderName(team); got != want {
			t.Errorf("TraderName(%q) = %q, want %q", team, got, want)
		}
	}
}

func TestJoinManifestIsATraderWithOneRunner(t *testing.T) {
	script := "def on_tick(tick, account, memory):\n\n    return [buy(1)]\n"
	m, err := Join{Team: `Say "Hi"`, Market: "bananas", Namespace: "event", Script: script}.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	var tr v1alpha1.Trader
	if err := yaml.UnmarshalStrict([]byte(m), &tr); err != nil {
		t.Fatalf("the manifest is not a Trader: %v\n%s", err, m)
	}
	if tr.Name != "say-hi" || tr.Namespace != "event" || tr.Spec.Team != `Say "Hi"` || tr.Spec.Market != "bananas" ||
		tr.Spec.Strategy == nil || tr.Spec.Strategy.Script == nil || *tr.Spec.Strategy.Script != script || tr.Spec.Image != nil {
		t.Errorf("the manifest says %+v\n%s", tr, m)
	}
	for _, j := range []Join{
		{Team: "x", Market: "m"},
		{Team: "x", Market: "m", Strategy: "momentum", Image: "bot:1"},
		{Team: "", Market: "m", Strategy: "momentum"},
		{Team: "x", Strategy: "momentum"},
	} {
		if _, err := j.Manifest(); err == nil {
			t.Errorf("Join %+v made a manifest", j)
		}
	}
}
