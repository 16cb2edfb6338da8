/**
 * Per-CPU memory ({@code alloc_percpu}, {@code this_cpu_add}) guarded against use after free, and
 * {@code percpu_ref} ({@code lib/percpu-refcount.c}): per-CPU counting switched to atomic mode by
 * {@code percpu_ref_kill} after an RCU grace period, released exactly once.
 */
package dev.gtramp.kernel.percpu;
