/**
 * A reader of raw BTF ({@code /sys/kernel/btf/vmlinux}, {@code include/uapi/linux/btf.h}): types,
 * function prototypes and the {@code btf_func_model} the trampoline needs (argument registers,
 * sizes, return size), checked against {@code btf_distill_func_proto}'s rules.
 */
package dev.gtramp.kernel.btf;
