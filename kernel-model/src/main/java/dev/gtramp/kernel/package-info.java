/**
 * The simulated kernel: a {@link dev.gtramp.kernel.Kernel} booted from an image, its CPUs
 * ({@code Cpu}: bound threads, the call path through each function's patchable entry site,
 * {@code EntrySite}, and the padding bytes before it), the kernel log, errno-style errors, and the
 * BPF test functions of {@code net/bpf/test_run.c}. Every kernel is independent: no state is static.
 */
package dev.gtramp.kernel;
