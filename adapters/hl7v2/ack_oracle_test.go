package hl7v2

import (
	"strconv"
	"strings"
	"time"
)

// buildAckOracle is BuildAck as it was first written: a message built
// with NewMessage, SetRaw and Set, then encoded. The direct encoder in
// ack.go must give the same bytes for every header and option set; the
// tests and FuzzAck compare the two.
func buildAckOracle(h *Header, o AckOptions) ([]byte, error) {
	switch o.Code {
	case AckAccept, AckError, AckReject, AckCommitAccept, AckCommitError, AckCommitReject:
	default:
		return nil, errAt(CodeApplicationInternal, Location{}, "invalid acknowledgment code")
	}
	d := DefaultDelimiters()
	if h != nil {
		d = h.Delimiters
	}
	m, err := NewMessage(d)
	if err != nil {
		return nil, err
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	id := o.ControlID
	if id == "" {
		id = string(appendControlID(nil))
	}
	version, trigger := "2.5.1", ""
	var src Segment
	if h != nil {
		src = h.msh
		trigger = h.Type.Trigger
		if h.Version != "" {
			version = h.Version
		}
	}
	raw := func(field int) string { return src.Field(field).Raw() }
	t := now()
	stamp := t.Format("20060102150405-0700")
	if strings.ContainsAny(stamp, d.String()) {
		// '+' or '-' is a delimiter here: give the time in UTC without an
		// offset rather than an escape sequence few receivers would read.
		stamp = t.UTC().Format("20060102150405")
	}
	sets := []struct {
		path, raw string
	}{
		{"MSH-3", raw(5)}, {"MSH-4", raw(6)}, {"MSH-5", raw(3)}, {"MSH-6", raw(4)},
		{"MSH-7", stamp},
		{"MSH-10", m.Escape(id)},
		{"MSH-11", raw(11)},
		{"MSH-12", raw(12)},
		{"MSH-18", raw(18)},
	}
	if sets[6].raw == "" {
		sets[6].raw = "P"
	}
	if sets[7].raw == "" {
		sets[7].raw = m.Escape(version)
	}
	if h != nil && (h.AcceptAckType != "" || h.ApplicationAckType != "") {
		sets = append(sets, struct{ path, raw string }{"MSH-15", "NE"}, struct{ path, raw string }{"MSH-16", "NE"})
	}
	msgType := "ACK"
	if versionAtLeast(version, 2, 3, 1) {
		msgType += string(d.Component) + m.Escape(trigger) + string(d.Component) + "ACK"
	} else if trigger != "" {
		msgType += string(d.Component) + m.Escape(trigger)
	}
	sets = append(sets, struct{ path, raw string }{"MSH-9", msgType})
	for _, s := range sets {
		if s.raw == "" {
			continue
		}
		if err := m.SetRaw(s.path, s.raw); err != nil {
			return nil, err
		}
	}

	if _, err := m.AddSegment("MSA"); err != nil {
		return nil, err
	}
	if err := m.SetRaw("MSA-1", string(o.Code)); err != nil {
		return nil, err
	}
	if ctl := raw(10); ctl != "" {
		if err := m.SetRaw("MSA-2", ctl); err != nil {
			return nil, err
		}
	}
	text := o.Text
	if text == "" && o.Code != AckAccept && o.Code != AckCommitAccept && len(o.Errors) > 0 {
		text = o.Errors[0].Msg
	}
	if text != "" {
		if err := m.Set("MSA-3", text); err != nil {
			return nil, err
		}
	}
	if err := addErrsOracle(m, version, o.Errors); err != nil {
		return nil, err
	}
	return m.Encode(), nil
}

// addErrsOracle adds the ERR segments for errs in the layout of version.
func addErrsOracle(m *Message, version string, errs []*Error) error {
	if len(errs) == 0 {
		return nil
	}
	d := m.delims
	join := func(sep byte, parts ...string) string {
		n := len(parts)
		for n > 0 && parts[n-1] == "" {
			n--
		}
		for i := range parts[:n] {
			parts[i] = m.Escape(parts[i])
		}
		return strings.Join(parts[:n], string(sep))
	}
	code := func(e *Error, sep byte) string {
		return join(sep, strconv.Itoa(int(e.Code)), e.Code.Text(), "HL70357")
	}
	if !versionAtLeast(version, 2, 5) {
		// v2.1-2.4: one ERR whose ERR-1 (ELD) repeats: segment ID ^
		// sequence ^ field position ^ code identifying error (CE).
		reps := make([]string, 0, len(errs))
		for _, e := range errs {
			ce := strconv.Itoa(int(e.Code))
			if d.Subcomponent != 0 {
				ce = code(e, d.Subcomponent)
			}
			l := e.Loc
			eld := join(d.Component, l.Segment, itoa0(l.Sequence), itoa0(l.Field))
			if n := strings.Count(eld, string(d.Component)); n < 3 {
				eld += strings.Repeat(string(d.Component), 3-n)
			}
			reps = append(reps, eld+ce)
		}
		if _, err := m.AddSegment("ERR"); err != nil {
			return err
		}
		sep := string(d.Repetition)
		if d.Repetition == 0 {
			reps, sep = reps[:1], ""
		}
		return m.SetRaw("ERR-1", strings.Join(reps, sep))
	}
	for i, e := range errs {
		if _, err := m.AddSegment("ERR"); err != nil {
			return err
		}
		l := e.Loc
		path := "ERR[" + strconv.Itoa(i+1) + "]-"
		sev := e.Severity
		if sev == 0 {
			sev = SeverityError
		}
		for _, f := range []struct {
			n   string
			raw string
		}{
			{"2", join(d.Component, l.Segment, itoa0(l.Sequence), itoa0(l.Field), itoa0(l.Rep), itoa0(l.Component), itoa0(l.Sub))},
			{"3", code(e, d.Component)},
			{"4", string(sev)},
			{"8", m.Escape(e.Msg)},
		} {
			if f.raw == "" {
				continue
			}
			if err := m.SetRaw(path+f.n, f.raw); err != nil {
				return err
			}
		}
	}
	return nil
}
