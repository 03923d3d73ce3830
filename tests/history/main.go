// Records what concurrent clients see of a Redis, and checks the history for
// linearizability with Porcupine (a key-value register per key). Issue 12.
//
//	history record HOST:PORT CLIENTS KEYS [password=P] [sentinel=NAME] [rotate=SECONDS] [rate=OPS]
//	history check HISTORY.jsonl HTML
//
// record runs CLIENTS clients, each with its own go-redis connection (default
// options, as an application has them, but no retries: see record.go), doing reads (GET), writes (SET to a
// value no other write uses) and compare-and-set (a Lua script) on KEYS keys,
// until SIGTERM; with rotate, on new keys every SECONDS (see keySpace), and with
// rate, at most OPS operations a second per client. It prints one JSON line per operation: its invocation and
// completion times (ns), and its result: "ok", "fail" (Redis answered with an
// error: the command did not run) or "unknown" (no answer: it may have run).
//
// check reads such lines, leaves out failed operations (they had no effect),
// gives unknown ones no completion (they may take effect at any later time, or
// never), and asks Porcupine whether some order of the operations, each at an
// instant between its invocation and completion, explains every result. It
// prints a JSON verdict, and writes Porcupine's visualisation to HTML when the
// answer is no.
package main

import (
	"encoding/json"
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "record":
		if len(os.Args) < 5 {
			usage()
		}
		record(os.Args[2], atoi(os.Args[3]), atoi(os.Args[4]), os.Args[5:])
	case "check":
		if len(os.Args) != 4 {
			usage()
		}
		verdict, err := check(os.Args[2], os.Args[3])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		json.NewEncoder(os.Stdout).Encode(verdict)
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: history record HOST:PORT CLIENTS KEYS [password=P] [sentinel=NAME] [rotate=SECONDS] [rate=OPS] | history check HISTORY.jsonl HTML")
	os.Exit(2)
}

func atoi(text string) int {
	var n int
	if _, err := fmt.Sscan(text, &n); err != nil || n < 1 {
		usage()
	}
	return n
}
