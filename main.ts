/**
 * The redis-operator entry point. Wiring only: reads flags and environment,
 * turns SIGTERM into an AbortController.
 *
 * @module
 */
console.log(JSON.stringify({ level: "info", message: "redis-operator starting" }));
