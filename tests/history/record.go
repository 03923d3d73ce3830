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

func record(addr string, clients, keys int, options []string) {
	password, sentinel := "", ""
	for _, option := range options {
		switch {
		case strings.HasPrefix(option, "password="):
			password = strings.TrimPrefix(option, "password=")
		case strings.HasPrefix(option, "sentinel="):
			sentinel = strings.TrimPrefix(option, "sentinel=")
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
			runClient(ctx, id, client, keys, emit)
		}(c, client)
	}
	group.Wait()
}

// runClient does random operations until ctx ends. Each write's value is
// unique ("client-n"), so a read tells which write it saw.
func runClient(ctx context.Context, id int, client *redis.Client, keys int, emit func(Op)) {
	random := rand.New(rand.NewSource(time.Now().UnixNano() + int64(id)))
	last := make(map[string]string)
	for n := 1; ctx.Err() == nil; n++ {
		key := fmt.Sprintf("h:%d", random.Intn(keys))
		op := Op{Client: id, Key: key}
		// Each command on its own deadline, not ctx: a SIGTERM must not turn one into "unknown".
		cmdCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		op.Invoke = time.Now().UnixNano()
		var err error
		switch roll := random.Intn(10); {
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
