/**
 * The study's per-call costs: JMH runs of each design's call path and the kernel's published
 * {@code bench_trigger} numbers they are compared against.
 */
package dev.gtramp.study.calls;
