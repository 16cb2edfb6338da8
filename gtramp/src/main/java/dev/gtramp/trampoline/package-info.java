/**
 * BPF trampolines ({@code kernel/bpf/trampoline.c}) and the attach designs: per-function
 * trampolines and their immutable images, regular tracing links and tracing multi links, the
 * upstream {@code tracing_multi} attach on one shared direct ops, and the global trampoline
 * ({@code bpf_global_caller}) with its {@code kfunc_md}s in an RCU hash table, a non-blocking map or
 * the functions' padding. {@link dev.gtramp.trampoline.Trampolines} is a kernel's entry point.
 */
package dev.gtramp.trampoline;
