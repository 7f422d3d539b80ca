package hl7v2_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
)

func ExampleParse() {
	msg := strings.Join([]string{
		`MSH|^~\&|SYNTH-LIS|PATH-LAB|FHIRHUB|MAIN-HOSP|20250314154510+0200||ORU^R01^ORU_R01|LAB-1|P|2.5.1`,
		`PID|1||MRN-1^^^MAIN-HOSP^MR~8001015009087^^^ZAF-DHA^NI||Ndlovu^Zoë^T`,
		`OBR|1||LAB-88123|24323-8^Metabolic panel^LN`,
		`OBX|1|NM|2823-3^Potassium^LN||5.9|mmol/L|3.5-5.1|H|||F`,
		`NTE|1|L|Called to ward 3 \T\ repeat advised.\.br\Sample haemolysed.`,
	}, "\r")
	m, err := hl7v2.Parse([]byte(msg))
	if err != nil {
		fmt.Println(err)
		return
	}
	h := m.Header()
	fmt.Println(h.Type, h.ControlID, h.Version)

	id, _ := m.Get("PID-3[2].1")
	fmt.Println("national id:", id)
	cx := hl7v2.ParseCX(m.Segment("PID", 1).Field(3).Rep(2))
	fmt.Println("assigned by:", cx.AssigningAuthority.NamespaceID, cx.IdentifierTypeCode)
	name := hl7v2.ParseXPN(m.Segment("PID", 1).Field(5))
	fmt.Println("name:", name.Given, name.Family.Surname)

	value, _ := m.Get("OBX-5")
	n, _ := hl7v2.ParseNM(value.String())
	fmt.Println("potassium:", n.Text, hl7v2.ParseCWE(m.Segment("OBX", 1).Field(6)).Identifier)

	note, _ := m.Get("NTE-3")
	fmt.Printf("note: %q\n", note.Text())

	oru, _ := hl7v2.ParseORU(m)
	obs := oru.Results[0].Orders[0].Observations[0]
	fmt.Println("notes on the OBX:", len(obs.NTE))
	// Output:
	// ORU^R01^ORU_R01 LAB-1 2.5.1
	// national id: 8001015009087
	// assigned by: ZAF-DHA NI
	// name: Zoë Ndlovu
	// potassium: 5.9 mmol/L
	// note: "Called to ward 3 & repeat advised.\nSample haemolysed."
	// notes on the OBX: 1
}

func ExampleBuildAck() {
	received := []byte("MSH|^~\\&|SYNTH-LIS|PATH-LAB|FHIRHUB|MAIN-HOSP|20250314154510||ORU^R01^ORU_R01|LAB-1|P|2.9|||AL|NE\r" +
		"PID|1||MRN-1\r")

	// What the receiver does with each message: read the header (even from
	// a broken message), decide, store, acknowledge.
	h, err := hl7v2.ParseHeader(received)
	d := hl7v2.Decide(h, err, hl7v2.DefaultPolicy())
	code, send := d.Ack(hl7v2.OutcomeAccepted)
	fmt.Println(d.Mode, d.Reject, code, send)

	ack, err := hl7v2.BuildAck(h, hl7v2.AckOptions{
		Code:      code,
		ControlID: "ACK-1",
		Now:       func() time.Time { return time.Date(2025, 3, 14, 15, 45, 11, 0, time.UTC) },
		Errors:    d.Errors,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.ReplaceAll(string(ack), "\r", "\n"))
	// Output:
	// enhanced true CR true
	// MSH|^~\&|FHIRHUB|MAIN-HOSP|SYNTH-LIS|PATH-LAB|20250314154511+0000||ACK^R01^ACK|ACK-1|P|2.9|||NE|NE
	// MSA|CR|LAB-1|version not supported
	// ERR||MSH^1^12|203^Unsupported version id^HL70357|E||||version not supported
}

func ExampleSplitBatch() {
	file := "FHS|^~\\&\rBHS|^~\\&\r" +
		"MSH|^~\\&|A|B|C|D|20250316||ORU^R01|1|P|2.5.1\rPID|1\r" +
		"MSH|^~\\&|A|B|C|D|20250316||ORU^R01|2|P|2.5.1\rPID|1\r" +
		"BTS|3\rFTS|1\r"
	f, err := hl7v2.SplitBatch([]byte(file))
	fmt.Println(f.NumMessages(), err)
	// Output:
	// 2 hl7v2: BTS^1^1: 100 segment sequence error: BTS-1 batch message count is 3 but there are 2
}

func ExampleMessage_Set() {
	m, _ := hl7v2.NewMessage(hl7v2.DefaultDelimiters())
	_ = m.Set("MSH-9", "ADT")
	_ = m.Set("MSH-9.2", "A08")
	_, _ = m.AddSegment("PID")
	_ = m.Set("PID-3[2].1", "MRN|7")
	_ = m.Set("PID-5.1", "O'Brien & Sons")
	_ = m.SetNull("PID-8")
	fmt.Println(strings.ReplaceAll(string(m.Encode()), "\r", "\n"))
	// Output:
	// MSH|^~\&|||||||ADT^A08
	// PID|||~MRN\F\7||O'Brien \T\ Sons|||""
}
