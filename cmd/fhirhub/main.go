// Command fhirhub is the fhirhub binary: the FHIR server and HL7 v2 engine.
//
//	fhirhub serve     run the server (embedded PostgreSQL when DATABASE_URL is unset)
//	fhirhub migrate   apply database migrations
//	fhirhub send      send HL7 v2 files over MLLP and print each ACK
//	fhirhub replay    re-drive stored HL7 v2 messages (through a running server)
//	fhirhub token     mint an access token of the embedded issuer
//	fhirhub version   print the version
//
// Configuration is by flags, each with a FHIRHUB_* environment variable
// (DATABASE_URL is also read as is); `fhirhub serve -h` lists them.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(ctx, os.Args[2:])
	case "migrate":
		err = migrate(ctx, os.Args[2:])
	case "send":
		err = send(ctx, os.Args[2:])
	case "replay":
		err = replay(ctx, os.Args[2:])
	case "token":
		err = token(ctx, os.Args[2:])
	case "version", "-version", "--version":
		fmt.Println("fhirhub", version)
	case "help", "-h", "--help":
		usage()
	default:
		fmt.Fprintf(os.Stderr, "fhirhub: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fhirhub:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: fhirhub <command> [flags]

commands:
  serve     run the FHIR server (REST on :8080/fhir); with no DATABASE_URL it
            starts a private PostgreSQL in ./var/postgres
  migrate   apply the database migrations and exit
  send      send HL7 v2 messages (files, batch files, directories) over MLLP
            and print one line per ACK; exits 1 when any was not accepted
  replay    ask a running server to re-drive stored HL7 v2 messages chosen
            by filters (-status error -type ORU ...)
  token     mint an access token for local use (-role doctor -scope 'user/*.read')
  version   print the version
`)
}
