package dev.gtramp.kernel.btf;

/**
 * How a C type of a parameter or return value is classified for the x86-64 calling convention and
 * the BPF trampoline's argument rules ({@code btf_distill_func_proto} in {@code kernel/bpf/btf.c}).
 */
public enum ArgClass {
    /** {@code void}: only as a return type. */
    VOID,
    /** An integer type, including {@code _Bool} and {@code char}. */
    INT,
    /** An {@code enum} or {@code enum64}. */
    ENUM,
    /** A pointer of any kind (data or function). */
    PTR,
    /** A {@code struct} passed by value. */
    STRUCT,
    /** A {@code union} passed by value. */
    UNION,
    /** A floating-point type (passed in SSE registers; the BPF trampoline rejects it). */
    FLOAT,
    /** The trailing {@code ...} of a variadic function. */
    VARARGS,
    /** Anything else (an array or function type where a value was expected, a forward declaration). */
    OTHER
}
