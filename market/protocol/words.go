package protocol

import (
	"github.com/monkonomy/monkonomy/market/rules"
)

// kindWord is the word of a kind; an order whose kind could not be read has none.
func kindWord(k rules.Kind) string {
	if k < rules.KindBuy || k > rules.KindHarvest {
		return ""
	}
	return k.String()
}

// parseMicro and appendMicro are the rules' decimal codec: amounts are exact decimal strings
// with 6 decimals.
func parseMicro(s string) (rules.Micro, error) { return rules.ParseMicro(s) }

func appendMicro(b []byte, m rules.Micro) []byte { return rules.AppendMicro(b, m) }

// FormatMicro writes an amount as a decimal string with 6 decimals ("12.345600").
func FormatMicro(m rules.Micro) string { return m.String() }

// kindArgs and statusArgs are the words of kinds and statuses as command arguments, made
// once: making an argument of a string that is not a constant allocates.
var kindArgs, statusArgs = wordArgs(int(rules.KindHarvest)+1, func(i int) string { return kindWord(rules.Kind(i)) }),
	wordArgs(int(rules.StatusHarvest)+1, func(i int) string { return rules.Status(i).String() })

func wordArgs(n int, word func(int) string) []any {
	args := make([]any, n)
	for i := range args {
		args[i] = word(i)
	}
	return args
}

func kindArg(k rules.Kind) any {
	if int(k) < len(kindArgs) {
		return kindArgs[k]
	}
	return kindWord(k)
}

func statusArg(s rules.Status) any {
	if int(s) < len(statusArgs) {
		return statusArgs[s]
	}
	return s.String()
}
