package corpus

import (
	"regexp"
	"strconv"
	"strings"
)

// HL7Message is one HL7 v2 message of the corpus.
type HL7Message struct {
	Name string // file, with "#n" for the n-th message of a multi-message file
	Data []byte
}

var (
	lineRE    = regexp.MustCompile(`\r\n|\r|\n`)
	commentRE = regexp.MustCompile(`^\s*(/\*|\*|//)`)
)

// SplitHL7File splits a corpus file that holds several messages separated
// by blank lines (hapi's messages.txt, example_oml_o21.hl7; one pair of
// messages in messages.txt has no blank line between them, so an MSH line
// starts a message too) and drops the comment lines between them; a file
// with one MSH is one message, returned as it is.
func SplitHL7File(name string, data []byte) []HL7Message {
	lines := lineRE.Split(string(data), -1)
	nmsh := 0
	for _, l := range lines {
		if strings.HasPrefix(strings.TrimPrefix(l, "\ufeff"), "MSH") {
			nmsh++
		}
	}
	if nmsh <= 1 {
		return []HL7Message{{Name: name, Data: data}}
	}
	var out []HL7Message
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			out = append(out, HL7Message{Name: name + "#" + strconv.Itoa(len(out)+1), Data: []byte(strings.Join(cur, "\r") + "\r")})
		}
		cur = nil
	}
	for _, l := range lines {
		switch {
		case strings.TrimSpace(l) == "":
			flush()
		case commentRE.MatchString(l) && len(cur) == 0:
		case strings.HasPrefix(l, "MSH"):
			flush()
			cur = append(cur, l)
		default:
			cur = append(cur, l)
		}
	}
	flush()
	return out
}
