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
var (
	kindArgs   = newWordArgs(rules.KindHarvest, kindWord)
	statusArgs = newWordArgs(rules.StatusHarvest, rules.Status.String)
)

// wordArgs are the words of the values of an enumeration as command arguments.
type wordArgs[T ~uint8] struct {
	args []any // of the values up to the last one known
	word func(T) string
}

func newWordArgs[T ~uint8](last T, word func(T) string) wordArgs[T] {
	w := wordArgs[T]{args: make([]any, int(last)+1), word: word}
	for i := range w.args {
		w.args[i] = word(T(i))
	}
	return w
}

// arg is the word of v as an argument.
func (w wordArgs[T]) arg(v T) any {
	if int(v) < len(w.args) {
		return w.args[v]
	}
	return w.word(v)
}
