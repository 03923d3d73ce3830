// An application's writer with go-redis v9 and its default options: SET
// <prefix>:<n> to n, one at a time about every 2 ms, against the address given
// (a Service name). Prints "ok <n> <ms>" per acknowledged write and
// "err <n> <ms> <message>" per failed one, until SIGTERM; the same protocol as
// the ioredis and redis-py writers.
//
//	go-redis-writer HOST:PORT PREFIX [sentinel=NAME]
//
// With sentinel=NAME, HOST:PORT is a Sentinel and NAME the master name, used
// as go-redis' documentation shows: NewFailoverClient with MasterName and
// SentinelAddrs, nothing else.
package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

func main() {
	addr, prefix := os.Args[1], os.Args[2]
	var client *redis.Client
	if len(os.Args) > 3 && strings.HasPrefix(os.Args[3], "sentinel=") {
		client = redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName:    strings.TrimPrefix(os.Args[3], "sentinel="),
			SentinelAddrs: []string{addr},
		})
	} else {
		client = redis.NewClient(&redis.Options{Addr: addr})
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	out := bufio.NewWriter(os.Stdout)
	for n := 1; ctx.Err() == nil; n++ {
		err := client.Set(context.Background(), fmt.Sprintf("%s:%d", prefix, n), n, 0).Err()
		now := time.Now().UnixMilli()
		if err == nil {
			fmt.Fprintf(out, "ok %d %d\n", n, now)
		} else {
			fmt.Fprintf(out, "err %d %d %s\n", n, now, strings.ReplaceAll(err.Error(), "\n", " "))
		}
		out.Flush()
		time.Sleep(2 * time.Millisecond)
	}
	client.Close()
}
