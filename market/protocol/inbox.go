package protocol

import (
	"fmt"

	"github.com/monkonomy/monkonomy/market/rules"
)

// InboxKind is what an inbox entry asks the engine to do.
type InboxKind uint8

const (
	// InboxGibb is a person's gibb: fields author and text.
	InboxGibb InboxKind = iota + 1
	// InboxPhase is a phase command: field phase (open, pause, resume, close).
	InboxPhase
)

// PhaseCommand is what an organiser asks of a market's clock.
type PhaseCommand string

const (
	PhaseOpen   PhaseCommand = "open"
	PhasePause  PhaseCommand = "pause"
	PhaseResume PhaseCommand = "resume"
	PhaseClose  PhaseCommand = "close"
)

// Target is the phase a command moves the market to.
func (c PhaseCommand) Target() rules.Phase {
	switch c {
	case PhasePause:
		return rules.PhasePaused
	case PhaseClose:
		return rules.PhaseClosed
	}
	return rules.PhaseOpen
}

// Inbox is an entry of the inbox stream: a person's gibb or a phase command, from organiser
// tools (the CLI, the dashboard's admin).
type Inbox struct {
	Kind   InboxKind
	Author string       // InboxGibb
	Text   string       // InboxGibb
	Phase  PhaseCommand // InboxPhase
}

// AppendInbox appends the field/value pairs of an inbox entry to args, ready for XADD.
func AppendInbox(args []any, in Inbox) []any {
	args = append(args, FieldVersion, Version)
	switch in.Kind {
	case InboxGibb:
		return append(args, FieldKind, "gibb", FieldAuthor, in.Author, FieldText, in.Text)
	case InboxPhase:
		return append(args, FieldKind, "phase", FieldPhase, string(in.Phase))
	}
	return args
}

// DecodeInbox reads an inbox entry; the error says why an entry cannot be used.
func DecodeInbox(values map[string]any) (Inbox, error) {
	var in Inbox
	if len(values) > MaxEntryFields {
		return in, fmt.Errorf("an inbox entry has at most %d fields, this one has %d", MaxEntryFields, len(values))
	}
	f := fields(values)
	for name, v := range values {
		if _, ok := fieldString(v); !ok {
			return in, fmt.Errorf("field %s is not a string", quoteField(name))
		}
		switch name {
		case FieldVersion, FieldKind, FieldAuthor, FieldText, FieldPhase:
		default:
			return in, fmt.Errorf("unknown field %s", quoteField(name))
		}
	}
	if err := checkVersion(f); err != nil {
		return in, err
	}
	switch kind := f.str(FieldKind); kind {
	case "gibb":
		in.Kind, in.Author, in.Text = InboxGibb, f.str(FieldAuthor), f.str(FieldText)
		if err := CheckAuthor(in.Author); err != nil {
			return in, err
		}
		if err := CheckText(in.Text); err != nil {
			return in, err
		}
	case "phase":
		in.Kind, in.Phase = InboxPhase, PhaseCommand(f.str(FieldPhase))
		switch in.Phase {
		case PhaseOpen, PhasePause, PhaseResume, PhaseClose:
		default:
			return in, fmt.Errorf("phase %s is not one of open, pause, resume, close", quoteField(string(in.Phase)))
		}
	default:
		return in, fmt.Errorf("kind %s is not one of gibb, phase", quoteField(kind))
	}
	return in, nil
}
