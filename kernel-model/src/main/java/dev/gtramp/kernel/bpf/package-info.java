/**
 * BPF tracing programs and maps ({@code struct bpf_prog}, {@code bpf_map}): attach types, program
 * bodies as Java code with the kernel's tracing helpers ({@code bpf_get_func_arg}, {@code
 * bpf_get_func_ip}, {@code bpf_get_attach_cookie}, ...), the verifier's record of the context a body
 * reads, the per-CPU recursion guard of {@code __bpf_prog_enter_recur}, and the run context of a
 * traced call.
 */
package dev.gtramp.kernel.bpf;
