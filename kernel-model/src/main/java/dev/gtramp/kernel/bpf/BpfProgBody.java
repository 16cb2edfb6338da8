package dev.gtramp.kernel.bpf;

/**
 * The instructions of a tracing program, written in Java. It reads the traced call through
 * {@link BpfTraceCtx} (its {@code ctx}: the saved argument registers and the kernel's helpers) and
 * may record into maps. It runs on the call path of the traced function: it must not block, and
 * should allocate nothing.
 */
@FunctionalInterface
public interface BpfProgBody {
    /**
     * Runs the program once. The return value matters only for {@code fmod_ret} programs (a non-zero
     * value replaces the function's return value and skips the function); fentry and fexit programs
     * return 0.
     */
    long run(BpfTraceCtx ctx);
}
