package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// casScript swaps KEYS[1] from ARGV[1] ("" for no key) to ARGV[2], atomically.
// How long a client waits after a refused or unanswered operation.
const failureBackoff = 5 * time.Millisecond

var casScript = redis.NewScript(`
local current = redis.call('GET', KEYS[1])
if (current == false and ARGV[1] == '') or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2])
  return 1
end
return 0`)

// keySpace names the keys a client works on: KEYS keys, "h:K", or with rotate=S
// "h:E:K", E counting periods of S seconds from the start, so no key's history
// grows past one period and Porcupine's search of each stays small however long
// the recording runs (its memory grows with the square of a key's operations).
type keySpace struct {
	keys   int
	rotate time.Duration // 0: the same keys throughout
	start  time.Time
}

// pick is the key of an operation: one of this period's keys; a read looks at the
// previous period's keys one time in four, so a write lost after its key's period
// ended (a failover a little later) still shows in the history.
func (space keySpace) pick(random *rand.Rand, read bool) string {
	k := random.Intn(space.keys)
	if space.rotate == 0 {
		return fmt.Sprintf("h:%d", k)
	}
	period := int(time.Since(space.start) / space.rotate)
	if read && period > 0 && random.Intn(4) == 0 {
		period--
	}
	return fmt.Sprintf("h:%d:%d", period, k)
}

func record(addr string, clients, keys int, options []string) {
	password, sentinel := "", ""
	space := keySpace{keys: keys, start: time.Now()}
	var pace time.Duration // the least time between two operations of a client
	for _, option := range options {
		switch {
		case strings.HasPrefix(option, "password="):
			password = strings.TrimPrefix(option, "password=")
		case strings.HasPrefix(option, "sentinel="):
			sentinel = strings.TrimPrefix(option, "sentinel=")
		case strings.HasPrefix(option, "rotate="):
			space.rotate = time.Duration(atoi(strings.TrimPrefix(option, "rotate="))) * time.Second
		case strings.HasPrefix(option, "rate="):
			pace = time.Second / time.Duration(atoi(strings.TrimPrefix(option, "rate=")))
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	out := bufio.NewWriter(os.Stdout)
	var lock sync.Mutex
	emit := func(op Op) {
		line, _ := json.Marshal(op)
		lock.Lock()
		out.Write(append(line, '\n'))
		out.Flush()
		lock.Unlock()
	}
	var group sync.WaitGroup
	for c := 0; c < clients; c++ {
		// go-redis' defaults, but for retries: a command retried after a lost reply may run
		// twice, and a compare-and-set that swapped and then answered "no" on its retry would
		// read as a violation the server never made. Without them a lost reply is "unknown".
		var client *redis.Client
		if sentinel != "" {
			client = redis.NewFailoverClient(&redis.FailoverOptions{
				MasterName: sentinel, SentinelAddrs: []string{addr}, Password: password, MaxRetries: -1,
			})
		} else {
			client = redis.NewClient(&redis.Options{Addr: addr, Password: password, MaxRetries: -1})
		}
		group.Add(1)
		go func(id int, client *redis.Client) {
			defer group.Done()
			defer client.Close()
			runClient(ctx, id, client, space, pace, emit)
		}(c, client)
	}
	group.Wait()
}

// runClient does random operations until ctx ends, at most one per pace. Each
// write's value is unique ("client-n"), so a read tells which write it saw.
func runClient(
	ctx context.Context, id int, client *redis.Client, space keySpace, pace time.Duration, emit func(Op),
) {
	random := rand.New(rand.NewSource(time.Now().UnixNano() + int64(id)))
	last := make(map[string]string)
	next := time.Now()
	for n := 1; ctx.Err() == nil; n++ {
		if wait := time.Until(next); wait > 0 {
			time.Sleep(wait)
		}
		// From this start, not the last planned one: no burst to catch up after a stall.
		next = time.Now().Add(pace)
		roll := random.Intn(10)
		key := space.pick(random, roll < 4)
		op := Op{Client: id, Key: key}
		// Each command on its own deadline, not ctx: a SIGTERM must not turn one into "unknown".
		cmdCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		op.Invoke = time.Now().UnixNano()
		var err error
		switch {
		case roll < 4:
			op.Kind = "read"
			var value string
			value, err = client.Get(cmdCtx, key).Result()
			if errors.Is(err, redis.Nil) {
				value, err = "", nil
			}
			op.Read = value
			if err == nil {
				last[key] = value
			}
		case roll < 8:
			op.Kind = "write"
			op.Value = fmt.Sprintf("%d-%d", id, n)
			err = client.Set(cmdCtx, key, op.Value, 0).Err()
		default:
			op.Kind = "cas"
			op.Expect = last[key]
			op.Value = fmt.Sprintf("%d-%d", id, n)
			var swapped int64
			swapped, err = casScript.Run(cmdCtx, client, []string{key}, op.Expect, op.Value).Int64()
			op.Swapped = swapped == 1
		}
		op.Done = time.Now().UnixNano()
		cancel()
		op.Result = "ok"
		if err != nil {
			op.Error = err.Error()
			var reply redis.Error
			if errors.As(err, &reply) {
				op.Result = "fail"
			} else {
				op.Result = "unknown"
			}
		}
		emit(op)
		if err != nil {
			// As an application retrying with a back-off would: without one, a client
			// refused for 30 s (no master while the API server is down) records millions
			// of refusals, more than a history file can be read back as one string.
			time.Sleep(failureBackoff)
		}
	}
}
