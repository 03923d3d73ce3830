// An application's writer with Jedis and its default settings: SET
// <prefix>:<n> to n, one at a time about every 2 ms. Prints "ok <n> <ms>" per
// acknowledged write and "err <n> <ms> <message>" per failed one, until
// SIGTERM; the same protocol as the ioredis, redis-py and go-redis writers.
//
//   java -cp CLASSPATH Writer HOST:PORT PREFIX [sentinel=NAME]
//
// With sentinel=NAME, HOST:PORT is a Sentinel and NAME the master name, used
// as Jedis' documentation shows: new JedisSentinelPool(NAME, Set.of(HOST:PORT)),
// a Jedis from getResource() per command. Otherwise a JedisPool on HOST:PORT.

import java.util.Set;
import java.util.function.BiConsumer;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisPool;
import redis.clients.jedis.JedisSentinelPool;

public class Writer {
  private static volatile boolean running = true;

  public static void main(String[] args) throws Exception {
    String address = args[0];
    String prefix = args[1];
    String setting = args.length > 2 ? args[2] : "";
    Thread main = Thread.currentThread();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      running = false;
      try {
        main.join(5000);
      } catch (InterruptedException ignored) {
        // exiting anyway
      }
    }));
    String host = address.substring(0, address.lastIndexOf(':'));
    int port = Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
    BiConsumer<String, String> set;
    JedisSentinelPool[] sentinelPool = new JedisSentinelPool[1];
    if (setting.startsWith("sentinel=")) {
      String name = setting.substring("sentinel=".length());
      set = (key, value) -> {
        // The pool asks the Sentinel at construction and fails if it cannot: keep asking.
        if (sentinelPool[0] == null) sentinelPool[0] = new JedisSentinelPool(name, Set.of(address));
        try (Jedis jedis = sentinelPool[0].getResource()) {
          jedis.set(key, value);
        }
      };
    } else {
      JedisPool pool = new JedisPool(host, port);
      set = (key, value) -> {
        try (Jedis jedis = pool.getResource()) {
          jedis.set(key, value);
        }
      };
    }
    for (long n = 1; running; n++) {
      try {
        set.accept(prefix + ":" + n, Long.toString(n));
        System.out.println("ok " + n + " " + System.currentTimeMillis());
      } catch (Exception error) {
        String message = String.valueOf(error.getMessage()).replace('\n', ' ');
        System.out.println("err " + n + " " + System.currentTimeMillis() + " "
            + error.getClass().getSimpleName() + ": " + message);
      }
      System.out.flush();
      Thread.sleep(2);
    }
  }
}
