/**
 * JMH benchmarks: the call path per design ({@code bench_trigger}'s role), RCU read side and grace
 * periods, {@code percpu_ref}, the md tables, the ftrace call site.
 */
package dev.gtramp.bench;
