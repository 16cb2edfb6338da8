/**
 * Kernel images: functions, addresses, padding and traceability from real BTF and kallsyms (an
 * embedded snapshot of Linux 6.18), from a running kernel, or synthetic; the kernel's
 * {@code glob_match} and the rules that decide which functions ftrace and the trampoline can serve.
 */
package dev.gtramp.kernel.image;
