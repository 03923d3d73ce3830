package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
)

// registerInput is an operation on one key.
type registerInput struct {
	kind, key, value, expect string
}

// registerOutput is what the client saw; unknown accepts any outcome.
type registerOutput struct {
	read    string
	swapped bool
	unknown bool
}

// registerModel is a key-value store, one register per key (partitioned), ""
// standing for a key that does not exist.
var registerModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range history {
			key := op.Input.(registerInput).key
			if _, seen := byKey[key]; !seen {
				keys = append(keys, key)
			}
			byKey[key] = append(byKey[key], op)
		}
		sort.Strings(keys)
		parts := make([][]porcupine.Operation, 0, len(keys))
		for _, key := range keys {
			parts = append(parts, byKey[key])
		}
		return parts
	},
	Init: func() interface{} { return "" },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		value := state.(string)
		in := input.(registerInput)
		out := output.(registerOutput)
		switch in.kind {
		case "read":
			return out.unknown || out.read == value, value
		case "write":
			return true, in.value
		default: // cas
			if out.unknown {
				// It may have run; if it did, it swapped only from the expected value.
				if value == in.expect {
					return true, in.value
				}
				return true, value
			}
			if out.swapped {
				return value == in.expect, in.value
			}
			return value != in.expect, value
		}
	},
	DescribeOperation: func(input, output interface{}) string {
		in := input.(registerInput)
		out := output.(registerOutput)
		suffix := ""
		if out.unknown {
			suffix = " (unknown)"
		}
		switch in.kind {
		case "read":
			return fmt.Sprintf("get(%s) -> %q%s", in.key, out.read, suffix)
		case "write":
			return fmt.Sprintf("set(%s, %s)%s", in.key, in.value, suffix)
		default:
			return fmt.Sprintf("cas(%s, %q -> %s) -> %v%s", in.key, in.expect, in.value, out.swapped, suffix)
		}
	},
	DescribeState: func(state interface{}) string { return fmt.Sprintf("%q", state) },
}

// checkTimeout bounds each of Porcupine's searches; past it the verdict is Unknown.
const checkTimeout = 60 * time.Second

// memoryLimit is the heap past which the check gives up with an Unknown verdict,
// rather than take the machine's memory (the tests run on 2 cores and a few GB).
const memoryLimit = 4 << 30

// checkDeadline bounds the whole check; keys not reached by then count as Unknown.
const checkDeadline = 5 * time.Minute

// verdictLock guards the verdict between the check and the memory watch.
var verdictLock sync.Mutex

// watchMemory ends the process once the heap passes memoryLimit, with what
// verdict holds so far: Illegal if a key was found so, else Unknown, and why.
// The returned function stops the watch; once it returns nothing is printed.
func watchMemory(verdict *Verdict) func() {
	done := make(chan struct{})
	go func() {
		ticker := time.NewTicker(500 * time.Millisecond)
		defer ticker.Stop()
		for {
			select {
			case <-done:
				return
			case <-ticker.C:
				var stats runtime.MemStats
				runtime.ReadMemStats(&stats)
				if stats.HeapAlloc <= memoryLimit {
					continue
				}
				verdictLock.Lock()
				select {
				case <-done:
					verdictLock.Unlock()
					return
				default:
				}
				out := Verdict{
					Result: "Unknown", Operations: verdict.Operations, Counts: verdict.Counts,
					UnobservedUnknown: verdict.UnobservedUnknown,
					IllegalKeys:       verdict.IllegalKeys, Html: verdict.Html,
				}
				if len(out.IllegalKeys) > 0 {
					out.Result = "Illegal"
				}
				out.Note = fmt.Sprintf("the checker stopped at %d MiB of heap", stats.HeapAlloc>>20)
				json.NewEncoder(os.Stdout).Encode(out)
				os.Exit(0)
			}
		}
	}()
	return func() {
		verdictLock.Lock()
		close(done)
		verdictLock.Unlock()
	}
}

// Verdict is what check prints.
type Verdict struct {
	Result     string         `json:"result"` // Ok, Illegal, Unknown (the checker timed out)
	Operations int            `json:"operations"`
	Counts     map[string]int `json:"counts"`
	// For Illegal: the keys whose history no order explains.
	IllegalKeys []string `json:"illegalKeys,omitempty"`
	Html        string   `json:"html,omitempty"`
	// Why the verdict is Unknown, when the checker gave up on its own.
	Note string `json:"note,omitempty"`
	// Writes of unknown outcome left out because nothing saw their value.
	UnobservedUnknown int `json:"unobservedUnknown"`
}

func check(path, html string) (Verdict, error) {
	file, err := os.Open(path)
	if err != nil {
		return Verdict{}, err
	}
	defer file.Close()
	var ops []Op
	scanner := bufio.NewScanner(file)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		var op Op
		if err := json.Unmarshal(scanner.Bytes(), &op); err != nil {
			return Verdict{}, fmt.Errorf("line %q: %w", scanner.Text(), err)
		}
		ops = append(ops, op)
	}
	if err := scanner.Err(); err != nil {
		return Verdict{}, err
	}
	// Values some operation saw: read back, or found by a compare-and-set that swapped.
	observed := map[[2]string]bool{}
	for _, op := range ops {
		if op.Result == "ok" && op.Kind == "read" {
			observed[[2]string{op.Key, op.Read}] = true
		}
		if op.Result == "ok" && op.Kind == "cas" && op.Swapped {
			observed[[2]string{op.Key, op.Expect}] = true
		}
	}
	// A compare-and-set of unknown outcome whose value was seen did swap, so it saw the
	// value it expected: the write of that value must stay.
	for grew := true; grew; {
		grew = false
		for _, op := range ops {
			if op.Result == "unknown" && op.Kind == "cas" && observed[[2]string{op.Key, op.Value}] &&
				!observed[[2]string{op.Key, op.Expect}] {
				observed[[2]string{op.Key, op.Expect}] = true
				grew = true
			}
		}
	}
	var history []porcupine.Operation
	counts := map[string]int{}
	unobserved := 0
	for _, op := range ops {
		counts[op.Kind+" "+op.Result]++
		if op.Result == "unknown" && op.Kind != "read" && !observed[[2]string{op.Key, op.Value}] {
			// A write of unknown outcome whose (unique) value nothing saw can always be put
			// last, where it changes nothing: left in, it stays open to the end of the history,
			// and a few dozen of them (a frozen master's timeouts) make the search explode.
			// Leaving it out can only make a history harder to explain (it might have moved a
			// key away from a value a failed compare-and-set expected), never easier.
			unobserved++
			continue
		}
		if op.Result == "fail" {
			continue // Redis refused it: it had no effect
		}
		done := op.Done
		out := registerOutput{read: op.Read, swapped: op.Swapped}
		if op.Result == "unknown" {
			// It may take effect at any time after its invocation, or never.
			done, out = math.MaxInt64, registerOutput{unknown: true}
			if op.Kind == "read" {
				continue // an unknown read tells nothing
			}
		}
		history = append(history, porcupine.Operation{
			ClientId: op.Client,
			Input:    registerInput{kind: op.Kind, key: op.Key, value: op.Value, expect: op.Expect},
			Call:     op.Invoke,
			Output:   out,
			Return:   done,
		})
	}
	verdict := Verdict{Operations: len(history), Counts: counts, UnobservedUnknown: unobserved}
	stop := watchMemory(&verdict)
	defer stop()
	// One key at a time: Porcupine checks a history's partitions concurrently, and each
	// keeps a bitset of its operations per cached state (memory growing with the square of
	// a key's operations); 40 keys of 44 000 operations at once took over 4 GiB, one at a
	// time about 300 MB.
	verdict.Result = string(porcupine.Ok)
	deadline := time.Now().Add(checkDeadline)
	for _, part := range registerModel.Partition(history) {
		timeout := time.Until(deadline)
		if timeout > checkTimeout {
			timeout = checkTimeout
		}
		result, info := porcupine.Unknown, porcupine.LinearizationInfo{}
		if timeout > 0 {
			result, info = porcupine.CheckOperationsVerbose(registerModel, part, timeout)
		}
		verdictLock.Lock()
		switch {
		case result == porcupine.Illegal:
			if verdict.Result != string(porcupine.Illegal) {
				// The first key that no order explains is the one drawn.
				if err := porcupine.VisualizePath(registerModel, info, html); err != nil {
					verdictLock.Unlock()
					return verdict, err
				}
				verdict.Html = html
			}
			verdict.Result = string(porcupine.Illegal)
			verdict.IllegalKeys = append(verdict.IllegalKeys, part[0].Input.(registerInput).key)
		case result == porcupine.Unknown && verdict.Result == string(porcupine.Ok):
			verdict.Result = string(porcupine.Unknown)
		}
		verdictLock.Unlock()
	}
	return verdict, nil
}
